#pragma once
/// Shared by the channel tests (SMPP, modem): a channel::events that records everything a channel
/// reports, and a loop that runs an io_context until a condition holds or a deadline passes.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "protocol/channel/channel.hpp"

namespace kentongan::test_support {

struct fake_events final : channel::events {
  std::vector<channel::submit_result> results;
  std::vector<channel::delivery_report> reports;
  std::vector<channel::inbound> inbound;
  std::vector<std::function<void(bool)>> acks;
  std::vector<bool> link_states;
  bool auto_ack = true;
  std::vector<std::function<void(bool)>> report_acks;  ///< held when auto_ack_reports is false
  bool auto_ack_reports = true;                        ///< the "daemon" stores each report at once

  void on_submit_result(const std::string&, channel::submit_result r) override { results.push_back(std::move(r)); }
  void on_delivery_report(const std::string&, channel::delivery_report r, std::function<void(bool)> ack) override {
    reports.push_back(std::move(r));
    if (!ack) return;
    if (auto_ack_reports) ack(true);
    else report_acks.push_back(std::move(ack));
  }
  void on_inbound(const std::string&, channel::inbound m, std::function<void(bool)> ack) override {
    inbound.push_back(std::move(m));
    if (auto_ack) ack(true);
    else acks.push_back(std::move(ack));
  }
  void on_link_state(const std::string&, bool up, const std::string&) override { link_states.push_back(up); }
};

template <class Pred>
bool run_until(boost::asio::io_context& io, Pred pred,
               std::chrono::milliseconds timeout = std::chrono::milliseconds{5000}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds{5});
    if (io.stopped()) io.restart();
  }
  return pred();
}

}  // namespace kentongan::test_support
