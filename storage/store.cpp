#include "storage/store.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_set>

#include <sqlite3.h>

#include "storage/detail.hpp"
#include "storage/schema.hpp"

namespace kentongan::storage {

using detail::atomic_op;
using detail::code;
using detail::now_ms;
using detail::use;
using core::message_state;

namespace {

using core::normalise_provider_id;

/// Ids sorted, without repeats, as runs of consecutive values [first, last]: a dispatch fence's text
/// and a claim's rowid ranges.
std::vector<std::pair<std::int64_t, std::int64_t>> id_runs(std::vector<std::int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  for (const auto id : ids) {
    if (!runs.empty() && runs.back().second + 1 == id)
      runs.back().second = id;
    else
      runs.emplace_back(id, id);
  }
  return runs;
}

// ---- who receives a broadcast ----
// One predicate, over a subscriber `s`, shared by the dry-run count, the expansion and the opt-out cancellation,
// so that they can never disagree. A group broadcast reaches a member of a target group unless they opted out
// of every target group they belong to (or of everything); an `all` broadcast reaches every subscriber who has
// not opted out of everything nor of every group they joined. The SQL text depends only on the number of groups
// and filters; values are bound (:g0…, :k0…, :v0…).

std::string target_cte(const broadcast_spec& spec) {
  if (spec.all) return {};
  std::string out = "WITH target(slug) AS (";
  if (spec.groups.empty()) {
    out += "SELECT NULL WHERE 0";
  } else {
    out += "VALUES ";
    for (std::size_t i = 0; i < spec.groups.size(); ++i) out += (i ? ",(:g" : "(:g") + std::to_string(i) + ")";
  }
  return out + ") ";
}

std::string eligible(const broadcast_spec& spec) {
  std::string out =
      "NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = s.phone AND o.group_slug = '*') AND ";
  if (spec.all) {
    out +=
        "(NOT EXISTS (SELECT 1 FROM memberships m WHERE m.subscriber_id = s.id) OR "
        "EXISTS (SELECT 1 FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.subscriber_id = s.id AND "
        "NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = s.phone AND o.group_slug = g.slug)))";
  } else {
    out +=
        "EXISTS (SELECT 1 FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.subscriber_id = s.id AND "
        "g.slug IN (SELECT slug FROM target) AND "
        "NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = s.phone AND o.group_slug = g.slug))";
  }
  return out;
}

std::string filters(const broadcast_spec& spec) {
  std::string out;
  for (std::size_t i = 0; i < spec.where.size(); ++i) {
    const auto n = std::to_string(i);
    out += " AND EXISTS (SELECT 1 FROM subscriber_attributes a WHERE a.subscriber_id = s.id AND a.key = :k" + n +
           " AND a.value = :v" + n + ")";
  }
  return out;
}

/// FROM and WHERE of "the recipients of spec with subscriber id > :c", and the keyset column to order by.
/// One target group (the common case) is read along the memberships primary key (group_id, subscriber_id), a third
/// of the work of testing every subscriber; it is the same predicate as eligible() written for one group.
struct recipient_source {
  std::string from_where, key;
};
recipient_source recipients(const broadcast_spec& spec) {
  if (!spec.all && spec.groups.size() == 1)
    return {"FROM memberships m0 JOIN subscribers s ON s.id = m0.subscriber_id WHERE m0.group_id = (SELECT id FROM "
            "groups WHERE slug = :g0) AND m0.subscriber_id > :c AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE "
            "o.phone = s.phone AND o.group_slug IN ('*', :g0))" +
                filters(spec),
            "m0.subscriber_id"};
  return {"FROM subscribers s WHERE s.id > :c AND " + eligible(spec) + filters(spec), "s.id"};
}

broadcast_spec canonical(broadcast_spec spec) {
  std::sort(spec.groups.begin(), spec.groups.end());
  spec.groups.erase(std::unique(spec.groups.begin(), spec.groups.end()), spec.groups.end());
  return spec;
}

void bind_targets(SQLite::Statement& q, const broadcast_spec& spec, bool with_filters) {
  if (!spec.all)
    for (std::size_t i = 0; i < spec.groups.size(); ++i) q.bind(":g" + std::to_string(i), spec.groups[i]);
  if (with_filters)
    for (std::size_t i = 0; i < spec.where.size(); ++i) {
      q.bind(":k" + std::to_string(i), spec.where[i].first);
      q.bind(":v" + std::to_string(i), spec.where[i].second);
    }
}

constexpr const char* broadcast_columns =
    "SELECT id, text, template_name, all_subscribers, priority, send_at, expires_at, created_by, state, created_at, "
    "recipients, COALESCE(resend_of, 0) FROM broadcasts ";

/// SQLite's process-wide settings, before its first connection (sqlite3_config refuses them after).
/// Memory statistics off: they take a global mutex on every allocation of every connection, and
/// nothing here reads sqlite3_status. (No lookaside setting: Debian 12's libsqlite3 is built with
/// SQLITE_OMIT_LOOKASIDE, `PRAGMA compile_options`, so SQLITE_CONFIG_LOOKASIDE would do nothing.)
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

// ---- opening and migrations ----

store::store(const std::filesystem::path& file, bool read_only) : read_only_(read_only) {
  configure_sqlite_once();
  try {
    // NOMUTEX: a store is one thread's connection (never shared, see store.hpp), so SQLite's per-call
    // mutex only cost time: about 25 lock pairs per claimed row in the dispatcher's profile.
    const int flags = SQLite::OPEN_NOMUTEX |
                      (read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE));
    db_ = std::make_unique<SQLite::Database>(file.string(), flags, 5000);
    // Checked before anything writes: journal_mode=WAL rewrites the header, a newer schema must stay untouched.
    const int version = schema_version();
    if (version > latest_schema_version)
      throw storage_error("database " + file.string() + " has schema version " + std::to_string(version) +
                          ", newer than this kentongan understands (" + std::to_string(latest_schema_version) +
                          "); run a newer kentongan or restore a backup. Nothing was changed.");
    if (read_only && version < latest_schema_version)
      throw storage_error("database " + file.string() + " has schema version " + std::to_string(version) +
                          ", older than " + std::to_string(latest_schema_version) +
                          "; start the daemon once to upgrade it");
    if (!read_only) {
      SQLite::Statement wal(*db_, "PRAGMA journal_mode = WAL");
      if (!wal.executeStep() || wal.getColumn(0).getString() != "wal")
        throw storage_error("database " + file.string() + ": cannot switch to WAL journal mode");
    }
    // FULL syncs the WAL on every commit: a commit survives a power cut. Throughput comes from the writer
    // sharing one commit among many changes, never from weakening this.
    db_->exec("PRAGMA synchronous = FULL");
    db_->exec("PRAGMA foreign_keys = ON");
    // 4 MiB of page cache (default 2 MiB). Every COMMIT walks the whole page cache (in Debian's libsqlite3
    // 3.40 the commit's cache truncation visits each cached page): with 16 MiB that was a sixth of the writer's
    // CPU when commits are window-sized (bench_smpp, durable_lag 0). 4 MiB expands a million recipients as fast
    // as 16 MiB did since the broadcast index lost `state` (schema v5), with a third of the RSS.
    db_->exec("PRAGMA cache_size = -4096");
    if (!read_only) migrate();
  } catch (const storage_error&) {
    throw;
  } catch (const std::exception& e) {
    throw storage_error("database " + file.string() + ": " + e.what());
  }
}

store::~store() {
  statements_.clear();  // statements must be finalised before the connection closes
}

int store::schema_version() const {
  SQLite::Statement q(*db_, "PRAGMA user_version");
  q.executeStep();
  return q.getColumn(0).getInt();
}

void store::migrate() {
  const auto steps = migrations();
  for (;;) {
    db_->exec("BEGIN IMMEDIATE");
    try {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const int version = schema_version();
      if (version >= static_cast<int>(steps.size())) {
        db_->exec("COMMIT");
        return;
      }
      db_->exec(std::string(steps[static_cast<std::size_t>(version)]));
      // An integer from this program, not user data: PRAGMA takes no bound parameters.
      db_->exec("PRAGMA user_version = " + std::to_string(version + 1));
      db_->exec("COMMIT");
    } catch (const std::exception& e) {
      db_->exec("ROLLBACK");
      throw storage_error("schema migration " + std::to_string(schema_version() + 1) +
                          " failed, database left at version " + std::to_string(schema_version()) + ": " + e.what());
    }
  }
}

SQLite::Statement& store::stmt(const std::string& sql) const {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(sql, std::make_unique<SQLite::Statement>(*db_, sql)).first;
  } else {
    it->second->reset();
    it->second->clearBindings();
  }
  return *it->second;
}

