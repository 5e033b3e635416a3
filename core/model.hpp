#pragma once
/// Plain aggregates shared by config/, storage/, protocol/ and daemon/. No I/O, no SQL.
/// Phone numbers are E.164 strings ("+6281234567890") once they leave config/ or a channel.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::core {

using clock = std::chrono::system_clock;
using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

/// Milliseconds since the Unix epoch, the unit the database stores.
inline std::int64_t to_millis(time_point t) { return t.time_since_epoch().count(); }
inline time_point from_millis(std::int64_t ms) { return time_point{std::chrono::milliseconds{ms}}; }
inline time_point now() { return std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now()); }

/// Outbox row state (DESIGN.md "Message lifecycle").
enum class message_state { queued, sending, submitted, delivered, failed, expired, cancelled };
std::string_view to_string(message_state s);
std::optional<message_state> parse_message_state(std::string_view s);
/// True for states a row never leaves.
bool is_final(message_state s);

enum class priority { normal = 0, urgent = 1 };
std::string_view to_string(priority p);
std::optional<priority> parse_priority(std::string_view s);

/// How a person agreed to receive messages (UU 27/2022 consent record).
enum class consent_source { config, sms, whatsapp, admin };
std::string_view to_string(consent_source c);
std::optional<consent_source> parse_consent_source(std::string_view s);

/// Who may post to a group with KIRIM.
enum class relay_policy { off, open, moderated };
std::string_view to_string(relay_policy r);
std::optional<relay_policy> parse_relay_policy(std::string_view s);

struct group {
  std::string id;            ///< slug, e.g. "petani-kakao"
  std::string name;          ///< human name
  std::string description;
  bool self_subscribe = false;  ///< DAFTAR allowed
  relay_policy relay = relay_policy::off;
  bool operator==(const group&) const = default;
};

struct subscriber {
  std::string phone;                 ///< E.164
  std::string name;
  std::vector<std::string> groups;   ///< group ids
  std::string channel;               ///< preferred channel kind or name ("sms", "whatsapp", "" = any)
  std::map<std::string, std::string> attributes;  ///< free columns: dusun, rt, rw, komoditas …
  consent_source consent = consent_source::config;
  bool operator==(const subscriber&) const = default;
};

struct officer {
  std::string phone;                 ///< E.164
  std::string name;
  std::string role;
  std::vector<std::string> tags;     ///< tags they handle ("*" = all)
  std::vector<std::string> groups;   ///< groups they moderate
  bool operator==(const officer&) const = default;
};

/// The comparison key of a provider's message id: lower-case, leading zeros stripped. SMSCs
/// disagree on the id's form between submit_sm_resp and the receipt (case, zero padding), so both
/// the stored id and a receipt's id are compared through this.
std::string normalise_provider_id(std::string_view id);

/// Masks a phone number for logs: "+6281234567890" -> "+62812****890".
std::string mask_phone(std::string_view e164);

}  // namespace kentongan::core
