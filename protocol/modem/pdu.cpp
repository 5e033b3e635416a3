#include "protocol/modem/pdu.hpp"

#include <span>

namespace kentongan::modem {
namespace {

using bytes = std::vector<std::uint8_t>;

constexpr char hex_digits[] = "0123456789ABCDEF";
// Semi-octet values 0xA–0xE per 23.040 §9.1.2.3 ("*", "#", "a", "b", "c"); 0xF is the filler.
constexpr char semi_octet_chars[] = "0123456789*#abc";

std::optional<bytes> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  bytes out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string to_hex(const bytes& b) {
  std::string out;
  out.reserve(b.size() * 2);
  for (std::uint8_t v : b) {
    out.push_back(hex_digits[v >> 4]);
    out.push_back(hex_digits[v & 0x0F]);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

/// A bounds-checked cursor: every read says whether the octets were there.
class reader {
 public:
  explicit reader(std::span<const std::uint8_t> data) : data_(data) {}
  bool u8(std::uint8_t& out) {
    if (pos_ >= data_.size()) return false;
    out = data_[pos_++];
    return true;
  }
  bool take(std::size_t n, std::span<const std::uint8_t>& out) {
    if (n > data_.size() - pos_) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  std::span<const std::uint8_t> rest() const { return data_.subspan(pos_); }
  std::size_t offset() const { return pos_; }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

// ---- addresses (23.040 §9.1.2.5; RP address per 24.011 §8.2.5.1) ----------------------------------------

std::string decode_semi_octets(std::span<const std::uint8_t> octets, std::size_t digits) {
  std::string out;
  for (std::size_t i = 0; i < digits && i / 2 < octets.size(); ++i) {
    const unsigned v = i % 2 == 0 ? (octets[i / 2] & 0x0Fu) : (octets[i / 2] >> 4);
    if (v == 0x0F) break;
    out.push_back(semi_octet_chars[v]);
  }
  return out;
}

std::string address_text(std::span<const std::uint8_t> octets, std::size_t digits, std::uint8_t toa) {
  if ((toa & 0x70) == 0x50) {  // TON 101 alphanumeric: packed GSM-7, 23.038 §6.1.2.1
    const auto septets = gsm::unpack_septets(octets, digits * 4 / 7);
    return gsm::decode_gsm7(septets);
  }
  std::string number = decode_semi_octets(octets, digits);
  if ((toa & 0x70) == 0x10) number.insert(number.begin(), '+');
  return number;
}

/// TP-OA / TP-DA / TP-RA: length in semi-octets.
bool read_tp_address(reader& r, address& out) {
  std::uint8_t digits = 0;
  std::span<const std::uint8_t> octets;
  if (!r.u8(digits) || !r.u8(out.toa) || !r.take((std::size_t{digits} + 1) / 2, octets)) return false;
  out.number = address_text(octets, digits, out.toa);
  return true;
}

/// SMSC prefix: length in octets including the TOA; 0 means none.
bool read_smsc(reader& r, std::optional<address>& out) {
  std::uint8_t length = 0;
  if (!r.u8(length)) return false;
  if (length == 0) return true;
  address a;
  std::span<const std::uint8_t> octets;
  if (!r.u8(a.toa) || !r.take(std::size_t{length} - 1, octets)) return false;
  a.number = address_text(octets, octets.size() * 2, a.toa);
  out = std::move(a);
  return true;
}

/// Digits of a numeric address, or nullopt when it cannot be written as semi-octets.
std::optional<std::string> address_digits(const address& a) {
  std::string_view n = a.number;
  if (!n.empty() && n.front() == '+') n.remove_prefix(1);
  if (n.empty() || n.size() > 20) return std::nullopt;
  for (char c : n) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::string(n);
}

void put_semi_octets(bytes& out, std::string_view digits) {
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const auto lo = static_cast<unsigned>(digits[i] - '0');
    const unsigned hi = i + 1 < digits.size() ? static_cast<unsigned>(digits[i + 1] - '0') : 0x0Fu;
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
}

// ---- timestamps (23.040 §9.2.3.11) ----------------------------------------------------------------------

std::optional<timestamp> decode_timestamp(std::span<const std::uint8_t> o) {
  int field[6] = {};
  for (std::size_t i = 0; i < 6; ++i) {
    const int lo = o[i] & 0x0F;
    const int hi = o[i] >> 4;
    if (lo > 9 || hi > 9) return std::nullopt;
    field[i] = lo * 10 + hi;
  }
  // The time zone's first digit sits in the low nibble with the sign in its bit 3.
  const int tz_tens = o[6] & 0x07;
  const int tz_units = o[6] >> 4;
  if (tz_units > 9) return std::nullopt;
  int quarters = tz_tens * 10 + tz_units;
  if ((o[6] & 0x08) != 0) quarters = -quarters;

  // Two-digit years: 90–99 are the 1990s (python-messaging vectors), the rest 2000–2089.
  const int year = field[0] >= 90 ? 1900 + field[0] : 2000 + field[0];
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(field[1])},
                                         std::chrono::day{static_cast<unsigned>(field[2])}};
  if (!date.ok() || field[3] > 23 || field[4] > 59 || field[5] > 59) return std::nullopt;
  timestamp t;
  t.utc_offset = std::chrono::minutes{quarters * 15};
  const auto local = std::chrono::sys_days{date} + std::chrono::hours{field[3]} +
                     std::chrono::minutes{field[4]} + std::chrono::seconds{field[5]};
  t.utc = std::chrono::sys_seconds{local - t.utc_offset};
  return t;
}

bool read_timestamp(reader& r, std::optional<timestamp>& out) {
  std::span<const std::uint8_t> octets;
  if (!r.take(7, octets)) return false;
  out = decode_timestamp(octets);
  return true;
}

// ---- TP-DCS (23.038 §4) and TP-UD (23.040 §9.2.3.16, §9.2.3.24) -----------------------------------------

struct dcs_info {
  alphabet alpha = alphabet::gsm7;
  std::optional<std::uint8_t> message_class;
  bool compressed = false;
};

dcs_info interpret_dcs(std::uint8_t dcs) {
  dcs_info d;
  const unsigned group = dcs >> 4;
  if (group <= 0x7) {  // general data coding, with or without automatic deletion
    d.compressed = (dcs & 0x20) != 0;
    const unsigned a = (dcs >> 2) & 0x03u;
    d.alpha = a == 1 ? alphabet::eight_bit : a == 2 ? alphabet::ucs2 : alphabet::gsm7;  // 11 reserved → GSM-7
    if ((dcs & 0x10) != 0) d.message_class = static_cast<std::uint8_t>(dcs & 0x03);
  } else if (group == 0xE) {  // message waiting indication, store, UCS-2
    d.alpha = alphabet::ucs2;
  } else if (group == 0xF) {  // data coding / message class
    d.alpha = (dcs & 0x04) != 0 ? alphabet::eight_bit : alphabet::gsm7;
    d.message_class = static_cast<std::uint8_t>(dcs & 0x03);
  }
  return d;
}

pdu_error read_user_data(reader& r, bool udhi, const dcs_info& dcs, user_data& out) {
  out.alpha = dcs.alpha;
  std::uint8_t udl = 0;
  if (!r.u8(udl)) return pdu_error::truncated;
  const bool septets = dcs.alpha == alphabet::gsm7 && !dcs.compressed;
  const std::size_t octets = septets ? (std::size_t{udl} * 7 + 7) / 8 : udl;
  std::span<const std::uint8_t> ud;
  // Octets beyond TP-UDL (padding some modems append) are ignored.
  if (!r.take(octets, ud)) return pdu_error::truncated;

  std::size_t header_octets = 0;
  if (udhi) {
    const auto h = gsm::parse_udh(ud);
    if (!h) return pdu_error::bad_length;
    out.header = h;
    header_octets = h->length;
  }
  if (septets) {
    // The UDH fills whole septets; the text starts after the fill bits (23.040 §9.2.3.24).
    const std::size_t header_septets = (header_octets * 8 + 6) / 7;
    if (header_septets > udl) return pdu_error::bad_length;
    const unsigned fill = static_cast<unsigned>(header_septets * 7 - header_octets * 8);
    out.data = gsm::unpack_septets(ud.subspan(header_octets), udl - header_septets, fill);
    out.text = gsm::decode_gsm7(out.data);
    return pdu_error::none;
  }
  out.data.assign(ud.begin() + static_cast<std::ptrdiff_t>(header_octets), ud.end());
  if (dcs.compressed) return pdu_error::none;  // 23.042 compression is not supported: data only
  out.text = dcs.alpha == alphabet::ucs2 ? gsm::decode_ucs2(out.data) : gsm::decode_latin1(out.data);
  return pdu_error::none;
}

// ---- the three TPDU layouts, fields in 23.040 §9.2.2 order ----------------------------------------------

pdu_error decode_deliver(reader& r, std::uint8_t fo, sms_deliver& d) {
  d.more_messages = (fo & 0x04) == 0;
  d.status_report_indication = (fo & 0x20) != 0;
  d.reply_path = (fo & 0x80) != 0;
  if (!read_tp_address(r, d.originator)) return pdu_error::truncated;
  if (!r.u8(d.pid) || !r.u8(d.dcs)) return pdu_error::truncated;
  const dcs_info dcs = interpret_dcs(d.dcs);
  d.message_class = dcs.message_class;
  if (!read_timestamp(r, d.service_centre_time)) return pdu_error::truncated;
  return read_user_data(r, (fo & 0x40) != 0, dcs, d.ud);
}

pdu_error decode_submit(reader& r, std::uint8_t fo, sms_submit& s) {
  s.reject_duplicates = (fo & 0x04) != 0;
  s.status_report_request = (fo & 0x20) != 0;
  s.reply_path = (fo & 0x80) != 0;
  if (!r.u8(s.message_reference)) return pdu_error::truncated;
  if (!read_tp_address(r, s.destination)) return pdu_error::truncated;
  if (!r.u8(s.pid) || !r.u8(s.dcs)) return pdu_error::truncated;
  switch ((fo >> 3) & 0x03) {
    case 0x02: {
      std::uint8_t vp = 0;
      if (!r.u8(vp)) return pdu_error::truncated;
      s.relative_validity = decode_relative_validity(vp);
      break;
    }
    case 0x03:
      if (!read_timestamp(r, s.absolute_validity)) return pdu_error::truncated;
      break;
    case 0x01: {  // enhanced format (§9.2.3.12.3): 7 octets, skipped
      std::span<const std::uint8_t> skip;
      if (!r.take(7, skip)) return pdu_error::truncated;
      break;
    }
    default: break;
  }
  const dcs_info dcs = interpret_dcs(s.dcs);
  return read_user_data(r, (fo & 0x40) != 0, dcs, s.ud);
}

pdu_error decode_status_report(reader& r, std::uint8_t fo, sms_status_report& s) {
  s.more_messages = (fo & 0x04) == 0;
  s.status_report_qualifier = (fo & 0x20) != 0;
  if (!r.u8(s.message_reference)) return pdu_error::truncated;
  if (!read_tp_address(r, s.recipient)) return pdu_error::truncated;
  if (!read_timestamp(r, s.service_centre_time) || !read_timestamp(r, s.discharge_time)) return pdu_error::truncated;
  if (!r.u8(s.status)) return pdu_error::truncated;
  return pdu_error::none;
}

}  // namespace

address make_address(std::string_view number) {
  address a;
  a.number = std::string(number);
  a.toa = !number.empty() && number.front() == '+' ? 0x91 : 0x81;
  return a;
}

std::string_view to_string(pdu_error e) {
  switch (e) {
    case pdu_error::none: return "none";
    case pdu_error::bad_hex: return "bad_hex";
    case pdu_error::truncated: return "truncated";
    case pdu_error::bad_address: return "bad_address";
    case pdu_error::bad_length: return "bad_length";
    case pdu_error::unsupported_type: return "unsupported_type";
    case pdu_error::too_long: return "too_long";
    case pdu_error::bad_validity: return "bad_validity";
  }
  return "unknown";
}

delivery_status classify_status(std::uint8_t st) {
  if (st <= 0x1F) return delivery_status::delivered;  // transaction completed (0x03–0x1F reserved/SC-specific)
  if (st <= 0x3F) return delivery_status::pending;    // temporary error, SC still trying
  if (st <= 0x7F) return delivery_status::failed;     // permanent error, or temporary and SC stopped trying
  return delivery_status::unknown;
}

std::optional<std::uint8_t> encode_relative_validity(std::chrono::minutes validity) {
  const long m = validity.count();
  if (m <= 12 * 60) return static_cast<std::uint8_t>(m / 5 > 0 ? m / 5 - 1 : 0);
  if (m <= 24 * 60) return static_cast<std::uint8_t>(143 + (m - 12 * 60) / 30);
  const long days = m / (24 * 60);
  if (days <= 30) return static_cast<std::uint8_t>(166 + days);
  const long weeks = days / 7;
  if (weeks <= 63) return static_cast<std::uint8_t>(192 + weeks);
  return std::nullopt;
}

std::chrono::minutes decode_relative_validity(std::uint8_t vp) {
  using std::chrono::minutes;
  if (vp <= 143) return minutes{(vp + 1) * 5};
  if (vp <= 167) return minutes{12 * 60 + (vp - 143) * 30};
  if (vp <= 196) return minutes{(vp - 166) * 24 * 60};
  return minutes{(vp - 192) * 7 * 24 * 60};
}

decode_result decode_pdu(std::string_view hex) {
  decode_result result;
  const auto raw = from_hex(trim(hex));
  if (!raw) {
    result.error = pdu_error::bad_hex;
    return result;
  }
  reader r(*raw);
  std::uint8_t fo = 0;
  if (!read_smsc(r, result.smsc) || !r.u8(fo)) {
    result.error = pdu_error::truncated;
    return result;
  }
  switch (fo & 0x03) {
    case 0x00: {
      sms_deliver d;
      result.error = decode_deliver(r, fo, d);
      result.value = std::move(d);
      break;
    }
    case 0x01: {
      sms_submit s;
      result.error = decode_submit(r, fo, s);
      result.value = std::move(s);
      break;
    }
    case 0x02: {
      sms_status_report s;
      result.error = decode_status_report(r, fo, s);
      result.value = std::move(s);
      break;
    }
    default: result.error = pdu_error::unsupported_type; break;
  }
  return result;
}

encode_result encode_submit(const submit_request& request) {
  encode_result result;
  bytes out;

  // SMSC prefix (24.011 RP address): octet count including the TOA, or 00 for the SIM default.
  if (request.smsc) {
    const auto digits = address_digits(*request.smsc);
    if (!digits) {
      result.error = pdu_error::bad_address;
      return result;
    }
    out.push_back(static_cast<std::uint8_t>(1 + (digits->size() + 1) / 2));
    out.push_back(request.smsc->toa);
    put_semi_octets(out, *digits);
  } else {
    out.push_back(0x00);
  }
  const std::size_t smsc_octets = out.size();

  const auto da = address_digits(request.destination);
  if (!da) {
    result.error = pdu_error::bad_address;
    return result;
  }
  std::optional<std::uint8_t> vp;
  if (request.validity) {
    vp = encode_relative_validity(*request.validity);
    if (!vp) {
      result.error = pdu_error::bad_validity;
      return result;
    }
  }

  bytes udh;
  if (request.concat) {
    const auto& c = *request.concat;
    if (c.reference <= 0xFF) {
      udh = gsm::concat_udh(static_cast<std::uint8_t>(c.reference), c.total, c.sequence);
    } else {
      udh = {0x06, 0x08, 0x04, static_cast<std::uint8_t>(c.reference >> 8),
             static_cast<std::uint8_t>(c.reference & 0xFF), c.total, c.sequence};
    }
  }

  // First octet (23.040 §9.2.2.2): MTI 01, RD, VPF relative, SRR, UDHI.
  std::uint8_t fo = 0x01;
  if (request.reject_duplicates) fo |= 0x04;
  if (vp) fo |= 0x10;
  if (request.status_report) fo |= 0x20;
  if (!udh.empty()) fo |= 0x40;
  out.push_back(fo);
  out.push_back(request.message_reference);
  out.push_back(static_cast<std::uint8_t>(da->size()));
  out.push_back(request.destination.toa);
  put_semi_octets(out, *da);
  out.push_back(0x00);                                                        // TP-PID
  out.push_back(request.enc == gsm::encoding::gsm7 ? 0x00 : 0x08);            // TP-DCS
  if (vp) out.push_back(*vp);

  if (request.enc == gsm::encoding::gsm7) {
    const std::size_t header_septets = (udh.size() * 8 + 6) / 7;
    const std::size_t udl = header_septets + request.payload.size();
    if (udl > 160) {
      result.error = pdu_error::too_long;
      return result;
    }
    const auto fill = static_cast<unsigned>(header_septets * 7 - udh.size() * 8);
    out.push_back(static_cast<std::uint8_t>(udl));
    out.insert(out.end(), udh.begin(), udh.end());
    const bytes packed = gsm::pack_septets(request.payload, fill);
    out.insert(out.end(), packed.begin(), packed.end());
  } else {
    const std::size_t udl = udh.size() + request.payload.size();
    if (udl > 140) {
      result.error = pdu_error::too_long;
      return result;
    }
    out.push_back(static_cast<std::uint8_t>(udl));
    out.insert(out.end(), udh.begin(), udh.end());
    out.insert(out.end(), request.payload.begin(), request.payload.end());
  }
  result.value.hex = to_hex(out);
  result.value.tpdu_length = out.size() - smsc_octets;
  return result;
}

std::vector<submit_request> submits_for(const gsm::plan& plan, const submit_request& base, std::uint8_t reference) {
  std::vector<submit_request> out;
  if (plan.parts.size() > 255) return out;
  const auto total = static_cast<std::uint8_t>(plan.parts.size());
  for (std::size_t i = 0; i < plan.parts.size(); ++i) {
    submit_request r = base;
    r.enc = plan.enc;
    r.payload = plan.parts[i].payload;
    r.concat.reset();
    if (total > 1) r.concat = gsm::concat_info{reference, total, static_cast<std::uint8_t>(i + 1)};
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace kentongan::modem