SQLite::Statement& store::stmt(const char* sql) const {
  // Most statements are string literals: found by address, without building and hashing a std::string
  // per call (the dispatcher runs several per message). The text is compared, so a reused buffer with
  // other SQL in it never gets the wrong statement.
  const auto it = by_address_.find(sql);
  if (it != by_address_.end() && std::strcmp(it->second->getQuery().c_str(), sql) == 0) {
    it->second->reset();
    it->second->clearBindings();
    return *it->second;
  }
  auto& q = stmt(std::string(sql));
  by_address_[sql] = &q;
  return q;
}

void store::begin() {
  flush_counts();
  db_->exec("BEGIN IMMEDIATE");
}
void store::commit() {
  flush_counts();
  db_->exec("COMMIT");
}
void store::rollback() {
  discard_counts();
  db_->exec("ROLLBACK");
}
detail::atomic_op store::atomic() const {
  return detail::atomic_op(*this, stmt("SAVEPOINT op"), stmt("RELEASE op"), stmt("ROLLBACK TO op"));
}

// Prepared once, from the statement cache: the writer runs two of these for every job.
void store::savepoint() {
  flush_counts();
  use q(stmt("SAVEPOINT job"));
  q->exec();
}
void store::release() {
  flush_counts();
  use q(stmt("RELEASE job"));
  q->exec();
}
void store::rollback_to() {
  discard_counts();
  use q(stmt("ROLLBACK TO job"));
  q->exec();
}

void store::count_add(std::int64_t broadcast_id, int state, std::int64_t n) {
  if (broadcast_id == 0 || n == 0) return;  // 0: a direct message (broadcast_id NULL), not counted
  // Few (broadcast, state) pairs change in one transaction: a short linear search sums them.
  auto it = std::find_if(pending_counts_.begin(), pending_counts_.end(), [&](const count_delta& d) {
    return d.broadcast_id == broadcast_id && d.state == state;
  });
  if (it != pending_counts_.end())
    it->n += n;
  else
    pending_counts_.push_back({broadcast_id, state, n});
  // Outside a transaction each statement commits on its own: so does its count.
  if (sqlite3_get_autocommit(db_->getHandle()) != 0 || pending_counts_.size() > 64) flush_counts();
}

void store::count_move(std::int64_t broadcast_id, int from, int to, std::int64_t n) {
  if (from == to) return;
  count_add(broadcast_id, from, -n);
  count_add(broadcast_id, to, n);
}

std::vector<std::int64_t> store::returned_broadcasts(SQLite::Statement& q) {
  // Stepped to the end before anything is counted: no other statement runs while this one is open.
  std::vector<std::int64_t> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
  return out;
}

void store::flush_counts() const {
  if (pending_counts_.empty()) return;
  // Swapped out first: a failed upsert leaves nothing pending to be written twice (its transaction fails).
  std::vector<count_delta> pending;
  pending.swap(pending_counts_);
  use q(stmt("INSERT INTO broadcast_counts (broadcast_id, state, n) VALUES (?1, ?2, ?3) "
             "ON CONFLICT (broadcast_id, state) DO UPDATE SET n = n + excluded.n"));
  for (const auto& d : pending) {
    if (d.n == 0) continue;
    q->reset();
    q->bind(1, d.broadcast_id);
    q->bind(2, d.state);
    q->bind(3, d.n);
    q->exec();
  }
}

void store::discard_counts() const { pending_counts_.clear(); }

namespace detail {
atomic_op::atomic_op(const store& owner, SQLite::Statement& open, SQLite::Statement& release,
                     SQLite::Statement& rollback_to)
    : owner_(owner), release_(release), rollback_to_(rollback_to) {
  owner_.flush_counts();
  run(open);
}
atomic_op::~atomic_op() {
  if (done_) return;
  try {
    owner_.discard_counts();
    run(rollback_to_);
    run(release_);
  } catch (...) {  // the database is broken; the caller's exception is the one worth reporting
  }
}
void atomic_op::commit() {
  owner_.flush_counts();
  run(release_);
  done_ = true;
}
}  // namespace detail
void store::checkpoint() {
  SQLite::Statement q(*db_, "PRAGMA wal_checkpoint(TRUNCATE)");
  while (q.executeStep()) {
  }
}

// ---- subscribers and groups ----

