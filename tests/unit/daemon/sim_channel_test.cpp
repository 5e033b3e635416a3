#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "protocol/sim/sim_channel.hpp"
#include "tests/unit/channel_test_support.hpp"

using namespace kentongan;
namespace asio = boost::asio;

namespace {
struct recorder : channel::events {
  std::vector<channel::submit_result> results;
  std::vector<channel::delivery_report> reports;
  std::vector<channel::inbound> inbound;
  std::vector<bool> states;
  bool hold_report_acks = false;  // else each report is "stored" at once
  std::vector<std::function<void(bool)>> report_acks;
  void on_submit_result(const std::string&, channel::submit_result r) override { results.push_back(std::move(r)); }
  void on_delivery_report(const std::string&, channel::delivery_report r, std::function<void(bool)> ack) override {
    reports.push_back(std::move(r));
    REQUIRE(ack);
    if (hold_report_acks) report_acks.push_back(std::move(ack));
    else ack(true);
  }
  void on_inbound(const std::string&, channel::inbound m, std::function<void(bool)> ack) override {
    inbound.push_back(std::move(m));
    ack(true);
  }
  void on_link_state(const std::string&, bool up, const std::string&) override { states.push_back(up); }
};

asio::awaitable<void> run_channel(sim::sim_channel* c) { co_await c->run(); }
}  // namespace

TEST_CASE("the simulated network accepts, reports delivery and fails chosen numbers") {
  asio::io_context io;
  recorder events;
  sim::settings s;
  s.dlr_delay = std::chrono::milliseconds{5};
  s.fail_rate = 0.3;
  sim::sim_channel chan(io, s, events);
  asio::co_spawn(io, run_channel(&chan), asio::detached);
  io.poll();
  REQUIRE(chan.is_up());

  std::map<std::int64_t, std::string> sent;
  int expected_failures = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string phone = "+62812000" + std::to_string(10000 + i);
    if (chan.fails_permanently(phone)) ++expected_failures;
    chan.submit({i + 1, phone, "Penyuluhan hama kakao", true, ""});
  }
  CHECK(expected_failures > 10);   // 30 % of numbers, chosen by number
  CHECK(expected_failures < 50);
  asio::steady_timer t(io, std::chrono::milliseconds{100});
  t.async_wait([&](auto) { chan.stop(); });
  io.run();

  REQUIRE(events.results.size() == 100);
  int accepted = 0, permanent = 0;
  for (const auto& r : events.results) {
    if (r.outcome == channel::submit_outcome::accepted) {
      ++accepted;
      CHECK_FALSE(r.provider_id.empty());
    }
    if (r.outcome == channel::submit_outcome::permanent) ++permanent;
  }
  CHECK(permanent == expected_failures);
  CHECK(accepted == 100 - expected_failures);
  CHECK(events.reports.size() == static_cast<std::size_t>(accepted));
  CHECK(events.states == std::vector<bool>{true, false});
}

TEST_CASE("injected inbound messages reach the events with unique ids") {
  asio::io_context io;
  recorder events;
  sim::sim_channel chan(io, sim::settings{}, events);
  const auto a = chan.inject("+6281234567890", "LAPOR jalan rusak");
  const auto b = chan.inject("+6281234567890", "LAPOR jalan rusak");
  CHECK(a != b);
  REQUIRE(events.inbound.size() == 2);
  CHECK(events.inbound[0].text == "LAPOR jalan rusak");
  CHECK(events.inbound[0].from == "+6281234567890");
}

