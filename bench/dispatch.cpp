// bench_dispatch [RECIPIENTS] [WINDOW] [DIR]
// Runs the real service in-process on a generated village of RECIPIENTS subscribers with one
// simulated channel (no rate limit, delivery reports after 1 ms) and sends one broadcast to all of
// them through the admin API; reports the time from the broadcast's creation until every recipient
// is delivered, messages per second, and peak RSS. Every state change is durable (synchronous=FULL,
// group commit), exactly as in production.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "bench/common.hpp"
#include "daemon/http_client.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kentongan;

int main(int argc, char** argv) {
  const long recipients = argc > 1 ? std::atol(argv[1]) : 100000;
  const long window = argc > 2 ? std::atol(argv[2]) : 2000;
  const fs::path dir = argc > 3 ? fs::path(argv[3]) : fs::temp_directory_path() / "kentongan-bench-dispatch";
  bench::fresh_directory(dir);
  bench::write_village_csv(dir, recipients, [](long i) { return bench::bench_phone("0812", 10000000, i); });
  bench::write_village_config(
      dir, {"127.0.0.1:18989", "",
            R"({"name": "sim", "type": "sim", "tps": 100000, "window": )" + std::to_string(window) + R"(, "dlr_delay_ms": 1})"});
  const auto t_start = std::chrono::steady_clock::now();
  bench::service_thread service(dir);
  const auto port = service.port();
  const auto t_ready = std::chrono::steady_clock::now();
  const std::string& token = service.token();

  const auto cpu_before = bench::thread_cpu_now();
  const auto t0 = std::chrono::steady_clock::now();
  const auto created = daemon::http_call("127.0.0.1", port, "POST", "/api/broadcasts",
                                         json{{"text", "Penyuluhan hama kakao di balai desa, Sabtu 08.00"}, {"all", true}}.dump(), token);
  const auto id = json::parse(created.body)["id"].get<long>();
  json status;
  long finished = 0;
  for (;;) {
    std::this_thread::sleep_for(bench::poll_interval(t0, finished, recipients));
    status = json::parse(daemon::http_call("127.0.0.1", port, "GET", "/api/broadcasts/" + std::to_string(id), "", token).body);
    finished = status["delivered"].get<long>() + status["failed"].get<long>();
    if (finished >= recipients && status["recipients"].get<long>() == recipients) break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto cpu_after = bench::thread_cpu_now();
  service.stop();
  std::printf("recipients            %ld\n", recipients);
  std::printf("window                %ld\n", window);
  std::printf("start-up incl. sync   %.2f s\n", std::chrono::duration<double>(t_ready - t_start).count());
  std::printf("broadcast to delivered %.2f s\n", seconds);
  std::printf("throughput            %.0f messages/s (submitted and receipted, durable)\n", static_cast<double>(recipients) / seconds);
  std::printf("delivered             %ld, failed %ld\n", status["delivered"].get<long>(), status["failed"].get<long>());
  std::printf("peak RSS              %.1f MiB\n", bench::peak_rss_mib());
  bench::print_thread_cpu("CPU by thread", cpu_before, cpu_after, recipients);
  return 0;
}
