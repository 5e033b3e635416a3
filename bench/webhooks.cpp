// bench_webhooks [WEBHOOKS] [CONNECTIONS] [OUTBOUND] [DIR]
// 1. Inbound: runs the real service in-process (a generated village, one WhatsApp channel pointed at
//    the fake Graph API) and posts WEBHOOKS signed notifications over CONNECTIONS keep-alive
//    connections to POST /webhooks/whatsapp. Each body is realistic: one change carrying 2 inbound
//    texts from residents and 4 statuses (sent/delivered/read) of earlier messages, signed with
//    the app secret. A 200 means the signature was checked, the body parsed and everything it
//    carried durably stored (inbox rows, status updates, and what the intake made of the texts:
//    aspirations, tickets, queued replies). Reports webhooks/s and items/s.
// 2. Outbound: a whatsapp_channel on its own thread sends OUTBOUND text messages to the fake Graph
//    API (another thread) with 64 in flight; reports accepted requests/s.
#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "bench/common.hpp"
#include "protocol/whatsapp/signature.hpp"
#include "protocol/whatsapp/whatsapp_channel.hpp"
#include "tests/fakes/graph_api.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace kentongan;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* app_secret = "bench-app-secret";
constexpr int messages_per_body = 2;
constexpr int statuses_per_body = 4;

/// The fake Graph API on its own thread (the channel's requests and nothing else).
struct fake_thread {
  asio::io_context io;
  fakes::graph_api fake{io, fakes::graph_api_settings{"bench-token", "106540352242922", app_secret, fakes::behaviour::ok}};
  std::thread thread;
  fake_thread() {
    fake.start();
    thread = std::thread([this] { io.run(); });
  }
  ~fake_thread() {
    asio::post(io, [this] {
      fake.stop();
      io.stop();
    });
    thread.join();
  }
};

std::string phone_of(long i) { return bench::bench_phone("62813", 20000000, i); }

/// One keep-alive connection posting its share of the webhooks; returns how many got a 200.
long post_webhooks(std::uint16_t port, const std::vector<std::string>* bodies, std::size_t first, std::size_t step) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  beast::flat_buffer buffer;
  long ok = 0;
  for (std::size_t i = first; i < bodies->size(); i += step) {
    http::request<http::string_body> req{http::verb::post, "/webhooks/whatsapp", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set("X-Hub-Signature-256", whatsapp::sign_body((*bodies)[i], app_secret));
    req.keep_alive(true);
    req.body() = (*bodies)[i];
    req.prepare_payload();
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    if (res.result_int() == 200) ++ok;
    else std::fprintf(stderr, "webhook answered %u: %s\n", res.result_int(), res.body().c_str());
    if (!res.keep_alive()) {
      std::fprintf(stderr, "the server closed a keep-alive connection\n");
      break;
    }
  }
  return ok;
}

struct counting_events final : channel::events {
  std::atomic<long> accepted{0}, other{0};
  std::function<void()> on_result;
  void on_submit_result(const std::string&, channel::submit_result r) override {
    if (r.outcome == channel::submit_outcome::accepted) ++accepted;
    else ++other;
    if (on_result) on_result();
  }
  void on_delivery_report(const std::string&, channel::delivery_report, std::function<void(bool)> ack) override {
    if (ack) ack(true);
  }
  void on_inbound(const std::string&, channel::inbound, std::function<void(bool)>) override {}
  void on_link_state(const std::string&, bool, const std::string&) override {}
};