namespace {
std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct journal_dir {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("kentongan-sim-journal-" + std::to_string(::getpid()) + "-" +
                               std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  journal_dir() { std::filesystem::create_directories(dir); }
  ~journal_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string file() const { return (dir / "sim.reports").string(); }
};
}  // namespace

TEST_CASE("reports owed outlive the channel through the journal and are crossed out once stored") {
  using test_support::run_until;
  journal_dir tmp;
  asio::io_context io;
  sim::settings s;
  s.reports_journal = tmp.file();
  std::vector<std::string> ids;
  {
    // The first run dies (kill -9: no stop) with every report still owed.
    recorder events;
    s.dlr_delay = std::chrono::seconds{60};
    sim::sim_channel chan(io, s, events);
    asio::co_spawn(io, run_channel(&chan), asio::detached);
    REQUIRE(run_until(io, [&] { return chan.is_up(); }));
    for (int i = 0; i < 3; ++i) chan.submit({i + 1, "+6281200000" + std::to_string(i), "Kerja bakti Minggu", true, ""});
    REQUIRE(run_until(io, [&] { return events.results.size() == 3; }));
    for (const auto& r : events.results) ids.push_back(r.provider_id);
    CHECK(events.reports.empty());
  }
  {
    asio::io_context io2;
    recorder events;
    events.hold_report_acks = true;
    s.dlr_delay = std::chrono::milliseconds{5};
    sim::sim_channel chan(io2, s, events);
    CHECK(chan.stats().reports_restored == 3);
    CHECK(read_file(tmp.file()) == "+" + ids[0] + "\n+" + ids[1] + "\n+" + ids[2] + "\n");  // compacted
    asio::co_spawn(io2, run_channel(&chan), asio::detached);
    REQUIRE(run_until(io2, [&] { return events.report_acks.size() == 3; }));
    std::vector<std::string> reported;
    for (const auto& r : events.reports) {
      reported.push_back(r.provider_id);
      CHECK(r.status == channel::report_status::delivered);
    }
    CHECK(reported == ids);
    events.report_acks[0](true);
    events.report_acks[2](true);
    events.report_acks[1](false);  // not stored: sent again, still owed
    run_until(io2, [&] { return false; }, std::chrono::milliseconds{20});
    CHECK(chan.stats().reports_refused == 1);
  }
  {
    asio::io_context io3;
    recorder events;
    sim::sim_channel chan(io3, s, events);
    CHECK(chan.stats().reports_restored == 1);
    CHECK(read_file(tmp.file()) == "+" + ids[1] + "\n");
    asio::co_spawn(io3, run_channel(&chan), asio::detached);
    REQUIRE(run_until(io3, [&] { return events.reports.size() == 1; }));
    CHECK(events.reports[0].provider_id == ids[1]);
    run_until(io3, [&] { return false; }, std::chrono::milliseconds{20});
    chan.stop();
    io3.run_for(std::chrono::milliseconds{20});
  }
  recorder events;
  asio::io_context io4;
  sim::sim_channel chan(io4, s, events);
  CHECK(chan.stats().reports_restored == 0);
  CHECK(read_file(tmp.file()).empty());
}

TEST_CASE("a report the daemon could not store is sent again") {
  using test_support::run_until;
  asio::io_context io;
  recorder events;
  events.hold_report_acks = true;
  sim::settings s;
  s.dlr_delay = std::chrono::milliseconds{5};
  sim::sim_channel chan(io, s, events);
  asio::co_spawn(io, run_channel(&chan), asio::detached);
  REQUIRE(run_until(io, [&] { return chan.is_up(); }));
  chan.submit({1, "+6281200000001", "Musyawarah dusun", true, ""});
  REQUIRE(run_until(io, [&] { return events.report_acks.size() == 1; }));
  events.report_acks[0](false);
  REQUIRE(run_until(io, [&] { return events.report_acks.size() == 2; }));
  CHECK(events.reports[1].provider_id == events.reports[0].provider_id);
  CHECK(chan.stats().reports_refused == 1);
  events.report_acks[1](true);
  run_until(io, [&] { return false; }, std::chrono::milliseconds{50});
  CHECK(events.reports.size() == 2);
  chan.stop();
  io.run_for(std::chrono::milliseconds{20});
}
