// bench_intake [MESSAGES] [PACED] [RATE] [DIR]
// Runs the real service in-process with one simulated channel and plays MESSAGES residents texting
// in (each a different phone and text, so no flood control or repeat check stops them) through the
// admin API's /api/sim/inbound on one pipelined keep-alive connection. Every message is stored in
// the inbox, routed (LAPOR → a new aspiration with tags and a ticket) and its acknowledgement queued
// in the outbox, all in one durable group-committed transaction. Two figures:
//   1. throughput: MESSAGES sent as fast as possible, until every acknowledgement is committed;
//   2. latency: PACED messages at RATE per second; for each, the time from the moment its request
//      was written to the socket until its acknowledgement row is visible to another connection
//      (committed), p50/p99/max. Measured from outside, so it includes the HTTP hop and a polling
//      granularity of about 1 ms: an upper bound of receipt → queued reply.
// The channel sends at 1 message/s, so the dispatcher stays out of the way: this measures intake.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/common.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using namespace kentongan;

namespace {

constexpr long phone_base = 20000000;
const char* const places[] = {"jalan", "jembatan", "lampu jalan", "irigasi", "selokan", "posyandu"};

std::string request_for(long i, const std::string& token) {
  char phone[32];
  std::snprintf(phone, sizeof phone, "0813%08ld", phone_base + i);
  const std::string body =
      json{{"from", phone},
           {"text", "LAPOR " + std::string(places[i % 6]) + " rusak di RT " + std::to_string(i % 20 + 1) + " nomor " +
                        std::to_string(i)}}
          .dump();
  return "POST /api/sim/inbound HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + token +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

long index_of(const std::string& e164) {  // "+62813" + 8 digits
  return e164.size() == 14 ? std::atol(e164.c_str() + 6) - phone_base : -1;
}

int connect_to(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("cannot connect");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const auto n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) throw std::runtime_error("write failed");
    off += static_cast<std::size_t>(n);
  }
}

/// Reads `count` HTTP responses; returns how many were 202.
long read_responses(int fd, long count) {
  std::string buf;
  long seen = 0, accepted = 0;
  char chunk[65536];
  while (seen < count) {
    const auto head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const auto cl = buf.find("Content-Length: ");
      const std::size_t len = cl != std::string::npos && cl < head_end ? std::stoul(buf.substr(cl + 16)) : 0;
      if (buf.size() >= head_end + 4 + len) {
        if (buf.compare(0, 12, "HTTP/1.1 202") == 0) ++accepted;
        buf.erase(0, head_end + 4 + len);
        ++seen;
        continue;
      }
    }
    const auto n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  return accepted;
}

/// Acknowledgements committed so far (direct outbox rows), as another connection sees them.
long committed_replies(SQLite::Database& db) {
  return db.execAndGet("SELECT count(*) FROM outbox WHERE broadcast_id IS NULL").getInt64();
}

