#include "protocol/smpp/pdu.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace kentongan::smpp {

namespace {

// ---- layouts: each body written once, in spec order, for every visitor ----------------------
// A visitor offers u8(name, v), cstr(name, s, max incl. NUL), octets_u8(name, bytes) for
// sm_length + short_message, tlvs(list), and may_end(): true when the body stops here (a failed
// response sent or received without a body, [SMPP34] §4.4.2 and cloudhopper vectors).

template <class V, class B> void layout(V&, B&) requires std::is_same_v<std::remove_const_t<B>, empty_body> {}

// §4.1.1 bind_transmitter (same for bind_receiver §4.1.3, bind_transceiver §4.1.5)
template <class V, class B> void layout(V& v, B& b) requires std::is_same_v<std::remove_const_t<B>, bind_body> {
  v.cstr("system_id", b.system_id, 16);
  v.cstr("password", b.password, 9);
  v.cstr("system_type", b.system_type, 13);
  v.u8("interface_version", b.interface_version);
  v.u8("addr_ton", b.addr_ton);
  v.u8("addr_npi", b.addr_npi);
  v.cstr("address_range", b.address_range, 41);
}

// §4.1.2 bind_*_resp
template <class V, class B> void layout(V& v, B& b) requires std::is_same_v<std::remove_const_t<B>, bind_resp_body> {
  if (v.may_end(b)) return;
  v.cstr("system_id", b.system_id, 16);
  v.tlvs(b.tlvs);
}

// §4.1.7 outbind
template <class V, class B> void layout(V& v, B& b) requires std::is_same_v<std::remove_const_t<B>, outbind_body> {
  v.cstr("system_id", b.system_id, 16);
  v.cstr("password", b.password, 9);
}

// §4.4.1 submit_sm, §4.6.1 deliver_sm
template <class V, class B> void layout(V& v, B& b) requires std::is_same_v<std::remove_const_t<B>, sm_body> {
  v.cstr("service_type", b.service_type, 6);
  v.u8("source_addr_ton", b.source_addr_ton);
  v.u8("source_addr_npi", b.source_addr_npi);
  v.cstr("source_addr", b.source_addr, 21);
  v.u8("dest_addr_ton", b.dest_addr_ton);
  v.u8("dest_addr_npi", b.dest_addr_npi);
  v.cstr("destination_addr", b.destination_addr, 21);
  v.u8("esm_class", b.esm_class);
  v.u8("protocol_id", b.protocol_id);
  v.u8("priority_flag", b.priority_flag);
  v.cstr("schedule_delivery_time", b.schedule_delivery_time, 17);
  v.cstr("validity_period", b.validity_period, 17);
  v.u8("registered_delivery", b.registered_delivery);
  v.u8("replace_if_present_flag", b.replace_if_present_flag);
  v.u8("data_coding", b.data_coding);
  v.u8("sm_default_msg_id", b.sm_default_msg_id);
  v.octets_u8("short_message", b.short_message);
  v.tlvs(b.tlvs);
}

// §4.7.1 data_sm
template <class V, class B> void layout(V& v, B& b) requires std::is_same_v<std::remove_const_t<B>, data_sm_body> {
  v.cstr("service_type", b.service_type, 6);
  v.u8("source_addr_ton", b.source_addr_ton);
  v.u8("source_addr_npi", b.source_addr_npi);
  v.cstr("source_addr", b.source_addr, 65);
  v.u8("dest_addr_ton", b.dest_addr_ton);
  v.u8("dest_addr_npi", b.dest_addr_npi);
  v.cstr("destination_addr", b.destination_addr, 65);
  v.u8("esm_class", b.esm_class);
  v.u8("registered_delivery", b.registered_delivery);
  v.u8("data_coding", b.data_coding);
  v.tlvs(b.tlvs);
}

// §4.4.2 submit_sm_resp, §4.6.2 deliver_sm_resp, §4.7.2 data_sm_resp
template <class V, class B> void layout(V& v, B& b) requires std::is_same_v<std::remove_const_t<B>, message_id_body> {
  if (v.may_end(b)) return;
  v.cstr("message_id", b.message_id, 65);
  v.tlvs(b.tlvs);
}

std::uint32_t get32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}
std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

