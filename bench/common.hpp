#pragma once
/// What the benchmarks share: a fresh directory holding a generated village (warga.csv and
/// kentongan.json around the benchmark's own channels), the real service started in-process on
/// it, and the process's peak RSS. For bench/*.cpp only; throws on I/O errors.

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <future>
#include <string>
#include <thread>

#include "daemon/logging.hpp"
#include "daemon/service.hpp"

namespace kentongan::bench {

/// Subscriber i's number: `prefix` and base + i in at least 8 digits ("0812" 10000000 + i).
inline std::string bench_phone(const char* prefix, long base, long i) {
  char phone[48];
  std::snprintf(phone, sizeof phone, "%s%08ld", prefix, base + i);
  return phone;
}

/// The village: `subscribers` is the config's subscriber source ("subscribers_csv": "warga.csv"
/// or an inline "subscribers" list), `limits` extra members after the quiet hours (none: empty).
struct village_config {
  std::string listen;     ///< http.listen, "127.0.0.1:0" for any port
  std::string limits;     ///< e.g. R"("inbound_per_minute": 1000)"
  std::string channel;    ///< one channel object, JSON
  std::string subscribers = R"("subscribers_csv": "warga.csv")";
};

/// Empties `dir` and makes it again (a previous run's database would skew the figures).
inline void fresh_directory(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
}

/// warga.csv: a header and `count` rows "<phone_of(i)>,Warga <i>,semua<extra>"; `extra_header`
/// names the columns `extra` fills (",channel" and ",whatsapp").
template <class PhoneOf>
void write_village_csv(const std::filesystem::path& dir, long count, PhoneOf phone_of, const std::string& extra_header = {},
                       const std::string& extra = {}) {
  std::ofstream csv(dir / "warga.csv");
  csv << "phone,name,groups" << extra_header << "\n";
  for (long i = 0; i < count; ++i) csv << phone_of(i) << ",Warga " << i << ",semua" << extra << "\n";
}

/// kentongan.json: one village, group "semua", quiet hours off, the given channel and subscribers.
inline void write_village_config(const std::filesystem::path& dir, const village_config& v) {
  std::ofstream cfg(dir / "kentongan.json");
  cfg << R"({
  "village": {"name": "Desa Bench", "timezone": "Asia/Jakarta"},
  "storage": {"path": "kentongan.db"},
  "http": {"listen": ")" << v.listen << R"("},
  "limits": {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00")" << (v.limits.empty() ? "" : ", " + v.limits) << R"(},
  "channels": [)" << v.channel << R"(],
  "groups": [{"id": "semua", "name": "Semua"}],
  )" << v.subscribers << R"(
})";
}

/// The real service on its own thread (only warnings logged), serving `dir`'s kentongan.json;
/// constructed once it listens.
class service_thread {
 public:
  explicit service_thread(const std::filesystem::path& dir) {
    daemon::setup_logging("warn", false);
    daemon::serve_options so;
    so.config_file = dir / "kentongan.json";
    so.state_dir = dir;
    auto port_future = ready_.get_future();
    so.on_ready = [this](unsigned short p) { ready_.set_value(p); };
    thread_ = std::thread([so]() {
      pthread_setname_np(pthread_self(), "kt-io");  // serve()'s thread runs the I/O loop
      daemon::serve(so);
    });
    port_ = port_future.get();
    std::ifstream(dir / "admin.token") >> token_;
  }
  service_thread(const service_thread&) = delete;
  service_thread& operator=(const service_thread&) = delete;

  unsigned short port() const { return port_; }
  const std::string& token() const { return token_; }  ///< the admin API's bearer token
  /// SIGTERM to this process, as an operator stops the daemon; returns once serve() has.
  void stop() {
    ::kill(::getpid(), SIGTERM);
    thread_.join();
  }

 private:
  std::promise<unsigned short> ready_;
  std::thread thread_;
  unsigned short port_ = 0;
  std::string token_;
};

/// How long to wait before the next status poll. A status poll counts the broadcast's rows on the
/// daemon's reader thread (~11 ms per 100,000 rows), which shares the machine with what is measured:
/// polling every 50 ms took a fifth of a core. So polls are sparse while the next figure is far and
/// dense as it nears: an eighth of the time the next milestone (`next` rows done, at the rate seen
/// since `started`) is still away, between 20 and 200 ms; a figure is late by at most that (0.3 % of a 7-second run).
inline std::chrono::milliseconds poll_interval(std::chrono::steady_clock::time_point started, long done, long next) {
  using namespace std::chrono;
  const double elapsed = duration<double>(steady_clock::now() - started).count();
  if (done <= 0 || elapsed <= 0) return milliseconds{50};
  const double eta = static_cast<double>(next - done) * elapsed / static_cast<double>(done);
  return milliseconds{std::clamp<long>(static_cast<long>(eta * 1000 / 8), 20, 200)};
}

/// CPU seconds (user + system) so far of each thread of process `pid` (0: this one), by thread id,
/// with the thread's name, from /proc (clock ticks: 10 ms each).
struct thread_cpu {
  std::string name;
  double seconds = 0;
};
inline std::map<long, thread_cpu> thread_cpu_now(pid_t pid = 0) {
  std::map<long, thread_cpu> out;
  const std::filesystem::path tasks = "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/task";
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream stat(task.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "tid (name) state ppid …": the name may hold spaces and parentheses, so it ends at the last ')'.
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    out[std::stol(task.path().filename().string())] = {line.substr(open + 1, close - open - 1), (utime + stime) / tick};
  }
  return out;
}

/// Prints the CPU each thread spent between two snapshots, in µs per message: tells which thread a
/// change relieved even when the wall-clock figure moves within its spread (this machine is shared).
inline void print_thread_cpu(const char* label, const std::map<long, thread_cpu>& before,
                             const std::map<long, thread_cpu>& after, long messages) {
  double total = 0;
  std::string line;
  for (const auto& [tid, t] : after) {
    const auto it = before.find(tid);
    const double spent = t.seconds - (it == before.end() ? 0.0 : it->second.seconds);
    if (spent < 0.005) continue;
    total += spent;
    char part[96];
    std::snprintf(part, sizeof part, "  %s %.1f", t.name.c_str(), spent * 1e6 / static_cast<double>(messages));
    line += part;
  }
  std::printf("%-22s %.1f us/message:%s\n", label, total * 1e6 / static_cast<double>(messages), line.c_str());
}

/// Peak resident set of this process so far, MiB.
inline double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

}  // namespace kentongan::bench
