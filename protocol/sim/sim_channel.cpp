#include "protocol/sim/sim_channel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <unordered_set>

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
  if (!settings_.reports_journal.empty()) open_journal();
}

sim_channel::~sim_channel() {
  journal_flush();
  if (journal_fd_ >= 0) ::close(journal_fd_);
  if (record_fd_ >= 0) ::close(record_fd_);
}

void sim_channel::open_journal() {
  // Lines "+id" (owed: the submit was accepted) and "-id" (the daemon stored the report). Only
  // whole lines count: a line cut short by a full disk is ignored.
  std::vector<std::string> owed;
  {
    std::ifstream in(settings_.reports_journal);
    std::vector<std::string> added;
    std::unordered_set<std::string> done;
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof() || line.size() < 2) continue;  // eof: no newline after it
      if (line[0] == '+') added.push_back(line.substr(1));
      else if (line[0] == '-') done.insert(line.substr(1));
    }
    std::unordered_set<std::string> kept;
    for (auto& id : added)
      if (!done.contains(id) && kept.insert(id).second) owed.push_back(std::move(id));
  }
  // Compacted at start, so the file holds one run's traffic at most.
  std::string text;
  for (const auto& id : owed) text += "+" + id + "\n";
  const auto tmp = settings_.reports_journal + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("sim channel: cannot write the reports journal " + tmp);
  }
  if (std::rename(tmp.c_str(), settings_.reports_journal.c_str()) != 0)
    throw std::runtime_error("sim channel: cannot replace the reports journal " + settings_.reports_journal);
  journal_fd_ = ::open(settings_.reports_journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (journal_fd_ < 0) throw std::runtime_error("sim channel: cannot open the reports journal " + settings_.reports_journal);
  journal_bytes_ = text.size();
  journal_owed_ = owed.size();
  counters_.reports_restored = owed.size();
  restored_ = std::move(owed);
}

void sim_channel::journal_flush() {
  journal_flush_posted_ = false;
  if (journal_fd_ < 0 || journal_pending_.empty()) return;
  // No fsync: the simulated network dies with the daemon only on kill -9, where the page cache
  // keeps what was written. A crossed-out line lost anyway only sends a report twice.
  [[maybe_unused]] auto n = ::write(journal_fd_, journal_pending_.data(), journal_pending_.size());
  journal_bytes_ += journal_pending_.size();
  journal_pending_.clear();
  if (journal_owed_ == 0 && journal_bytes_ > (1u << 20)) {
    [[maybe_unused]] auto r = ::ftruncate(journal_fd_, 0);  // nothing owed: start the file afresh
    journal_bytes_ = 0;
  }
}

void sim_channel::report_stored(std::string provider_id, bool stored) {
  if (!stored) {
    // The daemon could not store it: like an SMSC, try again later (it is still owed).
    ++counters_.reports_refused;
    if (stopping_) return;
    const auto due = steady_clock::now() + std::max<steady_clock::duration>(settings_.dlr_delay, std::chrono::seconds{1});
    const auto at = std::find_if(reports_.begin(), reports_.end(), [&](const report_due& r) { return r.due > due; });
    reports_.insert(at, report_due{due, std::move(provider_id)});
    arm_report_timer();
    return;
  }
  if (journal_fd_ < 0) return;
  if (journal_owed_ > 0) --journal_owed_;
  journal_pending_ += "-" + provider_id + "\n";
  if (journal_flush_posted_) return;
  journal_flush_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock()) journal_flush();
  });
}

void sim_channel::apply(const settings& s) {
  const auto record = settings_.record_file;
  const auto journal = settings_.reports_journal;
  settings_ = s;
  settings_.record_file = record;  // the record file and the journal are fixed for the life of the channel
  settings_.reports_journal = journal;
}

asio::awaitable<void> sim_channel::run() {
  up_ = true;
  stopping_ = false;
  events_.on_link_state(settings_.name, true, "simulated network ready");
  // Reports an earlier run owed: sent again after the delay, as an SMSC does after the rebind.
  const auto due = steady_clock::now() + settings_.dlr_delay;
  for (auto& id : restored_) reports_.push_back({due, std::move(id)});
  restored_.clear();
  arm_report_timer();
  run_timer_.expires_at(steady_clock::time_point::max());
  boost::system::error_code ec;
  co_await run_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  up_ = false;
  events_.on_link_state(settings_.name, false, "stopped");
}

void sim_channel::stop() {
  stopping_ = true;
  journal_flush();
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
  std::vector<pending> due;
  while (!submits_.empty() && submits_.front().due <= now) {
    due.push_back(std::move(submits_.front()));
    submits_.pop_front();
  }
  if (journal_fd_ >= 0) {
    // The reports owed are written before the daemon hears of the submits (one write for all):
    // a submit it stores as `submitted` always has its report in the journal.
    std::string lines;
    for (const auto& p : due)
      if (p.result.outcome == chan::submit_outcome::accepted) {
        lines += "+" + p.result.provider_id + "\n";
        ++journal_owed_;
      }
    if (!lines.empty()) {
      [[maybe_unused]] auto n = ::write(journal_fd_, lines.data(), lines.size());
      journal_bytes_ += lines.size();
    }
  }
  for (auto& p : due) {
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
    // Crossed out of the journal only once the daemon has stored it (DESIGN.md "Nothing lost").
    auto ack = [this, alive = std::weak_ptr<bool>(alive_), id = r.provider_id](bool stored) {
      if (alive.lock()) report_stored(id, stored);
    };
    events_.on_delivery_report(settings_.name, std::move(r), std::move(ack));
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
