#include "tests/fakes/modem_sim.hpp"

#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "protocol/gsm/gsm.hpp"
#include "protocol/modem/pdu.hpp"

namespace kentongan::fakes {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

std::string hex(const std::vector<std::uint8_t>& b) {
  constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (auto v : b) {
    out.push_back(digits[v >> 4]);
    out.push_back(digits[v & 0x0F]);
  }
  return out;
}

void put_digits(std::vector<std::uint8_t>& out, std::string_view digits) {
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const auto lo = static_cast<unsigned>(digits[i] - '0');
    const auto hi = i + 1 < digits.size() ? static_cast<unsigned>(digits[i + 1] - '0') : 0x0Fu;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
}

/// TP-OA / TP-RA: length in digits, TOA, semi-octets.
void put_address(std::vector<std::uint8_t>& out, std::string_view number) {
  const bool international = !number.empty() && number.front() == '+';
  if (international) number.remove_prefix(1);
  out.push_back(static_cast<std::uint8_t>(number.size()));
  out.push_back(international ? 0x91 : 0x81);
  put_digits(out, number);
}

/// 23.040 §9.2.3.11 in WIB (+07:00 = 28 quarter hours).
void put_timestamp(std::vector<std::uint8_t>& out, std::chrono::system_clock::time_point when) {
  const auto local = std::chrono::floor<std::chrono::seconds>(when) + std::chrono::hours(7);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{local - day};
  auto put = [&](unsigned v) { out.push_back(static_cast<std::uint8_t>((v % 10) << 4 | (v / 10 % 10))); };
  put(static_cast<unsigned>(static_cast<int>(ymd.year()) % 100));
  put(static_cast<unsigned>(ymd.month()));
  put(static_cast<unsigned>(ymd.day()));
  put(static_cast<unsigned>(hms.hours().count()));
  put(static_cast<unsigned>(hms.minutes().count()));
  put(static_cast<unsigned>(hms.seconds().count()));
  put(28);
}

std::string smsc_part(const std::string& smsc) {
  if (smsc.empty()) return "00";
  std::string_view digits = smsc;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::vector<std::uint8_t> b;
  b.push_back(static_cast<std::uint8_t>(1 + (digits.size() + 1) / 2));
  b.push_back(0x91);
  put_digits(b, digits);
  return hex(b);
}

}  // namespace

std::vector<std::string> make_deliver_pdus(const std::string& smsc, const std::string& from, const std::string& text,
                                           std::uint8_t reference, std::chrono::system_clock::time_point when) {
  const auto plan = gsm::plan_message(text);
  std::vector<std::string> out;
  const auto total = plan.parts.size();
  for (std::size_t i = 0; i < total; ++i) {
    const auto& part = plan.parts[i];
    std::vector<std::uint8_t> b;
    const bool udh = total > 1;
    b.push_back(udh ? 0x44 : 0x04);  // SMS-DELIVER, no more messages, UDHI when concatenated
    put_address(b, from);
    b.push_back(0x00);
    b.push_back(plan.enc == gsm::encoding::gsm7 ? 0x00 : 0x08);
    put_timestamp(b, when);
    std::vector<std::uint8_t> header;
    if (udh) header = gsm::concat_udh(reference, static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(i + 1));
    if (plan.enc == gsm::encoding::gsm7) {
      const unsigned fill = header.empty() ? 0u : static_cast<unsigned>((7 - (header.size() * 8) % 7) % 7);
      const auto packed = gsm::pack_septets(part.payload, fill);
      const std::size_t udh_septets = header.empty() ? 0 : (header.size() * 8 + fill) / 7;
      b.push_back(static_cast<std::uint8_t>(udh_septets + part.payload.size()));
      b.insert(b.end(), header.begin(), header.end());
      b.insert(b.end(), packed.begin(), packed.end());
    } else {
      b.push_back(static_cast<std::uint8_t>(header.size() + part.payload.size()));
      b.insert(b.end(), header.begin(), header.end());
      b.insert(b.end(), part.payload.begin(), part.payload.end());
    }
    out.push_back(smsc_part(smsc) + hex(b));
  }
  return out;
}

std::string make_status_report_pdu(int mr, const std::string& recipient, std::uint8_t status,
                                   std::chrono::system_clock::time_point when) {
  std::vector<std::uint8_t> b;
  b.push_back(0x06);  // SMS-STATUS-REPORT, no more messages
  b.push_back(static_cast<std::uint8_t>(mr));
  put_address(b, recipient);
  put_timestamp(b, when);
  put_timestamp(b, when);
  b.push_back(status);
  return "00" + hex(b);
}