sync_report store::sync_config(const std::vector<core::group>& groups, const std::vector<core::subscriber>& subs,
                               const std::vector<core::officer>& officers) {
  sync_report report;
  auto op = atomic();
  const auto now = now_ms();

  // Groups: the config is their only source.
  std::map<std::string, std::int64_t> group_ids;
  {
    std::map<std::string, core::group> existing;
    {
      use q(stmt("SELECT id, slug, name, description, self_subscribe, relay FROM groups"));
      while (q->executeStep()) {
        core::group g{q->getColumn(1).getString(), q->getColumn(2).getString(), q->getColumn(3).getString(),
                      q->getColumn(4).getInt() != 0,
                      core::parse_relay_policy(q->getColumn(5).getString()).value_or(core::relay_policy::off)};
        group_ids[g.id] = q->getColumn(0).getInt64();
        existing.emplace(g.id, std::move(g));
      }
    }
    std::set<std::string> wanted;
    for (const auto& g : groups) {
      wanted.insert(g.id);
      const auto it = existing.find(g.id);
      if (it != existing.end() && it->second == g) continue;
      use q(stmt(it == existing.end()
                     ? "INSERT INTO groups (slug, name, description, self_subscribe, relay) VALUES (:s, :n, :d, :ss, :r)"
                     : "UPDATE groups SET name = :n, description = :d, self_subscribe = :ss, relay = :r WHERE slug = :s"));
      q->bind(":s", g.id);
      q->bind(":n", g.name);
      q->bind(":d", g.description);
      q->bind(":ss", static_cast<int>(g.self_subscribe));
      q->bind(":r", std::string(core::to_string(g.relay)));
      q->exec();
      if (it == existing.end()) {
        group_ids[g.id] = db_->getLastInsertRowid();
        ++report.groups_added;
      } else {
        ++report.groups_changed;
      }
    }
    for (const auto& [slug, g] : existing) {
      if (wanted.count(slug)) continue;
      use q(stmt("DELETE FROM groups WHERE slug = :s"));
      q->bind(":s", slug);
      q->exec();
      group_ids.erase(slug);
      ++report.groups_removed;
    }
  }

  // Subscribers listed in the config. Their row ids, sorted below, tell the rows the config no longer
  // lists: a hash set of a million phone strings was a quarter of a reload's writer time.
  std::vector<std::int64_t> listed;
  listed.reserve(subs.size());
  for (const auto& sub : subs) {
    std::int64_t id = 0;
    bool changed = false;
    {
      use q(stmt("SELECT id, name, channel, source FROM subscribers WHERE phone = :p"));
      q->bind(":p", sub.phone);
      if (q->executeStep()) {
        id = q->getColumn(0).getInt64();
        changed = q->getColumn(1).getString() != sub.name || q->getColumn(2).getString() != sub.channel ||
                  q->getColumn(3).getString() != "config";
      }
    }
    const bool added = id == 0;
    if (added) {
      use q(stmt("INSERT INTO subscribers (phone, name, channel, source, consent_source, consent_at, created_at, "
                 "updated_at) VALUES (:p, :n, :c, 'config', :cs, :t, :t, :t)"));
      q->bind(":p", sub.phone);
      q->bind(":n", sub.name);
      q->bind(":c", sub.channel);
      q->bind(":cs", std::string(core::to_string(sub.consent)));
      q->bind(":t", now);
      q->exec();
      id = db_->getLastInsertRowid();
    } else if (changed) {
      // An SMS subscriber now listed in the config becomes config's; their earlier consent record stays.
      use q(stmt("UPDATE subscribers SET name = :n, channel = :c, source = 'config', updated_at = :t WHERE id = :id"));
      q->bind(":n", sub.name);
      q->bind(":c", sub.channel);
      q->bind(":t", now);
      q->bind(":id", id);
      q->exec();
    }
    listed.push_back(id);

    // Attributes: replaced as a whole when they differ.
    std::map<std::string, std::string> attrs;
    if (!added) {
      use q(stmt("SELECT key, value FROM subscriber_attributes WHERE subscriber_id = :id"));
      q->bind(":id", id);
      while (q->executeStep()) attrs.emplace(q->getColumn(0).getString(), q->getColumn(1).getString());
    }
    if (attrs != sub.attributes) {
      changed = true;
      {
        use q(stmt("DELETE FROM subscriber_attributes WHERE subscriber_id = :id"));
        q->bind(":id", id);
        q->exec();
      }
      for (const auto& [k, v] : sub.attributes) {
        use q(stmt("INSERT INTO subscriber_attributes (subscriber_id, key, value) VALUES (:id, :k, :v)"));
        q->bind(":id", id);
        q->bind(":k", k);
        q->bind(":v", v);
        q->exec();
      }
    }

    // Memberships: config ones mirror the list; ones made by SMS stay.
    std::map<std::int64_t, std::string> have;  // group id -> source
    if (!added) {
      use q(stmt("SELECT group_id, source FROM memberships WHERE subscriber_id = :id"));
      q->bind(":id", id);
      while (q->executeStep()) have.emplace(q->getColumn(0).getInt64(), q->getColumn(1).getString());
    }
    std::set<std::int64_t> want;
    for (const auto& slug : sub.groups) {
      const auto g = group_ids.find(slug);
      if (g == group_ids.end())
        throw storage_error("subscriber " + core::mask_phone(sub.phone) + " lists unknown group '" + slug + "'");
      want.insert(g->second);
      if (have.count(g->second)) continue;
      use q(stmt("INSERT INTO memberships (group_id, subscriber_id, source, created_at) VALUES (:g, :s, 'config', :t)"));
      q->bind(":g", g->second);
      q->bind(":s", id);
      q->bind(":t", now);
      q->exec();
      changed = true;
    }
    for (const auto& [gid, source] : have) {
      if (source != "config" || want.count(gid)) continue;
      use q(stmt("DELETE FROM memberships WHERE group_id = :g AND subscriber_id = :s"));
      q->bind(":g", gid);
      q->bind(":s", id);
      q->exec();
      changed = true;
    }
    if (added) ++report.added;
    else if (changed) ++report.changed;
  }

  // Subscribers the config no longer lists: their config memberships go; if they joined a group by SMS they stay
  // (as SMS subscribers), otherwise the row goes (outbox rows keep their phone for history).
  std::sort(listed.begin(), listed.end());
  std::vector<std::pair<std::int64_t, std::string>> gone;
  {
    use q(stmt("SELECT id, phone FROM subscribers WHERE source = 'config'"));
    while (q->executeStep()) {
      const auto id = q->getColumn(0).getInt64();
      if (!std::binary_search(listed.begin(), listed.end(), id)) gone.emplace_back(id, q->getColumn(1).getString());
    }
  }
  for (const auto& [id, phone] : gone) {
    {
      use q(stmt("DELETE FROM memberships WHERE subscriber_id = :s AND source = 'config'"));
      q->bind(":s", id);
      q->exec();
    }
    bool keeps_sms = false;
    {
      use q(stmt("SELECT 1 FROM memberships WHERE subscriber_id = :s LIMIT 1"));
      q->bind(":s", id);
      keeps_sms = q->executeStep();
    }
    if (keeps_sms) {
      {
        use q(stmt("UPDATE subscribers SET source = 'sms', updated_at = :t WHERE id = :s"));
        q->bind(":s", id);
        q->bind(":t", now);
        q->exec();
      }
      cancel_ineligible(phone);  // queued rows of broadcasts to the groups they no longer belong to
      ++report.changed;
    } else {
      {
        // No longer a recipient of anything: what is still queued for them is not sent.
        use q(stmt("UPDATE outbox SET state = 6, reason = 'removed from config', finished_at = :t, updated_at = :t "
                   "WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE state <> 'cancelled') AND state = 0 AND "
                   "subscriber_id = :s RETURNING broadcast_id"));
        q->bind(":s", id);
        q->bind(":t", now);
        for (const auto b : returned_broadcasts(*q)) count_move(b, 0, 6);
      }
      use q(stmt("DELETE FROM subscribers WHERE id = :s"));
      q->bind(":s", id);
      q->exec();
      ++report.removed;
    }
  }

  // Officers: replaced as a whole.
  db_->exec("DELETE FROM officers");
  for (const auto& o : officers) {
    {
      use q(stmt("INSERT INTO officers (phone, name, role) VALUES (:p, :n, :r)"));
      q->bind(":p", o.phone);
      q->bind(":n", o.name);
      q->bind(":r", o.role);
      q->exec();
    }
    const auto id = db_->getLastInsertRowid();
    for (const auto& t : o.tags) {
      use q(stmt("INSERT OR IGNORE INTO officer_tags (officer_id, tag) VALUES (:o, :t)"));
      q->bind(":o", id);
      q->bind(":t", t);
      q->exec();
    }
    for (const auto& g : o.groups) {
      use q(stmt("INSERT OR IGNORE INTO officer_groups (officer_id, group_slug) VALUES (:o, :g)"));
      q->bind(":o", id);
      q->bind(":g", g);
      q->exec();
    }
    ++report.officers;
  }
  op.commit();
  return report;
}

void store::subscribe(const std::string& phone, const std::string& group, core::consent_source source) {
  auto op = atomic();
  const auto now = now_ms();
  std::int64_t gid = 0;
  {
    use q(stmt("SELECT id FROM groups WHERE slug = :g"));
    q->bind(":g", group);
    if (!q->executeStep()) throw storage_error("unknown group '" + group + "'");
    gid = q->getColumn(0).getInt64();
  }
  {
    use q(stmt("INSERT INTO subscribers (phone, source, consent_source, consent_at, created_at, updated_at) "
               "VALUES (:p, 'sms', :cs, :t, :t, :t) ON CONFLICT (phone) DO NOTHING"));
    q->bind(":p", phone);
    q->bind(":cs", std::string(core::to_string(source)));
    q->bind(":t", now);
    q->exec();
  }
  std::int64_t sid = 0;
  {
    use q(stmt("SELECT id FROM subscribers WHERE phone = :p"));
    q->bind(":p", phone);
    q->executeStep();
    sid = q->getColumn(0).getInt64();
  }
  {
    use q(stmt("INSERT INTO memberships (group_id, subscriber_id, source, created_at) VALUES (:g, :s, 'sms', :t) "
               "ON CONFLICT DO NOTHING"));
    q->bind(":g", gid);
    q->bind(":s", sid);
    q->bind(":t", now);
    q->exec();
  }
  // Joining one group after STOP-ing everything resumes that group only: the "all" opt-out becomes one
  // opt-out per other group they belong to.
  bool had_all = false;
  {
    use q(stmt("DELETE FROM opt_outs WHERE phone = :p AND group_slug = '*'"));
    q->bind(":p", phone);
    had_all = q->exec() > 0;
  }
  if (had_all) {
    use q(stmt("INSERT OR IGNORE INTO opt_outs (phone, group_slug, created_at) SELECT :p, g.slug, :t FROM "
               "memberships m JOIN groups g ON g.id = m.group_id WHERE m.subscriber_id = :s AND g.id <> :g"));
    q->bind(":p", phone);
    q->bind(":t", now);
    q->bind(":s", sid);
    q->bind(":g", gid);
    q->exec();
  }
  {
    use q(stmt("DELETE FROM opt_outs WHERE phone = :p AND group_slug = :g"));
    q->bind(":p", phone);
    q->bind(":g", group);
    q->exec();
  }
  op.commit();
}

std::int64_t store::opt_out(const std::string& phone, std::optional<std::string> group) {
  auto op = atomic();
  {
    use q(stmt("INSERT OR IGNORE INTO opt_outs (phone, group_slug, created_at) VALUES (:p, :g, :t)"));
    q->bind(":p", phone);
    q->bind(":g", group.value_or("*"));
    q->bind(":t", now_ms());
    q->exec();
  }
  const auto cancelled = cancel_ineligible(phone);
  op.commit();
  return cancelled;
}

