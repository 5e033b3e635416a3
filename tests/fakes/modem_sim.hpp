#pragma once
/// A GSM modem on a pseudo-terminal (openpty) that speaks AT like a real one: echo on after power-up,
/// PDU-mode AT+CMGS with the "> " prompt, stored messages announced with +CMTI, status reports as
/// +CDS, USSD, +CMS ERROR and hangs on demand. Runs on the io_context it was built with.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol/asio/asio.hpp"

namespace kentongan::fakes {

struct modem_sim_settings {
  std::string pin;                                   ///< empty: the SIM asks for none
  int searching_polls = 0;                           ///< AT+CREG? says "searching" this many times first
  std::string operator_name = "TELKOMSEL";
  std::string smsc = "+6281100000";
  bool status_reports = true;                        ///< answer TP-SRR submits with a report
  std::uint8_t report_status = 0x00;                 ///< TP-ST of those reports
  bool report_as_cds = true;                         ///< +CDS (CNMI ds=1); false: stored and +CDSI
  std::chrono::milliseconds report_delay{20};
  bool hold_reports = false;                         ///< keep reports until release_reports()
  std::string ussd_reply = "Sisa pulsa Anda Rp 12.500. Aktif s.d. 30-06-2026";
  bool interleave_urcs = false;                      ///< hold URCs and send them between response lines
  bool supports_reset = true;                        ///< AT+CFUN=1,1
  std::chrono::milliseconds reset_time{100};         ///< deaf after a reset
  std::string link_path;                             ///< a symlink to the pty slave, kept across replug
};

struct modem_sim_counters {
  std::uint64_t commands = 0;
  std::uint64_t submits = 0;
  std::uint64_t deletes = 0;
  std::uint64_t resets = 0;
  std::uint64_t reports = 0;
};

class modem_simulator {
 public:
  explicit modem_simulator(boost::asio::io_context& io, modem_sim_settings settings = {});
  ~modem_simulator();
  modem_simulator(const modem_simulator&) = delete;
  modem_simulator& operator=(const modem_simulator&) = delete;

  /// What the channel opens: link_path when set, else the pty slave ("/dev/pts/7").
  const std::string& device() const { return device_; }

  /// Stores an SMS-DELIVER from `from` (concatenated parts when long) and announces each with +CMTI.
  void deliver(const std::string& from, const std::string& text);
  /// Stores a PDU as a modem prints it (SMSC part first) and announces it.
  void deliver_pdu(const std::string& hex, bool announce = true);
  /// After `after` more accepted submits, the next `count` AT+CMGS get "+CMS ERROR: <code>".
  void fail_submits(int code, int count = 1, int after = 0);
  /// Sends an unsolicited line now (or, with interleave_urcs, inside the next response).
  void send_urc(const std::string& line);
  /// Sends the reports held by hold_reports (as +CDS, or stored and announced with +CDSI), oldest first.
  void release_reports();
  /// Stops answering (and reading) until unhang() or an unplug.
  void hang();
  void unhang();
  /// Closes the pty as a pulled USB stick does; replug() makes a new one behind link_path.
  void unplug();
  void replug();

  struct submitted {
    std::string pdu;
    int mr = 0;
    std::string to;
    std::string text;
    bool report = false;
  };
  const std::vector<submitted>& sent() const { return sent_; }
  const std::vector<std::string>& commands() const { return commands_; }
  std::size_t stored() const { return storage_.size(); }
  bool echo() const { return echo_; }
  const modem_sim_counters& counters() const { return counters_; }

 private:
  struct slot {
    int stat = 0;
    std::string pdu;
  };
  void open_pty();
  void close_pty();
  void read_more();
  void on_bytes(const char* data, std::size_t n);
  void on_command(const std::string& line);
  void on_pdu(const std::string& hex);
  void respond(std::vector<std::string> lines, const std::string& final_code);
  void write(std::string bytes);
  void flush();
  int store(const std::string& pdu);
  void announce(const std::string& line);
  void send_report(int mr, const std::string& to);

  boost::asio::io_context& io_;
  modem_sim_settings settings_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> master_;
  int slave_fd_ = -1;
  std::string slave_path_;
  std::string device_;
  std::uint64_t generation_ = 0;
  std::array<char, 512> buffer_{};
  std::string line_;
  std::string out_;
  std::string sending_;
  bool writing_ = false;

  bool echo_ = true;
  bool hung_ = false;
  bool pin_ok_ = false;
  int creg_polls_ = 0;
  bool pdu_input_ = false;
  std::size_t pdu_length_ = 0;
  std::chrono::steady_clock::time_point deaf_until_{};
  int next_mr_ = 0;
  std::uint8_t next_ref_ = 0;
  std::map<int, slot> storage_;
  std::deque<std::string> held_urcs_;
  std::vector<std::pair<int, std::string>> held_reports_;  ///< (TP-MR, recipient)
  int fail_code_ = 0;
  int fail_count_ = 0;
  int fail_after_ = 0;
  std::vector<submitted> sent_;
  std::vector<std::string> commands_;
  modem_sim_counters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/// Encodes an SMS-DELIVER (23.040 §9.2.2.1) as a modem stores it: SMSC part, then the TPDU. For tests.
std::vector<std::string> make_deliver_pdus(const std::string& smsc, const std::string& from, const std::string& text,
                                           std::uint8_t reference, std::chrono::system_clock::time_point when);
/// Encodes an SMS-STATUS-REPORT (23.040 §9.2.2.3) with an empty SMSC part ("00…").
std::string make_status_report_pdu(int mr, const std::string& recipient, std::uint8_t status,
                                   std::chrono::system_clock::time_point when);

}  // namespace kentongan::fakes
