// Schema v5: a broadcast's counts by state are kept in broadcast_counts by every change the store makes,
// summed per transaction. After each kind of change, in and out of transactions, and after rollbacks,
// the table must say exactly what the rows say.
#include <SQLiteCpp/SQLiteCpp.h>

#include <functional>
#include <set>
#include <map>
#include <tuple>

#include "tests/unit/storage/conformance.hpp"
#include "tests/unit/storage/temp_dir.hpp"

using namespace kentongan;
using namespace kentongan::storage;
using namespace kentongan::storage::conformance;
using kentongan::storage::testing::temp_dir;
using core::message_state;

namespace {

using count_map = std::map<std::pair<std::int64_t, int>, std::int64_t>;

/// (broadcast, state) → n from a query that selects those three columns.
count_map query_counts(const std::filesystem::path& file, const char* sql) {
  SQLite::Database raw(file, SQLite::OPEN_READONLY);
  SQLite::Statement q(raw, sql);
  count_map out;
  while (q.executeStep()) out[{q.getColumn(0).getInt64(), q.getColumn(1).getInt()}] = q.getColumn(2).getInt64();
  return out;
}

count_map counted_rows(const std::filesystem::path& file) {
  return query_counts(file,
                      "SELECT broadcast_id, state, count(*) FROM outbox WHERE broadcast_id IS NOT NULL GROUP BY 1, 2");
}

count_map kept_counts(const std::filesystem::path& file) {
  return query_counts(file, "SELECT broadcast_id, state, n FROM broadcast_counts WHERE n <> 0");
}

/// store::counts() as the map the rows give, for one broadcast.
count_map as_map(std::int64_t b, const state_counts& c) {
  count_map out;
  const std::pair<message_state, std::int64_t> by_state[] = {
      {message_state::queued, c.queued},     {message_state::sending, c.sending}, {message_state::submitted, c.submitted},
      {message_state::delivered, c.delivered}, {message_state::failed, c.failed},   {message_state::expired, c.expired},
      {message_state::cancelled, c.cancelled}};
  for (const auto& [s, n] : by_state)
    if (n != 0) out[{b, static_cast<int>(s)}] = n;
  return out;
}

count_map only(const count_map& m, std::int64_t b) {
  count_map out;
  for (const auto& [k, n] : m)
    if (k.first == b) out[k] = n;
  return out;
}

struct fixture {
  temp_dir dir;
  std::filesystem::path file = dir.path / "kentongan.db";
  store db{file};
  village v;
  std::int64_t all = 0, farmers = 0, expiring = 0;

  fixture() {
    db.sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec spec;
    spec.text = "Rapat desa besok";
    spec.all = true;
    all = db.create_broadcast(spec);
    expand_all(db, all, 2);  // several expansion batches
    spec.all = false;
    spec.groups = {"petani-kakao"};
    spec.text = "Harga kakao naik";
    farmers = db.create_broadcast(spec);
    expand_all(db, farmers, 100);
    spec.text = "Besok hujan";
    spec.expires_at = core::now() + std::chrono::minutes{30};
    expiring = db.create_broadcast(spec);
    expand_all(db, expiring, 100);
    db.enqueue_direct("+6281200000005", "Terima kasih", core::priority::normal, "");  // not a broadcast's
  }

  void check(const char* after) {
    CAPTURE(after);
    const auto rows = counted_rows(file);
    CHECK(kept_counts(file) == rows);
    for (const auto b : {all, farmers, expiring}) {
      const auto c = db.counts(b);
      CHECK(as_map(b, c) == only(rows, b));
      std::int64_t sum = 0;
      for (const auto& [k, n] : only(rows, b)) sum += n;
      CHECK(c.recipients == sum);
    }
  }

  /// The first `n` due rows, claimed.
  std::vector<outbox_row> claim(std::size_t n) { return db.claim_due(core::now() + std::chrono::seconds{1}, n, true); }
};

}  // namespace

