#pragma once
/// The village config an admin edits: one JSON file (comments allowed) plus the CSV subscriber
/// lists it names, read into typed structs. load() never throws for bad content and reports every
/// error with file, line and column; protocols and storage never see JSON. See docs/config.md.

#include "core/model.hpp"
#include "protocol/http/settings.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kentongan::config {

/// One problem found in a config or CSV file. line 0 = the whole file; for CSV, line = the row's
/// line and column = the field number (0 = the whole row).
struct error {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  bool operator==(const error&) const = default;
};

/// "FILE:LINE:COL: message", dropping the parts that are 0.
std::string format(const error& e);

struct village_settings {
  std::string name;
  std::string region;
  std::string timezone = "Asia/Jakarta";
  std::string country = "ID";  ///< default region for phone numbers written without a country code
  /// Days off besides Saturday and Sunday (national holidays, cuti bersama): deadlines in working days
  /// skip them and no overdue reminder goes out on them. From "holidays" and "holidays_file",
  /// sorted, without duplicates.
  std::vector<std::chrono::sys_days> holidays;
  std::string holidays_file;  ///< resolved by load(); "" = none
};

struct storage_settings {
  std::string path = "kentongan.db";  ///< resolved against the config file's folder by load()
};

struct http_settings {
  std::string listen = "127.0.0.1:8787";  ///< admin API, health, metrics
  std::string webhook_listen;             ///< "" = webhooks on `listen`
};

struct sim_channel {
  double dlr_delay_ms = 200;
  double fail_rate = 0;            ///< 0..1, permanent failures
  double transient_fail_rate = 0;  ///< 0..1, retryable failures
  bool operator==(const sim_channel&) const = default;
};

struct smpp_channel {
  std::string host;
  std::uint16_t port = 2775;
  std::string system_id, password_file, system_type;  ///< password_file resolved by load()
  std::string bind = "transceiver";                    ///< transmitter | receiver | transceiver
  int sessions = 1;
  std::string source_addr;
  int source_ton = 5, source_npi = 0;
  int enquire_link_s = 30, response_timeout_s = 10, reconnect_max_s = 60;
  bool registered_delivery = true;
  bool packed_gsm7 = false;
  bool use_message_payload = false;
  bool operator==(const smpp_channel&) const = default;
};

struct whatsapp_channel {
  std::string api_base = "https://graph.facebook.com", api_version = "v21.0", phone_number_id;
  std::string token_file, app_secret_file, verify_token_file;  ///< resolved by load()
  std::map<std::string, std::string> templates;                ///< purpose → approved template name
  bool operator==(const whatsapp_channel&) const = default;
};

/// A GSM modem with a (usually prepaid) SIM card, on a serial port.
struct modem_channel {
  std::string device;                  ///< "/dev/ttyUSB0", "/dev/serial/by-id/…"
  unsigned baud = 115200;
  std::string pin_file;                ///< resolved by load(); "" = the SIM asks for no PIN
  std::string smsc;                    ///< "+62…"; "" = the SIM's own service centre
  bool status_reports = true;          ///< ask the network for delivery reports (TP-SRR)
  std::string ussd_balance;            ///< USSD code that answers with the balance, e.g. "*888#"; "" = none
  int balance_check_h = 24;            ///< hours between balance checks (0 = only on demand)
  double balance_warn_below = 0;       ///< warn when the balance falls below this amount (0 = never)
  /// Operators this SIM serves best: names from known_operators() ("telkomsel") or number
  /// prefixes, kept as E.164 ("0812" → "+62812"). Messages to them go to this modem first.
  std::vector<std::string> operators;
  bool operator==(const modem_channel&) const = default;
};

/// An HTTP SMS aggregator (docs/http-channel.md): the protocol's settings as the config gives them;
/// the secrets (auth_value, secrets, callback.secret) are still empty and read from these files.
struct http_channel {
  http::http_settings settings;
  std::string auth_file;                            ///< resolved by load(); "" = no auth header
  std::map<std::string, std::string> secret_files;  ///< {secret:NAME} → file, resolved by load()
  std::string callback_secret_file;                 ///< resolved by load()
  bool operator==(const http_channel&) const = default;
};

