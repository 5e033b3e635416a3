// Aspirations (issue 5): tickets, answers, status history, lists and the streaming export.
#include <algorithm>
#include <array>

#include "core/ticket.hpp"
#include "storage/detail.hpp"
#include "storage/store.hpp"

namespace kentongan::storage {

using detail::atomic_op;
using detail::now_ms;
using detail::use;

namespace {

constexpr std::array<std::string_view, 4> statuses{status_new, status_in_progress, status_done, status_rejected};
// SP4N-LAPOR!'s classification (intake/aspiration.hpp); storage keeps its own list to stay below intake/.
constexpr std::array<std::string_view, 3> kinds{"aspirasi", "pengaduan", "permintaan-informasi"};

constexpr const char* aspiration_select =
    "SELECT a.id, a.prefix, a.kind, a.status, a.phone, a.name, a.text, a.channel, a.received_at, a.first_answer_at, "
    "a.closed_at, a.last_answer, a.inbox_id, "
    "(SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM aspiration_tags t WHERE t.aspiration_id = a.id "
    "ORDER BY tag)), a.reminded_at FROM aspirations a ";

aspiration_row read_aspiration(SQLite::Statement& q) {
  aspiration_row r;
  r.number = q.getColumn(0).getInt64();
  r.ticket = core::format_ticket(q.getColumn(1).getString(), r.number);
  r.kind = q.getColumn(2).getString();
  r.status = q.getColumn(3).getString();
  r.phone = q.getColumn(4).getString();
  r.name = q.getColumn(5).getString();
  r.text = q.getColumn(6).getString();
  r.channel = q.getColumn(7).getString();
  r.received_at = core::from_millis(q.getColumn(8).getInt64());
  r.first_answer_at = detail::opt_time(q.getColumn(9));
  r.closed_at = detail::opt_time(q.getColumn(10));
  r.last_answer = q.getColumn(11).getString();
  r.inbox_id = detail::opt_int(q.getColumn(12));
  r.reminded_at = detail::opt_time(q.getColumn(14));
  const auto tags = q.getColumn(13).getString();
  for (std::size_t start = 0; start < tags.size();) {
    const auto sep = tags.find('\x1f', start);
    r.tags.push_back(tags.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
    start = sep == std::string::npos ? tags.size() : sep + 1;
  }
  return r;
}

}  // namespace

std::optional<std::int64_t> store::aspiration_id(std::string_view ticket) const {
  const auto n = core::parse_ticket_any_prefix(ticket);
  if (!n) return std::nullopt;
  use q(stmt("SELECT id FROM aspirations WHERE id = :id"));
  q->bind(":id", *n);
  if (!q->executeStep()) return std::nullopt;
  return *n;
}

std::string store::create_aspiration(const aspiration_spec& spec) {
  auto op = atomic();
  const auto now = now_ms();
  {
    use q(stmt("INSERT INTO aspirations (prefix, kind, status, phone, name, text, channel, inbox_id, received_at, "
               "updated_at) VALUES (:pf, :k, 'baru', :p, :n, :x, :c, :i, :r, :t)"));
    q->bind(":pf", spec.prefix);
    q->bind(":k", spec.kind);
    q->bind(":p", spec.phone);
    q->bind(":n", spec.name);
    q->bind(":x", spec.text);
    q->bind(":c", spec.channel);
    if (spec.inbox_id) q->bind(":i", *spec.inbox_id);
    else q->bind(":i");
    q->bind(":r", static_cast<std::int64_t>(core::to_millis(spec.received_at)));
    q->bind(":t", now);
    q->exec();
  }
  const auto id = db_->getLastInsertRowid();
  for (const auto& tag : spec.tags) {
    use q(stmt("INSERT OR IGNORE INTO aspiration_tags (aspiration_id, tag) VALUES (:a, :g)"));
    q->bind(":a", id);
    q->bind(":g", tag);
    q->exec();
  }
  {
    use q(stmt("INSERT INTO aspiration_history (aspiration_id, at, actor, action, status, text) "
               "VALUES (:a, :t, 'warga', 'created', 'baru', '')"));
    q->bind(":a", id);
    q->bind(":t", now);
    q->exec();
  }
  op.commit();
  return core::format_ticket(spec.prefix, id);
}

std::optional<aspiration_row> store::find_aspiration(std::string_view ticket) const {
  const auto n = core::parse_ticket_any_prefix(ticket);
  if (!n) return std::nullopt;
  use q(stmt(std::string(aspiration_select) + "WHERE a.id = :id"));
  q->bind(":id", *n);
  if (!q->executeStep()) return std::nullopt;
  return read_aspiration(*q);
}

std::optional<aspiration_row> store::latest_aspiration_of(const std::string& phone) const {
  // By aspirations_phone: only this phone's rows are read, whatever the table's size; the order is
  // list_aspirations' (received_at, then id).
  use q(stmt(std::string(aspiration_select) + "WHERE a.phone = :p ORDER BY a.received_at DESC, a.id DESC LIMIT 1"));
  q->bind(":p", phone);
  if (!q->executeStep()) return std::nullopt;
  return read_aspiration(*q);
}

std::string store::subscriber_name(const std::string& phone) const {
  use q(stmt("SELECT name FROM subscribers WHERE phone = :p"));
  q->bind(":p", phone);
  if (!q->executeStep()) return {};
  return q->getColumn(0).getString();
}

void store::add_answer(std::string_view ticket, const std::string& actor, const std::string& text) {
  const auto id = aspiration_id(ticket);
  if (!id) throw storage_error("no aspiration " + std::string(ticket));
  auto op = atomic();
  const auto now = now_ms();
  std::string status;
  {
    use q(stmt("UPDATE aspirations SET last_answer = :x, first_answer_at = COALESCE(first_answer_at, :t), "
               "status = CASE WHEN status = 'baru' THEN 'diproses' ELSE status END, updated_at = :t "
               "WHERE id = :id RETURNING status"));
    q->bind(":x", text);
    q->bind(":t", now);
    q->bind(":id", *id);
    q->executeStep();
    status = q->getColumn(0).getString();
    while (q->executeStep()) {
    }
  }
  use q(stmt("INSERT INTO aspiration_history (aspiration_id, at, actor, action, status, text) "
             "VALUES (:a, :t, :ac, 'answer', :s, :x)"));
  q->bind(":a", *id);
  q->bind(":t", now);
  q->bind(":ac", actor);
  q->bind(":s", status);
  q->bind(":x", text);
  q->exec();
  op.commit();
}

void store::set_status(std::string_view ticket, std::string_view status, const std::string& actor,
                       const std::string& text) {
  if (std::find(statuses.begin(), statuses.end(), status) == statuses.end())
    throw storage_error("unknown aspiration status '" + std::string(status) + "'");
  const auto id = aspiration_id(ticket);
  if (!id) throw storage_error("no aspiration " + std::string(ticket));
  auto op = atomic();
  const auto now = now_ms();
  {
    // A closing text (SELESAI <tiket> <teks>, a rejection reason) is also what the resident sees as the answer.
    use q(stmt("UPDATE aspirations SET status = :s, updated_at = :t, "
               "closed_at = CASE WHEN :s IN ('selesai', 'ditolak') THEN :t ELSE NULL END, "
               "last_answer = CASE WHEN :x <> '' THEN :x ELSE last_answer END, "
               "first_answer_at = CASE WHEN :x <> '' THEN COALESCE(first_answer_at, :t) ELSE first_answer_at END "
               "WHERE id = :id"));
    q->bind(":s", std::string(status));
    q->bind(":t", now);
    q->bind(":x", text);
    q->bind(":id", *id);
    q->exec();
  }
  use q(stmt("INSERT INTO aspiration_history (aspiration_id, at, actor, action, status, text) "
             "VALUES (:a, :t, :ac, 'status', :s, :x)"));
  q->bind(":a", *id);
  q->bind(":t", now);
  q->bind(":ac", actor);
  q->bind(":s", std::string(status));
  q->bind(":x", text);
  q->exec();
  op.commit();
}

void store::add_tags(std::string_view ticket, const std::vector<std::string>& tags, const std::string& actor) {
  const auto id = aspiration_id(ticket);
  if (!id) throw storage_error("no aspiration " + std::string(ticket));
  auto op = atomic();
  std::string added;
  for (const auto& tag : tags) {
    use q(stmt("INSERT OR IGNORE INTO aspiration_tags (aspiration_id, tag) VALUES (:a, :g)"));
    q->bind(":a", *id);
    q->bind(":g", tag);
    if (q->exec() > 0) added += (added.empty() ? "" : " ") + tag;
  }
  if (!added.empty()) {
    use q(stmt("INSERT INTO aspiration_history (aspiration_id, at, actor, action, status, text) "
               "SELECT id, :t, :ac, 'tag', status, :x FROM aspirations WHERE id = :a"));
    q->bind(":a", *id);
    q->bind(":t", now_ms());
    q->bind(":ac", actor);
    q->bind(":x", added);
    q->exec();
  }
  op.commit();
}

bool store::set_kind(std::string_view ticket, std::string_view kind, const std::string& actor) {
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
    throw storage_error("unknown aspiration kind '" + std::string(kind) + "'");
  const auto id = aspiration_id(ticket);
  if (!id) throw storage_error("no aspiration " + std::string(ticket));
  auto op = atomic();
  std::string old;
  {
    use q(stmt("SELECT kind FROM aspirations WHERE id = :id"));
    q->bind(":id", *id);
    q->executeStep();
    old = q->getColumn(0).getString();
  }
  if (old == kind) {
    op.commit();
    return false;
  }
  const auto now = now_ms();
  {
    use q(stmt("UPDATE aspirations SET kind = :k, updated_at = :t WHERE id = :id"));
    q->bind(":k", std::string(kind));
    q->bind(":t", now);
    q->bind(":id", *id);
    q->exec();
  }
  use q(stmt("INSERT INTO aspiration_history (aspiration_id, at, actor, action, status, text) "
             "SELECT id, :t, :ac, 'kind', status, :x FROM aspirations WHERE id = :a"));
  q->bind(":a", *id);
  q->bind(":t", now);
  q->bind(":ac", actor);
  q->bind(":x", old + " -> " + std::string(kind));
  q->exec();
  op.commit();
  return true;
}

std::vector<aspiration_event> store::aspiration_history(std::string_view ticket) const {
  std::vector<aspiration_event> out;
  const auto n = core::parse_ticket_any_prefix(ticket);
  if (!n) return out;
  use q(stmt("SELECT at, actor, action, status, text FROM aspiration_history WHERE aspiration_id = :a ORDER BY id"));
  q->bind(":a", *n);
  while (q->executeStep())
    out.push_back({core::from_millis(q->getColumn(0).getInt64()), q->getColumn(1).getString(),
                   q->getColumn(2).getString(), q->getColumn(3).getString(), q->getColumn(4).getString()});
  return out;
}

std::vector<aspiration_row> store::list_aspirations(const aspiration_filter& f) const {
  std::vector<aspiration_row> out;
  export_aspirations(f, [&](const aspiration_row& r) { out.push_back(r); });
  return out;
}

void store::export_aspirations(const aspiration_filter& f, const std::function<void(const aspiration_row&)>& row) const {
  use q(stmt(std::string(aspiration_select) +
             "WHERE (:s IS NULL OR a.status = :s) AND (:g IS NULL OR EXISTS (SELECT 1 FROM aspiration_tags t "
             "WHERE t.aspiration_id = a.id AND t.tag = :g)) AND (:since IS NULL OR a.received_at >= :since) AND "
             "(:until IS NULL OR a.received_at < :until) AND (:open = 0 OR a.status IN ('baru', 'diproses')) "
             "ORDER BY a.received_at, a.id LIMIT :l"));
  q->bind(":open", static_cast<int>(f.open_only));
  if (f.status) q->bind(":s", *f.status);
  if (f.tag) q->bind(":g", *f.tag);
  detail::bind_opt_time(*q, ":since", f.since);
  detail::bind_opt_time(*q, ":until", f.until);
  q->bind(":l", f.limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(f.limit));
  while (q->executeStep()) row(read_aspiration(*q));
}

void store::mark_reminded(std::string_view ticket, core::time_point at) {
  const auto id = aspiration_id(ticket);
  if (!id) throw storage_error("no aspiration " + std::string(ticket));
  use q(stmt("UPDATE aspirations SET reminded_at = :t WHERE id = :id"));
  q->bind(":t", static_cast<std::int64_t>(core::to_millis(at)));
  q->bind(":id", *id);
  q->exec();
}

std::vector<tag_status_count> store::aspiration_counts(core::time_point since, core::time_point until) const {
  std::vector<tag_status_count> out;
  use q(stmt("SELECT COALESCE(t.tag, ''), a.status, count(*) FROM aspirations a LEFT JOIN aspiration_tags t ON "
             "t.aspiration_id = a.id WHERE a.received_at >= :s AND a.received_at < :u GROUP BY 1, 2 ORDER BY 1, 2"));
  q->bind(":s", static_cast<std::int64_t>(core::to_millis(since)));
  q->bind(":u", static_cast<std::int64_t>(core::to_millis(until)));
  while (q->executeStep())
    out.push_back({q->getColumn(0).getString(), q->getColumn(1).getString(), q->getColumn(2).getInt64()});
  return out;
}

std::optional<std::chrono::milliseconds> store::median_first_answer(core::time_point since,
                                                                    core::time_point until) const {
  // The lower median: ordered delays, skip half. Streams, no list of delays in memory.
  use q(stmt("WITH d(ms) AS (SELECT first_answer_at - received_at FROM aspirations WHERE received_at >= :s AND "
             "received_at < :u AND first_answer_at IS NOT NULL) "
             "SELECT ms FROM d ORDER BY ms LIMIT 1 OFFSET ((SELECT count(*) FROM d) - 1) / 2"));
  q->bind(":s", static_cast<std::int64_t>(core::to_millis(since)));
  q->bind(":u", static_cast<std::int64_t>(core::to_millis(until)));
  if (!q->executeStep()) return std::nullopt;
  return std::chrono::milliseconds{q->getColumn(0).getInt64()};
}

}  // namespace kentongan::storage
