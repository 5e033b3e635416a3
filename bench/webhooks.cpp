// bench_webhooks [WEBHOOKS] [CONNECTIONS] [OUTBOUND] [DIR] [--shape single|mixed|both]
// 1. Inbound: runs the real service in-process (a generated village, one WhatsApp channel pointed at
//    the fake Graph API) and posts WEBHOOKS signed notifications over CONNECTIONS keep-alive
//    connections to POST /webhooks/whatsapp, in one or both body shapes (default both, each on a
//    fresh state directory):
//    - single: Meta's usual notification, one item each; every other one is an inbound text from a
//      resident, the others a status (sent/delivered/read in turn) of a message the daemon really
//      sent before the clock started (a template broadcast to every resident, answered by the fake);
//    - mixed: one change carrying 2 inbound texts and 4 statuses of those messages.
//    A 200 means the signature was checked, the body parsed and everything it carried durably
//    stored (inbox rows, outbox status updates, and what the intake made of the texts: aspirations,
//    tickets, queued replies). Bodies and signatures are made before the clock starts (Meta signs,
//    not us). Reports webhooks/s and items/s; only 200s count.
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
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/common.hpp"
#include "daemon/http_client.hpp"
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
constexpr const char* phone_number_id = "106540352242922";
constexpr long residents = 2000;

/// The fake Graph API on its own thread (the channel's requests and nothing else).
struct fake_thread {
  asio::io_context io;
  fakes::graph_api fake{io, fakes::graph_api_settings{"bench-token", phone_number_id, app_secret, fakes::behaviour::ok}};
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

/// One keep-alive connection posting its share of the pre-built requests; returns how many got a 200.
long post_webhooks(std::uint16_t port, const std::vector<std::string>* requests, std::size_t first, std::size_t step) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  socket.set_option(asio::ip::tcp::no_delay(true));
  beast::flat_buffer buffer;
  long ok = 0;
  for (std::size_t i = first; i < requests->size(); i += step) {
    asio::write(socket, asio::buffer((*requests)[i]));
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
  s.phone_number_id = phone_number_id;
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

/// The body shapes measured (see the top of this file).
enum class shape { single, mixed };

struct inbound_result {
  long webhooks = 0, ok = 0, texts = 0, statuses = 0;
  std::size_t bytes = 0;
  double seconds = 0;
};

/// What the fake answered for every message sent so far (read on the fake's thread).
std::vector<fakes::recorded_request> sent_so_far(fake_thread& fake) {
  std::promise<std::vector<fakes::recorded_request>> promise;
  auto future = promise.get_future();
  asio::post(fake.io, [&] { promise.set_value(fake.fake.requests()); });
  return future.get();
}

/// One shape on a fresh state directory: a template broadcast to every resident first (untimed), so
/// that statuses name messages the outbox holds, then the timed webhooks.
inbound_result run_inbound(shape kind, long webhooks, long connections, const fs::path& dir, fake_thread& fake) {
  bench::fresh_directory(dir);
  bench::write_village_csv(dir, residents, [](long i) { return "+" + phone_of(i); }, ",channel", ",whatsapp");
  std::ofstream(dir / "wa.token") << "bench-token\n";
  std::ofstream(dir / "wa.secret") << app_secret << "\n";
  bench::write_village_config(
      dir, {"127.0.0.1:18991", R"("inbound_per_minute": 1000, "auto_replies_per_hour": 1000)",
            R"({"name": "wa", "type": "whatsapp", "api_base": ")" + fake.fake.base_url() +
                R"(", "phone_number_id": ")" + phone_number_id +
                R"(", "token_file": "wa.token", "app_secret_file": "wa.secret", )"
                R"("templates": {"broadcast": "pengumuman_desa"}, "tps": 1000, "window": 64})"});

