#include "protocol/modem/at.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "protocol/gsm/gsm.hpp"

namespace kentongan::modem {
namespace {

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return upper(x) == upper(y); });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::optional<int> to_int(std::string_view s) {
  s = trim(s);
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

/// Comma-separated fields, commas inside double quotes kept; quotes removed, spaces trimmed.
std::vector<std::string> fields(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back(trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.emplace_back(trim(cur));
  return out;
}

/// "+CMGS:" for "AT+CMGS=30", "^SYSINFO:" for "AT^SYSINFO"; empty for basic commands (ATE0, ATI).
std::string response_prefix(std::string_view command) {
  if (command.size() < 3 || !iequals(command.substr(0, 2), "AT")) return {};
  const char lead = command[2];
  if (lead != '+' && lead != '^' && lead != '$' && lead != '%') return {};
  std::string prefix(1, lead);
  for (std::size_t i = 3; i < command.size(); ++i) {
    const char c = upper(command[i]);
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) break;
    prefix.push_back(c);
  }
  return prefix + ":";
}

std::optional<urc> storage_index(urc_kind kind, std::string_view line, std::string_view prefix) {
  urc u;
  u.kind = kind;
  u.line = std::string(line);
  const auto f = fields(line.substr(prefix.size()));
  if (f.size() >= 2) {
    u.storage = f[0];
    u.index = to_int(f[1]).value_or(-1);
  }
  return u;
}

}  // namespace

std::string_view to_string(final_code c) {
  switch (c) {
    case final_code::ok: return "OK";
    case final_code::error: return "ERROR";
    case final_code::cms_error: return "+CMS ERROR";
    case final_code::cme_error: return "+CME ERROR";
    case final_code::no_carrier: return "NO CARRIER";
    case final_code::busy: return "BUSY";
    case final_code::no_answer: return "NO ANSWER";
    case final_code::timeout: return "timeout";
  }
  return "?";
}

std::string_view to_string(urc_kind k) {
  switch (k) {
    case urc_kind::new_message: return "+CMTI";
    case urc_kind::stored_report: return "+CDSI";
    case urc_kind::status_report: return "+CDS";
    case urc_kind::direct_message: return "+CMT";
    case urc_kind::ussd: return "+CUSD";
    case urc_kind::ring: return "RING";
    case urc_kind::noise: return "noise";
  }
  return "?";
}

std::optional<std::string_view> at_response::value(std::string_view prefix) const {
  for (const auto& l : lines)
    if (starts_with(l, prefix)) return trim(std::string_view(l).substr(prefix.size()));
  return std::nullopt;
}

std::string at_response::describe() const {
  if ((result == final_code::cms_error || result == final_code::cme_error))
    return std::string(to_string(result)) + ": " + (error >= 0 ? std::to_string(error) : std::string("?"));
  return std::string(to_string(result));
}

std::optional<at_engine::clock::time_point> at_engine::deadline() const {
  if (!current_) return std::nullopt;
  return current_->deadline;
}

std::string at_engine::start(std::string command, clock::time_point deadline, std::optional<std::string> data) {
  in_flight f;
  f.prefix = response_prefix(command);
  f.response.command = std::move(command);
  f.deadline = deadline;
  f.data = std::move(data);
  current_ = std::move(f);
  return current_->response.command + "\r";
}

void at_engine::reset() {
  current_.reset();
  awaiting_pdu_.reset();
  partial_.clear();
  overflow_ = false;
}

std::optional<at_response> at_engine::expire(clock::time_point now) {
  if (!current_ || now < current_->deadline) return std::nullopt;
  at_output out;
  complete(final_code::timeout, -1, out);
  return std::move(out.done);
}

void at_engine::complete(final_code code, int error, at_output& out) {
  at_response r = std::move(current_->response);
  r.result = code;
  r.error = error;
  current_.reset();
  out.done = std::move(r);
}