class decoder {
 public:
  explicit decoder(std::span<const std::uint8_t> in) : in_(in) {}
  decode_error error = decode_error::none;
  bool saw_tlvs = false;
  std::size_t remaining() const { return in_.size() - pos_; }

  template <class B> bool may_end(const B&) const { return error == decode_error::none && remaining() == 0; }

  void u8(std::string_view, std::uint8_t& v) {
    if (error != decode_error::none) return;
    if (remaining() < 1) { error = decode_error::truncated_body; return; }
    v = in_[pos_++];
  }
  void cstr(std::string_view, std::string& s, std::size_t max) {
    if (error != decode_error::none) return;
    const std::size_t limit = std::min(remaining(), max);
    const auto* begin = in_.data() + pos_;
    const auto* nul = std::find(begin, begin + limit, std::uint8_t{0});
    if (nul == begin + limit) {
      error = remaining() < max ? decode_error::missing_nul : decode_error::field_too_long;
      return;
    }
    s.assign(reinterpret_cast<const char*>(begin), static_cast<std::size_t>(nul - begin));
    pos_ += s.size() + 1;
  }
  void octets_u8(std::string_view, std::vector<std::uint8_t>& bytes) {
    if (error != decode_error::none) return;
    if (remaining() < 1) { error = decode_error::truncated_body; return; }
    const std::size_t n = in_[pos_];
    if (remaining() < 1 + n) { error = decode_error::truncated_body; return; }
    bytes.assign(in_.begin() + static_cast<std::ptrdiff_t>(pos_ + 1), in_.begin() + static_cast<std::ptrdiff_t>(pos_ + 1 + n));
    pos_ += 1 + n;
  }
  void tlvs(tlv_list& list) {
    saw_tlvs = true;
    while (error == decode_error::none && remaining() > 0) {
      if (remaining() < 4) { error = decode_error::bad_tlv; return; }
      const std::uint16_t t = get16(in_.data() + pos_);
      const std::size_t n = get16(in_.data() + pos_ + 2);
      if (remaining() < 4 + n) { error = decode_error::bad_tlv; return; }
      const auto first = in_.begin() + static_cast<std::ptrdiff_t>(pos_ + 4);
      list.items.push_back(tlv{t, std::vector<std::uint8_t>(first, first + static_cast<std::ptrdiff_t>(n))});
      pos_ += 4 + n;
    }
  }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

class encoder {
 public:
  encoder(std::vector<std::uint8_t>& out, std::uint32_t status) : out_(out), status_(status) {}
  bool ok = true;

  template <class B> bool may_end(const B& b) const { return status_ != 0 && b == B{}; }

  void u8(std::string_view, std::uint8_t v) { out_.push_back(v); }
  void cstr(std::string_view, const std::string& s, std::size_t max) {
    if (s.size() + 1 > max || s.find('\0') != std::string::npos) { ok = false; return; }
    out_.insert(out_.end(), s.begin(), s.end());
    out_.push_back(0);
  }
  void octets_u8(std::string_view, const std::vector<std::uint8_t>& bytes) {
    // [SMPP34] §4.4.1: sm_length 0-254. We never generate 255 even though some peers accept it.
    if (bytes.size() > 254) { ok = false; return; }
    out_.push_back(static_cast<std::uint8_t>(bytes.size()));
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }
  void tlvs(const tlv_list& list) {
    for (const auto& t : list.items) {
      if (t.value.size() > 0xFFFF) { ok = false; return; }
      put16(out_, t.tag);
      put16(out_, static_cast<std::uint16_t>(t.value.size()));
      out_.insert(out_.end(), t.value.begin(), t.value.end());
    }
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::uint32_t status_;
};

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 0x0F]);
  }
  return s;
}