double outbound(long count, const std::string& api_base) {
  asio::io_context io;
  counting_events events;
  whatsapp::settings s;
  s.name = "wa";
  s.api_base = api_base;
  s.phone_number_id = "106540352242922";
  s.token = "bench-token";
  s.verify_tls = false;
  whatsapp::whatsapp_channel wa(io, s, events);
  long next = 0;
  const long in_flight = 64;
  auto submit_one = [&] {
    const std::string to = "+" + phone_of(next % 5000);
    wa.note_inbound(to, core::now());
    wa.submit(channel::outbound{next + 1, to, "Harga kakao kering Rp 95.000/kg minggu ini.", true, ""});
    ++next;
  };
  events.on_result = [&] {
    if (next < count) submit_one();
    else if (events.accepted + events.other == count) io.stop();
  };
  const auto t0 = clock_type::now();
  for (long i = 0; i < std::min(in_flight, count); ++i) submit_one();
  io.run();
  const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (events.other > 0) std::fprintf(stderr, "outbound: %ld not accepted\n", events.other.load());
  return static_cast<double>(events.accepted) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const long webhooks = argc > 1 ? std::atol(argv[1]) : 20000;
  const long connections = argc > 2 ? std::atol(argv[2]) : 32;
  const long outbound_count = argc > 3 ? std::atol(argv[3]) : 20000;
  const fs::path dir = argc > 4 ? fs::path(argv[4]) : fs::temp_directory_path() / "kentongan-bench-webhooks";
  const long residents = 2000;
  bench::fresh_directory(dir);
  fake_thread fake;
  bench::write_village_csv(dir, residents, [](long i) { return "+" + phone_of(i); }, ",channel", ",whatsapp");
  std::ofstream(dir / "wa.token") << "bench-token\n";
  std::ofstream(dir / "wa.secret") << app_secret << "\n";
  bench::write_village_config(
      dir, {"127.0.0.1:18991", R"("inbound_per_minute": 1000, "auto_replies_per_hour": 1000)",
            R"({"name": "wa", "type": "whatsapp", "api_base": ")" + fake.fake.base_url() +
                R"(", "phone_number_id": "106540352242922", "token_file": "wa.token", "app_secret_file": "wa.secret", )"
                R"("tps": 1000, "window": 64})"});

  // Bodies made before the clock starts: distinct message ids (each is new to the inbox), residents
  // in turn, statuses of wamids as Meta would send them.
  std::vector<std::string> bodies;
  bodies.reserve(static_cast<std::size_t>(webhooks));
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  static const char* const texts[] = {"LAPOR jalan ke kebun kakao berlubang dekat jembatan", "INFO HARGA",
                                      "Kapan pembagian pupuk bersubsidi?", "CEK A0001"};
  static const char* const states[] = {"sent", "delivered", "read", "delivered"};
  for (long w = 0; w < webhooks; ++w) {
    std::vector<fakes::webhook_message> messages;
    std::vector<fakes::webhook_status> statuses;
    for (int m = 0; m < messages_per_body; ++m) {
      const long n = w * messages_per_body + m;
      messages.push_back({phone_of(n % residents), "Warga", "wamid.BENCH.IN." + std::to_string(n),
                          texts[n % 4], now_s - 5});
    }
    for (int st = 0; st < statuses_per_body; ++st) {
      const long n = w * statuses_per_body + st;
      statuses.push_back({"wamid.BENCH.OUT." + std::to_string(n / 3), states[st], phone_of(n % residents), now_s, 0, {}});
    }
    bodies.push_back(fake.fake.webhook_body(messages, statuses));
  }

  bench::service_thread service(dir);
  const auto port = service.port();

  const auto t0 = clock_type::now();
  std::vector<std::future<long>> clients;
  for (long c = 0; c < connections; ++c)
    clients.push_back(std::async(std::launch::async, post_webhooks, port, &bodies, static_cast<std::size_t>(c),
                                 static_cast<std::size_t>(connections)));
  long ok = 0;
  for (auto& c : clients) ok += c.get();
  const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  service.stop();

  const double out_rate = outbound(outbound_count, fake.fake.base_url());

  const auto body_bytes = bodies.empty() ? 0 : bodies.front().size();
  std::printf("webhooks              %ld over %ld keep-alive connections (%zu bytes each: %d texts, %d statuses)\n",
              webhooks, connections, body_bytes, messages_per_body, statuses_per_body);
  std::printf("accepted (200)        %ld\n", ok);
  std::printf("inbound               %.2f s, %.0f webhooks/s durable (%.0f texts/s, %.0f statuses/s)\n", seconds,
              static_cast<double>(ok) / seconds, static_cast<double>(ok * messages_per_body) / seconds,
              static_cast<double>(ok * statuses_per_body) / seconds);
  std::printf("outbound              %ld text messages, %.0f accepted requests/s (64 in flight, HTTP/1.1 keep-alive)\n",
              outbound_count, out_rate);
  std::printf("peak RSS              %.1f MiB\n", bench::peak_rss_mib());
  return ok == webhooks ? 0 : 1;
}
