#pragma once
/// Reply texts: ids, the variables each may use, and rendering. Defaults are Indonesian and,
/// with typical values, fit one 160-character GSM-7 SMS.

#include "intake/settings.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::intake {

/// Reply ids (keys of settings::replies and of config `replies`).
namespace reply_id {
inline constexpr std::string_view ack_aspiration = "ack_aspiration";    ///< {ticket} {kind}
inline constexpr std::string_view ack_hoax = "ack_hoax";                ///< {ticket}
inline constexpr std::string_view subscribed = "subscribed";            ///< {group}
inline constexpr std::string_view already_subscribed = "already_subscribed";
inline constexpr std::string_view subscribe_closed = "subscribe_closed";  ///< group exists, no self-subscription
inline constexpr std::string_view unknown_group = "unknown_group";        ///< {group} {groups}
inline constexpr std::string_view unsubscribed = "unsubscribed";          ///< {group}
inline constexpr std::string_view unsubscribed_all = "unsubscribed_all";
inline constexpr std::string_view not_subscribed = "not_subscribed";      ///< {group}
inline constexpr std::string_view status = "status";                      ///< {ticket} {status}
inline constexpr std::string_view status_answered = "status_answered";    ///< {ticket} {status} {name} {answer}
inline constexpr std::string_view ticket_not_found = "ticket_not_found";  ///< {ticket}
inline constexpr std::string_view no_aspirations = "no_aspirations";
inline constexpr std::string_view answer = "answer";                      ///< officer's answer pushed to the resident
inline constexpr std::string_view status_changed = "status_changed";      ///< {ticket} {status} {answer}
inline constexpr std::string_view info_index = "info_index";              ///< {topics}
inline constexpr std::string_view info_unknown = "info_unknown";          ///< {topic} {topics}
inline constexpr std::string_view relay_sent = "relay_sent";              ///< {group}
inline constexpr std::string_view relay_pending = "relay_pending";        ///< {group} {id}
inline constexpr std::string_view relay_closed = "relay_closed";          ///< {group}
inline constexpr std::string_view relay_not_member = "relay_not_member";  ///< {group}
inline constexpr std::string_view help = "help";
inline constexpr std::string_view officer_help = "officer_help";
inline constexpr std::string_view officer_forward = "officer_forward";    ///< new aspiration to its officers
inline constexpr std::string_view officer_reply_sent = "officer_reply_sent";
inline constexpr std::string_view officer_closed = "officer_closed";
inline constexpr std::string_view officer_ticket_not_found = "officer_ticket_not_found";
inline constexpr std::string_view officer_ticket_final = "officer_ticket_final";
inline constexpr std::string_view moderation_request = "moderation_request";  ///< to moderators of a group
inline constexpr std::string_view approved = "approved";
inline constexpr std::string_view approve_not_found = "approve_not_found";
inline constexpr std::string_view vote_ack = "vote_ack";                  ///< {option} {number}
inline constexpr std::string_view overdue_reminder = "overdue_reminder";  ///< {count} {tickets}
/// "usage_" + to_string(keyword): sent when a keyword lacks its argument (see incomplete).
std::string usage(keyword k);
}  // namespace reply_id

/// Every reply id the defaults define, in a stable order.
std::vector<std::string_view> reply_ids();

/// The built-in Indonesian text of `id` ("" for an unknown id).
std::string_view default_reply(std::string_view id);

/// Variables `id` may use, without braces; nullopt for an unknown id. Every reply may also use
/// kw_<keyword> (the first alias, e.g. {kw_check} → "CEK"), {prefix} and {kim}.
std::optional<std::vector<std::string_view>> reply_variables(std::string_view id);

/// Names inside {…} in a template, in order ("{{" and "}}" are literal braces).
std::vector<std::string> placeholders(std::string_view tmpl);

/// The reply `id` with its variables substituted. Variables missing from `vars` come from the
/// settings (kw_*, prefix) or else render as "". An id missing from settings renders "".
std::string render(const settings& s, std::string_view reply_id,
                   const std::map<std::string, std::string>& vars = {});

/// The daily reminder to one officer (reply overdue_reminder, {count} = tickets.size()): as many
/// tickets as keep the text within `max_chars` characters (one GSM-7 SMS by default), the rest
/// counted as "+N lagi"; at least one ticket is always named. Empty when `tickets` is empty.
std::string render_overdue_reminder(const settings& s, const std::vector<std::string>& tickets,
                                    std::size_t max_chars = 160);

}  // namespace kentongan::intake