class printer {
 public:
  std::string out;
  template <class B> bool may_end(const B&) const { return false; }
  void u8(std::string_view name, std::uint8_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(v));
    field(name, buf);
  }
  void cstr(std::string_view name, const std::string& s, std::size_t) { field(name, "\"" + s + "\""); }
  void octets_u8(std::string_view name, const std::vector<std::uint8_t>& bytes) {
    field(name, std::to_string(bytes.size()) + " octets " + hex(bytes));
  }
  void tlvs(const tlv_list& list) {
    for (const auto& t : list.items) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "tlv 0x%04x", static_cast<unsigned>(t.tag));
      field(buf, hex(t.value));
    }
  }

 private:
  void field(std::string_view name, const std::string& value) {
    out += "\n  ";
    out += name;
    out += ": ";
    out += value;
  }
};

}  // namespace

// ---- commands ------------------------------------------------------------------------------

std::optional<std::string_view> command_name(std::uint32_t id) {
  switch (static_cast<command>(id)) {
    case command::generic_nack: return "generic_nack";
    case command::bind_receiver: return "bind_receiver";
    case command::bind_receiver_resp: return "bind_receiver_resp";
    case command::bind_transmitter: return "bind_transmitter";
    case command::bind_transmitter_resp: return "bind_transmitter_resp";
    case command::submit_sm: return "submit_sm";
    case command::submit_sm_resp: return "submit_sm_resp";
    case command::deliver_sm: return "deliver_sm";
    case command::deliver_sm_resp: return "deliver_sm_resp";
    case command::unbind: return "unbind";
    case command::unbind_resp: return "unbind_resp";
    case command::bind_transceiver: return "bind_transceiver";
    case command::bind_transceiver_resp: return "bind_transceiver_resp";
    case command::outbind: return "outbind";
    case command::enquire_link: return "enquire_link";
    case command::enquire_link_resp: return "enquire_link_resp";
    case command::data_sm: return "data_sm";
    case command::data_sm_resp: return "data_sm_resp";
  }
  return std::nullopt;
}

body default_body(command id) {
  switch (id) {
    case command::bind_receiver:
    case command::bind_transmitter:
    case command::bind_transceiver: return bind_body{};
    case command::bind_receiver_resp:
    case command::bind_transmitter_resp:
    case command::bind_transceiver_resp: return bind_resp_body{};
    case command::outbind: return outbind_body{};
    case command::submit_sm:
    case command::deliver_sm: return sm_body{};
    case command::data_sm: return data_sm_body{};
    case command::submit_sm_resp:
    case command::deliver_sm_resp:
    case command::data_sm_resp: return message_id_body{};
    case command::generic_nack:
    case command::unbind:
    case command::unbind_resp:
    case command::enquire_link:
    case command::enquire_link_resp: return empty_body{};
  }
  return empty_body{};
}

// ---- TLVs ----------------------------------------------------------------------------------