modem_simulator::modem_simulator(asio::io_context& io, modem_sim_settings settings) : io_(io), settings_(std::move(settings)) {
  pin_ok_ = settings_.pin.empty();
  open_pty();
}

modem_simulator::~modem_simulator() {
  *alive_ = false;
  close_pty();
  if (!settings_.link_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(settings_.link_path, ignored);
  }
}

void modem_simulator::open_pty() {
  int master = -1;
  int slave = -1;
  char name[256] = {};
  if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) throw std::runtime_error("openpty failed");
  termios t{};
  ::tcgetattr(slave, &t);
  ::cfmakeraw(&t);
  ::tcsetattr(slave, TCSANOW, &t);
  slave_fd_ = slave;  // kept open, so that the master does not see a hang-up when the channel closes
  slave_path_ = name;
  master_ = std::make_unique<asio::posix::stream_descriptor>(io_, master);
  ++generation_;
  writing_ = false;
  out_.clear();
  line_.clear();
  pdu_input_ = false;
  if (!settings_.link_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(settings_.link_path, ignored);
    std::filesystem::create_symlink(slave_path_, settings_.link_path);
    device_ = settings_.link_path;
  } else {
    device_ = slave_path_;
  }
  read_more();
}

void modem_simulator::close_pty() {
  if (master_) {
    boost::system::error_code ignored;
    master_->close(ignored);
    master_.reset();
  }
  if (slave_fd_ >= 0) {
    ::close(slave_fd_);
    slave_fd_ = -1;
  }
}

void modem_simulator::unplug() {
  close_pty();
  if (!settings_.link_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(settings_.link_path, ignored);
  }
}

void modem_simulator::replug() {
  close_pty();
  echo_ = true;
  hung_ = false;
  pin_ok_ = settings_.pin.empty();
  creg_polls_ = 0;
  open_pty();
}

void modem_simulator::read_more() {
  if (!master_) return;
  master_->async_read_some(asio::buffer(buffer_), [this, alive = alive_, gen = generation_](const boost::system::error_code& ec, std::size_t n) {
    if (!*alive || gen != generation_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted || !master_) return;
      // EIO while no slave is open cannot happen (we hold one); anything else: try again shortly.
      auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(10));
      timer->async_wait([this, alive, gen, timer](const boost::system::error_code&) {
        if (*alive && gen == generation_) read_more();
      });
      return;
    }
    on_bytes(buffer_.data(), n);
    read_more();
  });
}

void modem_simulator::write(std::string bytes) {
  if (!master_) return;
  out_ += bytes;
  flush();
}

void modem_simulator::flush() {
  if (writing_ || out_.empty() || !master_) return;
  writing_ = true;
  sending_ = std::move(out_);
  out_.clear();
  asio::async_write(*master_, asio::buffer(sending_), [this, alive = alive_, gen = generation_](const boost::system::error_code& ec, std::size_t) {
    if (!*alive || gen != generation_) return;
    writing_ = false;
    if (!ec) flush();
  });
}

void modem_simulator::on_bytes(const char* data, std::size_t n) {
  if (hung_ || steady::now() < deaf_until_) return;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = data[i];
    if (pdu_input_) {
      if (c == '\x1A') {
        pdu_input_ = false;
        if (echo_) write(line_ + "\x1A");
        auto hex_text = std::move(line_);
        line_.clear();
        on_pdu(hex_text);
      } else if (c == '\x1B') {
        pdu_input_ = false;  // 27.005 §3.5.1: ESC aborts, nothing is sent
        line_.clear();
        respond({}, "OK");
      } else if (c != '\r' && c != '\n') {
        line_.push_back(c);
      }
      continue;
    }
    if (c == '\x1B') {
      line_.clear();
      continue;
    }
    if (c == '\r') {
      auto line = std::move(line_);
      line_.clear();
      if (echo_) write(line + "\r");
      if (!line.empty()) on_command(line);
      continue;
    }
    if (c == '\n') continue;
    line_.push_back(c);
  }
}

