#include "protocol/whatsapp/webhook.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include <nlohmann/json.hpp>

#include "core/json_depth.hpp"
#include "protocol/whatsapp/json_util.hpp"

namespace kentongan::whatsapp {

using nlohmann::json;
using detail::member;
using detail::text_of;

namespace {

std::int64_t to_seconds(const json* v) {
  if (v == nullptr) return 0;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (!v->is_string()) return 0;
  const auto& s = v->get_ref<const std::string&>();
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() ? out : 0;
}

webhook_error error_from(const json& e) {
  webhook_error out;
  if (const json* c = member(e, "code"); c != nullptr && c->is_number_integer()) {
    const auto v = c->get<std::int64_t>();
    out.code = v >= 0 && v <= 0x7FFFFFFF ? static_cast<int>(v) : 0;
  }
  out.title = text_of(member(e, "title"));
  out.message = text_of(member(e, "message"));
  if (const json* d = member(e, "error_data")) out.details = text_of(member(*d, "details"));
  return out;
}

std::vector<webhook_error> errors_from(const json* arr) {
  std::vector<webhook_error> out;
  if (arr == nullptr || !arr->is_array()) return out;
  for (const auto& e : *arr)
    if (e.is_object()) out.push_back(error_from(e));
  return out;
}

// The text that stands for a message in the intake (issue 6: media etc. as a note with the id).
void fill_content(const json& m, inbound_message& out) {
  const std::string& type = out.type;
  const json* part = member(m, type.c_str());
  if (type == "text") {
    out.text = text_of(part ? member(*part, "body") : nullptr);
  } else if (type == "button") {  // a quick-reply button of a template
    out.text = text_of(part ? member(*part, "text") : nullptr);
    if (out.text.empty()) out.text = text_of(part ? member(*part, "payload") : nullptr);
  } else if (type == "interactive") {
    const std::string kind = text_of(part ? member(*part, "type") : nullptr);
    const json* reply = part ? member(*part, kind.c_str()) : nullptr;
    if (reply != nullptr && (kind == "button_reply" || kind == "list_reply")) {
      out.text = text_of(member(*reply, "title"));
      if (out.text.empty()) out.text = text_of(member(*reply, "id"));
    } else {
      out.text = "[interactive " + kind + "]";
    }
  } else if (type == "location") {
    std::string note = "[location]";
    if (part != nullptr) {
      const std::string lat = text_of(member(*part, "latitude")), lon = text_of(member(*part, "longitude"));
      if (!lat.empty() || !lon.empty()) note += " " + lat + "," + lon;
      for (const char* k : {"name", "address"})
        if (auto v = text_of(member(*part, k)); !v.empty()) note += " " + v;
    }
    out.text = std::move(note);
  } else if (type == "image" || type == "audio" || type == "video" || type == "document" || type == "sticker") {
    if (part != nullptr) out.media_id = text_of(member(*part, "id"));
    out.text = "[" + type + "] id=" + out.media_id;
    if (part != nullptr) {
      if (auto v = text_of(member(*part, "filename")); !v.empty()) out.text += " " + v;
      if (auto v = text_of(member(*part, "caption")); !v.empty()) out.text += " " + v;
    }
  } else if (type == "reaction") {
    out.text = "[reaction] " + text_of(part ? member(*part, "emoji") : nullptr);
  } else if (type == "contacts") {
    std::string note = "[contacts]";
    if (part != nullptr && part->is_array())
      for (const auto& c : *part)
        if (const json* n = member(c, "name")) note += " " + text_of(member(*n, "formatted_name"));
    out.text = std::move(note);
  } else {
    // unsupported, system, order, unknown future kinds: kept and acknowledged (issue 6).
    std::string note = "[" + (type.empty() ? std::string("unknown") : type) + "]";
    for (const auto& e : errors_from(member(m, "errors"))) note += " (#" + std::to_string(e.code) + ") " + e.title;
    out.text = std::move(note);
  }
}

void read_value(const json& value, webhook& out) {
  std::string phone_number_id;
  if (const json* md = member(value, "metadata")) phone_number_id = text_of(member(*md, "phone_number_id"));

  std::map<std::string, std::string> names;  // wa_id → profile name
  if (const json* contacts = member(value, "contacts"); contacts != nullptr && contacts->is_array())
    for (const auto& c : *contacts) {
      const json* profile = member(c, "profile");
      if (profile != nullptr) names[text_of(member(c, "wa_id"))] = text_of(member(*profile, "name"));
    }

  if (const json* messages = member(value, "messages"); messages != nullptr && messages->is_array()) {
    for (const auto& m : *messages) {
      if (!m.is_object()) {
        out.skipped.emplace_back("message is not an object");
        continue;
      }
      inbound_message msg;
      msg.phone_number_id = phone_number_id;
      msg.wamid = text_of(member(m, "id"));
      const std::string from = text_of(member(m, "from"));
      if (msg.wamid.empty() || from.empty()) {
        out.skipped.emplace_back("message without id or from");
        continue;
      }
      msg.from = normalise_wa_id(from);
      if (const auto it = names.find(from); it != names.end()) msg.profile_name = it->second;
      msg.timestamp = to_seconds(member(m, "timestamp"));
      msg.type = text_of(member(m, "type"));
      if (const json* ctx = member(m, "context")) msg.context_id = text_of(member(*ctx, "id"));
      fill_content(m, msg);
      out.messages.push_back(std::move(msg));
    }
  }

  if (const json* statuses = member(value, "statuses"); statuses != nullptr && statuses->is_array()) {
    for (const auto& s : *statuses) {
      if (!s.is_object()) {
        out.skipped.emplace_back("status is not an object");
        continue;
      }
      status_update st;
      st.phone_number_id = phone_number_id;
      st.wamid = text_of(member(s, "id"));
      st.status_text = text_of(member(s, "status"));
      if (st.wamid.empty() || st.status_text.empty()) {
        out.skipped.emplace_back("status without id or status");
        continue;
      }
      st.status = st.status_text == "sent"        ? status_kind::sent
                  : st.status_text == "delivered" ? status_kind::delivered
                  : st.status_text == "read"      ? status_kind::read
                  : st.status_text == "failed"    ? status_kind::failed
                                                  : status_kind::other;
      st.recipient = normalise_wa_id(text_of(member(s, "recipient_id")));
      st.timestamp = to_seconds(member(s, "timestamp"));
      st.errors = errors_from(member(s, "errors"));
      if (const json* p = member(s, "pricing")) {
        st.pricing_model = text_of(member(*p, "pricing_model"));
        st.pricing_category = text_of(member(*p, "category"));
        if (const json* b = member(*p, "billable"); b != nullptr && b->is_boolean()) st.billable = b->get<bool>();
      }
      out.statuses.push_back(std::move(st));
    }
  }

  for (auto& e : errors_from(member(value, "errors"))) out.errors.push_back(std::move(e));
}

}  // namespace

std::string normalise_wa_id(std::string_view wa_id) {
  const bool digits = !wa_id.empty() && std::all_of(wa_id.begin(), wa_id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) return "+" + std::string(wa_id);
  return std::string(wa_id);
}

std::string_view to_string(status_kind s) {
  switch (s) {
    case status_kind::sent: return "sent";
    case status_kind::delivered: return "delivered";
    case status_kind::read: return "read";
    case status_kind::failed: return "failed";
    case status_kind::other: break;
  }
  return "other";
}

webhook_result parse_webhook(std::string_view body) {
  webhook_result r;
  if (body.size() > max_webhook_bytes) {
    r.reason = "body larger than " + std::to_string(max_webhook_bytes) + " bytes";
    return r;
  }
  if (core::json_nesting_exceeds(body)) {
    r.reason = "JSON nested deeper than " + std::to_string(core::max_json_depth) + " levels";
    return r;
  }
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) {
    r.reason = detail::json_syntax_error(body);
    return r;
  }
  if (!doc.is_object()) {
    r.reason = "not a JSON object";
    return r;
  }
  const std::string object = text_of(member(doc, "object"));
  if (object != "whatsapp_business_account") {
    r.reason = object.empty() ? "no \"object\" field" : "object is \"" + object.substr(0, 64) + "\", not whatsapp_business_account";
    return r;
  }
  const json* entries = member(doc, "entry");
  if (entries == nullptr || !entries->is_array()) {
    r.reason = "no \"entry\" array";
    return r;
  }
  // Meta batches: every entry × change (protocols.md §4.4).
  for (const auto& entry : *entries) {
    const json* changes = member(entry, "changes");
    if (changes == nullptr || !changes->is_array()) {
      r.value.skipped.emplace_back("entry without changes");
      continue;
    }
    for (const auto& change : *changes) {
      const json* value = member(change, "value");
      const std::string field = text_of(member(change, "field"));
      if (value == nullptr || !value->is_object()) {
        r.value.skipped.emplace_back("change without a value object");
        continue;
      }
      if (!field.empty() && field != "messages") continue;  // template/quality/account updates: not ours
      read_value(*value, r.value);
    }
  }
  r.ok = true;
  return r;
}

}  // namespace kentongan::whatsapp