const tlv* tlv_list::find(std::uint16_t t) const {
  for (const auto& item : items)
    if (item.tag == t) return &item;
  return nullptr;
}
std::optional<std::uint8_t> tlv_list::u8(std::uint16_t t) const {
  const auto* item = find(t);
  if (item == nullptr || item->value.size() != 1) return std::nullopt;
  return item->value[0];
}
std::optional<std::uint16_t> tlv_list::u16(std::uint16_t t) const {
  const auto* item = find(t);
  if (item == nullptr || item->value.size() != 2) return std::nullopt;
  return get16(item->value.data());
}
std::optional<std::string> tlv_list::cstring(std::uint16_t t) const {
  const auto* item = find(t);
  if (item == nullptr) return std::nullopt;
  const auto nul = std::find(item->value.begin(), item->value.end(), std::uint8_t{0});
  return std::string(item->value.begin(), nul);
}
void tlv_list::set(std::uint16_t t, std::vector<std::uint8_t> value) {
  for (auto& item : items)
    if (item.tag == t) { item.value = std::move(value); return; }
  items.push_back(tlv{t, std::move(value)});
}
void tlv_list::set_u8(std::uint16_t t, std::uint8_t v) { set(t, {v}); }
void tlv_list::set_u16(std::uint16_t t, std::uint16_t v) {
  set(t, {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}
void tlv_list::set_cstring(std::uint16_t t, std::string_view v) {
  std::vector<std::uint8_t> bytes(v.begin(), v.end());
  bytes.push_back(0);  // §5.3.2: C-Octet String TLVs carry their NUL inside the length
  set(t, std::move(bytes));
}
std::optional<std::vector<std::uint8_t>> tlv_list::message_payload() const {
  const auto* item = find(tag::message_payload);
  if (item == nullptr) return std::nullopt;
  return item->value;
}
std::optional<smpp::message_state> tlv_list::message_state() const {
  const auto v = u8(tag::message_state);
  if (!v || *v < 1 || *v > 8) return std::nullopt;
  return static_cast<smpp::message_state>(*v);
}
std::optional<network_error> tlv_list::network_error_code() const {
  const auto* item = find(tag::network_error_code);
  if (item == nullptr || item->value.size() != 3) return std::nullopt;
  return network_error{item->value[0], get16(item->value.data() + 1)};
}

// ---- framing, decode, encode ---------------------------------------------------------------

std::optional<header> peek_header(std::span<const std::uint8_t> buffer) {
  if (buffer.size() < header_size) return std::nullopt;
  const auto* p = buffer.data();
  return header{get32(p), get32(p + 4), get32(p + 8), get32(p + 12)};
}

frame check_frame(std::span<const std::uint8_t> buffer, std::uint32_t max_pdu) {
  if (buffer.size() < 4) return {frame_kind::need_more, 0};
  const std::uint32_t length = get32(buffer.data());
  if (length < header_size || length > max_pdu) return {frame_kind::invalid_length, 0};
  if (buffer.size() < length) return {frame_kind::need_more, 0};
  return {frame_kind::complete, length};
}

std::string_view to_string(decode_error e) {
  switch (e) {
    case decode_error::none: return "ok";
    case decode_error::short_header: return "shorter than the 16-octet header";
    case decode_error::length_mismatch: return "command_length does not match the PDU";
    case decode_error::unknown_command: return "unknown command_id";
    case decode_error::missing_nul: return "C-Octet String without its NUL";
    case decode_error::field_too_long: return "C-Octet String longer than its maximum";
    case decode_error::truncated_body: return "body shorter than its fields";
    case decode_error::bad_tlv: return "TLV runs past the end of the PDU";
    case decode_error::trailing_bytes: return "octets after the end of the body";
  }
  return "?";
}

std::uint32_t error_status(decode_error e) {
  switch (e) {
    case decode_error::none: return status::ok;
    case decode_error::unknown_command: return status::invalid_command_id;
    case decode_error::field_too_long: return status::invalid_message_length;
    case decode_error::bad_tlv: return status::invalid_optional_stream;
    case decode_error::short_header:
    case decode_error::length_mismatch:
    case decode_error::missing_nul:
    case decode_error::truncated_body:
    case decode_error::trailing_bytes: return status::invalid_command_length;
  }
  return status::system_error;
}

decode_result decode(std::span<const std::uint8_t> bytes) {
  decode_result r;
  const auto head = peek_header(bytes);
  if (!head) { r.error = decode_error::short_header; return r; }
  r.head = *head;
  if (head->length != bytes.size() || head->length < header_size) { r.error = decode_error::length_mismatch; return r; }
  if (!command_name(head->id)) { r.error = decode_error::unknown_command; return r; }
  const auto id = static_cast<command>(head->id);
  r.value.id = id;
  r.value.status = head->status;
  r.value.sequence = head->sequence;
  r.value.body = default_body(id);
  decoder d(bytes.subspan(header_size));
  std::visit([&d](auto& b) { layout(d, b); }, r.value.body);
  if (d.error == decode_error::none && d.remaining() > 0 && !d.saw_tlvs) d.error = decode_error::trailing_bytes;
  r.error = d.error;
  if (r.error != decode_error::none) r.value = pdu{};
  return r;
}

bool encode(const pdu& p, std::vector<std::uint8_t>& out) {
  if (!command_name(static_cast<std::uint32_t>(p.id))) return false;
  if (default_body(p.id).index() != p.body.index()) return false;
  const std::size_t start = out.size();
  put32(out, 0);  // command_length, patched below
  put32(out, static_cast<std::uint32_t>(p.id));
  put32(out, p.status);
  put32(out, p.sequence);
  encoder e(out, p.status);
  std::visit([&e](const auto& b) { layout(e, b); }, p.body);
  const std::size_t length = out.size() - start;
  if (!e.ok || length > default_max_pdu) {
    out.resize(start);
    return false;
  }
  const auto len = static_cast<std::uint32_t>(length);
  out[start] = static_cast<std::uint8_t>(len >> 24);
  out[start + 1] = static_cast<std::uint8_t>(len >> 16);
  out[start + 2] = static_cast<std::uint8_t>(len >> 8);
  out[start + 3] = static_cast<std::uint8_t>(len);
  return true;
}

std::optional<std::vector<std::uint8_t>> encode(const pdu& p) {
  std::vector<std::uint8_t> out;
  if (!encode(p, out)) return std::nullopt;
  return out;
}

std::string to_string(const pdu& p) {
  printer pr;
  const auto name = command_name(static_cast<std::uint32_t>(p.id));
  pr.out = std::string(name.value_or("unknown"));
  char buf[64];
  std::snprintf(buf, sizeof buf, " seq=%u status=0x%08x", p.sequence, p.status);
  pr.out += buf;
  std::visit([&pr](const auto& b) { layout(pr, b); }, p.body);
  return pr.out;
}

// ---- command_status table ([SMPP34] §5.1.3) ---------------------------------------------------
// Retryable: the SMSC or the network is in a state that may pass (system error, queue full,
// submit failed, unknown). Permanent: the message or our configuration is wrong and sending the
// same bytes again cannot help (addresses, lengths, flags, bind state). Throttle: slow down first.

namespace {
using enum status_class;
constexpr std::array status_table{
    status_info{0x00, "ESME_ROK", "No error", ok},
    status_info{0x01, "ESME_RINVMSGLEN", "Message length is invalid", permanent},
    status_info{0x02, "ESME_RINVCMDLEN", "Command length is invalid", permanent},
    status_info{0x03, "ESME_RINVCMDID", "Invalid command id", permanent},
    status_info{0x04, "ESME_RINVBNDSTS", "Incorrect bind status for given command", retryable},
    status_info{0x05, "ESME_RALYBND", "ESME already in bound state", retryable},
    status_info{0x06, "ESME_RINVPRTFLG", "Invalid priority flag", permanent},
    status_info{0x07, "ESME_RINVREGDLVFLG", "Invalid registered delivery flag", permanent},
    status_info{0x08, "ESME_RSYSERR", "System error", retryable},
    status_info{0x0A, "ESME_RINVSRCADR", "Invalid source address", permanent},
    status_info{0x0B, "ESME_RINVDSTADR", "Invalid destination address", permanent},
    status_info{0x0C, "ESME_RINVMSGID", "Message id is invalid", permanent},
    status_info{0x0D, "ESME_RBINDFAIL", "Bind failed", retryable},
    status_info{0x0E, "ESME_RINVPASWD", "Invalid password", permanent},
    status_info{0x0F, "ESME_RINVSYSID", "Invalid system id", permanent},
    status_info{0x11, "ESME_RCANCELFAIL", "Cancel sm failed", retryable},
    status_info{0x13, "ESME_RREPLACEFAIL", "Replace sm failed", retryable},
    status_info{0x14, "ESME_RMSGQFUL", "Message queue full", throttle},
    status_info{0x15, "ESME_RINVSERTYP", "Invalid service type", permanent},
    status_info{0x33, "ESME_RINVNUMDESTS", "Invalid number of destinations", permanent},
    status_info{0x34, "ESME_RINVDLNAME", "Invalid distribution list name", permanent},
    status_info{0x40, "ESME_RINVDESTFLAG", "Destination flag is invalid", permanent},
    status_info{0x42, "ESME_RINVSUBREP", "Invalid submit with replace request", permanent},
    status_info{0x43, "ESME_RINVESMCLASS", "Invalid esm_class field data", permanent},
    status_info{0x44, "ESME_RCNTSUBDL", "Cannot submit to distribution list", permanent},
    status_info{0x45, "ESME_RSUBMITFAIL", "submit_sm or submit_multi failed", retryable},
    status_info{0x48, "ESME_RINVSRCTON", "Invalid source address TON", permanent},
    status_info{0x49, "ESME_RINVSRCNPI", "Invalid source address NPI", permanent},
    status_info{0x50, "ESME_RINVDSTTON", "Invalid destination address TON", permanent},
    status_info{0x51, "ESME_RINVDSTNPI", "Invalid destination address NPI", permanent},
    status_info{0x53, "ESME_RINVSYSTYP", "Invalid system_type field", permanent},
    status_info{0x54, "ESME_RINVREPFLAG", "Invalid replace_if_present flag", permanent},
    status_info{0x55, "ESME_RINVNUMMSGS", "Invalid number of messages", permanent},
    status_info{0x58, "ESME_RTHROTTLED", "Throttling error (ESME has exceeded allowed message limits)", throttle},
    status_info{0x61, "ESME_RINVSCHED", "Invalid scheduled delivery time", permanent},
    status_info{0x62, "ESME_RINVEXPIRY", "Invalid message validity period", permanent},
    status_info{0x63, "ESME_RINVDFTMSGID", "Predefined message invalid or not found", permanent},
    status_info{0x64, "ESME_RX_T_APPN", "ESME receiver temporary app error", retryable},
    status_info{0x65, "ESME_RX_P_APPN", "ESME receiver permanent app error", permanent},
    status_info{0x66, "ESME_RX_R_APPN", "ESME receiver reject message error", permanent},
    status_info{0x67, "ESME_RQUERYFAIL", "query_sm request failed", retryable},
    status_info{0xC0, "ESME_RINVOPTPARSTREAM", "Error in the optional part of the PDU body", permanent},
    status_info{0xC1, "ESME_ROPTPARNOTALLWD", "Optional parameter not allowed", permanent},
    status_info{0xC2, "ESME_RINVPARLEN", "Invalid parameter length", permanent},
    status_info{0xC3, "ESME_RMISSINGOPTPARAM", "Expected optional parameter missing", permanent},
    status_info{0xC4, "ESME_RINVOPTPARAMVAL", "Invalid optional parameter value", permanent},
    status_info{0xFE, "ESME_RDELIVERYFAILURE", "Delivery failure (data_sm_resp)", retryable},
    status_info{0xFF, "ESME_RUNKNOWNERR", "Unknown error", retryable},
};
}  // namespace

status_info describe_status(std::uint32_t code) {
  for (const auto& s : status_table)
    if (s.code == code) return s;
  return status_info{code, "ESME_R?", "Unlisted or vendor-specific status", status_class::retryable};
}

std::string status_reason(std::uint32_t code) {
  const auto info = describe_status(code);
  char buf[32];
  std::snprintf(buf, sizeof buf, " (0x%02x)", code);
  return std::string(info.name) + buf;
}

namespace {
class status_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smpp"; }
  std::string message(int value) const override {
    const auto info = describe_status(static_cast<std::uint32_t>(value));
    return status_reason(static_cast<std::uint32_t>(value)) + ": " + std::string(info.text);
  }
};
}  // namespace

const std::error_category& status_category() {
  static const status_category_impl instance;
  return instance;
}

// ---- delivery receipts ----------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 8> receipt_keys{"id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text"};

// ASCII only, without the C locale's tolower (a call per character, 3 % of the I/O thread at 35,000
// receipts/s): receipt keys and stat words are ASCII, and a byte outside it never matches one.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequal_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(text[i]) != ascii_lower(prefix[i])) return false;
  return true;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::optional<std::string>& slot(receipt& r, std::size_t key) {
  switch (key) {
    case 0: return r.id;
    case 1: return r.sub;
    case 2: return r.dlvrd;
    case 3: return r.submit_date;
    case 4: return r.done_date;
    case 5: return r.stat;
    case 6: return r.err;
    default: return r.text;
  }
}

}  // namespace

