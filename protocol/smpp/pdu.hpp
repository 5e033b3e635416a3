#pragma once
/// SMPP 3.4 PDU codec: pure functions from bytes to values and back, no I/O, no logging.
/// Decoding never throws and never reads past the span it is given; failures are values.
/// All integers on the wire are big-endian; C-Octet String limits include the NUL ([SMPP34] §3.1).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace kentongan::smpp {

/// command_id values ([SMPP34] §5.1.2). Bit 31 marks a response.
enum class command : std::uint32_t {
  generic_nack = 0x80000000,
  bind_receiver = 0x00000001,
  bind_receiver_resp = 0x80000001,
  bind_transmitter = 0x00000002,
  bind_transmitter_resp = 0x80000002,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  outbind = 0x0000000B,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
  data_sm = 0x00000103,
  data_sm_resp = 0x80000103,
};

constexpr std::uint32_t response_bit = 0x80000000u;
constexpr bool is_response(std::uint32_t command_id) { return (command_id & response_bit) != 0; }
/// "submit_sm", or nullopt for a command id this codec does not know.
std::optional<std::string_view> command_name(std::uint32_t command_id);

/// TLV tags this code reads or writes ([SMPP34] §5.3.2).
namespace tag {
constexpr std::uint16_t dest_network_type = 0x0006;
constexpr std::uint16_t source_network_type = 0x000E;
constexpr std::uint16_t receipted_message_id = 0x001E;
constexpr std::uint16_t user_message_reference = 0x0204;
constexpr std::uint16_t sar_msg_ref_num = 0x020C;
constexpr std::uint16_t sar_total_segments = 0x020E;
constexpr std::uint16_t sar_segment_seqnum = 0x020F;
constexpr std::uint16_t sc_interface_version = 0x0210;
constexpr std::uint16_t network_error_code = 0x0423;
constexpr std::uint16_t message_payload = 0x0424;
constexpr std::uint16_t message_state = 0x0427;
}  // namespace tag

/// message_state values ([SMPP34] §5.2.28).
enum class message_state : std::uint8_t {
  enroute = 1, delivered = 2, expired = 3, deleted = 4, undeliverable = 5, accepted = 6, unknown = 7, rejected = 8,
};

struct network_error {
  std::uint8_t type = 0;    ///< 1 ANSI-136, 2 IS-95, 3 GSM
  std::uint16_t code = 0;
  bool operator==(const network_error&) const = default;
};

struct tlv {
  std::uint16_t tag = 0;
  std::vector<std::uint8_t> value;
  bool operator==(const tlv&) const = default;
};

/// Optional parameters in arrival order; unknown tags are kept, not fatal. Typed accessors return
/// nullopt when the tag is absent or its value has the wrong length for its type.
struct tlv_list {
  std::vector<tlv> items;

  const tlv* find(std::uint16_t t) const;
  std::optional<std::uint8_t> u8(std::uint16_t t) const;
  std::optional<std::uint16_t> u16(std::uint16_t t) const;
  /// A C-Octet String value; the NUL is optional on input (some SMSCs leave it out).
  std::optional<std::string> cstring(std::uint16_t t) const;
  void set(std::uint16_t t, std::vector<std::uint8_t> value);
  void set_u8(std::uint16_t t, std::uint8_t v);
  void set_u16(std::uint16_t t, std::uint16_t v);
  void set_cstring(std::uint16_t t, std::string_view v);

  std::optional<std::vector<std::uint8_t>> message_payload() const;
  std::optional<std::uint16_t> sar_msg_ref_num() const { return u16(tag::sar_msg_ref_num); }
  std::optional<std::uint8_t> sar_total_segments() const { return u8(tag::sar_total_segments); }
  std::optional<std::uint8_t> sar_segment_seqnum() const { return u8(tag::sar_segment_seqnum); }
  std::optional<std::string> receipted_message_id() const { return cstring(tag::receipted_message_id); }
  std::optional<smpp::message_state> message_state() const;
  std::optional<network_error> network_error_code() const;
  std::optional<std::uint16_t> user_message_reference() const { return u16(tag::user_message_reference); }

