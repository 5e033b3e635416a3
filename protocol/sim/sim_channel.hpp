#pragma once
/// A Channel that simulates a carrier and its phones inside the daemon: it takes submits at the
/// configured rate, reports delivery after a delay, fails a configured share of numbers, and lets
/// the demo and the tests play residents texting in. Runs on the daemon's I/O thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "protocol/channel/channel.hpp"

namespace kentongan::sim {
namespace chan = kentongan::channel;

struct settings {
  std::string name = "sim";
  chan::rate_limits limits{200.0, 100, 0, 0};
  std::chrono::milliseconds submit_latency{2};
  std::chrono::milliseconds dlr_delay{200};
  double fail_rate = 0.0;            ///< share of numbers that always fail permanently (chosen by number)
  double transient_fail_rate = 0.0;  ///< share of submits that fail once, retryable
  std::string record_file;           ///< when set, every accepted message is appended here ("phone\tid\ttext")
  /// When set, the delivery reports the network owes outlive the process (kill -9 included): one
  /// line when a submit is accepted, one when the daemon has stored its report; reports still owed
  /// at construction go out again dlr_delay after run() starts. Fixed for the life of the channel.
  std::string reports_journal;
  std::uint64_t seed = 1;
  bool operator==(const settings&) const = default;
};

struct counters {
  std::uint64_t accepted = 0, permanent_failures = 0, transient_failures = 0, reports = 0, inbound = 0;
  std::uint64_t reports_refused = 0;  ///< the daemon could not store a report: it is sent again later
  std::uint64_t reports_restored = 0; ///< reports still owed from an earlier run (reports_journal)
};

class sim_channel final : public chan::channel {
 public:
  sim_channel(boost::asio::io_context& io, settings s, chan::events& events);
  ~sim_channel() override;

  const std::string& name() const override { return settings_.name; }
  const std::string& kind() const override { return kind_; }
  chan::rate_limits limits() const override { return settings_.limits; }
  bool is_up() const override { return up_; }
  boost::asio::awaitable<void> run() override;
  void submit(chan::outbound message) override;
  void stop() override;

  /// A resident texts the village number. Returns the provider id given to the message.
  std::string inject(std::string from, std::string text);
  /// Whether the simulated network fails this number permanently (stable for a number).
  bool fails_permanently(const std::string& phone) const;
  const counters& stats() const { return counters_; }
  void apply(const settings& s);

 private:
  struct pending {
    std::chrono::steady_clock::time_point due;
    chan::submit_result result;
    std::string to;
    std::string text;
  };
  struct report_due {
    std::chrono::steady_clock::time_point due;
    std::string provider_id;
  };
  void arm_submit_timer();
  void arm_report_timer();
  void finish_submits();
  void send_reports();
  void record(const pending& p);
  void open_journal();
  void journal_flush();
  void report_stored(std::string provider_id, bool stored);

  boost::asio::io_context& io_;
  settings settings_;
  chan::events& events_;
  std::string kind_ = "sim";
  bool up_ = false;
  bool stopping_ = false;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_inbound_ = 1;
  std::mt19937_64 random_;
  std::deque<pending> submits_;
  std::deque<report_due> reports_;
  boost::asio::steady_timer submit_timer_;
  boost::asio::steady_timer report_timer_;
  boost::asio::steady_timer run_timer_;
  bool submit_timer_armed_ = false;
  bool report_timer_armed_ = false;
  std::string run_id_;  ///< start time in ms: provider ids never repeat across restarts
  int record_fd_ = -1;
  int journal_fd_ = -1;
  std::string journal_pending_;           ///< crossed-out lines not yet written (one write per turn)
  bool journal_flush_posted_ = false;
  std::uint64_t journal_owed_ = 0;        ///< reports owed, as the journal has them
  std::uint64_t journal_bytes_ = 0;
  std::vector<std::string> restored_;     ///< owed from an earlier run, sent once run() starts
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  ///< for acks that outlive the channel
  counters counters_;
};

}  // namespace kentongan::sim
