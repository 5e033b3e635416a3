#include "protocol/sim/sim_channel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace kentongan::sim {
namespace asio = boost::asio;
using std::chrono::steady_clock;

sim_channel::sim_channel(asio::io_context& io, settings s, chan::events& events)
    : io_(io),
      settings_(std::move(s)),
      events_(events),
      random_(settings_.seed),
      submit_timer_(io),
      report_timer_(io),
      run_timer_(io),
      run_id_(std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count())) {
  if (!settings_.record_file.empty()) {
    record_fd_ = ::open(settings_.record_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (record_fd_ < 0) throw std::runtime_error("sim channel: cannot open record file " + settings_.record_file);
  }
}

sim_channel::~sim_channel() {
  if (record_fd_ >= 0) ::close(record_fd_);
}

void sim_channel::apply(const settings& s) {
  const auto record = settings_.record_file;
  settings_ = s;
  settings_.record_file = record;  // the record file is fixed for the life of the channel
}

asio::awaitable<void> sim_channel::run() {
  up_ = true;
  stopping_ = false;
  events_.on_link_state(settings_.name, true, "simulated network ready");
  run_timer_.expires_at(steady_clock::time_point::max());
  boost::system::error_code ec;
  co_await run_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  up_ = false;
  events_.on_link_state(settings_.name, false, "stopped");
}

void sim_channel::stop() {
  stopping_ = true;
  run_timer_.cancel();
  submit_timer_.cancel();
  report_timer_.cancel();
}

bool sim_channel::fails_permanently(const std::string& phone) const {
  if (settings_.fail_rate <= 0.0) return false;
  // FNV-1a: a stable choice per number, so a test knows in advance which numbers fail.
  std::uint64_t h = 1469598103934665603ULL;
  for (char ch : phone) {
    const auto c = static_cast<unsigned char>(ch);
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<double>(h % 1000000ULL) / 1e6 < settings_.fail_rate;
}

void sim_channel::submit(chan::outbound message) {
  pending p;
  p.due = steady_clock::now() + settings_.submit_latency;
  p.result.id = message.id;
  p.to = std::move(message.to);
  p.text = std::move(message.text);
  if (!up_) {
    p.result.outcome = chan::submit_outcome::retryable;
    p.result.reason = "simulated network is down";
  } else if (fails_permanently(p.to)) {
    p.result.outcome = chan::submit_outcome::permanent;
    p.result.reason = "simulated: unknown subscriber";
    ++counters_.permanent_failures;
  } else if (settings_.transient_fail_rate > 0.0 &&
             std::uniform_real_distribution<double>(0.0, 1.0)(random_) < settings_.transient_fail_rate) {
    p.result.outcome = chan::submit_outcome::retryable;
    p.result.reason = "simulated: network busy";
    ++counters_.transient_failures;
  } else {
    p.result.outcome = chan::submit_outcome::accepted;
    // Unique across restarts: a report must never match a message of an earlier run.
    p.result.provider_id = "sim-" + run_id_ + "-" + std::to_string(next_id_++);
    ++counters_.accepted;
  }
  submits_.push_back(std::move(p));
  arm_submit_timer();
}

void sim_channel::arm_submit_timer() {
  if (submit_timer_armed_ || submits_.empty()) return;
  submit_timer_armed_ = true;
  submit_timer_.expires_at(submits_.front().due);
  submit_timer_.async_wait([this](boost::system::error_code ec) {
    submit_timer_armed_ = false;
    if (ec && stopping_) return;
    finish_submits();
  });
}

void sim_channel::record(const pending& p) {
  if (record_fd_ < 0) return;
  std::string line = p.to + '\t' + p.result.provider_id + '\t';
  for (char c : p.text) line.push_back(c == '\n' || c == '\t' ? ' ' : c);
  line.push_back('\n');
  // One write per message: the phone's inbox survives a kill -9 of the daemon.
  [[maybe_unused]] auto n = ::write(record_fd_, line.data(), line.size());
}

void sim_channel::finish_submits() {
  const auto now = steady_clock::now();
  while (!submits_.empty() && submits_.front().due <= now) {
    pending p = std::move(submits_.front());
    submits_.pop_front();
    if (p.result.outcome == chan::submit_outcome::accepted) {
      record(p);
      reports_.push_back({now + settings_.dlr_delay, p.result.provider_id});
      arm_report_timer();
    }
    events_.on_submit_result(settings_.name, std::move(p.result));
  }
  arm_submit_timer();
}

void sim_channel::arm_report_timer() {
  if (report_timer_armed_ || reports_.empty()) return;
  report_timer_armed_ = true;
  report_timer_.expires_at(reports_.front().due);
  report_timer_.async_wait([this](boost::system::error_code ec) {
    report_timer_armed_ = false;
    if (ec && stopping_) return;
    send_reports();
  });
}

void sim_channel::send_reports() {
  const auto now = steady_clock::now();
  while (!reports_.empty() && reports_.front().due <= now) {
    chan::delivery_report r;
    r.provider_id = std::move(reports_.front().provider_id);
    r.status = chan::report_status::delivered;
    reports_.pop_front();
    ++counters_.reports;
    events_.on_delivery_report(settings_.name, std::move(r));
  }
  arm_report_timer();
}

std::string sim_channel::inject(std::string from, std::string text) {
  chan::inbound m;
  m.provider_id = "sim-mo-" + std::to_string(next_inbound_++) + "-" +
                  std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  m.from = std::move(from);
  m.text = std::move(text);
  m.received_at = core::now();
  ++counters_.inbound;
  auto id = m.provider_id;
  events_.on_inbound(settings_.name, std::move(m), [](bool) {});
  return id;
}

}  // namespace kentongan::sim
