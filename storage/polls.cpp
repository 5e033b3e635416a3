// Polls (issue 5): a question with numbered options carried by a broadcast; one vote per person, the latest counts.
#include "storage/detail.hpp"
#include "storage/store.hpp"

namespace kentongan::storage {

using detail::atomic_op;
using detail::use;

void store::create_poll(std::int64_t broadcast_id, const poll_spec& spec) {
  auto op = atomic();
  {
    use q(stmt("INSERT INTO polls (broadcast_id, question, until) SELECT id, :q, :u FROM broadcasts WHERE id = :b"));
    q->bind(":q", spec.question);
    q->bind(":u", static_cast<std::int64_t>(core::to_millis(spec.until)));
    q->bind(":b", broadcast_id);
    if (q->exec() == 0) throw storage_error("no broadcast " + std::to_string(broadcast_id));
  }
  for (std::size_t i = 0; i < spec.options.size(); ++i) {
    use q(stmt("INSERT INTO poll_options (broadcast_id, number, text) VALUES (:b, :n, :t)"));
    q->bind(":b", broadcast_id);
    q->bind(":n", static_cast<std::int64_t>(i + 1));
    q->bind(":t", spec.options[i]);
    q->exec();
  }
  op.commit();
}

std::optional<poll_row> store::get_poll(std::int64_t broadcast_id) const {
  poll_row r;
  r.broadcast_id = broadcast_id;
  {
    use q(stmt("SELECT question, until FROM polls WHERE broadcast_id = :b"));
    q->bind(":b", broadcast_id);
    if (!q->executeStep()) return std::nullopt;
    r.spec.question = q->getColumn(0).getString();
    r.spec.until = core::from_millis(q->getColumn(1).getInt64());
  }
  use q(stmt("SELECT text FROM poll_options WHERE broadcast_id = :b ORDER BY number"));
  q->bind(":b", broadcast_id);
  while (q->executeStep()) r.spec.options.push_back(q->getColumn(0).getString());
  return r;
}

std::optional<poll_row> store::open_poll_for(const std::string& phone, core::time_point now) const {
  std::int64_t id = 0;
  {
    // One seek per poll on outbox_broadcast (broadcast_id, subscriber_id).
    use q(stmt("SELECT p.broadcast_id FROM polls p WHERE p.until > :n AND EXISTS (SELECT 1 FROM outbox o WHERE "
               "o.broadcast_id = p.broadcast_id AND o.subscriber_id = "
               "(SELECT id FROM subscribers WHERE phone = :p)) ORDER BY p.broadcast_id DESC LIMIT 1"));
    q->bind(":n", static_cast<std::int64_t>(core::to_millis(now)));
    q->bind(":p", phone);
    if (!q->executeStep()) return std::nullopt;
    id = q->getColumn(0).getInt64();
  }
  return get_poll(id);
}

bool store::record_vote(std::int64_t broadcast_id, const std::string& phone, int option, core::time_point at) {
  use q(stmt("INSERT INTO poll_votes (broadcast_id, phone, subscriber_id, option, at) "
             "SELECT p.broadcast_id, :p, (SELECT id FROM subscribers WHERE phone = :p), :o, :a FROM polls p "
             "WHERE p.broadcast_id = :b AND :a < p.until AND EXISTS (SELECT 1 FROM poll_options x WHERE "
             "x.broadcast_id = p.broadcast_id AND x.number = :o) "
             "ON CONFLICT (broadcast_id, phone) DO UPDATE SET option = excluded.option, at = excluded.at "
             "WHERE excluded.at >= poll_votes.at"));
  q->bind(":p", phone);
  q->bind(":o", option);
  q->bind(":a", static_cast<std::int64_t>(core::to_millis(at)));
  q->bind(":b", broadcast_id);
  return q->exec() > 0;
}

poll_tally store::poll_results(std::int64_t broadcast_id, const std::string& by_attribute) const {
  poll_tally out;
  use q(stmt("SELECT COALESCE(a.value, ''), v.option, count(*) FROM poll_votes v LEFT JOIN subscriber_attributes a "
             "ON a.subscriber_id = v.subscriber_id AND a.key = :k WHERE v.broadcast_id = :b GROUP BY 1, 2"));
  q->bind(":k", by_attribute);
  q->bind(":b", broadcast_id);
  while (q->executeStep()) out[q->getColumn(0).getString()][q->getColumn(1).getInt()] = q->getColumn(2).getInt64();
  return out;
}

bool store::reschedule(std::int64_t id, std::optional<core::time_point> send_at) {
  use q(stmt("UPDATE broadcasts SET send_at = :s WHERE id = :b AND state = 'scheduled'"));
  detail::bind_opt_time(*q, ":s", send_at);
  q->bind(":b", id);
  return q->exec() > 0;
}

std::pair<std::int64_t, state_counts> store::broadcast_summary(core::time_point since, core::time_point until) const {
  std::pair<std::int64_t, state_counts> out;
  const auto s = static_cast<std::int64_t>(core::to_millis(since));
  const auto u = static_cast<std::int64_t>(core::to_millis(until));
  {
    use q(stmt("SELECT count(*) FROM broadcasts WHERE created_at >= :s AND created_at < :u"));
    q->bind(":s", s);
    q->bind(":u", u);
    q->executeStep();
    out.first = q->getColumn(0).getInt64();
  }
  // The IDs first, then counts() per broadcast: each reads a few rows of broadcast_counts.
  std::vector<std::int64_t> ids;
  {
    use q(stmt("SELECT id FROM broadcasts WHERE created_at >= :s AND created_at < :u"));
    q->bind(":s", s);
    q->bind(":u", u);
    while (q->executeStep()) ids.push_back(q->getColumn(0).getInt64());
  }
  auto& t = out.second;
  for (const auto id : ids) {
    const auto c = counts(id);
    t.recipients += c.recipients;
    t.queued += c.queued;
    t.sending += c.sending;
    t.submitted += c.submitted;
    t.delivered += c.delivered;
    t.failed += c.failed;
    t.expired += c.expired;
    t.cancelled += c.cancelled;
    t.in_doubt += c.in_doubt;
  }
  return out;
}

}  // namespace kentongan::storage