void modem_simulator::respond(std::vector<std::string> lines, const std::string& final_code) {
  std::string bytes;
  for (const auto& l : lines) bytes += "\r\n" + l + "\r\n";
  // What real modems do now and then: an unsolicited code between a response and its final code.
  while (!held_urcs_.empty()) {
    bytes += "\r\n" + held_urcs_.front() + "\r\n";
    held_urcs_.pop_front();
  }
  if (!final_code.empty()) bytes += "\r\n" + final_code + "\r\n";
  write(std::move(bytes));
}

void modem_simulator::announce(const std::string& line) {
  if (settings_.interleave_urcs) held_urcs_.push_back(line);
  else if (!hung_) write("\r\n" + line + "\r\n");
}

void modem_simulator::send_urc(const std::string& line) { announce(line); }

int modem_simulator::store(const std::string& pdu) {
  int index = 0;
  while (storage_.contains(index)) ++index;
  storage_[index] = slot{0, pdu};
  return index;
}

void modem_simulator::deliver_pdu(const std::string& hex_text, bool do_announce) {
  const int index = store(hex_text);
  if (do_announce) announce("+CMTI: \"SM\"," + std::to_string(index));
}

void modem_simulator::deliver(const std::string& from, const std::string& text) {
  for (const auto& pdu : make_deliver_pdus(settings_.smsc, from, text, ++next_ref_, std::chrono::system_clock::now())) deliver_pdu(pdu);
}

void modem_simulator::fail_submits(int code, int count, int after) {
  fail_code_ = code;
  fail_count_ = count;
  fail_after_ = after;
}

void modem_simulator::hang() { hung_ = true; }
void modem_simulator::unhang() { hung_ = false; }

namespace {
bool starts(const std::string& s, std::string_view p) { return s.size() >= p.size() && std::equal(p.begin(), p.end(), s.begin()); }
int number_after(const std::string& s, std::size_t pos) {
  int v = 0;
  bool any = false;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    v = v * 10 + (s[pos++] - '0');
    any = true;
  }
  return any ? v : -1;
}
}  // namespace