std::optional<receipt> parse_receipt(std::string_view text, receipt_mode mode) {
  struct hit {
    std::size_t key;
    std::size_t key_pos;
    std::size_t value_pos;
  };
  // Each key counts once, so there are at most as many hits as keys: no allocation per receipt.
  std::array<hit, receipt_keys.size()> hits{};
  std::size_t hit_count = 0;
  std::array<bool, receipt_keys.size()> seen{};
  // A key starts the text or follows white space, and counts only the first time: a later "id:"
  // inside the free text field is text, not a key.
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && !is_space(text[i - 1])) continue;
    for (std::size_t k = 0; k < receipt_keys.size(); ++k) {
      if (seen[k]) continue;
      const auto key = receipt_keys[k];
      if (iequal_prefix(text.substr(i), key) && i + key.size() < text.size() && text[i + key.size()] == ':') {
        seen[k] = true;
        hits[hit_count++] = {k, i, i + key.size() + 1};
        i += key.size();
        break;
      }
    }
  }
  if (hit_count == 0) return std::nullopt;
  receipt r;
  for (std::size_t h = 0; h < hit_count; ++h) {
    const std::size_t end = h + 1 < hit_count ? hits[h + 1].key_pos : text.size();
    std::string_view value = text.substr(hits[h].value_pos, end - hits[h].value_pos);
    const bool is_text = hits[h].key == 7;
    // The separator before the next key is not part of a value; text keeps its own spaces when last.
    if (!is_text || h + 1 < hit_count)
      while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
    if (!is_text)
      while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
    slot(r, hits[h].key) = std::string(value);
  }
  if (mode == receipt_mode::strict && std::find(seen.begin(), seen.end(), false) != seen.end()) return std::nullopt;
  return r;
}

