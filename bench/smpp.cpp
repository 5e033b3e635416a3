// bench_smpp [RECIPIENTS] [SESSIONS] [WINDOW] [TPS] [DIR] [DURABLE_LAG]
// Runs the real service in-process on a generated village of RECIPIENTS subscribers with one SMPP
// channel (SESSIONS transceiver binds, WINDOW outstanding submits each, registered_delivery on)
// against the SMSC simulator in a forked child process (receipts after 1 ms, its own core's worth
// of work, so the daemon's figures are the daemon's). One broadcast to everyone through the admin
// API; reports submitted/s (creation → every row submitted), receipted/s (→ every row delivered),
// wall time and the daemon's peak RSS. Every state change is durable (synchronous=FULL, group
// commit). TPS 0 = unlimited (the config's maximum, 100,000/s); with a TPS the achieved submit rate
// between 10% and 90% of the rows is reported against it.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "bench/common.hpp"
#include "daemon/http_client.hpp"
#include "protocol/asio/asio.hpp"
#include "protocol/smpp/smsc_sim.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kentongan;
using steady = std::chrono::steady_clock;

namespace {

// The child: the simulator until SIGTERM, then its counters on stderr.
[[noreturn]] void run_simulator(int port_pipe) {
  boost::asio::io_context io;
  smpp::smsc_settings s;
  s.dlr_delay = std::chrono::milliseconds{1};
  smpp::smsc_simulator sim(io, s);
  sim.start({boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::uint16_t port = sim.local_port();
  if (::write(port_pipe, &port, sizeof port) != static_cast<ssize_t>(sizeof port)) std::_Exit(2);
  ::close(port_pipe);
  boost::asio::signal_set signals(io, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    sim.stop();
    io.stop();
  });
  io.run();
  const auto c = sim.counters();
  std::fprintf(stderr, "simulator: binds %llu, submits %llu, accepted %llu, throttled %llu, receipts %llu, receipts acked %llu\n",
               static_cast<unsigned long long>(c.binds), static_cast<unsigned long long>(c.submits),
               static_cast<unsigned long long>(c.accepted), static_cast<unsigned long long>(c.throttled),
               static_cast<unsigned long long>(c.receipts), static_cast<unsigned long long>(c.receipts_acked));
  std::_Exit(0);
}

long count(const json& s, const char* key) { return s.value(key, 0L); }

}  // namespace

int main(int argc, char** argv) {
  const long recipients = argc > 1 ? std::atol(argv[1]) : 100000;
  const long sessions = argc > 2 ? std::atol(argv[2]) : 1;
  const long window = argc > 3 ? std::atol(argv[3]) : 64;
  const double tps = argc > 4 ? std::atof(argv[4]) : 0.0;
  const fs::path dir = argc > 5 && argv[5][0] != '\0' ? fs::path(argv[5]) : fs::temp_directory_path() / "kentongan-bench-smpp";
  // The channel's durable_lag (docs/config.md): 0, the default, holds a window place until `submitted` is durable.
  const long durable_lag = argc > 6 ? std::atol(argv[6]) : 0;

  // Fork before any thread exists.
  int fds[2];
  if (::pipe(fds) != 0) return 2;
  const pid_t child = ::fork();
  if (child < 0) return 2;
  if (child == 0) {
    ::close(fds[0]);
    run_simulator(fds[1]);
  }
  ::close(fds[1]);
  std::uint16_t sim_port = 0;
  if (::read(fds[0], &sim_port, sizeof sim_port) != static_cast<ssize_t>(sizeof sim_port)) return 2;
  ::close(fds[0]);

  bench::fresh_directory(dir);
  bench::write_village_csv(dir, recipients, [](long i) { return bench::bench_phone("0812", 10000000, i); });
  std::ofstream(dir / "smpp.pass") << "bench\n";
  std::ostringstream channel;
  channel << R"({"name": "operator", "type": "smpp", "host": "127.0.0.1", "port": )" << sim_port
          << R"(, "system_id": "bench", "password_file": ")" << (dir / "smpp.pass").string()
          << R"(", "source_addr": "KIM", "sessions": )" << sessions << R"(, "window": )" << window
          << R"(, "tps": )" << (tps > 0 ? tps : 100000.0) << R"(, "durable_lag": )" << durable_lag
          << R"(, "registered_delivery": true})";
  bench::write_village_config(dir, {"127.0.0.1:18990", "", channel.str()});
  const auto t_start = steady::now();
  bench::service_thread service(dir);
  const auto port = service.port();
  const auto t_ready = steady::now();
  const std::string& token = service.token();

  const auto cpu_before = bench::thread_cpu_now();
  const auto sim_before = bench::thread_cpu_now(child);
  const auto t0 = steady::now();
  const auto created = daemon::http_call("127.0.0.1", port, "POST", "/api/broadcasts",
                                         json{{"text", "Penyuluhan hama kakao di balai desa, Sabtu 08.00"}, {"all", true}}.dump(), token);
  const auto id = json::parse(created.body)["id"].get<long>();
  json status;
  std::optional<steady::time_point> t_submitted, t10, t90;
  long out = 0, finished = 0;
  for (;;) {
    // A tps run is slow and its 10 %..90 % rate must be exact: every 20 ms. Otherwise sparse while the
    // next figure (10 %, 90 %, all submitted, all receipted) is far (bench/common.hpp).
    const long next = !t10 ? recipients / 10 : !t90 ? recipients * 9 / 10 : recipients;
    const long progress = t_submitted ? finished : out;
    std::this_thread::sleep_for(tps > 0 ? std::chrono::milliseconds{20} : bench::poll_interval(t0, progress, next));
    status = json::parse(daemon::http_call("127.0.0.1", port, "GET", "/api/broadcasts/" + std::to_string(id), "", token).body);
    const auto now = steady::now();
    out = count(status, "submitted") + count(status, "delivered") + count(status, "failed");
    finished = count(status, "delivered") + count(status, "failed");
    if (!t10 && out >= recipients / 10) t10 = now;
    if (!t90 && out >= recipients * 9 / 10) t90 = now;
    if (!t_submitted && out >= recipients && count(status, "recipients") == recipients) t_submitted = now;
    if (finished >= recipients && count(status, "recipients") == recipients) break;
  }
  const auto t_end = steady::now();
  const auto cpu_after = bench::thread_cpu_now();
  const auto sim_after = bench::thread_cpu_now(child);
  service.stop();
  const double rss_mib = bench::peak_rss_mib();
  ::kill(child, SIGTERM);
  ::waitpid(child, nullptr, 0);
  const double submit_s = std::chrono::duration<double>(*t_submitted - t0).count();
  const double receipt_s = std::chrono::duration<double>(t_end - t0).count();
  std::printf("recipients             %ld\n", recipients);
  std::printf("sessions x window      %ld x %ld\n", sessions, window);
  std::printf("tps                    %s\n", tps > 0 ? std::to_string(tps).c_str() : "unlimited");
  std::printf("durable_lag            %ld\n", durable_lag);
  std::printf("start-up incl. sync    %.2f s\n", std::chrono::duration<double>(t_ready - t_start).count());
  std::printf("all submitted after    %.2f s  (%.0f submitted/s)\n", submit_s, static_cast<double>(recipients) / submit_s);
  std::printf("all receipted after    %.2f s  (%.0f receipted/s)\n", receipt_s, static_cast<double>(recipients) / receipt_s);
  if (t10 && t90 && *t90 > *t10) {
    const double rate = static_cast<double>(recipients * 9 / 10 - recipients / 10) / std::chrono::duration<double>(*t90 - *t10).count();
    std::printf("submit rate 10%%..90%%   %.1f /s", rate);
    if (tps > 0) std::printf("  (configured %.1f: %+.2f%%)", tps, (rate - tps) / tps * 100.0);
    std::printf("\n");
  }
  std::printf("delivered              %ld, failed %ld\n", count(status, "delivered"), count(status, "failed"));
  std::printf("daemon peak RSS        %.1f MiB\n", rss_mib);
  bench::print_thread_cpu("daemon CPU by thread", cpu_before, cpu_after, recipients);
  bench::print_thread_cpu("simulator CPU", sim_before, sim_after, recipients);
  return 0;
}
