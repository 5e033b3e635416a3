#include "config/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace kentongan::config {
namespace {

std::string describe_channel(const channel_settings& c) {
  std::string s = fmt::format("{} msg/s, window {}", c.tps, c.window);
  if (c.hourly_cap) s += fmt::format(", {}/hour", c.hourly_cap);
  if (c.daily_cap) s += fmt::format(", {}/day", c.daily_cap);
  if (c.price_per_part > 0) s += fmt::format(", {} per part", c.price_per_part);
  if (const auto* smpp = std::get_if<smpp_channel>(&c.settings))
    s += fmt::format(", {}:{} as {} ({})", smpp->host, smpp->port, smpp->system_id, smpp->bind);
  if (const auto* wa = std::get_if<whatsapp_channel>(&c.settings))
    s += fmt::format(", phone number id {}", wa->phone_number_id);
  if (const auto* m = std::get_if<modem_channel>(&c.settings)) {
    s += fmt::format(", {} at {} baud", m->device, m->baud);
    if (!m->operators.empty()) s += fmt::format(", first for {}", fmt::join(m->operators, " "));
  }
  return s;
}

}  // namespace

std::string summary(const village_config& c) {
  std::string out;
  auto line = [&](std::string s) {
    out += s;
    out += '\n';
  };
  line(c.village.region.empty() ? c.village.name : fmt::format("{} ({})", c.village.name, c.village.region));
  line(fmt::format("  time zone {}, default country {} for phone numbers", c.village.timezone, c.village.country));
  line(fmt::format("  config {}", c.file.string()));
  line(fmt::format("  database {}", c.storage.path));
  // Deadlines count working days: the admin sees at once whether this year's holidays are in.
  if (c.village.holidays.empty()) {
    line("  working days Monday to Friday; no holidays configured (village.holidays)");
  } else {
    auto iso = [](std::chrono::sys_days d) {
      const std::chrono::year_month_day ymd{d};
      return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                         static_cast<unsigned>(ymd.day()));
    };
    line(fmt::format("  working days Monday to Friday except {} holiday{}, {} to {}", c.village.holidays.size(),
                     c.village.holidays.size() == 1 ? "" : "s", iso(c.village.holidays.front()),
                     iso(c.village.holidays.back())));
  }

  line(fmt::format("channels: {}", c.channels.size()));
  for (const auto& ch : c.channels) line(fmt::format("  {:<16} {:<9} {}", ch.name, ch.type, describe_channel(ch)));

  line(fmt::format("groups: {}", c.groups.size()));
  std::size_t width = 0;
  for (const auto& g : c.groups) width = std::max(width, g.id.size());
  for (const auto& g : c.groups) {
    const auto members = std::count_if(c.subscribers.begin(), c.subscribers.end(), [&](const auto& s) {
      return std::find(s.groups.begin(), s.groups.end(), g.id) != s.groups.end();
    });
    std::string notes;
    if (g.self_subscribe) notes += ", DAFTAR allowed";
    if (g.relay != core::relay_policy::off) notes += fmt::format(", KIRIM {}", core::to_string(g.relay));
    line(fmt::format("  {:<{}}  {:>5} {}  {}{}", g.id, width, members, members == 1 ? "member " : "members", g.name,
                     notes));
  }

  std::map<std::string, std::size_t> by_channel;
  for (const auto& s : c.subscribers) ++by_channel[s.channel.empty() ? "any" : s.channel];
  std::string channels;
  for (const auto& [name, n] : by_channel) channels += fmt::format("{}{} {}", channels.empty() ? "" : ", ", name, n);
  line(fmt::format("subscribers: {}{}", c.subscribers.size(), channels.empty() ? "" : " (" + channels + ")"));

  line(fmt::format("officers: {}", c.officers.size()));
  for (const auto& o : c.officers) {
    std::string tags;
    for (const auto& t : o.tags) tags += (tags.empty() ? "" : ", ") + t;
    line(fmt::format("  {:<24} {:<20} {}{}", o.name, o.role, core::mask_phone(o.phone),
                     tags.empty() ? "" : "  tags: " + tags));
  }

  std::string tags;
  for (const auto& t : c.tags) tags += fmt::format("{}{} ({})", tags.empty() ? "" : ", ", t.tag, t.words.size());
  line(fmt::format("tags: {}{}", c.tags.size(), tags.empty() ? "" : " — " + tags));
  std::string topics;
  for (const auto& p : c.info) topics += (topics.empty() ? "" : ", ") + p.topic;
  line(fmt::format("info pages: {}{}", c.info.size(), topics.empty() ? "" : " — " + topics));
  std::string words;
  for (const auto& [command, list] : c.keywords) {
    std::string joined;
    for (const auto& w : list) joined += (joined.empty() ? "" : "/") + w;
    words += fmt::format("{}{} = {}", words.empty() ? "" : "; ", command, joined);
  }
  line(fmt::format("keywords: {}", words.empty() ? "the defaults" : words + " (others: the defaults)"));
  line(fmt::format("unmatched text becomes {}; tickets read {}0001, {}0002, …",
                   c.unmatched == "help" ? "the help text" : "an aspiration", c.ticket_prefix,
                   c.ticket_prefix));
  return out;
}

}  // namespace kentongan::config