TEST_CASE("broadcast counts follow every change of a broadcast row") {
  for (const bool in_transaction : {false, true}) {
    CAPTURE(in_transaction);
    fixture f;
    f.check("expansion");
    const auto step = [&](const char* label, const std::function<void()>& change) {
      if (in_transaction) f.db.begin();
      change();
      if (in_transaction) {
        f.db.counts(f.all);  // a read inside the transaction sees its own changes (checked after commit)
        f.db.commit();
      }
      f.check(label);
    };
    std::vector<outbox_row> c;
    step("claim", [&] { c = f.claim(6); });
    REQUIRE(c.size() == 6);
    step("submitted", [&] { f.db.mark_submitted(c[0].id, "sim", "p0", 1); });
    step("submitted and delivered in one", [&] {
      f.db.mark_submitted_final(c[1].id, "sim", "p1", 1, message_state::delivered, std::nullopt);
    });
    step("report by row", [&] { CHECK(f.db.mark_reported(c[0].id, "sim", "p0", message_state::delivered, "")); });
    step("report of a row still sending (its submit result lost)", [&] {
      f.db.mark_submitted(c[2].id, "sim", "p2", 1);
      f.db.requeue(c[2].id, core::now(), "retry");
      c = f.claim(1);
      REQUIRE(c.size() == 1);
    });
    step("report by search", [&] {
      f.db.mark_submitted(c[0].id, "sim", "p9", 1);
      CHECK(f.db.mark_reported("sim", "P9", message_state::failed, "absent"));
    });
    step("an unknown report changes nothing", [&] {
      CHECK_FALSE(f.db.mark_reported(12345, "sim", "nope", message_state::delivered, ""));
    });
    step("requeue, release, failed, delivered", [&] {
      c = f.claim(4);
      REQUIRE(c.size() == 4);
      f.db.requeue(c[0].id, core::now() + std::chrono::hours{1}, "throttled", true);
      f.db.release_claim(c[1].id, core::now(), "daemon stopping");
      f.db.mark_failed(c[2].id, "rejected");
      f.db.mark_delivered(c[3].id);
      f.db.mark_delivered(c[3].id);  // twice: the second finds it finished
      f.db.mark_failed(c[3].id, "late");
    });
    step("opt-out cancels what is queued", [&] { f.db.opt_out("+6281200000003", std::nullopt); });
    step("forget", [&] { f.db.forget("+6281200000004"); });
    step("expiry", [&] { CHECK(f.db.expire_due(core::now() + std::chrono::hours{1}) > 0); });
    step("crash recovery", [&] {
      c = f.claim(3);
      f.db.recover_in_doubt();
    });
    step("removed from config", [&] {
      auto subs = f.v.subscribers;
      subs.erase(subs.begin() + 4);  // +6281200000005
      f.db.sync_config(f.v.groups, subs, f.v.officers);
    });
    step("cancel", [&] { CHECK(f.db.cancel_broadcast(f.farmers) >= 0); });
    step("resend", [&] {
      const auto again = f.db.resend(f.farmers, false);  // its cancelled rows go again
      expand_all(f.db, again, 1);
      CHECK(f.db.counts(again).recipients > 0);
    });
  }
}

TEST_CASE("broadcast counts: a rollback takes back what it undoes") {
  fixture f;
  const auto before = kept_counts(f.file);

  f.db.begin();
  auto c = f.claim(3);
  REQUIRE(c.size() == 3);
  f.db.mark_submitted(c[0].id, "sim", "p0", 1);
  f.db.rollback();
  f.check("transaction rolled back");
  CHECK(kept_counts(f.file) == before);

  // The writer's path: each job in a savepoint; a failing job is rolled back alone.
  f.db.begin();
  f.db.savepoint();
  c = f.claim(2);
  f.db.release();
  f.db.savepoint();
  f.db.mark_submitted(c[0].id, "sim", "p0", 1);
  f.db.cancel_broadcast(f.farmers);
  f.db.rollback_to();
  f.db.release();
  f.db.savepoint();
  f.db.mark_submitted_final(c[1].id, "sim", "p1", 1, message_state::delivered, std::nullopt);
  f.db.release();
  f.db.commit();
  f.check("one job of three rolled back");
  CHECK(f.db.outbox_state(c[0].id) == message_state::sending);
  CHECK(f.db.outbox_state(c[1].id) == message_state::delivered);
  CHECK(f.db.counts(f.farmers).cancelled == 0);
}