std::string format_receipt(const receipt& r) {
  std::string out;
  receipt copy = r;
  for (std::size_t k = 0; k < receipt_keys.size(); ++k) {
    const auto& v = slot(copy, k);
    if (!v) continue;
    if (!out.empty()) out += ' ';
    out += receipt_keys[k];
    out += ':';
    out += *v;
  }
  return out;
}

std::optional<std::chrono::sys_seconds> parse_receipt_date(std::string_view s) {
  if (s.size() != 10 && s.size() != 12 && s.size() != 14) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  auto num = [&s](std::size_t pos, std::size_t n) {
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s[pos + i] - '0');
    return v;
  };
  std::size_t p = 0;
  int year = 0;
  if (s.size() == 14) { year = num(0, 4); p = 4; } else { year = 2000 + num(0, 2); p = 2; }
  const int month = num(p, 2), day = num(p + 2, 2), hour = num(p + 4, 2), minute = num(p + 6, 2);
  const int second = s.size() - p > 8 ? num(p + 8, 2) : 0;
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} + std::chrono::seconds{second};
}

namespace {
struct stat_entry {
  std::string_view text;
  message_state state;
};
// Appendix B stat values and §5.2.28 message_state; ENROUTE is sent by some SMSCs.
constexpr std::array stat_table{
    stat_entry{"ENROUTE", message_state::enroute},     stat_entry{"DELIVRD", message_state::delivered},
    stat_entry{"EXPIRED", message_state::expired},     stat_entry{"DELETED", message_state::deleted},
    stat_entry{"UNDELIV", message_state::undeliverable}, stat_entry{"ACCEPTD", message_state::accepted},
    stat_entry{"UNKNOWN", message_state::unknown},     stat_entry{"REJECTD", message_state::rejected},
};
}  // namespace