  bench::service_thread service(dir);
  const auto port = service.port();
  const std::size_t already = sent_so_far(fake).size();
  const auto created = daemon::http_call("127.0.0.1", port, "POST", "/api/broadcasts",
                                         nlohmann::json{{"text", "Penyuluhan hama kakao di balai desa, Sabtu 08.00"}, {"all", true}}.dump(),
                                         service.token());
  const auto broadcast = nlohmann::json::parse(created.body)["id"].get<long>();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    const auto st = nlohmann::json::parse(
        daemon::http_call("127.0.0.1", port, "GET", "/api/broadcasts/" + std::to_string(broadcast), "", service.token()).body);
    if (st["submitted"].get<long>() + st["delivered"].get<long>() + st["failed"].get<long>() >= residents) break;
  }
  std::vector<std::pair<std::string, std::string>> sent;  // wamid, recipient digits
  for (const auto& r : sent_so_far(fake))
    if (!r.answer_id.empty()) sent.emplace_back(r.answer_id, r.to);
  sent.erase(sent.begin(), sent.begin() + static_cast<std::ptrdiff_t>(std::min(already, sent.size())));
  if (sent.empty()) throw std::runtime_error("the broadcast before the clock sent nothing");

  // Bodies and signed requests made before the clock starts: distinct message ids (each is new to
  // the inbox), residents in turn; statuses walk the sent messages sent → delivered → read (a status
  // of a message already read repeats, as Meta's redeliveries do, once they are all used).
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  static const char* const texts[] = {"LAPOR jalan ke kebun kakao berlubang dekat jembatan", "INFO HARGA",
                                      "Kapan pembagian pupuk bersubsidi?", "CEK A0001"};
  static const char* const states[] = {"sent", "delivered", "read"};
  long next_text = 0, next_status = 0;
  const auto text_item = [&] {
    const long n = next_text++;
    return fakes::webhook_message{phone_of(n % residents), "Warga", "wamid.BENCH.IN." + std::to_string(n), texts[n % 4], now_s - 5};
  };
  const auto status_item = [&] {
    const long n = next_status++;
    const auto& [wamid, to] = sent[static_cast<std::size_t>(n / 3) % sent.size()];
    return fakes::webhook_status{wamid, states[n % 3], to, now_s, 0, {}};
  };
  inbound_result r;
  r.webhooks = webhooks;
  std::vector<std::string> requests;
  requests.reserve(static_cast<std::size_t>(webhooks));
  for (long w = 0; w < webhooks; ++w) {
    std::vector<fakes::webhook_message> messages;
    std::vector<fakes::webhook_status> statuses;
    if (kind == shape::single) {
      if (w % 2 == 0) messages.push_back(text_item());
      else statuses.push_back(status_item());
    } else {
      for (int m = 0; m < 2; ++m) messages.push_back(text_item());
      for (int st = 0; st < 4; ++st) statuses.push_back(status_item());
    }
    const auto body = fake.fake.webhook_body(messages, statuses);
    r.bytes += body.size();
    http::request<http::string_body> req{http::verb::post, "/webhooks/whatsapp", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set("X-Hub-Signature-256", whatsapp::sign_body(body, app_secret));
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    std::ostringstream wire;
    wire << req;
    requests.push_back(wire.str());
  }
  r.texts = next_text;
  r.statuses = next_status;

  const auto t0 = clock_type::now();
  std::vector<std::future<long>> clients;
  for (long c = 0; c < connections; ++c)
    clients.push_back(std::async(std::launch::async, post_webhooks, port, &requests, static_cast<std::size_t>(c),
                                 static_cast<std::size_t>(connections)));
  for (auto& c : clients) r.ok += c.get();
  r.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  service.stop();
  return r;
}

void print_inbound(const char* name, const inbound_result& r, long connections) {
  const double per_s = static_cast<double>(r.ok) / r.seconds;
  const double share = r.webhooks > 0 ? static_cast<double>(r.ok) / static_cast<double>(r.webhooks) : 0;
  std::printf("%-7s webhooks      %ld over %ld keep-alive connections (%zu bytes on average; %ld texts, %ld statuses in all)\n",
              name, r.webhooks, connections, r.webhooks > 0 ? r.bytes / static_cast<std::size_t>(r.webhooks) : 0, r.texts, r.statuses);
  std::printf("%-7s accepted (200) %ld\n", name, r.ok);
  std::printf("%-7s inbound       %.2f s, %.0f webhooks/s durable (%.0f texts/s, %.0f statuses/s)\n", name, r.seconds, per_s,
              static_cast<double>(r.texts) * share / r.seconds, static_cast<double>(r.statuses) * share / r.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  std::string shape_arg = "both";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--shape" && i + 1 < argc) shape_arg = argv[++i];
    else if (a.starts_with("--shape=")) shape_arg = a.substr(8);
    else positional.push_back(a);
  }
  if (shape_arg != "single" && shape_arg != "mixed" && shape_arg != "both") {
    std::fprintf(stderr, "--shape is single, mixed or both, not '%s'\n", shape_arg.c_str());
    return 2;
  }
  const long webhooks = positional.size() > 0 ? std::atol(positional[0].c_str()) : 20000;
  const long connections = positional.size() > 1 ? std::atol(positional[1].c_str()) : 32;
  const long outbound_count = positional.size() > 2 ? std::atol(positional[2].c_str()) : 20000;
  const fs::path dir = positional.size() > 3 ? fs::path(positional[3]) : fs::temp_directory_path() / "kentongan-bench-webhooks";
  fake_thread fake;

  bool all_ok = true;
  std::vector<std::pair<const char*, inbound_result>> results;
  if (shape_arg != "mixed") results.emplace_back("single", run_inbound(shape::single, webhooks, connections, dir / "single", fake));
  if (shape_arg != "single") results.emplace_back("mixed", run_inbound(shape::mixed, webhooks, connections, dir / "mixed", fake));
  const double out_rate = outbound(outbound_count, fake.fake.base_url());

  for (const auto& [name, r] : results) {
    print_inbound(name, r, connections);
    all_ok = all_ok && r.ok == r.webhooks;
  }
  std::printf("outbound              %ld text messages, %.0f accepted requests/s (64 in flight, HTTP/1.1 keep-alive)\n",
              outbound_count, out_rate);
  std::printf("peak RSS              %.1f MiB\n", bench::peak_rss_mib());
  return all_ok ? 0 : 1;
}