void modem_simulator::on_command(const std::string& raw) {
  std::string cmd = raw;
  std::transform(cmd.begin(), cmd.end(), cmd.begin(), [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  ++counters_.commands;
  commands_.push_back(raw);
  auto cms = [&](int code) { respond({}, "+CMS ERROR: " + std::to_string(code)); };
  auto stored_line = [&](const std::string& head, const slot& s) {
    const auto smsc_octets = std::stoul(s.pdu.substr(0, 2), nullptr, 16) + 1;
    return std::vector<std::string>{head + std::to_string(s.stat) + ",," + std::to_string(s.pdu.size() / 2 - smsc_octets), s.pdu};
  };

  if (cmd == "AT" || cmd == "ATZ") return respond({}, "OK");
  if (cmd == "ATE0") { echo_ = false; return respond({}, "OK"); }
  if (cmd == "ATE1") { echo_ = true; return respond({}, "OK"); }
  if (starts(cmd, "AT+CMEE=")) return respond({}, "OK");
  if (cmd == "AT+CPIN?") return respond({pin_ok_ ? "+CPIN: READY" : "+CPIN: SIM PIN"}, "OK");
  if (starts(cmd, "AT+CPIN=")) {
    if (raw.substr(8) == "\"" + settings_.pin + "\"" && !settings_.pin.empty()) {
      pin_ok_ = true;
      return respond({}, "OK");
    }
    return respond({}, "+CME ERROR: 16");
  }
  if (!pin_ok_ && (starts(cmd, "AT+CMG") || starts(cmd, "AT+CREG") || starts(cmd, "AT+CUSD"))) return respond({}, "+CME ERROR: 11");
  if (cmd == "AT+CREG?") {
    const int stat = creg_polls_++ < settings_.searching_polls ? 2 : 1;
    return respond({"+CREG: 0," + std::to_string(stat)}, "OK");
  }
  if (cmd == "AT+CMGF=0") return respond({}, "OK");
  if (cmd == "AT+CMGF=1") return respond({}, "ERROR");  // this modem speaks PDU mode only
  if (starts(cmd, "AT+CNMI=")) return respond({}, "OK");
  if (cmd == "AT+CSCA?") return respond({"+CSCA: \"" + settings_.smsc + "\",145"}, "OK");
  if (cmd == "AT+CSQ") return respond({"+CSQ: 21,99"}, "OK");
  if (cmd == "AT+COPS?") return respond({"+COPS: 0,0,\"" + settings_.operator_name + "\",2"}, "OK");
  if (starts(cmd, "AT+CMGS=")) {
    const int n = number_after(cmd, 8);
    if (n <= 0) return cms(304);
    pdu_length_ = static_cast<std::size_t>(n);
    pdu_input_ = true;
    line_.clear();
    return write("\r\n> ");
  }
  if (starts(cmd, "AT+CMGR=")) {
    const auto it = storage_.find(number_after(cmd, 8));
    if (it == storage_.end()) return cms(321);
    auto lines = stored_line("+CMGR: ", it->second);
    if (it->second.stat == 0) it->second.stat = 1;
    return respond(std::move(lines), "OK");
  }
  if (starts(cmd, "AT+CMGL=")) {
    const int which = number_after(cmd, 8);
    std::vector<std::string> lines;
    for (auto& [index, s] : storage_) {
      if (which != 4 && which != s.stat) continue;
      auto two = stored_line("+CMGL: " + std::to_string(index) + ",", s);
      lines.insert(lines.end(), two.begin(), two.end());
      if (s.stat == 0) s.stat = 1;
    }
    return respond(std::move(lines), "OK");
  }
  if (starts(cmd, "AT+CMGD=")) {
    const int index = number_after(cmd, 8);
    if (cmd.find(",4") != std::string::npos) storage_.clear();
    else storage_.erase(index);
    ++counters_.deletes;
    return respond({}, "OK");
  }
  if (starts(cmd, "AT+CUSD=1,")) {
    respond({}, "OK");
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(30));
    timer->async_wait([this, alive = alive_, timer](const boost::system::error_code&) {
      if (*alive) announce("+CUSD: 0,\"" + settings_.ussd_reply + "\",15");
    });
    return;
  }
  if (starts(cmd, "AT+CUSD=")) return respond({}, "OK");
  if (cmd == "AT+CFUN=1,1" && settings_.supports_reset) {
    respond({}, "OK");
    ++counters_.resets;
    // 27.007 §8.2: a full reset; it comes back with echo on, the PIN forgotten, searching again.
    echo_ = true;
    pin_ok_ = settings_.pin.empty();
    creg_polls_ = 0;
    hung_ = false;
    deaf_until_ = steady::now() + settings_.reset_time;
    return;
  }
  respond({}, "ERROR");
}

void modem_simulator::on_pdu(const std::string& hex_text) {
  if (fail_count_ > 0 && fail_after_ > 0) {
    --fail_after_;
  } else if (fail_count_ > 0) {
    --fail_count_;
    return respond({}, "+CMS ERROR: " + std::to_string(fail_code_));
  }
  const auto decoded = modem::decode_pdu(hex_text);
  if (!decoded || !std::holds_alternative<modem::sms_submit>(decoded.value)) return respond({}, "+CMS ERROR: 304");
  const auto smsc_octets = std::stoul(hex_text.substr(0, 2), nullptr, 16) + 1;
  if (hex_text.size() / 2 != smsc_octets + pdu_length_) return respond({}, "+CMS ERROR: 304");  // the classic wrong <length>
  const auto& submit = std::get<modem::sms_submit>(decoded.value);
  const int mr = next_mr_;
  next_mr_ = (next_mr_ + 1) % 256;
  ++counters_.submits;
  sent_.push_back(submitted{hex_text, mr, submit.destination.number, submit.ud.text, submit.status_report_request});
  respond({"+CMGS: " + std::to_string(mr)}, "OK");
  if (submit.status_report_request && settings_.status_reports) {
    const auto to = submit.destination.number;
    if (settings_.hold_reports) {
      held_reports_.emplace_back(mr, to);
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, settings_.report_delay);
    timer->async_wait([this, alive = alive_, timer, mr, to](const boost::system::error_code&) {
      if (!*alive || hung_) return;
      send_report(mr, to);
    });
  }
}

void modem_simulator::send_report(int mr, const std::string& to) {
  ++counters_.reports;
  const auto pdu = make_status_report_pdu(mr, to, settings_.report_status, std::chrono::system_clock::now());
  if (settings_.report_as_cds) {
    announce("+CDS: " + std::to_string(pdu.size() / 2 - 1) + "\r\n" + pdu);
  } else {
    const int index = store(pdu);
    announce("+CDSI: \"SM\"," + std::to_string(index));
  }
}

void modem_simulator::release_reports() {
  auto held = std::move(held_reports_);
  held_reports_.clear();
  for (const auto& [mr, to] : held) send_report(mr, to);
}

}  // namespace kentongan::fakes