  bool operator==(const tlv_list&) const = default;
};

// ---- bodies, one struct per layout ([SMPP34] §4) -------------------------------------------

/// bind_transmitter, bind_receiver, bind_transceiver (§4.1.1, §4.1.3, §4.1.5): identical bodies.
struct bind_body {
  std::string system_id;            ///< ≤ 15 chars
  std::string password;             ///< ≤ 8 chars
  std::string system_type;          ///< ≤ 12 chars
  std::uint8_t interface_version = 0x34;
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;        ///< ≤ 40 chars
  bool operator==(const bind_body&) const = default;
};

/// bind_*_resp (§4.1.2): the body may be absent when command_status is not 0.
struct bind_resp_body {
  std::string system_id;
  tlv_list tlvs;
  bool operator==(const bind_resp_body&) const = default;
};

/// outbind (§4.1.7).
struct outbind_body {
  std::string system_id;
  std::string password;
  bool operator==(const outbind_body&) const = default;
};

/// submit_sm (§4.4.1) and deliver_sm (§4.6.1) share this layout.
struct sm_body {
  std::string service_type;         ///< ≤ 5 chars
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;          ///< ≤ 20 chars
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;     ///< ≤ 20 chars
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;  ///< "" or 16 chars
  std::string validity_period;         ///< "" or 16 chars
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::vector<std::uint8_t> short_message;  ///< ≤ 254 octets encoded, 255 accepted on decode
  tlv_list tlvs;
  bool operator==(const sm_body&) const = default;
};

/// data_sm (§4.7.1).
struct data_sm_body {
  std::string service_type;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;          ///< ≤ 64 chars
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;     ///< ≤ 64 chars
  std::uint8_t esm_class = 0;
  std::uint8_t registered_delivery = 0;
  std::uint8_t data_coding = 0;
  tlv_list tlvs;
  bool operator==(const data_sm_body&) const = default;
};

/// submit_sm_resp, deliver_sm_resp, data_sm_resp (§4.4.2, §4.6.2, §4.7.2): message_id, ≤ 64 chars.
/// The body may be absent (failed responses); we send NULL in deliver_sm_resp.
struct message_id_body {
  std::string message_id;
  tlv_list tlvs;                    ///< data_sm_resp only
  bool operator==(const message_id_body&) const = default;
};

/// Header-only PDUs: unbind(_resp), enquire_link(_resp), generic_nack.
struct empty_body {
  bool operator==(const empty_body&) const = default;
};

using body = std::variant<empty_body, bind_body, bind_resp_body, outbind_body, sm_body, data_sm_body, message_id_body>;

struct pdu {
  command id = command::enquire_link;
  std::uint32_t status = 0;         ///< command_status; 0 in requests
  std::uint32_t sequence = 0;       ///< echoed as received (values ≥ 0x80000000 occur in the wild)
  smpp::body body;
  bool operator==(const pdu&) const = default;
};

/// The body alternative a command carries (empty_body for header-only commands).
smpp::body default_body(command id);

// ---- framing -----------------------------------------------------------------------------

constexpr std::size_t header_size = 16;
/// Largest PDU we accept: a 64 KiB message_payload plus the largest mandatory body, rounded up.
constexpr std::uint32_t default_max_pdu = 70000;

struct header {
  std::uint32_t length = 0;
  std::uint32_t id = 0;
  std::uint32_t status = 0;
  std::uint32_t sequence = 0;
  bool operator==(const header&) const = default;
};