at_output at_engine::feed(std::string_view bytes) {
  at_output out;
  for (const char c : bytes) {
    // V.250 §5.2.1: lines end in S3 (CR) and S4 (LF); Ctrl-Z ends an echoed PDU.
    if (c == '\r' || c == '\n' || c == '\x1A') {
      if (overflow_) {
        ++dropped_;
        overflow_ = false;
      } else if (!partial_.empty()) {
        on_line(partial_, out);
      }
      partial_.clear();
      continue;
    }
    if (overflow_) continue;
    if (partial_.size() >= max_line_) {
      overflow_ = true;
      partial_.clear();
      continue;
    }
    partial_.push_back(c);
    // 27.005 §3.5.1: the prompt "> " is not followed by a line end.
    if (partial_ == ">" && current_ && current_->data && !current_->prompted) {
      current_->prompted = true;
      out.write += *current_->data;
      out.write.push_back('\x1A');
      partial_.clear();
    }
  }
  return out;
}

void at_engine::on_line(std::string_view raw, at_output& out) {
  const std::string_view line = trim(raw);
  if (line.empty()) return;

  if (awaiting_pdu_) {
    urc u = std::move(*awaiting_pdu_);
    awaiting_pdu_.reset();
    if (is_hex(line)) {
      u.pdu = std::string(line);
      out.urcs.push_back(std::move(u));
      return;
    }
    out.urcs.push_back(std::move(u));  // header without its PDU; the line is read on its own below
  }

  if (current_) {
    if (iequals(line, current_->response.command)) return;  // echo (ATE1, the state after power-up)
    if (current_->data && iequals(line, *current_->data)) return;  // echoed PDU
    if (line == "OK") return complete(final_code::ok, -1, out);
    if (line == "ERROR" || line == "COMMAND NOT SUPPORT" || line == "TOO MANY PARAMETERS")
      return complete(final_code::error, -1, out);
    if (starts_with(line, "+CMS ERROR:")) return complete(final_code::cms_error, to_int(line.substr(11)).value_or(-1), out);
    if (starts_with(line, "+CME ERROR:")) return complete(final_code::cme_error, to_int(line.substr(11)).value_or(-1), out);
    if (line == "NO CARRIER" || line == "NO DIALTONE") return complete(final_code::no_carrier, -1, out);
    if (line == "BUSY") return complete(final_code::busy, -1, out);
    if (line == "NO ANSWER") return complete(final_code::no_answer, -1, out);
  }

  if (starts_with(line, "+CMTI:")) {
    out.urcs.push_back(*storage_index(urc_kind::new_message, line, "+CMTI:"));
    return;
  }
  if (starts_with(line, "+CDSI:")) {
    out.urcs.push_back(*storage_index(urc_kind::stored_report, line, "+CDSI:"));
    return;
  }
  if (starts_with(line, "+CDS:") || starts_with(line, "+CMT:")) {
    // 27.005 §3.4.1: a two-line code; the PDU follows on the next line.
    awaiting_pdu_ = urc{starts_with(line, "+CDS:") ? urc_kind::status_report : urc_kind::direct_message, std::string(line), {}, {}, -1};
    return;
  }
  if (starts_with(line, "+CUSD:")) {
    out.urcs.push_back(urc{urc_kind::ussd, std::string(line), {}, {}, -1});
    return;
  }
  if (line == "RING") {
    out.urcs.push_back(urc{urc_kind::ring, std::string(line), {}, {}, -1});
    return;
  }
  if (current_) {
    const bool ours = !current_->prefix.empty() && starts_with(line, current_->prefix);
    const bool tagged = (line.front() == '+' || line.front() == '^') && line.find(':') != std::string_view::npos;
    if (ours || !tagged) {
      current_->response.lines.emplace_back(line);
      return;
    }
  }
  out.urcs.push_back(urc{urc_kind::noise, std::string(line), {}, {}, -1});
}

// ---- parsers ------------------------------------------------------------------------------------

std::vector<stored_message> parse_cmgl(const at_response& r) {
  std::vector<stored_message> out;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const std::string_view l = r.lines[i];
    if (!starts_with(l, "+CMGL:")) continue;
    const auto f = fields(l.substr(6));
    if (f.size() < 3 || i + 1 >= r.lines.size() || !is_hex(r.lines[i + 1])) continue;
    stored_message m;
    m.index = to_int(f[0]).value_or(-1);
    m.stat = to_int(f[1]).value_or(-1);
    m.length = to_int(f.back()).value_or(0);
    m.pdu = r.lines[i + 1];
    ++i;
    if (m.index >= 0) out.push_back(std::move(m));
  }
  return out;
}

