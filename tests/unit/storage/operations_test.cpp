// Operations (issue 8): online backups while the database is written to, and the figures for /metrics.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "storage/backup.hpp"
#include "tests/unit/storage/conformance.hpp"
#include "tests/unit/storage/temp_dir.hpp"

using namespace kentongan;
using namespace kentongan::storage;
using namespace kentongan::storage::conformance;
using kentongan::storage::testing::temp_dir;

namespace {

std::int64_t rows_in(const std::filesystem::path& db, const std::string& table) {
  SQLite::Database raw(db, SQLite::OPEN_READONLY);
  return raw.execAndGet("SELECT count(*) FROM " + table).getInt64();
}

std::int64_t seed(store& db) { return seed_village_broadcast(db); }

/// seed(), then its first `n` rows claimed (state sending), in queue order.
std::vector<outbox_row> seed_and_claim(store& db, std::size_t n) {
  seed(db);
  auto claimed = db.claim_due(core::now() + std::chrono::seconds{1}, n, true);
  REQUIRE(claimed.size() == n);
  return claimed;
}

}  // namespace

TEST_CASE("backup: a copy of a live database, consistent, checked, mode 0600") {
  temp_dir dir;
  const auto live = dir.path / "kentongan.db";
  const auto copy = dir.path / "backup.db";
  store db(live);
  seed(db);
  const auto outbox_rows = rows_in(live, "outbox");
  REQUIRE(outbox_rows > 0);

  // A stale .tmp from an interrupted backup is replaced, not appended to.
  std::ofstream(copy.string() + ".tmp") << "garbage";
  const auto report = backup_database(live, copy, 1);
  CHECK(report.file == copy);
  CHECK(report.pages > 1);
  CHECK(report.steps >= report.pages);  // one page per step
  CHECK(report.bytes == static_cast<std::int64_t>(std::filesystem::file_size(copy)));
  CHECK_FALSE(std::filesystem::exists(copy.string() + ".tmp"));
  struct stat st {};
  REQUIRE(::stat(copy.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  SQLite::Database raw(copy, SQLite::OPEN_READONLY);
  CHECK(raw.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "delete");  // one self-contained file
  CHECK(raw.execAndGet("PRAGMA user_version").getInt() == latest_schema_version);
  CHECK(raw.execAndGet("SELECT count(*) FROM outbox").getInt64() == outbox_rows);
  // The copy opens as a store, as a restore would.
  store restored(copy);
  CHECK(restored.list_broadcasts(10).size() == 1);
}

TEST_CASE("backup: the copy is the snapshot of the first step, whatever is written between steps") {
  temp_dir dir;
  const auto live = dir.path / "kentongan.db";
  const auto copy = dir.path / "backup.db";
  store db(live);
  seed(db);
  // Enough pages that the backup takes many steps.
  for (int i = 0; i < 300; ++i) db.log_event("filler", "test", std::string(400, 'x'));
  const auto events_before = rows_in(live, "events");

  online_backup b(live, copy);
  CHECK(std::filesystem::exists(copy.string() + ".tmp"));
  int steps = 0;
  bool done = false;
  while (!done) {
    done = b.step(2);
    // The daemon's writer keeps committing between steps.
    db.log_event("during", "test", std::string(400, 'y'));
    ++steps;
  }
  CHECK(steps > 3);
  b.finish();
  CHECK(rows_in(copy, "events") == events_before);
  CHECK(rows_in(live, "events") == events_before + steps);
  SQLite::Database raw(copy, SQLite::OPEN_READONLY);
  CHECK(raw.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("backup: an abandoned backup leaves nothing behind") {
  temp_dir dir;
  const auto live = dir.path / "kentongan.db";
  const auto copy = dir.path / "backup.db";
  store db(live);
  seed(db);
  {
    online_backup b(live, copy);
    b.step(1);
  }
  CHECK_FALSE(std::filesystem::exists(copy.string() + ".tmp"));
  CHECK_FALSE(std::filesystem::exists(copy));
}

TEST_CASE("backup: refusals name the file and what to do") {
  temp_dir dir;
  const auto live = dir.path / "kentongan.db";
  { store db(live); }
  struct row {
    const char* label;
    std::filesystem::path source, target;
    std::string expected;
  };
  const std::vector<row> cases{
      {"no database", dir.path / "missing.db", dir.path / "b.db",
       "no database at " + (dir.path / "missing.db").string() + " (check --state-dir or storage.path)"},
      {"no folder", live, dir.path / "nowhere" / "b.db",
       "cannot write the backup " + (dir.path / "nowhere" / "b.db").string() + ": the folder " +
           (dir.path / "nowhere").string() + " does not exist"},
      {"the live database itself", live, live,
       "the backup file " + live.string() + " is the live database itself: choose another file"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    CHECK_THROWS_WITH_AS(backup_database(c.source, c.target), c.expected.c_str(), storage_error);
  }
}

TEST_CASE("metrics: messages by channel and state, queue, inbound by outcome, aspirations by status") {
  temp_dir dir;
  store db(dir.path / "kentongan.db");
  {
    const auto m = db.metrics();
    CHECK(m.messages.empty());
    CHECK(m.queued == 0);
    CHECK_FALSE(m.oldest_queued.has_value());
    CHECK(m.aspirations == std::map<std::string, std::int64_t>{{"baru", 0}, {"diproses", 0}, {"selesai", 0}, {"ditolak", 0}});
  }
  seed(db);  // six queued rows
  const auto before = core::now();
  auto claimed = db.claim_due(core::now() + std::chrono::seconds{1}, 3, true);
  REQUIRE(claimed.size() == 3);
  db.mark_submitted(claimed[0].id, "telkomsel", "p1", 1);
  db.mark_submitted(claimed[1].id, "telkomsel", "p2", 1);
  db.mark_delivered(claimed[1].id);
  db.mark_failed(claimed[2].id, "no route");  // never handed to a channel: channel ""
  const auto a = db.store_inbound("telkomsel", "m1", "+6281200000001", "DAFTAR petani-kakao", core::now());
  const auto b = db.store_inbound("telkomsel", "m2", "+6281200000002", "jalan rusak", core::now());
  db.store_inbound("wa", "w1", "+6281200000003", "INFO", core::now());
  REQUIRE(a);
  REQUIRE(b);
  db.mark_inbound_handled(*a, "subscribe");
  db.mark_inbound_handled(*b, "aspiration");
  aspiration_spec asp;
  asp.phone = "+6281200000002";
  asp.text = "jalan rusak";
  asp.received_at = core::now();
  db.create_aspiration(asp);
  const auto t = db.create_aspiration(asp);
  db.set_status(t, status_done, "kades", "sudah");

  const auto m = db.metrics();
  using key = std::pair<std::string, std::string>;
  CHECK(m.messages == std::map<key, std::int64_t>{
                          {{"", "queued"}, 3}, {{"", "failed"}, 1}, {{"telkomsel", "submitted"}, 1}, {{"telkomsel", "delivered"}, 1}});
  CHECK(m.queued == 3);
  REQUIRE(m.oldest_queued.has_value());
  CHECK(*m.oldest_queued <= before);
  CHECK(m.inbound == std::map<key, std::int64_t>{{{"telkomsel", "subscribe"}, 1}, {{"telkomsel", "aspiration"}, 1}, {{"wa", ""}, 1}});
  CHECK(m.aspirations == std::map<std::string, std::int64_t>{{"baru", 1}, {"diproses", 0}, {"selesai", 1}, {"ditolak", 0}});
}

TEST_CASE("mark_submitted_final: the same row as the submit result then its report, in one write") {
  struct row_view {
    std::string state, channel, reason, provider_id;
    int parts;
    bool submitted, finished;
    bool operator==(const row_view&) const = default;
  };
  const auto read = [](const std::filesystem::path& file, std::int64_t id) {
    SQLite::Database raw(file, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT state, channel, COALESCE(reason, '<null>'), provider_id, parts, submitted_at IS NOT NULL, "
                             "finished_at IS NOT NULL FROM outbox WHERE id = ?");
    q.bind(1, id);
    REQUIRE(q.executeStep());
    return row_view{std::to_string(q.getColumn(0).getInt()), q.getColumn(1).getString(), q.getColumn(2).getString(),
                    q.getColumn(3).getString(), q.getColumn(4).getInt(), q.getColumn(5).getInt() != 0,
                    q.getColumn(6).getInt() != 0};
  };
  struct case_t {
    const char* label;
    core::message_state final_state;
    std::optional<std::string> reason;  ///< nullopt: the channel said "delivered" with its answer
    bool requeued_before;               ///< the row carries an earlier attempt's reason
  };
  const case_t cases[] = {
      {"delivered report", core::message_state::delivered, std::string(""), false},
      {"failed report with a reason", core::message_state::failed, std::string("absent subscriber"), false},
      {"expired report", core::message_state::expired, std::string("validity"), true},
      {"delivered with the submit answer, no reason", core::message_state::delivered, std::nullopt, false},
      {"delivered with the submit answer after a retry keeps the retry's reason", core::message_state::delivered,
       std::nullopt, true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    temp_dir dir;
    const auto file_a = dir.path / "two.db";
    const auto file_b = dir.path / "one.db";
    store two(file_a);
    store one(file_b);
    std::int64_t ids[2] = {0, 0};
    int n = 0;
    for (store* db : {&two, &one}) {
      seed(*db);
      auto claimed = db->claim_due(core::now() + std::chrono::seconds{1}, 1, true);
      REQUIRE(claimed.size() == 1);
      if (c.requeued_before) {
        db->requeue(claimed[0].id, core::now(), "timeout");
        claimed = db->claim_due(core::now() + std::chrono::seconds{1}, 1, true);
        REQUIRE(claimed.size() == 1);
      }
      ids[n++] = claimed[0].id;
    }
    two.mark_submitted(ids[0], "telkomsel", "00AB12", 2);
    if (c.reason)
      CHECK(two.mark_reported("telkomsel", "ab12", c.final_state, *c.reason));
    else
      two.mark_delivered(ids[0]);
    one.mark_submitted_final(ids[1], "telkomsel", "00AB12", 2, c.final_state, c.reason);
    CHECK(read(file_b, ids[1]) == read(file_a, ids[0]));
    CHECK(read(file_b, ids[1]).state == std::to_string(static_cast<int>(c.final_state)));
    // A repeated report for it is known, changes nothing.
    CHECK(one.mark_reported("telkomsel", "AB12", core::message_state::failed, "late"));
    CHECK(read(file_b, ids[1]) == read(file_a, ids[0]));
  }
}

TEST_CASE("mark_reported: of two rows sharing a provider id (a modem's reference wrapped), the newest finishes") {
  temp_dir dir;
  store db(dir.path / "kentongan.db");
  const auto claimed = seed_and_claim(db, 2);
  db.mark_submitted(claimed[0].id, "modem", "mr7-0a1b2c3d", 1);
  db.mark_submitted(claimed[1].id, "modem", "mr7-0a1b2c3d", 1);
  CHECK(db.mark_reported("modem", "mr7-0a1b2c3d", core::message_state::delivered, ""));
  CHECK(db.outbox_state(claimed[0].id) == core::message_state::submitted);
  CHECK(db.outbox_state(claimed[1].id) == core::message_state::delivered);
  CHECK(db.mark_reported("modem", "mr7-0a1b2c3d", core::message_state::failed, "absent"));
  CHECK(db.outbox_state(claimed[0].id) == core::message_state::failed);
}

TEST_CASE("mark_reported by row: the row named if it still has that provider id, else the search") {
  struct case_t {
    const char* label;
    int named;                 ///< which claimed row the caller names (0, 1; 2: an id no row has)
    const char* provider_id;   ///< as the report spells it
    bool known;
    int finished;              ///< which row ends failed (-1: none)
  };
  const case_t cases[] = {
      {"the named row", 0, "0AB", true, 0},
      {"spelled in another case and with leading zeros", 0, "000ab", true, 0},
      {"the named row has another provider id: the search finds the right one", 1, "ab", true, 0},
      {"no such row: the search finds the provider id", 2, "ab", true, 0},
      {"unknown provider id", 0, "ffff", false, -1},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    temp_dir dir;
    store db(dir.path / "kentongan.db");
    const auto claimed = seed_and_claim(db, 2);
    db.mark_submitted(claimed[0].id, "smsc", "AB", 1);
    db.mark_submitted(claimed[1].id, "smsc", "CD", 1);
    const std::int64_t named = c.named < 2 ? claimed[static_cast<std::size_t>(c.named)].id : claimed[1].id + 1000;
    CHECK(db.mark_reported(named, "smsc", c.provider_id, core::message_state::failed, "absent") == c.known);
    for (int i = 0; i < 2; ++i)
      CHECK(db.outbox_state(claimed[static_cast<std::size_t>(i)].id) ==
            (i == c.finished ? core::message_state::failed : core::message_state::submitted));
  }
  // A finished row is not finished again through its id; a repeated report is still known.
  temp_dir dir;
  store db(dir.path / "kentongan.db");
  const auto claimed = seed_and_claim(db, 1);
  db.mark_submitted(claimed[0].id, "smsc", "AB", 1);
  CHECK(db.mark_reported(claimed[0].id, "smsc", "AB", core::message_state::delivered, ""));
  CHECK(db.mark_reported(claimed[0].id, "smsc", "AB", core::message_state::failed, "late"));
  CHECK(db.outbox_state(claimed[0].id) == core::message_state::delivered);
}
