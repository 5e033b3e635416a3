#pragma once
/// The AT command engine of a 27.005/27.007 modem as a pure state machine: bytes in, lines, URCs and
/// command completions out; one command in flight with its own deadline. No I/O, no clock of its own,
/// never throws on modem input; lines longer than the limit are dropped and counted.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::modem {

/// How a command ended (V.250 §5.7 final result codes, 27.005 §3.2.5, 27.007 §9.2).
enum class final_code { ok, error, cms_error, cme_error, no_carrier, busy, no_answer, timeout };
std::string_view to_string(final_code c);

struct at_response {
  std::string command;               ///< as sent, without the CR
  final_code result = final_code::ok;
  int error = -1;                    ///< the number of +CMS/+CME ERROR; -1 when absent or not numeric
  std::vector<std::string> lines;    ///< information lines in order; echo and URCs removed
  bool ok() const { return result == final_code::ok; }
  /// The first information line starting with `prefix` ("+CSQ:"), the prefix and spaces removed.
  std::optional<std::string_view> value(std::string_view prefix) const;
  /// "OK", "ERROR", "+CMS ERROR: 304", "timeout".
  std::string describe() const;
};

/// Unsolicited result codes, recognised whenever they arrive (27.005 §3.4.1, 27.007 §7.15).
enum class urc_kind {
  new_message,     ///< +CMTI: <mem>,<index>
  stored_report,   ///< +CDSI: <mem>,<index>
  status_report,   ///< +CDS: <length> then the PDU line
  direct_message,  ///< +CMT: [<alpha>],<length> then the PDU line
  ussd,            ///< +CUSD: <m>[,<str>,<dcs>]
  ring,            ///< RING
  noise,           ///< anything else unasked for: ^RSSI, ^BOOT, +CREG: 1, a late OK…
};
std::string_view to_string(urc_kind k);

struct urc {
  urc_kind kind = urc_kind::noise;
  std::string line;                  ///< the (first) line as received
  std::string pdu;                   ///< the second line of +CDS / +CMT
  std::string storage;               ///< +CMTI / +CDSI memory, e.g. "SM"
  int index = -1;                    ///< +CMTI / +CDSI index
  bool operator==(const urc&) const = default;
};

/// What one call to feed() produced, in no particular order between the fields.
struct at_output {
  std::string write;                 ///< bytes to send now: the PDU and Ctrl-Z after the "> " prompt
  std::vector<urc> urcs;
  std::optional<at_response> done;   ///< the command in flight completed
};

class at_engine {
 public:
  using clock = std::chrono::steady_clock;
  explicit at_engine(std::size_t max_line = 1024) : max_line_(max_line) {}

  bool busy() const { return current_.has_value(); }
  std::optional<clock::time_point> deadline() const;

  /// Starts `command` (e.g. "AT+CMGS=30"; precondition: !busy()) and returns the bytes to write
  /// (command + CR). `data` is sent after the "> " prompt, followed by Ctrl-Z (27.005 §3.5.1).
  std::string start(std::string command, clock::time_point deadline, std::optional<std::string> data = {});
  /// Bytes from the modem, in any chunking.
  at_output feed(std::string_view bytes);
  /// Completes the command in flight with final_code::timeout once `now` has reached its deadline.
  std::optional<at_response> expire(clock::time_point now);
  /// Forgets the command in flight and any partial line (after the port was reopened).
  void reset();

  std::size_t dropped_lines() const { return dropped_; }

 private:
  struct in_flight {
    at_response response;
    clock::time_point deadline;
    std::optional<std::string> data;
    bool prompted = false;
    std::string prefix;              ///< "+CSQ:" for AT+CSQ: lines that answer this command
  };
  void on_line(std::string_view line, at_output& out);
  void complete(final_code code, int error, at_output& out);

  std::size_t max_line_;
  std::string partial_;
  bool overflow_ = false;
  std::optional<in_flight> current_;
  std::optional<urc> awaiting_pdu_;  ///< +CDS / +CMT header seen, its PDU line comes next
  std::size_t dropped_ = 0;
};

// ---- parsers for information lines (pure, never throw) ----------------------------------------

/// A message as AT+CMGR / AT+CMGL print it in PDU mode (27.005 §3.4.2, §3.4.3).
struct stored_message {
  int index = -1;                    ///< -1 for AT+CMGR, which does not repeat it
  int stat = -1;                     ///< 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT
  int length = 0;                    ///< TPDU octets (without the SMSC part)
  std::string pdu;
  bool operator==(const stored_message&) const = default;
};
std::vector<stored_message> parse_cmgl(const at_response& r);
std::optional<stored_message> parse_cmgr(const at_response& r);
/// +CMGS: <mr>[,<scts>] → TP-MR.
std::optional<int> parse_cmgs(const at_response& r);

struct signal_quality {
  int rssi = 99;                     ///< 0–31, 99 unknown (27.007 §8.5)
  int ber = 99;
  bool operator==(const signal_quality&) const = default;
};
std::optional<signal_quality> parse_csq(const at_response& r);
/// dBm for a +CSQ rssi (−113 + 2·rssi); nullopt for 99.
std::optional<int> rssi_dbm(int rssi);
/// +CREG: [<n>,]<stat>[,…] → stat (0 not searching, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming).
std::optional<int> parse_creg(const at_response& r);
/// +CPIN: <code> → "READY", "SIM PIN", …
std::optional<std::string> parse_cpin(const at_response& r);
/// +COPS: <mode>[,<format>,<oper>] → the operator ("TELKOMSEL"); nullopt when not registered.
std::optional<std::string> parse_cops(const at_response& r);
/// +CSCA: <sca>,<tosca> → the SMSC number.
std::optional<std::string> parse_csca(const at_response& r);

struct ussd_reply {
  int status = 0;                    ///< 0 done, 1 more action required, 2 terminated by network, 4 not supported
  std::string text;                  ///< UCS-2 hex (dcs 0x48 group) decoded to UTF-8
  int dcs = -1;
  bool operator==(const ussd_reply&) const = default;
};
/// +CUSD: <m>[,<str>[,<dcs>]] (27.007 §7.15).
std::optional<ussd_reply> parse_cusd(std::string_view line);

/// Quotes `s` for an AT command argument; refuses text with '"', CR, LF or Ctrl-Z in it.
std::optional<std::string> at_quote(std::string_view s);

}  // namespace kentongan::modem
