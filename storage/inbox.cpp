// The inbox and the event log: what residents and networks sent in, stored once (issue 5).
#include "storage/detail.hpp"
#include "storage/store.hpp"

namespace kentongan::storage {

using detail::now_ms;
using detail::use;

std::optional<std::int64_t> store::store_inbound(const std::string& channel, const std::string& provider_id,
                                                 const std::string& from, const std::string& text,
                                                 core::time_point received_at) {
  use q(stmt("INSERT INTO inbox (channel, provider_id, phone, text, received_at, stored_at) "
             "VALUES (:c, NULLIF(:p, ''), :f, :x, :r, :t) ON CONFLICT (channel, provider_id) DO NOTHING"));
  q->bind(":c", channel);
  q->bind(":p", provider_id);
  q->bind(":f", from);
  q->bind(":x", text);
  q->bind(":r", static_cast<std::int64_t>(core::to_millis(received_at)));
  q->bind(":t", now_ms());
  if (q->exec() > 0) return db_->getLastInsertRowid();
  // Same channel and provider id: a redelivery, unless the id was last seen long ago. Some networks
  // give no id of their own (SMPP MO): their ids are fingerprints of the content, and a resident who
  // texts the same "1" to next week's poll is not a redelivery. Such a late repeat is stored under a
  // suffixed id, so nothing the network delivered is ever dropped.
  const std::string base = provider_id;
  use last(stmt("SELECT MAX(stored_at) FROM inbox WHERE channel = :c AND (provider_id = :p OR "
                "(provider_id >= :p || '#' AND provider_id < :p || '$'))"));
  last->bind(":c", channel);
  last->bind(":p", base);
  if (!last->executeStep() || last->getColumn(0).isNull()) return std::nullopt;
  if (last->getColumn(0).getInt64() > now_ms() - inbound_redelivery_window_ms) return std::nullopt;
  use again(stmt("INSERT INTO inbox (channel, provider_id, phone, text, received_at, stored_at) "
                 "VALUES (:c, :p, :f, :x, :r, :t) ON CONFLICT (channel, provider_id) DO NOTHING"));
  again->bind(":c", channel);
  again->bind(":p", base + "#" + std::to_string(now_ms()));
  again->bind(":f", from);
  again->bind(":x", text);
  again->bind(":r", static_cast<std::int64_t>(core::to_millis(received_at)));
  again->bind(":t", now_ms());
  if (again->exec() == 0) return std::nullopt;
  return db_->getLastInsertRowid();
}

void store::mark_inbound_handled(std::int64_t id, const std::string& outcome) {
  use q(stmt("UPDATE inbox SET handled_at = :t, outcome = :o WHERE id = :id"));
  q->bind(":t", now_ms());
  q->bind(":o", outcome);
  q->bind(":id", id);
  q->exec();
}

std::vector<inbound_row> store::unhandled_inbound(std::size_t limit) const {
  std::vector<inbound_row> out;
  use q(stmt("SELECT id, channel, COALESCE(provider_id, ''), phone, text, received_at FROM inbox "
             "WHERE handled_at IS NULL ORDER BY id LIMIT :l"));
  q->bind(":l", static_cast<std::int64_t>(limit));
  while (q->executeStep())
    out.push_back({q->getColumn(0).getInt64(), q->getColumn(1).getString(), q->getColumn(2).getString(),
                   q->getColumn(3).getString(), q->getColumn(4).getString(),
                   core::from_millis(q->getColumn(5).getInt64())});
  return out;
}

std::int64_t store::inbound_count(const std::string& phone, core::time_point since) const {
  use q(stmt("SELECT count(*) FROM inbox WHERE phone = :p AND received_at >= :s"));
  q->bind(":p", phone);
  q->bind(":s", static_cast<std::int64_t>(core::to_millis(since)));
  q->executeStep();
  return q->getColumn(0).getInt64();
}

std::optional<std::int64_t> store::find_repeat(const std::string& phone, const std::string& text,
                                               core::time_point since, std::int64_t before_id) const {
  // max(id), not ORDER BY id DESC LIMIT 1: the rows come by inbox_phone (phone, received_at), and an
  // ORDER BY on id would build a temporary B-tree for every inbound message.
  use q(stmt("SELECT max(id) FROM inbox WHERE phone = :p AND received_at >= :s AND text = :x AND id < :b"));
  q->bind(":p", phone);
  q->bind(":s", static_cast<std::int64_t>(core::to_millis(since)));
  q->bind(":x", text);
  q->bind(":b", before_id);
  if (!q->executeStep() || q->getColumn(0).isNull()) return std::nullopt;
  return q->getColumn(0).getInt64();
}

std::int64_t store::log_event(std::string_view kind, std::string_view subject, std::string_view detail) {
  use q(stmt("INSERT INTO events (at, kind, subject, detail) VALUES (:t, :k, :s, :d)"));
  q->bind(":t", now_ms());
  q->bind(":k", std::string(kind));
  q->bind(":s", std::string(subject));
  q->bind(":d", std::string(detail));
  q->exec();
  return db_->getLastInsertRowid();
}

}  // namespace kentongan::storage
