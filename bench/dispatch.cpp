// bench_dispatch [RECIPIENTS] [WINDOW] [DIR]
// Runs the real service in-process on a generated village of RECIPIENTS subscribers with one
// simulated channel (no rate limit, delivery reports after 1 ms) and sends one broadcast to all of
// them through the admin API; reports the time from the broadcast's creation until every recipient
// is delivered, messages per second, and peak RSS. Every state change is durable (synchronous=FULL,
// group commit), exactly as in production.
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon/http_client.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kentongan;

int main(int argc, char** argv) {
  const long recipients = argc > 1 ? std::atol(argv[1]) : 100000;
  const long window = argc > 2 ? std::atol(argv[2]) : 2000;
  const fs::path dir = argc > 3 ? fs::path(argv[3]) : fs::temp_directory_path() / "kentongan-bench-dispatch";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream csv(dir / "warga.csv");
    csv << "phone,name,groups\n";
    for (long i = 0; i < recipients; ++i) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "0812%08ld", 10000000 + i);
      csv << phone << ",Warga " << i << ",semua\n";
    }
    std::ofstream cfg(dir / "kentongan.json");
    cfg << R"({
  "village": {"name": "Desa Bench", "timezone": "Asia/Jakarta"},
  "storage": {"path": "kentongan.db"},
  "http": {"listen": "127.0.0.1:18989"},
  "limits": {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"},
  "channels": [{"name": "sim", "type": "sim", "tps": 100000, "window": )"
        << window << R"(, "dlr_delay_ms": 1}],
  "groups": [{"id": "semua", "name": "Semua"}],
  "subscribers_csv": "warga.csv"
})";
  }
  daemon::setup_logging("warn", false);
  daemon::serve_options so;
  so.config_file = dir / "kentongan.json";
  so.state_dir = dir;
  std::promise<unsigned short> ready;
  auto port_future = ready.get_future();
  so.on_ready = [&ready](unsigned short port) { ready.set_value(port); };
  const auto t_start = std::chrono::steady_clock::now();
  std::thread service([so]() { daemon::serve(so); });
  const auto port = port_future.get();
  const auto t_ready = std::chrono::steady_clock::now();
  std::string token;
  std::ifstream(dir / "admin.token") >> token;

  const auto t0 = std::chrono::steady_clock::now();
  const auto created = daemon::http_call("127.0.0.1", port, "POST", "/api/broadcasts",
                                         json{{"text", "Penyuluhan hama kakao di balai desa, Sabtu 08.00"}, {"all", true}}.dump(), token);
  const auto id = json::parse(created.body)["id"].get<long>();
  json status;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    status = json::parse(daemon::http_call("127.0.0.1", port, "GET", "/api/broadcasts/" + std::to_string(id), "", token).body);
    if (status["delivered"].get<long>() + status["failed"].get<long>() >= recipients && status["recipients"].get<long>() == recipients)
      break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::kill(::getpid(), SIGTERM);
  service.join();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("recipients            %ld\n", recipients);
  std::printf("window                %ld\n", window);
  std::printf("start-up incl. sync   %.2f s\n", std::chrono::duration<double>(t_ready - t_start).count());
  std::printf("broadcast to delivered %.2f s\n", seconds);
  std::printf("throughput            %.0f messages/s (submitted and receipted, durable)\n", static_cast<double>(recipients) / seconds);
  std::printf("delivered             %ld, failed %ld\n", status["delivered"].get<long>(), status["failed"].get<long>());
  std::printf("peak RSS              %.1f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}