/// Waits until the acknowledgement to message `i` is committed (one probe of outbox_direct per 2 ms).
void wait_for_reply_to(SQLite::Database& db, long i) {
  char phone[32];
  std::snprintf(phone, sizeof phone, "+62813%08ld", phone_base + i);
  SQLite::Statement q(db, "SELECT 1 FROM outbox WHERE phone = ? AND broadcast_id IS NULL LIMIT 1");
  for (;;) {
    q.reset();
    q.bind(1, phone);
    if (q.executeStep()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(k, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const long messages = argc > 1 ? std::atol(argv[1]) : 50000;
  const long paced = argc > 2 ? std::atol(argv[2]) : 5000;
  const long rate = argc > 3 ? std::atol(argv[3]) : 1000;
  const fs::path dir = argc > 4 ? fs::path(argv[4]) : fs::temp_directory_path() / "kentongan-bench-intake";
  bench::fresh_directory(dir);
  bench::write_village_config(dir, {"127.0.0.1:18990", R"("inbound_per_minute": 1000, "auto_replies_per_hour": 1000)",
                                    R"({"name": "sim", "type": "sim", "tps": 1, "window": 1, "dlr_delay_ms": 1})",
                                    R"("subscribers": [{"phone": "081299990000", "name": "Warga", "groups": ["semua"]}])"});
  bench::service_thread service(dir);
  const auto port = service.port();
  const std::string& token = service.token();
  SQLite::Database db((dir / "kentongan.db").string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(5000);

  // 1. Throughput.
  std::vector<std::string> requests;
  requests.reserve(static_cast<std::size_t>(messages + paced));
  for (long i = 0; i < messages + paced; ++i) requests.push_back(request_for(i, token));
  const int fd = connect_to(port);
  auto reader = std::async(std::launch::async, [fd, messages] { return read_responses(fd, messages); });
  const auto t0 = steady::now();
  for (long i = 0; i < messages; ++i) write_all(fd, requests[static_cast<std::size_t>(i)]);
  const long accepted = reader.get();
  const auto t_sent = steady::now();
  // The writer commits in the order messages were posted, so the last one's reply marks the end. Polling
  // a count(*) of the outbox instead scanned it every 2 ms and took a core's share from the daemon.
  wait_for_reply_to(db, messages - 1);
  const long replies = committed_replies(db);
  const double seconds = std::chrono::duration<double>(steady::now() - t0).count();
  const long aspirations = db.execAndGet("SELECT count(*) FROM aspirations").getInt64();

  // 2. Latency at a steady rate.
  std::vector<steady::time_point> sent(static_cast<std::size_t>(paced));
  std::vector<double> latency_ms;
  std::atomic<bool> sending{true};
  std::int64_t last_id = db.execAndGet("SELECT COALESCE(max(id), 0) FROM outbox").getInt64();
  auto paced_reader = std::async(std::launch::async, [fd, paced] { return read_responses(fd, paced); });
  std::thread pacer([&] {
    const auto start = steady::now();
    for (long i = 0; i < paced; ++i) {
      std::this_thread::sleep_until(start + std::chrono::microseconds{i * 1000000 / rate});
      sent[static_cast<std::size_t>(i)] = steady::now();
      write_all(fd, requests[static_cast<std::size_t>(messages + i)]);
    }
    sending = false;
  });
  // A range of the rowid only: with `broadcast_id IS NULL` in it, SQLite walked the whole partial index
  // outbox_direct and sorted it on every poll, a scan that grew with the outbox and took most of a core
  // from the daemon within 30 s. This benchmark makes no broadcasts: every new row is a reply.
  SQLite::Statement q(db, "SELECT id, phone FROM outbox WHERE id > ? ORDER BY id");
  while (static_cast<long>(latency_ms.size()) < paced) {
    q.reset();
    q.bind(1, static_cast<std::int64_t>(last_id));
    while (q.executeStep()) {
      last_id = q.getColumn(0).getInt64();
      const auto seen = steady::now();
      const long i = index_of(q.getColumn(1).getString()) - messages;
      if (i >= 0 && i < paced)
        latency_ms.push_back(std::chrono::duration<double, std::milli>(seen - sent[static_cast<std::size_t>(i)]).count());
    }
    std::this_thread::sleep_for(std::chrono::microseconds{500});
  }
  pacer.join();
  paced_reader.get();
  ::close(fd);
  service.stop();

  std::printf("messages              %ld (accepted %ld, aspirations %ld, replies %ld)\n", messages, accepted, aspirations,
              replies);
  std::printf("all sent after        %.2f s\n", std::chrono::duration<double>(t_sent - t0).count());
  std::printf("all committed after   %.2f s\n", seconds);
  std::printf("throughput            %.0f messages/s (stored, routed, reply queued; durable)\n",
              static_cast<double>(messages) / seconds);
  std::printf("paced                 %ld messages at %ld/s\n", paced, rate);
  std::printf("receipt -> queued     p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", percentile(latency_ms, 0.50),
              percentile(latency_ms, 0.99), percentile(latency_ms, 1.0));
  std::printf("peak RSS              %.1f MiB\n", bench::peak_rss_mib());
  return 0;
}