enum class frame_kind { need_more, complete, invalid_length };
struct frame {
  frame_kind kind = frame_kind::need_more;
  std::size_t length = 0;           ///< bytes of the first PDU when complete
};
/// Looks at the start of a receive buffer ([SMPP34] §3.2). invalid_length means the stream cannot
/// be resynchronised: answer generic_nack ESME_RINVCMDLEN and close.
frame check_frame(std::span<const std::uint8_t> buffer, std::uint32_t max_pdu = default_max_pdu);
/// The 16-octet header, or nullopt if fewer than 16 octets are given.
std::optional<header> peek_header(std::span<const std::uint8_t> buffer);

// ---- decode / encode ----------------------------------------------------------------------

enum class decode_error {
  none,
  short_header,        ///< fewer than 16 octets
  length_mismatch,     ///< command_length differs from the span given, or < 16
  unknown_command,     ///< command_id not known to this codec
  missing_nul,         ///< a C-Octet String runs to the end of the PDU
  field_too_long,      ///< a C-Octet String exceeds its maximum
  truncated_body,      ///< a fixed field or short_message runs past the end
  bad_tlv,             ///< a TLV header or value runs past the end
  trailing_bytes,      ///< octets left after the body of a PDU that takes no TLVs
};
std::string_view to_string(decode_error e);
/// The command_status to answer a request that failed to decode with ([SMPP34] §4.3, §5.1.3).
std::uint32_t error_status(decode_error e);

struct decode_result {
  decode_error error = decode_error::none;
  header head{};                    ///< valid whenever at least 16 octets were given
  pdu value{};                      ///< valid only when error == none
  explicit operator bool() const { return error == decode_error::none; }
};

/// Decodes exactly one PDU; `frame_bytes` must be the whole PDU as check_frame delimited it.
decode_result decode(std::span<const std::uint8_t> frame_bytes);

/// Appends the encoding of `p` to `out`. Returns false (and appends nothing) when a field breaks
/// a limit we must not send past: a C-Octet String too long, short_message over 254 octets, a
/// TLV value over 65535 octets, or a body type that does not match the command.
bool encode(const pdu& p, std::vector<std::uint8_t>& out);
std::optional<std::vector<std::uint8_t>> encode(const pdu& p);

/// One line per field, for debug logs and test failures.
std::string to_string(const pdu& p);

// ---- command_status ([SMPP34] §5.1.3) ------------------------------------------------------

namespace status {
constexpr std::uint32_t ok = 0x00;
constexpr std::uint32_t invalid_message_length = 0x01;   ///< ESME_RINVMSGLEN
constexpr std::uint32_t invalid_command_length = 0x02;   ///< ESME_RINVCMDLEN
constexpr std::uint32_t invalid_command_id = 0x03;       ///< ESME_RINVCMDID
constexpr std::uint32_t invalid_bind_status = 0x04;      ///< ESME_RINVBNDSTS
constexpr std::uint32_t already_bound = 0x05;            ///< ESME_RALYBND
constexpr std::uint32_t system_error = 0x08;             ///< ESME_RSYSERR
constexpr std::uint32_t invalid_dest_addr = 0x0B;        ///< ESME_RINVDSTADR
constexpr std::uint32_t bind_failed = 0x0D;              ///< ESME_RBINDFAIL
constexpr std::uint32_t invalid_password = 0x0E;         ///< ESME_RINVPASWD
constexpr std::uint32_t message_queue_full = 0x14;       ///< ESME_RMSGQFUL
constexpr std::uint32_t submit_failed = 0x45;            ///< ESME_RSUBMITFAIL
constexpr std::uint32_t throttled = 0x58;                ///< ESME_RTHROTTLED
constexpr std::uint32_t receiver_temporary = 0x64;       ///< ESME_RX_T_APPN
constexpr std::uint32_t receiver_permanent = 0x65;       ///< ESME_RX_P_APPN
constexpr std::uint32_t invalid_optional_stream = 0xC0;  ///< ESME_RINVOPTPARSTREAM
constexpr std::uint32_t unknown_error = 0xFF;            ///< ESME_RUNKNOWNERR
}  // namespace status

