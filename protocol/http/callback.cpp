#include "protocol/http/callback.hpp"

#include <array>
#include <functional>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "protocol/http/codec.hpp"
#include "protocol/http/json_detail.hpp"

namespace kentongan::http {

namespace {

using nlohmann::json;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const std::string* lookup(const std::map<std::string, std::string>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

// Unix seconds from "1700000000" (or milliseconds "1700000000000"); 0 when not a plain number.
std::int64_t parse_timestamp(std::string_view t) {
  t = trimmed(t);
  if (t.empty() || t.size() > 16) return 0;
  std::int64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  return v > 100'000'000'000 ? v / 1000 : v;
}

callback_format pick_format(const callback_settings& s, const callback_request& r) {
  if (s.format != callback_format::automatic) return s.format;
  // The daemon may leave content_type empty and pass the header along with the others.
  const std::string* header = r.content_type.empty() ? lookup(r.headers, "content-type") : nullptr;
  const std::string type = lowered(header != nullptr ? *header : r.content_type);
  if (type.find("json") != std::string::npos) return callback_format::json;
  if (type.find("x-www-form-urlencoded") != std::string::npos) return callback_format::form;
  return r.body.empty() ? callback_format::query : callback_format::form;
}

using field_reader = std::function<std::string(const std::string& name)>;

void read_item(const callback_settings& s, const field_reader& get, std::string_view country_code, callback_result& out,
               std::size_t index, bool& usable) {
  const auto field = [&](const std::string& name) { return name.empty() ? std::string{} : get(name); };
  const std::string where = "item " + std::to_string(index) + ": ";
  const std::string status = field(s.fields.status);
  if (!status.empty()) {
    status_report r;
    r.provider_id = field(s.fields.provider_id);
    r.status = status;
    if (r.provider_id.empty()) {
      out.skipped.push_back(where + "status report without " + s.fields.provider_id);
      return;
    }
    usable = true;
    const report_state* state = nullptr;
    for (const auto& [k, v] : s.status_map)
      if (lowered(k) == lowered(status)) state = &v;
    if (state == nullptr) {
      out.skipped.push_back(where + "status \"" + status.substr(0, 40) + "\" is not in status_map");
      return;
    }
    if (*state == report_state::ignore) return;
    r.state = *state;
    if (r.state != report_state::delivered) {
      r.reason = field(s.fields.error);
      r.reason = r.reason.empty() ? "status " + status : "status " + status + ": " + r.reason;
    }
    out.reports.push_back(std::move(r));
    return;
  }
  const std::string from = field(s.fields.from);
  if (from.empty()) {
    out.skipped.push_back(where + "neither " + s.fields.status + " (report) nor " + s.fields.from + " (message)");
    return;
  }
  usable = true;
  inbound_sms m;
  m.from = normalise_sender(from, country_code);
  m.to = field(s.fields.to);
  m.text = field(s.fields.text);
  m.provider_id = field(s.fields.provider_id);
  m.timestamp = parse_timestamp(field(s.fields.timestamp));
  out.messages.push_back(std::move(m));
}

}  // namespace

unsigned callback_result::http_status() const {
  switch (error) {
    case callback_error::none: return 200;
    case callback_error::disabled: return 404;
    case callback_error::missing_secret: return 401;
    case callback_error::bad_secret: return 403;
    case callback_error::too_large: return 413;
    case callback_error::malformed: return 400;
  }
  return 400;
}

std::string_view to_string(callback_error e) {
  switch (e) {
    case callback_error::none: return "none";
    case callback_error::disabled: return "disabled";
    case callback_error::missing_secret: return "missing_secret";
    case callback_error::bad_secret: return "bad_secret";
    case callback_error::too_large: return "too_large";
    case callback_error::malformed: return "malformed";
  }
  return "malformed";
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hmac_sha256(std::string_view secret, std::string_view body, signature_encoding encoding) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  static const unsigned char empty = 0;  // HMAC() wants non-null pointers even for empty input
  const auto* key = secret.empty() ? &empty : reinterpret_cast<const unsigned char*>(secret.data());
  const auto* data = body.empty() ? &empty : reinterpret_cast<const unsigned char*>(body.data());
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), data, body.size(), mac.data(), &length) == nullptr) return {};
  if (encoding == signature_encoding::base64) {
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> text{};
    const int n = EVP_EncodeBlock(text.data(), mac.data(), static_cast<int>(length));
    return std::string(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(n > 0 ? n : 0));
  }
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[mac[i] >> 4]);
    out.push_back(hex[mac[i] & 0x0F]);
  }
  return out;
}

