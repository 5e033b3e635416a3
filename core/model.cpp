#include "core/model.hpp"

#include <array>
#include <utility>

namespace kentongan::core {
namespace {

template <typename E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s) {
  for (const auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [value, name] : table)
    if (value == e) return name;
  return "?";
}

constexpr std::array<std::pair<message_state, std::string_view>, 7> message_states{{
    {message_state::queued, "queued"},
    {message_state::sending, "sending"},
    {message_state::submitted, "submitted"},
    {message_state::delivered, "delivered"},
    {message_state::failed, "failed"},
    {message_state::expired, "expired"},
    {message_state::cancelled, "cancelled"},
}};
constexpr std::array<std::pair<priority, std::string_view>, 2> priorities{{
    {priority::normal, "normal"}, {priority::urgent, "urgent"}}};
constexpr std::array<std::pair<consent_source, std::string_view>, 4> consent_sources{{
    {consent_source::config, "config"},
    {consent_source::sms, "sms"},
    {consent_source::whatsapp, "whatsapp"},
    {consent_source::admin, "admin"}}};
constexpr std::array<std::pair<relay_policy, std::string_view>, 3> relay_policies{{
    {relay_policy::off, "off"}, {relay_policy::open, "open"}, {relay_policy::moderated, "moderated"}}};

}  // namespace

std::string_view to_string(message_state s) { return name_of(message_states, s); }
std::optional<message_state> parse_message_state(std::string_view s) { return parse_enum(message_states, s); }
bool is_final(message_state s) {
  return s == message_state::delivered || s == message_state::failed || s == message_state::expired ||
         s == message_state::cancelled;
}
std::string_view to_string(priority p) { return name_of(priorities, p); }
std::optional<priority> parse_priority(std::string_view s) { return parse_enum(priorities, s); }
std::string_view to_string(consent_source c) { return name_of(consent_sources, c); }
std::optional<consent_source> parse_consent_source(std::string_view s) { return parse_enum(consent_sources, s); }
std::string_view to_string(relay_policy r) { return name_of(relay_policies, r); }
std::optional<relay_policy> parse_relay_policy(std::string_view s) { return parse_enum(relay_policies, s); }

std::string normalise_provider_id(std::string_view id) {
  // Runs several times per message on both threads: ASCII folding in place, no locale call, no copy.
  const auto first = id.find_first_not_of('0');
  if (first == std::string_view::npos) return id.empty() ? std::string() : std::string("0");
  std::string out(id.substr(first));
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string mask_phone(std::string_view e164) {
  // Keep the country and operator prefix (useful for routing questions) and the last three digits
  // (enough for a person to recognise their own number), hide the rest.
  if (e164.size() <= 7) return std::string(e164.size(), '*');
  std::string out(e164);
  for (std::size_t i = 6; i + 3 < out.size(); ++i) out[i] = '*';
  return out;
}

}  // namespace kentongan::core