std::optional<message_state> parse_receipt_stat(std::string_view stat) {
  for (const auto& e : stat_table)
    if (stat.size() == e.text.size() && iequal_prefix(stat, e.text)) return e.state;
  return std::nullopt;
}

std::string_view receipt_stat(message_state s) {
  for (const auto& e : stat_table)
    if (e.state == s) return e.text;
  return "UNKNOWN";
}

std::optional<final_state> to_final_state(message_state s) {
  switch (s) {
    case message_state::delivered: return final_state::delivered;
    case message_state::expired: return final_state::expired;
    case message_state::deleted:
    case message_state::undeliverable:
    case message_state::unknown:
    case message_state::rejected: return final_state::failed;
    case message_state::enroute:
    case message_state::accepted: return std::nullopt;
  }
  return std::nullopt;
}

// ---- inbound message identity -----------------------------------------------------------------

namespace {

struct fnv1a {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void byte(std::uint8_t b) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  // Length first, so ("ab","c") and ("a","bc") differ.
  void field(std::span<const std::uint8_t> bytes) {
    const auto n = static_cast<std::uint32_t>(bytes.size());
    for (int shift = 24; shift >= 0; shift -= 8) byte(static_cast<std::uint8_t>(n >> shift));
    for (const auto b : bytes) byte(b);
  }
  void field(std::string_view s) {
    field(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }
  void tlv_field(const tlv_list& tlvs, std::uint16_t t) {
    if (const auto* v = tlvs.find(t)) {
      byte(1);
      field(v->value);
    } else {
      byte(0);
    }
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

}  // namespace

std::string inbound_fingerprint(const pdu& p) {
  fnv1a f;
  const tlv_list* tlvs = nullptr;
  if (const auto* b = std::get_if<sm_body>(&p.body); b && p.id == command::deliver_sm) {
    f.byte(b->source_addr_ton);
    f.byte(b->source_addr_npi);
    f.field(b->source_addr);
    f.byte(b->dest_addr_ton);
    f.byte(b->dest_addr_npi);
    f.field(b->destination_addr);
    f.byte(static_cast<std::uint8_t>(b->esm_class & 0x40));
    f.byte(b->data_coding);
    f.field(b->short_message);
    tlvs = &b->tlvs;
  } else if (const auto* d = std::get_if<data_sm_body>(&p.body); d && p.id == command::data_sm) {
    // The same facts as a deliver_sm without short_message hash alike.
    f.byte(d->source_addr_ton);
    f.byte(d->source_addr_npi);
    f.field(d->source_addr);
    f.byte(d->dest_addr_ton);
    f.byte(d->dest_addr_npi);
    f.field(d->destination_addr);
    f.byte(static_cast<std::uint8_t>(d->esm_class & 0x40));
    f.byte(d->data_coding);
    f.field(std::span<const std::uint8_t>{});
    tlvs = &d->tlvs;
  } else {
    return {};
  }
  for (const auto t : {tag::message_payload, tag::sar_msg_ref_num, tag::sar_total_segments, tag::sar_segment_seqnum,
                       tag::receipted_message_id})
    f.tlv_field(*tlvs, t);
  return f.hex();
}

std::string inbound_message_id(const std::vector<std::string>& part_fingerprints) {
  if (part_fingerprints.size() == 1 && !part_fingerprints.front().empty()) return "mo-" + part_fingerprints.front();
  fnv1a f;
  f.field(std::to_string(part_fingerprints.size()));
  for (const auto& part : part_fingerprints) f.field(part);
  return "mo-" + f.hex();
}

}  // namespace kentongan::smpp