TEST_CASE("schema v5 fills broadcast_counts from the rows a v4 database has") {
  temp_dir dir;
  const auto file = dir.path / "old.db";
  {
    store db(file);
    seed_village_broadcast(db);
    db.claim_due(core::now() + std::chrono::seconds{1}, 2, true);
  }
  {
    // As a v4 database: the counts table gone, the old index back.
    SQLite::Database raw(file, SQLite::OPEN_READWRITE);
    raw.exec("DROP TABLE broadcast_counts; DROP INDEX outbox_broadcast; "
             "CREATE INDEX outbox_broadcast ON outbox(broadcast_id, state, subscriber_id); PRAGMA user_version = 4");
  }
  store db(file);
  CHECK(db.schema_version() == latest_schema_version);
  CHECK(kept_counts(file) == counted_rows(file));
  const auto c = db.counts(1);
  CHECK(c.recipients == 6);
  CHECK(c.sending == 2);
  CHECK(c.queued == 4);
}

TEST_CASE("a claim marks exactly the rows it returns, whether as rowid ranges or as a list") {
  struct case_t {
    const char* label;
    std::size_t limit;
    bool reply_between;  ///< a reply queued while the broadcast expands: its id splits the broadcast's rows
  };
  const case_t cases[] = {
      {"one long run (ranges)", 200, false},
      {"two long runs around a reply (ranges)", 200, true},
      {"short claims (a list)", 5, true},
      {"part of a run (ranges)", 70, false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    temp_dir dir;
    const auto file = dir.path / "k.db";
    store db(file);
    std::vector<core::subscriber> subs;
    for (int i = 0; i < 120; ++i) subs.push_back(sub("+62812300" + std::to_string(10000 + i), {}));
    db.sync_config({}, subs, {});
    broadcast_spec spec;
    spec.text = "Rapat";
    spec.all = true;
    const auto b = db.create_broadcast(spec);
    db.expand_broadcast(b, 60);
    const auto reply = c.reply_between ? db.enqueue_direct("+6281230010005", "Terima kasih", core::priority::normal, "") : 0;
    expand_all(db, b, 100);

    std::set<std::int64_t> claimed;
    for (int round = 0; round < 200; ++round) {
      const auto rows = db.claim_due(core::now() + std::chrono::seconds{1}, c.limit, true);
      if (rows.empty()) break;
      for (const auto& r : rows) {
        CHECK(claimed.insert(r.id).second);  // never claimed twice
        CHECK(db.outbox_state(r.id) == message_state::sending);
      }
      if (c.limit == 70) break;  // one claim only: the rest must stay queued
    }
    SQLite::Database raw(file, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT id, state, attempts FROM outbox ORDER BY id");
    std::size_t rows = 0;
    while (q.executeStep()) {
      ++rows;
      const auto id = q.getColumn(0).getInt64();
      const bool was_claimed = claimed.count(id) > 0;
      CHECK(q.getColumn(1).getInt() == (was_claimed ? 1 : 0));
      CHECK(q.getColumn(2).getInt() == (was_claimed ? 1 : 0));
    }
    CHECK(rows == 120 + (reply != 0 ? 1 : 0));
    CHECK(claimed.size() == (c.limit == 70 ? 70 : rows));
    CHECK(kept_counts(file) == counted_rows(file));
  }
}
