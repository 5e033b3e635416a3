#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "protocol/sim/sim_channel.hpp"

using namespace kentongan;
namespace asio = boost::asio;

namespace {
struct recorder : channel::events {
  std::vector<channel::submit_result> results;
  std::vector<channel::delivery_report> reports;
  std::vector<channel::inbound> inbound;
  std::vector<bool> states;
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
  bool hold_report_acks = false;  // else each report is "stored" at once
  std::vector<std::function<void(bool)>> report_acks;
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