callback_error verify_secret(const callback_settings& s, const callback_request& r) {
  if (s.check == secret_check::none) return callback_error::none;
  const std::string* given = s.check == secret_check::query ? lookup(r.query, s.secret_name) : lookup(r.headers, lowered(s.secret_name));
  if (given == nullptr || trimmed(*given).empty()) return callback_error::missing_secret;
  if (s.secret.empty() || given->size() > 1024) return callback_error::bad_secret;
  if (s.check != secret_check::hmac_sha256)
    return equal_constant_time(*given, s.secret) ? callback_error::none : callback_error::bad_secret;

  std::string_view value = trimmed(*given);
  if (!s.signature_prefix.empty()) {
    if (value.size() < s.signature_prefix.size() || lowered(value.substr(0, s.signature_prefix.size())) != lowered(s.signature_prefix))
      return callback_error::bad_secret;
    value.remove_prefix(s.signature_prefix.size());
  }
  // Hex may come in either case; base64 is case-sensitive.
  const std::string candidate = s.encoding == signature_encoding::hex ? lowered(value) : std::string(value);
  return equal_constant_time(candidate, hmac_sha256(s.secret, r.body, s.encoding)) ? callback_error::none
                                                                                    : callback_error::bad_secret;
}

callback_result parse_callback(const callback_settings& s, const callback_request& r, std::string_view country_code) {
  callback_result out;
  if (!s.enabled) {
    out.error = callback_error::disabled;
    out.reason = "this channel takes no callbacks";
    return out;
  }
  if (r.body.size() > s.max_body_bytes) {
    out.error = callback_error::too_large;
    out.reason = "body of " + std::to_string(r.body.size()) + " bytes, limit " + std::to_string(s.max_body_bytes);
    return out;
  }
  if (const auto e = verify_secret(s, r); e != callback_error::none) {
    out.error = e;
    out.reason = e == callback_error::missing_secret ? "no " + s.secret_name + " given" : "wrong " + s.secret_name;
    return out;
  }

  bool usable = false;
  std::size_t items = 0;
  switch (pick_format(s, r)) {
    case callback_format::json: {
      const json doc = detail::parse_json(r.body);
      if (doc.is_discarded()) {
        out.error = callback_error::malformed;
        out.reason = "body is not JSON";
        return out;
      }
      const json* list = &doc;
      if (!s.items_pointer.empty()) {
        list = detail::find(doc, s.items_pointer);
        if (list == nullptr || !list->is_array()) {
          out.error = callback_error::malformed;
          out.reason = "no array at " + s.items_pointer;
          return out;
        }
      }
      const auto read_json = [&](const json& item) {
        const field_reader get = [&item](const std::string& name) {
          if (name.starts_with('/')) return detail::text_of(detail::find(item, name));
          if (!item.is_object()) return std::string{};
          const auto it = item.find(name);
          return it == item.end() ? std::string{} : detail::text_of(&*it);
        };
        read_item(s, get, country_code, out, items++, usable);
      };
      if (list->is_array()) {
        for (const auto& item : *list) read_json(item);
        if (list->empty()) usable = true;  // an empty batch is fine
      } else {
        read_json(*list);
      }
      break;
    }
    case callback_format::form: {
      const auto form = parse_form(r.body);
      const field_reader get = [&](const std::string& name) {
        if (const auto* v = lookup(form, name)) return *v;
        if (const auto* v = lookup(r.query, name)) return *v;
        return std::string{};
      };
      read_item(s, get, country_code, out, items++, usable);
      break;
    }
    case callback_format::query:
    case callback_format::automatic: {
      const field_reader get = [&](const std::string& name) {
        const auto* v = lookup(r.query, name);
        return v ? *v : std::string{};
      };
      read_item(s, get, country_code, out, items++, usable);
      break;
    }
  }
  if (!usable) {
    out.error = callback_error::malformed;
    out.reason = out.skipped.empty() ? "nothing in the callback" : out.skipped.front();
  }
  return out;
}

}  // namespace kentongan::http