/// What a sender does about a command_status.
enum class status_class {
  ok,
  retryable,   ///< try the same message again later
  permanent,   ///< this message will never succeed as it is
  throttle,    ///< slow the channel down, then retry the same message
};

struct status_info {
  std::uint32_t code = 0;
  std::string_view name;   ///< "ESME_RTHROTTLED"
  std::string_view text;   ///< "Throttling error (ESME has exceeded allowed message limits)"
  status_class kind = status_class::retryable;
};

/// The documented table. Codes not in it (vendor range 0x400-0x4FF, 5.0 additions) are reported
/// as "ESME_R0x..." and treated as retryable, so a surprise never loses a message outright; the
/// outbox's retry limit turns a persistent one into a failure.
status_info describe_status(std::uint32_t code);
/// "ESME_RTHROTTLED (0x58)".
std::string status_reason(std::uint32_t code);
/// An error_code in the SMPP command_status category (value = the status).
const std::error_category& status_category();
inline std::error_code make_status_error(std::uint32_t code) {
  return {static_cast<int>(code), status_category()};
}

// ---- delivery receipts ([SMPP34] Appendix B) -----------------------------------------------

/// The parsed `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…` text. Keys are
/// case-insensitive and may come in any order; values are kept as received.
struct receipt {
  std::optional<std::string> id;
  std::optional<std::string> sub;
  std::optional<std::string> dlvrd;
  std::optional<std::string> submit_date;   ///< YYMMDDhhmm[ss] or YYYYMMDDhhmmss
  std::optional<std::string> done_date;
  std::optional<std::string> stat;          ///< DELIVRD, UNDELIV, …
  std::optional<std::string> err;           ///< often 3 digits, may be alphanumeric
  std::optional<std::string> text;          ///< first ≤ 20 characters of the original
  bool operator==(const receipt&) const = default;
};

enum class receipt_mode {
  strict,    ///< every one of the eight keys must be present
  lenient,   ///< whatever keys are found; nullopt only when none is
};
std::optional<receipt> parse_receipt(std::string_view text, receipt_mode mode = receipt_mode::lenient);
/// The Appendix B form (values written as stored, missing ones left out).
std::string format_receipt(const receipt& r);
/// A receipt date in UTC; nullopt when it is not 10, 12 or 14 digits of a valid date.
std::optional<std::chrono::sys_seconds> parse_receipt_date(std::string_view yymmddhhmm);
/// DELIVRD → delivered, ENROUTE → enroute, …; case-insensitive; nullopt for anything else.
std::optional<message_state> parse_receipt_stat(std::string_view stat);
std::string_view receipt_stat(message_state s);

// ---- inbound message identity -----------------------------------------------------------------

/// A stable identity for an inbound deliver_sm or data_sm, from its content only: source and
/// destination (TON, NPI, address), esm_class UDHI bit, data_coding, short_message, the
/// message_payload, SAR and receipted_message_id TLVs. A PDU the SMSC delivers again after a lost
/// deliver_sm_resp ([SMPP34] §4.6.2) gets the same id whatever the link or sequence number. 16
/// lower-case hex digits (64-bit FNV-1a over length-prefixed fields); empty for other commands.
std::string inbound_fingerprint(const pdu& p);
/// The id of a concatenated message from its parts' fingerprints, indexed by part number - 1
/// (empty strings for parts that never came): "mo-" and 16 hex digits. A single part gives
/// "mo-" + its fingerprint.
std::string inbound_message_id(const std::vector<std::string>& part_fingerprints);

/// Where a message ends up, for the channel's delivery report.
enum class final_state { delivered, failed, expired };
/// nullopt for intermediate states (enroute, accepted) that are not the end of the story.
std::optional<final_state> to_final_state(message_state s);

}  // namespace kentongan::smpp