std::int64_t store::cancel_ineligible(const std::string& phone) {
  std::int64_t sid = 0;
  {
    use q(stmt("SELECT id FROM subscribers WHERE phone = :p"));
    q->bind(":p", phone);
    if (!q->executeStep()) return 0;  // broadcast rows always belong to a subscriber (sync cancels them on removal)
    sid = q->getColumn(0).getInt64();
  }
  std::vector<std::int64_t> broadcasts;
  {
    // One index seek per broadcast on (broadcast_id, subscriber_id).
    use q(stmt("SELECT DISTINCT o.broadcast_id FROM outbox o WHERE o.broadcast_id IN (SELECT id FROM broadcasts "
               "WHERE state <> 'cancelled') AND o.state = 0 AND o.subscriber_id = :s"));
    q->bind(":s", sid);
    while (q->executeStep()) broadcasts.push_back(q->getColumn(0).getInt64());
  }
  std::int64_t cancelled = 0;
  for (const auto b : broadcasts) {
    const auto row = get_broadcast(b);
    if (!row) continue;
    use q(stmt(target_cte(row->spec) +
               "UPDATE outbox SET state = 6, reason = 'opted out', finished_at = :t, updated_at = :t "
               "WHERE broadcast_id = :b AND state = 0 AND subscriber_id = :sid AND NOT EXISTS (SELECT 1 FROM "
               "subscribers s WHERE s.id = :sid AND " +
               eligible(row->spec) + ")"));
    bind_targets(*q, row->spec, false);
    q->bind(":t", now_ms());
    q->bind(":sid", sid);
    q->bind(":b", b);
    const auto n = static_cast<std::int64_t>(q->exec());
    count_move(b, 0, 6, n);
    cancelled += n;
  }
  return cancelled;
}

bool store::is_opted_out(const std::string& phone, const std::string& group) const {
  use q(stmt("SELECT 1 FROM opt_outs WHERE phone = :p AND group_slug IN (:g, '*')"));
  q->bind(":p", phone);
  q->bind(":g", group);
  return q->executeStep();
}

forget_report store::forget(const std::string& phone) {
  forget_report r;
  if (phone.empty()) return r;
  auto op = atomic();
  const auto now = now_ms();
  const auto run = [&](const char* sql) {
    use q(stmt(sql));
    q->bind(":p", phone);
    if (std::string_view(sql).find(":t") != std::string_view::npos) q->bind(":t", now);
    return static_cast<std::int64_t>(q->exec());
  };
  {
    use q(stmt("UPDATE outbox SET state = 6, reason = 'forgotten', finished_at = :t, updated_at = :t "
               "WHERE phone = :p AND state = 0 RETURNING COALESCE(broadcast_id, 0)"));
    q->bind(":p", phone);
    q->bind(":t", now);
    for (const auto b : returned_broadcasts(*q)) count_move(b, 0, 6);
  }
  r.memberships = [&] {
    use q(stmt("SELECT count(*) FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.phone = :p"));
    q->bind(":p", phone);
    q->executeStep();
    return q->getColumn(0).getInt64();
  }();
  // Outbox, inbox and aspiration rows stay (without number or text) so that counts and reports still add up.
  r.outbox = run("UPDATE outbox SET phone = '', text = CASE WHEN text IS NULL THEN NULL ELSE '' END, "
                 "subscriber_id = NULL, updated_at = :t WHERE phone = :p");
  r.subscribers = run("DELETE FROM subscribers WHERE phone = :p");
  r.opt_outs = run("DELETE FROM opt_outs WHERE phone = :p");
  r.inbox = run("UPDATE inbox SET phone = '', text = '' WHERE phone = :p");
  run("UPDATE aspiration_history SET text = '' WHERE aspiration_id IN (SELECT id FROM aspirations WHERE phone = :p)");
  r.aspirations = run("UPDATE aspirations SET phone = '', name = '', text = '', last_answer = '', updated_at = :t "
                      "WHERE phone = :p");
  run("UPDATE events SET subject = '' WHERE subject = :p");
  // Votes still count, under a number nobody has.
  run("UPDATE poll_votes SET phone = 'forgotten-' || lower(hex(randomblob(8))), subscriber_id = NULL WHERE phone = :p");
  log_event("forget", "",
            "subscribers=" + std::to_string(r.subscribers) + " memberships=" + std::to_string(r.memberships) +
                " opt_outs=" + std::to_string(r.opt_outs) + " outbox=" + std::to_string(r.outbox) +
                " inbox=" + std::to_string(r.inbox) + " aspirations=" + std::to_string(r.aspirations));
  op.commit();
  return r;
}

std::optional<core::subscriber> store::get_subscriber(const std::string& phone) const {
  core::subscriber s;
  std::int64_t id = 0;
  {
    use q(stmt("SELECT id, phone, name, channel, consent_source FROM subscribers WHERE phone = :p"));
    q->bind(":p", phone);
    if (!q->executeStep()) return std::nullopt;
    id = q->getColumn(0).getInt64();
    s.phone = q->getColumn(1).getString();
    s.name = q->getColumn(2).getString();
    s.channel = q->getColumn(3).getString();
    s.consent = core::parse_consent_source(q->getColumn(4).getString()).value_or(core::consent_source::config);
  }
  {
    use q(stmt("SELECT g.slug FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.subscriber_id = :s "
               "ORDER BY g.slug"));
    q->bind(":s", id);
    while (q->executeStep()) s.groups.push_back(q->getColumn(0).getString());
  }
  {
    use q(stmt("SELECT key, value FROM subscriber_attributes WHERE subscriber_id = :s"));
    q->bind(":s", id);
    while (q->executeStep()) s.attributes.emplace(q->getColumn(0).getString(), q->getColumn(1).getString());
  }
  return s;
}

std::optional<core::group> store::get_group(const std::string& id) const {
  use q(stmt("SELECT slug, name, description, self_subscribe, relay FROM groups WHERE slug = :s"));
  q->bind(":s", id);
  if (!q->executeStep()) return std::nullopt;
  return core::group{q->getColumn(0).getString(), q->getColumn(1).getString(), q->getColumn(2).getString(),
                     q->getColumn(3).getInt() != 0,
                     core::parse_relay_policy(q->getColumn(4).getString()).value_or(core::relay_policy::off)};
}

std::vector<core::group> store::list_groups() const {
  std::vector<core::group> out;
  use q(stmt("SELECT slug, name, description, self_subscribe, relay FROM groups ORDER BY slug"));
  while (q->executeStep())
    out.push_back({q->getColumn(0).getString(), q->getColumn(1).getString(), q->getColumn(2).getString(),
                   q->getColumn(3).getInt() != 0,
                   core::parse_relay_policy(q->getColumn(4).getString()).value_or(core::relay_policy::off)});
  return out;
}

