#include "daemon/demo.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <thread>

#include "config/config.hpp"
#include "daemon/http_client.hpp"
#include "daemon/http_server.hpp"
#include "daemon/service.hpp"

namespace kentongan::daemon {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path find_example(const std::string& flag, const char* argv0) {
  if (!flag.empty()) return flag;
  std::vector<fs::path> candidates;
  std::error_code ec;
  const auto exe = fs::canonical("/proc/self/exe", ec);
  if (!ec) {
    for (auto dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
      candidates.push_back(dir / "examples" / "desa-ekasari");
  }
  (void)argv0;
  candidates.push_back(fs::current_path() / "examples" / "desa-ekasari");
  candidates.push_back("/usr/share/kentongan/examples/desa-ekasari");
  for (const auto& c : candidates)
    if (fs::exists(c / "kentongan.json")) return c;
  throw std::runtime_error("cannot find the example village (examples/desa-ekasari); pass --example DIR");
}

struct client {
  std::string host;
  std::uint16_t port;
  std::string token;
  json call(const std::string& method, const std::string& target, const json& body = nullptr) const {
    const auto r = http_call(host, port, method, target, body.is_null() ? "" : body.dump(), token);
    auto parsed = json::parse(r.body, nullptr, false);
    if (r.status / 100 != 2)
      throw std::runtime_error("the daemon refused " + target + ": " +
                               (parsed.is_object() ? parsed.value("error", r.body) : r.body));
    return parsed;
  }
};

std::string bar(std::int64_t done, std::int64_t total) {
  const int width = 30;
  const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
  return "[" + std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(width - filled), '.') + "]";
}

json wait_for_broadcast(const client& c, std::int64_t id, bool show) {
  for (int i = 0; i < 600; ++i) {
    auto s = c.call("GET", "/api/broadcasts/" + std::to_string(id));
    const auto total = s["recipients"].get<std::int64_t>();
    const auto finished = s["delivered"].get<std::int64_t>() + s["failed"].get<std::int64_t>() +
                          s["expired"].get<std::int64_t>() + s["cancelled"].get<std::int64_t>();
    if (show)
      std::cout << "\r  " << bar(finished, total) << " " << s["delivered"] << "/" << total << " delivered, "
                << s["failed"] << " failed   " << std::flush;
    if (s["state"] == "done" || s["state"] == "cancelled") {
      if (show) std::cout << "\n";
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  throw std::runtime_error("the demo broadcast did not finish within two minutes");
}

/// The simulated phones' inbox: what each resident's phone received, from the record file.
std::multimap<std::string, std::string> received(const fs::path& record) {
  std::multimap<std::string, std::string> out;
  std::ifstream in(record);
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find('\t');
    const auto b = line.find('\t', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.emplace(line.substr(0, a), line.substr(b + 1));
  }
  return out;
}

}  // namespace

int run_demo(const demo_options& options, const char* argv0) {
  const auto example = find_example(options.example_dir, argv0);
  fs::path work = options.state_dir;
  if (work.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "kentongan-demo-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary folder for the demo");
    work = tmpl;
  }
  fs::create_directories(work);
  for (const auto& entry : fs::directory_iterator(example))
    if (entry.is_regular_file()) fs::copy_file(entry.path(), work / entry.path().filename(), fs::copy_options::overwrite_existing);
  const auto config_file = work / "kentongan.json";
  const auto record = work / "phones.txt";

  std::cout << "Kentongan demo: " << example.string() << "\n  copied to " << work.string()
            << " (a fresh database; the example is untouched)\n\n";

  serve_options so;
  so.config_file = config_file;
  so.state_dir = work;
  if (!options.listen.empty()) so.listen = options.listen;
  so.sim_record_file = record.string();
  std::promise<unsigned short> ready;
  auto ready_future = ready.get_future();
  so.on_ready = [&ready](unsigned short port) { ready.set_value(port); };
  std::promise<int> finished;
  auto finished_future = finished.get_future();
  std::thread daemon_thread([so, &finished]() {
    try {
      finished.set_value(serve(so));
    } catch (...) {
      finished.set_exception(std::current_exception());
    }
  });
  if (ready_future.wait_for(std::chrono::seconds{30}) != std::future_status::ready) {
    daemon_thread.join();
    finished_future.get();  // rethrows the start-up error
    return 1;
  }
  const auto port = ready_future.get();
  auto loaded = config::load(config_file);
  const std::string listen = options.listen.empty() ? loaded.config->http.listen : options.listen;
  const auto [host, configured_port] = split_host_port(listen);
  std::string token;
  std::ifstream(work / "admin.token") >> token;
  const client c{host, port, token};
  (void)configured_port;

  try {
    const std::string text =
        "Penyuluhan hama kakao di balai desa, Sabtu 08.00. Bawa contoh buah yang terserang. Info: balas INFO HARGA.";
    std::cout << "1. The KIM admin checks an announcement to the cocoa farmers before sending it:\n";
    auto dry = c.call("POST", "/api/broadcasts", json{{"text", text}, {"groups", {"petani-kakao"}}, {"dry_run", true}});
    std::cout << "   " << dry["recipients"] << " recipients, " << dry["encoding"].get<std::string>() << ", "
              << dry["parts_per_message"] << " part(s) each, about Rp "
              << static_cast<long long>(dry["estimated_cost"].get<double>()) << "\n\n";

    std::cout << "2. ...and sends it. The simulated network delivers it:\n";
    auto id = c.call("POST", "/api/broadcasts", json{{"text", text}, {"groups", {"petani-kakao"}}})["id"].get<std::int64_t>();
    auto st = wait_for_broadcast(c, id, true);
    std::cout << "   broadcast " << id << ": " << st["delivered"] << " delivered, " << st["failed"] << " failed\n\n";

    std::cout << "3. Residents answer by SMS:\n";
    const std::vector<std::pair<std::string, std::string>> residents{
        {"081234500001", "LAPOR jalan rusak di dusun 2 dekat SD #jalan"},
        {"081234500002", "INFO HARGA"},
        {"081298765432", "DAFTAR petani-kakao"},
        {"081234500003", "BANTUAN"},
    };
    for (const auto& [from, msg] : residents) {
      c.call("POST", "/api/sim/inbound", json{{"from", from}, {"text", msg}});
      std::cout << "   " << from << ": " << msg << "\n";
    }
    std::this_thread::sleep_for(std::chrono::seconds{2});
    std::cout << "\n4. What their phones received back:\n";
    const auto inbox = received(record);
    for (const auto& [from, msg] : residents) {
      (void)msg;
      const auto e164 = "+62" + from.substr(1);
      auto range = inbox.equal_range(e164);
      bool any = false;
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second.rfind("Penyuluhan", 0) == 0) continue;  // the broadcast itself
        std::cout << "   -> " << from << ": " << it->second << "\n";
        any = true;
      }
      if (!any) std::cout << "   -> " << from << ": (no reply)\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "demo step failed: " << e.what() << "\n";
    ::kill(::getpid(), SIGTERM);
    daemon_thread.join();
    return 1;
  }

  const std::string cli = std::string("kentongan --config ") + config_file.string() +
                          (options.listen.empty() ? "" : " --listen " + options.listen);
  std::cout << "\nThe daemon keeps serving the demo village on " << host << ":" << port << ". From a second terminal try:\n"
            << "  " << cli << " status\n"
            << "  " << cli << " broadcast --group warga-dusun-1 --text 'Gotong royong Minggu 07.00' --dry-run\n"
            << "  " << cli << " broadcast --all --priority urgent --text 'Waspada banjir malam ini'\n"
            << "  " << cli << " sim send --from 081234500009 'LAPOR lampu jalan mati di RT 03'\n"
            << "  " << cli << " sms-info 'Harga kakao hari ini Rp 38.000/kg'\n"
            << "What the simulated phones receive is appended to " << record.string() << "\n"
            << (options.exit_when_done ? "" : "Press Ctrl-C to stop.\n") << std::flush;
  if (options.exit_when_done) ::kill(::getpid(), SIGTERM);
  daemon_thread.join();
  return finished_future.get();
}

}  // namespace kentongan::daemon