std::optional<stored_message> parse_cmgr(const at_response& r) {
  for (std::size_t i = 0; i + 1 < r.lines.size(); ++i) {
    const std::string_view l = r.lines[i];
    if (!starts_with(l, "+CMGR:")) continue;
    const auto f = fields(l.substr(6));
    if (f.size() < 2 || !is_hex(r.lines[i + 1])) return std::nullopt;
    stored_message m;
    m.stat = to_int(f[0]).value_or(-1);
    m.length = to_int(f.back()).value_or(0);
    m.pdu = r.lines[i + 1];
    return m;
  }
  return std::nullopt;
}

std::optional<int> parse_cmgs(const at_response& r) {
  const auto v = r.value("+CMGS:");
  if (!v) return std::nullopt;
  const auto f = fields(*v);
  const auto mr = to_int(f[0]);
  if (!mr || *mr < 0 || *mr > 255) return std::nullopt;
  return mr;
}

std::optional<signal_quality> parse_csq(const at_response& r) {
  const auto v = r.value("+CSQ:");
  if (!v) return std::nullopt;
  const auto f = fields(*v);
  if (f.size() < 2) return std::nullopt;
  const auto rssi = to_int(f[0]);
  const auto ber = to_int(f[1]);
  if (!rssi || !ber) return std::nullopt;
  return signal_quality{*rssi, *ber};
}

std::optional<int> rssi_dbm(int rssi) {
  if (rssi < 0 || rssi > 31) return std::nullopt;
  return -113 + 2 * rssi;
}

std::optional<int> parse_creg(const at_response& r) {
  const auto v = r.value("+CREG:");
  if (!v) return std::nullopt;
  const auto f = fields(*v);
  // The read form is <n>,<stat>[,<lac>,<ci>]; a lone number is the unsolicited <stat>.
  return to_int(f.size() == 1 ? f[0] : f[1]);
}

std::optional<std::string> parse_cpin(const at_response& r) {
  const auto v = r.value("+CPIN:");
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::optional<std::string> parse_cops(const at_response& r) {
  const auto v = r.value("+COPS:");
  if (!v) return std::nullopt;
  const auto f = fields(*v);
  if (f.size() < 3 || f[2].empty()) return std::nullopt;
  return f[2];
}

std::optional<std::string> parse_csca(const at_response& r) {
  const auto v = r.value("+CSCA:");
  if (!v) return std::nullopt;
  const auto f = fields(*v);
  if (f[0].empty()) return std::nullopt;
  return f[0];
}

std::optional<ussd_reply> parse_cusd(std::string_view line) {
  line = trim(line);
  if (!starts_with(line, "+CUSD:")) return std::nullopt;
  const auto f = fields(line.substr(6));
  const auto m = to_int(f[0]);
  if (!m) return std::nullopt;
  ussd_reply u;
  u.status = *m;
  if (f.size() >= 2) u.text = f[1];
  if (f.size() >= 3) u.dcs = to_int(f[2]).value_or(-1);
  // 23.038 §5: CBS DCS 0x48 (general group, UCS-2) and 0x11 (UCS-2 with language): the modem prints hex.
  if ((u.dcs == 0x48 || u.dcs == 0x11) && is_hex(u.text) && u.text.size() % 4 == 0) {
    std::vector<std::uint8_t> octets;
    for (std::size_t i = 0; i + 1 < u.text.size(); i += 2)
      octets.push_back(static_cast<std::uint8_t>(std::stoi(u.text.substr(i, 2), nullptr, 16)));
    u.text = gsm::decode_ucs2(octets);
  }
  return u;
}

std::optional<std::string> at_quote(std::string_view s) {
  if (s.find_first_of("\"\r\n\x1A\x1B") != std::string_view::npos) return std::nullopt;
  return "\"" + std::string(s) + "\"";
}

}  // namespace kentongan::modem