std::vector<core::officer> store::list_officers() const {
  std::vector<core::officer> out;
  std::vector<std::int64_t> ids;
  {
    use q(stmt("SELECT id, phone, name, role FROM officers ORDER BY id"));
    while (q->executeStep()) {
      ids.push_back(q->getColumn(0).getInt64());
      out.push_back({q->getColumn(1).getString(), q->getColumn(2).getString(), q->getColumn(3).getString(), {}, {}});
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    {
      use q(stmt("SELECT tag FROM officer_tags WHERE officer_id = :o ORDER BY tag"));
      q->bind(":o", ids[i]);
      while (q->executeStep()) out[i].tags.push_back(q->getColumn(0).getString());
    }
    use q(stmt("SELECT group_slug FROM officer_groups WHERE officer_id = :o ORDER BY group_slug"));
    q->bind(":o", ids[i]);
    while (q->executeStep()) out[i].groups.push_back(q->getColumn(0).getString());
  }
  return out;
}

std::int64_t store::member_count(const std::string& group) const {
  use q(stmt("SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.slug = :g"));
  q->bind(":g", group);
  q->executeStep();
  return q->getColumn(0).getInt64();
}

// ---- broadcasts ----

std::int64_t store::create_broadcast(const broadcast_spec& spec) {
  auto op = atomic();
  const auto now = now_ms();
  {
    use q(stmt("INSERT INTO broadcasts (text, template_name, all_subscribers, priority, send_at, expires_at, "
               "created_by, state, created_at) VALUES (:x, :tn, :a, :pr, :sa, :ea, :cb, 'scheduled', :t)"));
    q->bind(":x", spec.text);
    q->bind(":tn", spec.template_name);
    q->bind(":a", static_cast<int>(spec.all));
    q->bind(":pr", static_cast<int>(spec.priority));
    detail::bind_opt_time(*q, ":sa", spec.send_at);
    detail::bind_opt_time(*q, ":ea", spec.expires_at);
    q->bind(":cb", spec.created_by);
    q->bind(":t", now);
    q->exec();
  }
  const auto id = db_->getLastInsertRowid();
  std::set<std::string> seen;
  for (const auto& g : spec.groups) {
    if (!seen.insert(g).second) continue;
    use q(stmt("INSERT INTO broadcast_groups (broadcast_id, group_slug) VALUES (:b, :g)"));
    q->bind(":b", id);
    q->bind(":g", g);
    q->exec();
  }
  for (std::size_t i = 0; i < spec.where.size(); ++i) {
    use q(stmt("INSERT INTO broadcast_filters (broadcast_id, position, key, value) VALUES (:b, :i, :k, :v)"));
    q->bind(":b", id);
    q->bind(":i", static_cast<std::int64_t>(i));
    q->bind(":k", spec.where[i].first);
    q->bind(":v", spec.where[i].second);
    q->exec();
  }
  op.commit();
  return id;
}

std::int64_t store::count_recipients(const broadcast_spec& given) const {
  const auto spec = canonical(given);
  use q(stmt(target_cte(spec) + "SELECT count(*) " + recipients(spec).from_where));
  bind_targets(*q, spec, true);
  q->bind(":c", std::int64_t{0});
  q->executeStep();
  return q->getColumn(0).getInt64();
}

namespace {
broadcast_row read_broadcast(SQLite::Statement& q) {
  broadcast_row r;
  r.id = q.getColumn(0).getInt64();
  r.spec.text = q.getColumn(1).getString();
  r.spec.template_name = q.getColumn(2).getString();
  r.spec.all = q.getColumn(3).getInt() != 0;
  r.spec.priority = q.getColumn(4).getInt() != 0 ? core::priority::urgent : core::priority::normal;
  r.spec.send_at = detail::opt_time(q.getColumn(5));
  r.spec.expires_at = detail::opt_time(q.getColumn(6));
  r.spec.created_by = q.getColumn(7).getString();
  r.state = q.getColumn(8).getString();
  r.created_at = core::from_millis(q.getColumn(9).getInt64());
  r.recipients = q.getColumn(10).getInt64();
  r.resend_of = q.getColumn(11).getInt64();
  return r;
}
}  // namespace

std::optional<broadcast_row> store::get_broadcast(std::int64_t id) const {
  std::optional<broadcast_row> r;
  {
    use q(stmt(std::string(broadcast_columns) + "WHERE id = :b"));
    q->bind(":b", id);
    if (!q->executeStep()) return std::nullopt;
    r = read_broadcast(*q);
  }
  {
    use q(stmt("SELECT group_slug FROM broadcast_groups WHERE broadcast_id = :b ORDER BY group_slug"));
    q->bind(":b", id);
    while (q->executeStep()) r->spec.groups.push_back(q->getColumn(0).getString());
  }
  {
    use q(stmt("SELECT key, value FROM broadcast_filters WHERE broadcast_id = :b ORDER BY position"));
    q->bind(":b", id);
    while (q->executeStep()) r->spec.where.emplace_back(q->getColumn(0).getString(), q->getColumn(1).getString());
  }
  return r;
}

std::vector<broadcast_row> store::due_broadcasts(core::time_point now) const {
  std::vector<std::int64_t> ids;
  {
    use q(stmt("SELECT id FROM broadcasts WHERE state IN ('scheduled', 'expanding') AND "
               "(send_at IS NULL OR send_at <= :n) ORDER BY priority DESC, id"));
    q->bind(":n", static_cast<std::int64_t>(core::to_millis(now)));
    while (q->executeStep()) ids.push_back(q->getColumn(0).getInt64());
  }
  std::vector<broadcast_row> out;
  for (const auto id : ids)
    if (auto r = get_broadcast(id)) out.push_back(std::move(*r));
  return out;
}

std::vector<broadcast_row> store::list_broadcasts(std::size_t limit) const {
  std::vector<std::int64_t> ids;
  {
    use q(stmt("SELECT id FROM broadcasts ORDER BY id DESC LIMIT :l"));
    q->bind(":l", static_cast<std::int64_t>(limit));
    while (q->executeStep()) ids.push_back(q->getColumn(0).getInt64());
  }
  std::vector<broadcast_row> out;
  for (const auto id : ids)
    if (auto r = get_broadcast(id)) out.push_back(std::move(*r));
  return out;
}

std::size_t store::expand_broadcast(std::int64_t id, std::size_t batch) {
  auto op = atomic();
  std::int64_t cursor = 0, resend_of = 0;
  bool only_failed = false;
  {
    use q(stmt("SELECT cursor, COALESCE(resend_of, 0), resend_only_failed FROM broadcasts WHERE id = :b AND "
               "state IN ('scheduled', 'expanding')"));
    q->bind(":b", id);
    if (!q->executeStep()) return 0;  // unknown, cancelled or already expanded
    cursor = q->getColumn(0).getInt64();
    resend_of = q->getColumn(1).getInt64();
    only_failed = q->getColumn(2).getInt() != 0;
  }
  const auto row = get_broadcast(id);
  const auto& spec = row->spec;
  const auto now = now_ms();
  std::size_t inserted = 0;
  std::int64_t last = cursor;

  if (resend_of == 0) {
    // Keyset over subscriber ids: each call continues after the last id it inserted, in the same transaction as
    // the insert, so a crash between calls repeats nothing and skips nothing.
    const auto source = recipients(spec);
    use q(stmt(target_cte(spec) +
               "INSERT INTO outbox (broadcast_id, subscriber_id, phone, priority, state, next_attempt_at, expires_at, "
               "created_at, updated_at) SELECT :b, s.id, s.phone, :pr, 0, :t, :ea, :t, :t " +
               source.from_where + " ORDER BY " + source.key + " LIMIT :n"));
    bind_targets(*q, spec, true);
    q->bind(":b", id);
    q->bind(":pr", static_cast<int>(spec.priority));
    q->bind(":t", now);
    detail::bind_opt_time(*q, ":ea", spec.expires_at);
    q->bind(":c", cursor);
    q->bind(":n", static_cast<std::int64_t>(batch));
    inserted = static_cast<std::size_t>(q->exec());
    count_add(id, 0, static_cast<std::int64_t>(inserted));
    if (inserted > 0) {
      // Rows are inserted in ORDER BY s.id order with rising rowids, so the last rowid holds the new cursor.
      // (RETURNING would tell the same but costs a fifth of the expansion's CPU.)
      use last_row(stmt("SELECT subscriber_id FROM outbox WHERE id = :id"));
      last_row->bind(":id", static_cast<std::int64_t>(db_->getLastInsertRowid()));
      if (last_row->executeStep()) last = last_row->getColumn(0).getInt64();
    }
  } else {
    // A resend walks the source broadcast's outbox rows; the cursor is the source row id.
    std::vector<std::pair<std::int64_t, std::int64_t>> picked;  // source outbox id, subscriber id
    {
      std::int64_t hi = 0;
      {
        use m(stmt("SELECT COALESCE(max(id), 0) FROM outbox WHERE broadcast_id = :src"));
        m->bind(":src", resend_of);
        m->executeStep();
        hi = m->getColumn(0).getInt64();
      }
      // Walks the source's rowid range (see export_deliveries) so that no batch sorts the whole broadcast.
      use q(stmt(target_cte(spec) + std::string("SELECT o.id, s.id FROM outbox o JOIN subscribers s ON s.id = "
                                                "o.subscriber_id WHERE o.id > :c AND o.id <= :hi AND "
                                                "+o.broadcast_id = :src AND ") +
                 (only_failed ? "o.state = 4" : "o.state IN (2, 4, 5, 6)") + " AND " + eligible(spec) +
                 " ORDER BY o.id LIMIT :n"));
      bind_targets(*q, spec, false);
      q->bind(":hi", hi);
      q->bind(":src", resend_of);
      q->bind(":c", cursor);
      q->bind(":n", static_cast<std::int64_t>(batch));
      while (q->executeStep()) picked.emplace_back(q->getColumn(0).getInt64(), q->getColumn(1).getInt64());
    }
    for (const auto& [source, sid] : picked) {
      use q(stmt("INSERT INTO outbox (broadcast_id, subscriber_id, phone, priority, state, next_attempt_at, "
                 "expires_at, created_at, updated_at) SELECT :b, s.id, s.phone, :pr, 0, :t, :ea, :t, :t "
                 "FROM subscribers s WHERE s.id = :s"));
      q->bind(":b", id);
      q->bind(":pr", static_cast<int>(spec.priority));
      q->bind(":t", now);
      detail::bind_opt_time(*q, ":ea", spec.expires_at);
      q->bind(":s", sid);
      const auto n = static_cast<std::int64_t>(q->exec());
      count_add(id, 0, n);
      inserted += static_cast<std::size_t>(n);
      last = source;
    }
  }

  {
    use q(stmt("UPDATE broadcasts SET cursor = :c, recipients = recipients + :n, state = :st WHERE id = :b"));
    q->bind(":c", last);
    q->bind(":n", static_cast<std::int64_t>(inserted));
    q->bind(":st", inserted < batch ? "sending" : "expanding");
    q->bind(":b", id);
    q->exec();
  }
  op.commit();
  return inserted;
}

state_counts store::counts(std::int64_t broadcast_id) const {
  state_counts c;
  {
    use q(stmt("SELECT count(*) FROM outbox WHERE broadcast_id = :b AND in_doubt = 1"));
    q->bind(":b", broadcast_id);
    q->executeStep();
    c.in_doubt = q->getColumn(0).getInt64();
  }
  flush_counts();  // this transaction's own changes count too
  use q(stmt("SELECT state, n FROM broadcast_counts WHERE broadcast_id = :b"));
  q->bind(":b", broadcast_id);
  const auto add = [](state_counts& to, int state, std::int64_t n) {
    to.recipients += n;
    switch (static_cast<message_state>(state)) {
      case message_state::queued: to.queued += n; break;
      case message_state::sending: to.sending += n; break;
      case message_state::submitted: to.submitted += n; break;
      case message_state::delivered: to.delivered += n; break;
      case message_state::failed: to.failed += n; break;
      case message_state::expired: to.expired += n; break;
      case message_state::cancelled: to.cancelled += n; break;
    }
  };
  while (q->executeStep()) add(c, q->getColumn(0).getInt(), q->getColumn(1).getInt64());
  return c;
}

std::map<std::string, state_counts> store::counts_by(std::int64_t broadcast_id, const std::string& attribute) const {
  std::map<std::string, state_counts> out;
  use q(stmt("SELECT COALESCE(a.value, ''), o.state, count(*), sum(o.in_doubt) FROM outbox o "
             "LEFT JOIN subscriber_attributes a ON a.subscriber_id = o.subscriber_id AND a.key = :k "
             "WHERE o.broadcast_id = :b GROUP BY 1, 2"));
  q->bind(":k", attribute);
  q->bind(":b", broadcast_id);
  while (q->executeStep()) {
    auto& c = out[q->getColumn(0).getString()];
    const auto n = q->getColumn(2).getInt64();
    c.recipients += n;
    c.in_doubt += q->getColumn(3).getInt64();
    switch (static_cast<message_state>(q->getColumn(1).getInt())) {
      case message_state::queued: c.queued += n; break;
      case message_state::sending: c.sending += n; break;
      case message_state::submitted: c.submitted += n; break;
      case message_state::delivered: c.delivered += n; break;
      case message_state::failed: c.failed += n; break;
      case message_state::expired: c.expired += n; break;
      case message_state::cancelled: c.cancelled += n; break;
    }
  }
  return out;
}

std::int64_t store::cancel_broadcast(std::int64_t id) {
  auto op = atomic();
  const auto now = now_ms();
  std::int64_t n = 0;
  {
    use q(stmt("UPDATE outbox SET state = 6, reason = 'broadcast cancelled', finished_at = :t, updated_at = :t "
               "WHERE broadcast_id = :b AND state = 0"));
    q->bind(":t", now);
    q->bind(":b", id);
    n = q->exec();
    count_move(id, 0, 6, n);
  }
  {
    use q(stmt("UPDATE broadcasts SET state = 'cancelled', finished_at = :t WHERE id = :b AND "
               "state IN ('scheduled', 'expanding', 'sending')"));
    q->bind(":t", now);
    q->bind(":b", id);
    q->exec();
  }
  op.commit();
  return n;
}

std::int64_t store::resend(std::int64_t id, bool only_failed) {
  const auto original = get_broadcast(id);
  if (!original) throw storage_error("no broadcast " + std::to_string(id));
  auto op = atomic();
  auto spec = original->spec;
  spec.send_at.reset();
  spec.expires_at.reset();
  const auto nid = create_broadcast(spec);
  use q(stmt("UPDATE broadcasts SET resend_of = :o, resend_only_failed = :f WHERE id = :b"));
  q->bind(":o", id);
  q->bind(":f", static_cast<int>(only_failed));
  q->bind(":b", nid);
  q->exec();
  op.commit();
  return nid;
}

void store::finish_broadcasts() {
  flush_counts();
  use q(stmt("UPDATE broadcasts SET state = 'done', finished_at = :t WHERE state = 'sending' AND NOT EXISTS "
             "(SELECT 1 FROM broadcast_counts c WHERE c.broadcast_id = broadcasts.id AND c.state IN (0, 1) "
             "AND c.n <> 0)"));
  q->bind(":t", now_ms());
  q->exec();
}

void store::export_deliveries(std::int64_t broadcast_id, const std::function<void(const delivery_row&)>& row) const {
  std::int64_t lo = 0, hi = -1;
  {
    use q(stmt("SELECT min(id), max(id) FROM outbox WHERE broadcast_id = :b"));
    q->bind(":b", broadcast_id);
    if (q->executeStep() && !q->getColumn(0).isNull()) {
      lo = q->getColumn(0).getInt64();
      hi = q->getColumn(1).getInt64();
    }
  }
  // A broadcast's rows lie in one rowid range (expansion appends them): walking that range in rowid order streams
  // without the sort that ORDER BY id over the broadcast index would need. `+` keeps the planner on the range.
  use q(stmt("SELECT o.id, o.phone, COALESCE(s.name, ''), o.state, COALESCE(o.channel, ''), COALESCE(o.reason, ''), "
             "o.attempts, o.in_doubt, o.created_at, o.submitted_at, o.finished_at FROM outbox o "
             "LEFT JOIN subscribers s ON s.id = o.subscriber_id WHERE o.id BETWEEN :lo AND :hi AND "
             "+o.broadcast_id = :b ORDER BY o.id"));
  q->bind(":lo", lo);
  q->bind(":hi", hi);
  q->bind(":b", broadcast_id);
  delivery_row r;
  while (q->executeStep()) {
    r.outbox_id = q->getColumn(0).getInt64();
    r.phone = q->getColumn(1).getString();
    r.name = q->getColumn(2).getString();
    r.state = std::string(core::to_string(static_cast<message_state>(q->getColumn(3).getInt())));
    r.channel = q->getColumn(4).getString();
    r.reason = q->getColumn(5).getString();
    r.attempts = q->getColumn(6).getInt();
    r.in_doubt = q->getColumn(7).getInt() != 0;
    r.created_at = core::from_millis(q->getColumn(8).getInt64());
    r.submitted_at = detail::opt_time(q->getColumn(9));
    r.finished_at = detail::opt_time(q->getColumn(10));
    row(r);
  }
}

// ---- outbox ----

std::vector<outbox_row> store::claim_due(core::time_point now, std::size_t limit, bool normal_allowed) {
  auto op = atomic();
  std::vector<outbox_row> out;
  const auto t = static_cast<std::int64_t>(core::to_millis(now));
  // A broadcast row takes the broadcast's text: one lookup per broadcast, not a join per row.
  std::map<std::int64_t, std::string> broadcast_texts;
  std::vector<std::size_t> takes_broadcast_text;
  {
    // `state = 0` literally, so the planner can use the partial index outbox_due.
    use q(stmt("SELECT o.id, COALESCE(o.broadcast_id, 0), o.phone, o.text, "
               "COALESCE(s.name, ''), o.priority, COALESCE(o.channel_pref, s.channel, ''), COALESCE(o.channel, ''), "
               "o.attempts, o.expires_at, o.in_doubt FROM outbox o INDEXED BY outbox_due "
               "LEFT JOIN subscribers s ON s.id = o.subscriber_id "
               "WHERE o.state = 0 AND o.next_attempt_at <= ?1 AND (o.expires_at IS NULL OR o.expires_at > ?1) "
               "AND o.priority >= ?2 ORDER BY o.priority DESC, o.id LIMIT ?3"));
    q->bind(1, t);
    q->bind(2, normal_allowed ? 0 : 1);
    q->bind(3, static_cast<std::int64_t>(limit));
    while (q->executeStep()) {
      outbox_row r;
      r.id = q->getColumn(0).getInt64();
      r.broadcast_id = q->getColumn(1).getInt64();
      r.phone = q->getColumn(2).getString();
      const auto text = q->getColumn(3);
      if (!text.isNull()) r.text = text.getString();
      else if (r.broadcast_id != 0) {
        broadcast_texts.try_emplace(r.broadcast_id);
        takes_broadcast_text.push_back(out.size());
      }
      r.name = q->getColumn(4).getString();
      r.priority = q->getColumn(5).getInt() != 0 ? core::priority::urgent : core::priority::normal;
      r.channel_pref = q->getColumn(6).getString();
      r.channel = q->getColumn(7).getString();
      r.attempts = q->getColumn(8).getInt() + 1;
      r.expires_at = detail::opt_time(q->getColumn(9));
      r.in_doubt = q->getColumn(10).getInt() != 0;
      out.push_back(std::move(r));
    }
  }
  if (out.empty()) {
    op.commit();
    return out;
  }
  for (auto& [id, text] : broadcast_texts) {
    use q(stmt("SELECT text FROM broadcasts WHERE id = ?"));
    q->bind(1, id);
    if (q->executeStep()) text = q->getColumn(0).getString();
  }
  for (const auto i : takes_broadcast_text) out[i].text = broadcast_texts[out[i].broadcast_id];
  // A broadcast's rows lie in one rowid range (expansion appends them), so a claim is mostly runs of
  // consecutive ids: each run is one rowid range to update, which costs less than looking up each id of a
  // list. Scattered ids (replies between broadcast rows) go as one list: per-run statements would cost
  // as much in stepping and binding as on the rows.
  std::vector<std::int64_t> claimed_ids;
  claimed_ids.reserve(out.size());
  for (const auto& r : out) claimed_ids.push_back(r.id);
  const auto runs = id_runs(std::move(claimed_ids));
  const auto t_claimed = now_ms();
  if (runs.size() * 16 <= out.size()) {
    use q(stmt("UPDATE outbox SET state = 1, attempts = attempts + 1, updated_at = ?1 WHERE id BETWEEN ?2 AND ?3"));
    for (const auto& [lo, hi] : runs) {
      q->reset();
      q->bind(1, t_claimed);
      q->bind(2, lo);
      q->bind(3, hi);
      q->exec();
    }
  } else {
    std::string ids = "[";
    for (const auto& r : out) {
      if (ids.size() > 1) ids += ',';
      ids += std::to_string(r.id);
    }
    ids += ']';
    use q(stmt("UPDATE outbox SET state = 1, attempts = attempts + 1, updated_at = ?1 "
               "WHERE id IN (SELECT value FROM json_each(?2))"));
    q->bind(1, t_claimed);
    q->bindNoCopy(2, ids);
    q->exec();
  }
  if (claimed_broadcast_.size() + out.size() > claimed_broadcast_limit) claimed_broadcast_.clear();
  for (const auto& r : out) {
    count_move(r.broadcast_id, 0, 1);
    claimed_broadcast_[r.id] = r.broadcast_id;
  }
  op.commit();
  return out;
}

// The result writes run once or twice per message on the writer: numbered parameters (no lookup of each
// name) and values bound without a copy (each outlives its statement's step).
void store::mark_submitted(std::int64_t id, const std::string& channel, const std::string& provider_id, int parts) {
  const auto pid = normalise_provider_id(provider_id);
  use q(stmt("UPDATE outbox SET state = 2, channel = ?1, provider_id = ?2, parts = ?3, submitted_at = ?4, "
             "updated_at = ?4 WHERE id = ?5 AND state = 1"));
  q->bindNoCopy(1, channel);
  q->bindNoCopy(2, pid);
  q->bind(3, parts);
  q->bind(4, now_ms());
  q->bind(5, id);
  if (q->exec() > 0) count_move(broadcast_of(id), 1, 2);
}

void store::mark_submitted_final(std::int64_t id, const std::string& channel, const std::string& provider_id,
                                 int parts, core::message_state final_state,
                                 const std::optional<std::string>& reason) {
  const auto pid = normalise_provider_id(provider_id);
  use q(stmt("UPDATE outbox SET state = ?1, channel = ?2, provider_id = ?3, parts = ?4, reason = COALESCE(?5, reason), "
             "submitted_at = ?6, finished_at = ?6, updated_at = ?6 WHERE id = ?7 AND state = 1"));
  q->bind(1, code(final_state));
  q->bindNoCopy(2, channel);
  q->bindNoCopy(3, pid);
  q->bind(4, parts);
  if (reason)
    q->bindNoCopy(5, *reason);
  else
    q->bind(5);
  q->bind(6, now_ms());
  q->bind(7, id);
  if (q->exec() == 0) return;
  count_move(broadcast_of(id), 1, code(final_state));
  claimed_broadcast_.erase(id);
}

bool store::mark_reported(const std::string& channel, const std::string& provider_id, core::message_state final_state,
                          const std::string& reason) {
  return mark_reported_normalised(channel, normalise_provider_id(provider_id), final_state, reason);
}

bool store::mark_reported_normalised(const std::string& channel, const std::string& pid,
                                     core::message_state final_state, const std::string& reason) {
  if (core::is_final(final_state)) {
    // Only the newest: a modem's message reference wraps at 256, so an old row whose report never came
    // can share its id with a later message to the same number (protocol/modem/README.md).
    std::int64_t id = 0;
    {
      use q(stmt("SELECT id FROM outbox WHERE channel = ?1 AND provider_id = ?2 AND state IN (1, 2) "
                 "ORDER BY submitted_at DESC, id DESC LIMIT 1"));
      q->bindNoCopy(1, channel);
      q->bindNoCopy(2, pid);
      if (q->executeStep()) id = q->getColumn(0).getInt64();
    }
    if (id != 0 && finish_reported_row(id, channel, pid, final_state, reason)) return true;
  }
  // A repeated or intermediate report for a known message is not an error.
  use q(stmt("SELECT 1 FROM outbox WHERE channel = ?1 AND provider_id = ?2 LIMIT 1"));
  q->bindNoCopy(1, channel);
  q->bindNoCopy(2, pid);
  return q->executeStep();
}

bool store::mark_reported(std::int64_t id, const std::string& channel, const std::string& provider_id,
                          core::message_state final_state, const std::string& reason) {
  // A search of outbox_provider and a sort by submitted_at cost more than the row write itself: about
  // half of a report's cost when its submit result went to the writer in an earlier batch.
  const auto pid = normalise_provider_id(provider_id);
  if (core::is_final(final_state) && finish_reported_row(id, channel, pid, final_state, reason)) return true;
  return mark_reported_normalised(channel, pid, final_state, reason);
}

bool store::finish_reported_row(std::int64_t id, const std::string& channel, const std::string& pid,
                                core::message_state final_state, const std::string& reason) {
  // The state it leaves is pinned, so that its broadcast's counts move from the right one: `submitted`
  // nearly always (the report follows its submit result), `sending` when that result was lost. (RETURNING
  // would tell the broadcast but costs more than this: it materialises its row.)
  for (const auto from : {message_state::submitted, message_state::sending}) {
    use q(stmt("UPDATE outbox SET state = ?1, reason = ?2, finished_at = ?3, updated_at = ?3 "
               "WHERE id = ?4 AND state = ?7 AND channel = ?5 AND provider_id = ?6"));
    q->bind(1, code(final_state));
    q->bindNoCopy(2, reason);
    q->bind(3, now_ms());
    q->bind(4, id);
    q->bindNoCopy(5, channel);
    q->bindNoCopy(6, pid);
    q->bind(7, code(from));
    if (q->exec() == 0) continue;
    count_move(broadcast_of(id), code(from), code(final_state));
    claimed_broadcast_.erase(id);
    return true;
  }
  return false;
}

std::int64_t store::broadcast_of(std::int64_t id) const {
  if (const auto it = claimed_broadcast_.find(id); it != claimed_broadcast_.end()) return it->second;
  use q(stmt("SELECT broadcast_id FROM outbox WHERE id = ?1"));
  q->bind(1, id);
  return q->executeStep() ? q->getColumn(0).getInt64() : 0;
}

std::optional<std::pair<int, std::int64_t>> store::state_of(std::int64_t id) const {
  use q(stmt("SELECT state, COALESCE(broadcast_id, 0) FROM outbox WHERE id = ?1"));
  q->bind(1, id);
  if (!q->executeStep()) return std::nullopt;
  return std::pair<int, std::int64_t>{q->getColumn(0).getInt(), q->getColumn(1).getInt64()};
}

void store::mark_failed(std::int64_t id, const std::string& reason) {
  const auto was = state_of(id);
  if (!was || was->first > code(message_state::submitted)) return;  // finished already: stays as it ended
  use q(stmt("UPDATE outbox SET state = 4, reason = :r, finished_at = :t, updated_at = :t "
             "WHERE id = :id AND state = :s"));
  q->bind(":r", reason);
  q->bind(":t", now_ms());
  q->bind(":id", id);
  q->bind(":s", was->first);
  if (q->exec() > 0) count_move(was->second, was->first, code(message_state::failed));
}

void store::mark_delivered(std::int64_t id) {
  const auto was = state_of(id);
  if (!was || (was->first != code(message_state::sending) && was->first != code(message_state::submitted))) return;
  use q(stmt("UPDATE outbox SET state = 3, finished_at = :t, updated_at = :t WHERE id = :id AND state = :s"));
  q->bind(":t", now_ms());
  q->bind(":id", id);
  q->bind(":s", was->first);
  if (q->exec() > 0) count_move(was->second, was->first, code(message_state::delivered));
}

void store::requeue(std::int64_t id, core::time_point next_attempt_at, const std::string& reason, bool in_doubt) {
  back_to_queue(id, next_attempt_at, reason, in_doubt, false);
}

void store::release_claim(std::int64_t id, core::time_point next_attempt_at, const std::string& reason) {
  back_to_queue(id, next_attempt_at, reason, false, true);
}

void store::back_to_queue(std::int64_t id, core::time_point next_attempt_at, const std::string& reason, bool in_doubt,
                          bool not_attempted) {
  // Only a row in flight goes back (a finished or cancelled one stays as it ended); a submitted one only
  // when it counts as attempted.
  const auto was = state_of(id);
  if (!was || !(was->first == code(message_state::sending) ||
                (was->first == code(message_state::submitted) && !not_attempted)))
    return;
  auto op = atomic();
  std::string phone;
  {
    use q(stmt("UPDATE outbox SET state = 0, next_attempt_at = :n, reason = :r, updated_at = :t, "
               "in_doubt = max(in_doubt, :d), attempts = max(0, attempts - :g) WHERE id = :id "
               "AND state = :s RETURNING phone"));
    q->bind(":d", in_doubt ? 1 : 0);
    q->bind(":g", not_attempted ? 1 : 0);
    q->bind(":n", static_cast<std::int64_t>(core::to_millis(next_attempt_at)));
    q->bind(":r", reason);
    q->bind(":t", now_ms());
    q->bind(":id", id);
    q->bind(":s", was->first);
    // Stepped to the end before anything else runs (stepping a finished statement throws).
    bool changed = false;
    while (q->executeStep()) {
      phone = q->getColumn(0).getString();
      changed = true;
    }
    if (changed) count_move(was->second, was->first, code(message_state::queued));
  }
  // The person may have opted out while this row was in flight: opt-out is absolute.
  if (!phone.empty()) {
    bool any = false;
    {
      use q(stmt("SELECT 1 FROM opt_outs WHERE phone = :p LIMIT 1"));
      q->bind(":p", phone);
      any = q->executeStep();
    }
    if (any) cancel_ineligible(phone);
  }
  op.commit();
}

std::int64_t store::expire_due(core::time_point now) {
  use q(stmt("UPDATE outbox SET state = 5, reason = 'expired', finished_at = :t, updated_at = :t "
             "WHERE state = 0 AND expires_at IS NOT NULL AND expires_at <= :n RETURNING COALESCE(broadcast_id, 0)"));
  q->bind(":t", now_ms());
  q->bind(":n", static_cast<std::int64_t>(core::to_millis(now)));
  const auto expired = returned_broadcasts(*q);
  for (const auto b : expired) count_move(b, 0, 5);
  return static_cast<std::int64_t>(expired.size());
}

std::string encode_id_ranges(std::vector<std::int64_t> ids) {
  std::string out;
  for (const auto& [lo, hi] : id_runs(std::move(ids))) {
    if (!out.empty()) out += ',';
    out += std::to_string(lo);
    if (hi > lo) out += '-' + std::to_string(hi);
  }
  return out;
}

std::optional<std::vector<std::int64_t>> decode_id_ranges(std::string_view text) {
  std::vector<std::int64_t> out;
  const auto number = [&text](std::int64_t& v) {
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc{} || v < 0) return false;
    text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
    return true;
  };
  // A fence names at most a window and a durable lag of rows: a range far wider is not one of ours.
  constexpr std::int64_t widest = 10'000'000;
  while (!text.empty()) {
    std::int64_t lo = 0, hi = 0;
    if (!number(lo)) return std::nullopt;
    hi = lo;
    if (!text.empty() && text.front() == '-') {
      text.remove_prefix(1);
      if (!number(hi) || hi < lo || hi - lo > widest) return std::nullopt;
    }
    for (auto v = lo; v <= hi; ++v) out.push_back(v);
    if (text.empty()) break;
    if (text.front() != ',' || text.size() == 1) return std::nullopt;
    text.remove_prefix(1);
  }
  return out;
}