struct channel_settings {
  std::string name;
  std::string type;  ///< sim | smpp | whatsapp | modem | http
  double tps = 10;
  std::size_t window = 10;
  /// Submits the network accepted that may wait for their `submitted` state to be committed beyond
  /// the window; 0: an accepted submit keeps its window place until durable (a crash re-sends at
  /// most the window). Trades possible duplicates per crash for speed on a fast link.
  std::size_t durable_lag = 0;
  std::uint32_t hourly_cap = 0, daily_cap = 0;  ///< 0 = no cap
  double price_per_part = 0;
  int max_attempts = 5;
  bool transliterate = false;
  std::variant<sim_channel, smpp_channel, whatsapp_channel, modem_channel, http_channel> settings;
};

struct tag_rule {
  std::string tag;                 ///< lower-case slug, e.g. "infrastruktur"
  std::vector<std::string> words;  ///< lower-case words or phrases that give the tag
};

struct info_page {
  std::string topic;  ///< upper-case, e.g. "HARGA"
  std::string text;
};

struct limits_settings {
  int inbound_per_minute = 10;
  int auto_replies_per_hour = 20;
  std::string quiet_hours_start = "21:00", quiet_hours_end = "06:00";  ///< "HH:MM" village time
  int retry_base_s = 30;
  int retry_max_s = 3600;
  int dedupe_window_s = 300;
  std::string reminder_time = "07:00";  ///< "HH:MM" village time of the daily overdue reminder; "" = none
  int first_answer_days = 3;            ///< working days to a first answer (SP4N-LAPOR!)
  int resolution_days = 5;              ///< further working days to resolution
};

struct village_config {
  std::filesystem::path file;  ///< the config file itself
  village_settings village;
  storage_settings storage;
  http_settings http;
  std::vector<channel_settings> channels;
  std::vector<core::group> groups;
  std::vector<core::subscriber> subscribers;  ///< inline and CSV, phones unique, groups checked
  std::vector<core::officer> officers;
  /// command (DAFTAR, BERHENTI, ASPIRASI, LAPOR, TANYA, CEK, INFO, HOAKS, KIRIM, BANTUAN, BALAS, SELESAI,
  /// SETUJU) → upper-case words that trigger it. Only commands the config lists: each list replaces
  /// intake/'s default words for that command; words are unique across the lists.
  std::map<std::string, std::vector<std::string>> keywords;
  std::map<std::string, std::string> replies;  ///< reply id → template text (overrides defaults)
  std::vector<tag_rule> tags;
  std::vector<info_page> info;
  limits_settings limits;
  std::string unmatched = "aspiration";  ///< or "help": what an unrecognised message becomes
  std::string ticket_prefix = "A";       ///< capital letters; tickets read "A0123" (intake/ticket.hpp)
};

struct load_result {
  std::optional<village_config> config;  ///< set only when errors is empty
  std::vector<error> errors;             ///< in file order, config file first, then each CSV
};

/// Reads and validates `file` and the CSV files it names; never throws for bad content; reports ALL errors.
load_result load(const std::filesystem::path& file);

/// Same, from text already in memory; `file` names it in errors and anchors relative paths.
load_result load_text(std::string_view text, const std::filesystem::path& file);

/// One-screen summary for `kentongan check-config`: groups with member counts, subscribers by
/// channel, officers, tags, info pages, channels.
std::string summary(const village_config& c);

/// A *_file path with systemd's credentials directory expanded, or why it cannot be (error non-empty).
struct expanded_path {
  std::string path;
  std::string error;
  bool operator==(const expanded_path&) const = default;
};

/// Expands a leading "%d" or "${CREDENTIALS_DIRECTORY}" (also "$CREDENTIALS_DIRECTORY"), followed by '/' or
/// nothing, to `credentials_dir`: where systemd's LoadCredential= puts secrets (systemd.exec(5)). Other paths
/// come back unchanged. An error when the path uses it and `credentials_dir` is empty (not under systemd).
expanded_path expand_credentials(std::string_view path, std::string_view credentials_dir);

/// Reads a secret file (trailing newline stripped); throws std::runtime_error naming the path on
/// failure or when the file is empty.
std::string read_secret(const std::filesystem::path& file);

}  // namespace kentongan::config
