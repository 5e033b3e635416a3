#pragma once
/// 3GPP TS 23.040 TPDU codec for PDU-mode modems (27.005 AT+CMGS / +CMT / +CMGR / +CDS): SMS-SUBMIT encode,
/// SMS-DELIVER / SMS-SUBMIT / SMS-STATUS-REPORT decode. Hex strings include the SMSC (RP) address prefix
/// as modems print and expect it. Pure functions, no I/O; decoders never throw and check every length.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/gsm/gsm.hpp"

namespace kentongan::modem {

/// An address (23.040 §9.1.2.5): text as read ("+6281…" when the type of number is international, the
/// digits otherwise, the decoded name for alphanumeric) and the raw type-of-address octet.
struct address {
  std::string number;
  std::uint8_t toa = 0x91;
  bool operator==(const address&) const = default;
};
/// "+6281234567890" → TOA 0x91 (international, E.164); other digit strings → 0x81 (unknown).
address make_address(std::string_view number);

enum class pdu_error {
  none,
  bad_hex,           ///< odd length or a non-hex character
  truncated,         ///< a field runs past the end
  bad_address,       ///< address not encodable (non-digits, empty, more than 20 digits) or malformed
  bad_length,        ///< TP-UDL or UDH lengths inconsistent
  unsupported_type,  ///< TP-MTI 11 (reserved)
  too_long,          ///< user data above 140 octets / 160 septets
  bad_validity,      ///< relative validity above 63 weeks
};
std::string_view to_string(pdu_error e);

/// TP-SCTS / TP-DT (23.040 §9.2.3.11): the instant and the sender's zone offset.
struct timestamp {
  std::chrono::sys_seconds utc{};
  std::chrono::minutes utc_offset{0};
  bool operator==(const timestamp&) const = default;
};

enum class alphabet { gsm7, eight_bit, ucs2 };

/// TP-UD after decoding; TP-DCS groups per 23.038 §4 (reserved codings read as GSM-7).
struct user_data {
  alphabet alpha = alphabet::gsm7;
  std::optional<gsm::user_data_header> header;  ///< present when TP-UDHI is set
  std::vector<std::uint8_t> data;               ///< after the UDH: unpacked septets (gsm7) or octets
  std::string text;                             ///< UTF-8; 8-bit data is shown as Latin-1
};

struct sms_deliver {
  address originator;
  bool more_messages = false;             ///< TP-MMS clear: more messages are waiting at the SC
  bool status_report_indication = false;  ///< TP-SRI
  bool reply_path = false;                ///< TP-RP
  std::uint8_t pid = 0;
  std::uint8_t dcs = 0;
  std::optional<std::uint8_t> message_class;      ///< 0 flash … 3 TE, when the DCS states one
  std::optional<timestamp> service_centre_time;   ///< nullopt when the SCTS digits are not a valid time
  user_data ud;
};

struct sms_submit {
  std::uint8_t message_reference = 0;
  address destination;
  bool reject_duplicates = false;
  bool status_report_request = false;
  bool reply_path = false;
  std::uint8_t pid = 0;
  std::uint8_t dcs = 0;
  std::optional<std::chrono::minutes> relative_validity;
  std::optional<timestamp> absolute_validity;  ///< absolute TP-VP (VPF 11); enhanced VPF is skipped
  user_data ud;
};

/// TP-ST bands (23.040 §9.2.3.15).
enum class delivery_status { delivered, pending, failed, unknown };
delivery_status classify_status(std::uint8_t tp_st);

struct sms_status_report {
  std::uint8_t message_reference = 0;  ///< matches the `+CMGS: <mr>` of the submit
  address recipient;
  bool more_messages = false;
  bool status_report_qualifier = false;  ///< TP-SRQ: report of an SMS-COMMAND
  std::optional<timestamp> service_centre_time;
  std::optional<timestamp> discharge_time;
  std::uint8_t status = 0;             ///< TP-ST; trailing TP-PI/padding octets are ignored
};

using tpdu = std::variant<sms_deliver, sms_submit, sms_status_report>;

struct decode_result {
  pdu_error error = pdu_error::none;
  std::optional<address> smsc;   ///< nullopt for the "00" prefix
  tpdu value{};                  ///< valid only when error == none
  explicit operator bool() const { return error == pdu_error::none; }
};
/// Decodes a PDU as a modem prints it (SMSC prefix, then the TPDU); surrounding whitespace is ignored.
decode_result decode_pdu(std::string_view hex);

/// What to send: one part of a message (the payload of gsm::part) to one destination.
struct submit_request {
  address destination{};
  gsm::encoding enc = gsm::encoding::gsm7;
  std::vector<std::uint8_t> payload{};      ///< unpacked septets (gsm7) or UTF-16BE (ucs2), no UDH
  std::optional<gsm::concat_info> concat{}; ///< 8-bit reference UDH when reference ≤ 255, else 16-bit
  std::uint8_t message_reference = 0;       ///< modems assign TP-MR themselves; 0 is conventional
  std::optional<std::chrono::minutes> validity{};  ///< relative TP-VP, rounded down to a representable value
  bool status_report = false;               ///< TP-SRR
  bool reject_duplicates = false;           ///< TP-RD
  std::optional<address> smsc{};            ///< nullopt: "00", the SIM's default SMSC
};

struct encoded_submit {
  std::string hex;              ///< SMSC prefix + TPDU, upper-case, for the line after AT+CMGS
  std::size_t tpdu_length = 0;  ///< octets after the SMSC prefix: the <length> of AT+CMGS
};

struct encode_result {
  pdu_error error = pdu_error::none;
  encoded_submit value;  ///< valid only when error == none
  explicit operator bool() const { return error == pdu_error::none; }
};
encode_result encode_submit(const submit_request& request);

/// One request per part of `plan`, copying `base` and adding an 8-bit-reference concatenation UDH when
/// there is more than one part (plan_message sizes parts for that 6-octet UDH). Empty above 255 parts.
std::vector<submit_request> submits_for(const gsm::plan& plan, const submit_request& base, std::uint8_t reference);

/// TP-VP relative format (23.040 §9.2.3.12.1).
std::optional<std::uint8_t> encode_relative_validity(std::chrono::minutes validity);
std::chrono::minutes decode_relative_validity(std::uint8_t vp);

}  // namespace kentongan::modem