std::int64_t store::recover_in_doubt() {
  auto op = atomic();
  bool fence_everything = false;
  std::unordered_set<std::int64_t> fenced;
  {
    use q(stmt("SELECT channel, ids FROM dispatch_fence"));
    while (q->executeStep()) {
      const auto ids = q->getColumn(1).getString();
      if (ids == "*") {
        fence_everything = true;
        continue;
      }
      const auto decoded = decode_id_ranges(ids);
      if (!decoded) {
        // Unreadable: the safe reading is that every row in sending may have been sent.
        fence_everything = true;
        continue;
      }
      fenced.insert(decoded->begin(), decoded->end());
    }
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> sending;  // id, broadcast (0: none)
  {
    use q(stmt("SELECT id, COALESCE(broadcast_id, 0) FROM outbox WHERE state = 1"));
    while (q->executeStep()) sending.emplace_back(q->getColumn(0).getInt64(), q->getColumn(1).getInt64());
  }
  std::int64_t in_doubt = 0;
  const auto t = now_ms();
  for (const auto& [id, broadcast] : sending) {
    // Not fenced: claimed, never handed to a link, so the claim's attempt did not happen.
    const bool may_have_been_sent = fence_everything || fenced.contains(id);
    use q(stmt("UPDATE outbox SET state = 0, in_doubt = max(in_doubt, :d), attempts = max(0, attempts - 1 + :d), "
               "next_attempt_at = :t, updated_at = :t WHERE id = :id"));
    q->bind(":d", may_have_been_sent ? 1 : 0);
    q->bind(":t", t);
    q->bind(":id", id);
    q->exec();
    count_move(broadcast, 1, 0);
    if (may_have_been_sent) ++in_doubt;
  }
  db_->exec("DELETE FROM dispatch_fence");
  op.commit();
  return in_doubt;
}

void store::set_dispatch_fence(const std::string& key, const std::vector<std::int64_t>& ids) {
  use q(stmt("INSERT INTO dispatch_fence (channel, ids) VALUES (:k, :i) "
             "ON CONFLICT (channel) DO UPDATE SET ids = excluded.ids"));
  q->bind(":k", key);
  q->bind(":i", encode_id_ranges(ids));
  q->exec();
}

std::int64_t store::enqueue_direct(const std::string& phone, const std::string& text, core::priority p,
                                   const std::string& channel_pref) {
  use q(stmt("INSERT INTO outbox (subscriber_id, phone, text, channel_pref, priority, state, next_attempt_at, "
             "created_at, updated_at) VALUES ((SELECT id FROM subscribers WHERE phone = :p), :p, :x, "
             "NULLIF(:c, ''), :pr, 0, :t, :t, :t)"));
  q->bind(":p", phone);
  q->bind(":x", text);
  q->bind(":c", channel_pref);
  q->bind(":pr", static_cast<int>(p));
  q->bind(":t", now_ms());
  q->exec();
  return db_->getLastInsertRowid();
}

std::optional<core::message_state> store::outbox_state(std::int64_t id) const {
  use q(stmt("SELECT state FROM outbox WHERE id = :id"));
  q->bind(":id", id);
  if (!q->executeStep()) return std::nullopt;
  return static_cast<message_state>(q->getColumn(0).getInt());
}

// ---- outbox counts ----

std::int64_t store::count_submitted_since(const std::string& channel, core::time_point since) const {
  // Every submitted row has a provider id, so the partial outbox_provider index narrows the scan to
  // this channel's submitted rows; run once per channel at start, it needs no index of its own.
  use q(stmt("SELECT count(*) FROM outbox WHERE channel = :c AND provider_id IS NOT NULL AND submitted_at >= :s"));
  q->bind(":c", channel);
  q->bind(":s", static_cast<std::int64_t>(core::to_millis(since)));
  q->executeStep();
  return q->getColumn(0).getInt64();
}

std::int64_t store::direct_count(const std::string& phone, core::time_point since) const {
  use q(stmt("SELECT count(*) FROM outbox WHERE phone = :p AND broadcast_id IS NULL AND created_at >= :s"));
  q->bind(":p", phone);
  q->bind(":s", static_cast<std::int64_t>(core::to_millis(since)));
  q->executeStep();
  return q->getColumn(0).getInt64();
}

}  // namespace kentongan::storage
