// Issue 9, P2: after a crash only the rows a dispatcher may have handed to the network are in doubt.
#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdlib>

#include "tests/unit/storage/conformance.hpp"
#include "tests/unit/storage/temp_dir.hpp"

using namespace kentongan;
using namespace kentongan::storage;
using namespace kentongan::storage::conformance;
using kentongan::storage::testing::temp_dir;

namespace {

struct row_view {
  int state, attempts, in_doubt;
  bool operator==(const row_view&) const = default;
};

row_view read_row(const std::filesystem::path& file, std::int64_t id) {
  SQLite::Database raw(file, SQLite::OPEN_READONLY);
  SQLite::Statement q(raw, "SELECT state, attempts, in_doubt FROM outbox WHERE id = ?");
  q.bind(1, id);
  REQUIRE(q.executeStep());
  return {q.getColumn(0).getInt(), q.getColumn(1).getInt(), q.getColumn(2).getInt()};
}

std::int64_t fences(const std::filesystem::path& file) {
  SQLite::Database raw(file, SQLite::OPEN_READONLY);
  return raw.execAndGet("SELECT count(*) FROM dispatch_fence").getInt64();
}

std::vector<outbox_row> six_claimed(store& db, std::size_t claim) {
  village v;
  db.sync_config(v.groups, v.subscribers, v.officers);
  broadcast_spec spec;
  spec.text = "Banjir: warga bantaran sungai mengungsi ke balai desa";
  spec.all = true;
  expand_all(db, db.create_broadcast(spec), 100);
  auto claimed = db.claim_due(core::now() + std::chrono::seconds{1}, claim, true);
  REQUIRE(claimed.size() == claim);
  return claimed;
}

}  // namespace

TEST_CASE("id ranges: encoded sorted and merged, decoded back, anything else refused") {
  struct encode_case {
    const char* label;
    std::vector<std::int64_t> ids;
    const char* text;
  };
  const encode_case encodes[] = {
      {"nothing", {}, ""},
      {"one", {42}, "42"},
      {"a run", {3, 4, 5, 6, 7}, "3-7"},
      {"unsorted with duplicates", {9, 3, 5, 4, 9, 12, 13, 6, 7}, "3-7,9,12-13"},
      {"two apart is two singles", {1, 3}, "1,3"},
      {"big ids", {9'000'000'000LL, 9'000'000'001LL}, "9000000000-9000000001"},
  };
  for (const auto& c : encodes) {
    CAPTURE(c.label);
    CHECK(encode_id_ranges(c.ids) == c.text);
    auto sorted = c.ids;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    const auto back = decode_id_ranges(c.text);
    REQUIRE(back.has_value());
    CHECK(*back == sorted);
  }
  const char* refused[] = {"*",    "1,",  ",1",   "1-",   "-1",  "5-3",  "1,,2", "1 2", "a",
                           "1-2-3", "1;2", "1-99999999999", "99999999999999999999", "1,-2"};
  for (const auto* text : refused) {
    CAPTURE(text);
    CHECK_FALSE(decode_id_ranges(text).has_value());
  }
}

TEST_CASE("recover_in_doubt: only the fenced rows in sending are in doubt; the others get their attempt back") {
  temp_dir dir;
  const auto file = dir.path / "kentongan.db";
  store db(file);
  // A new database carries the marker of a daemon from before the fence: the first start clears it.
  CHECK(fences(file) == 1);
  CHECK(db.recover_in_doubt() == 0);
  CHECK(fences(file) == 0);

  const auto claimed = six_claimed(db, 5);
  // The dispatcher fenced the first three (handed or about to be), handed two; the first was answered.
  db.set_dispatch_fence("sim#1", {claimed[0].id, claimed[1].id});
  db.set_dispatch_fence("sim#1", {claimed[0].id, claimed[1].id, claimed[2].id});  // replaces, not adds
  db.mark_submitted(claimed[0].id, "sim", "p1", 1);
  // Another channel instance fenced a row that was since answered and requeued: not in sending, untouched.
  db.set_dispatch_fence("wa#2", {claimed[4].id});
  db.requeue(claimed[4].id, core::now(), "retry later");

  CHECK(db.recover_in_doubt() == 2);  // claimed[1] and claimed[2]
  CHECK(read_row(file, claimed[0].id) == row_view{2, 1, 0});
  CHECK(read_row(file, claimed[1].id) == row_view{0, 1, 1});
  CHECK(read_row(file, claimed[2].id) == row_view{0, 1, 1});
  CHECK(read_row(file, claimed[3].id) == row_view{0, 0, 0});  // claimed ahead, never handed over
  CHECK(read_row(file, claimed[4].id) == row_view{0, 1, 0});
  CHECK(fences(file) == 0);
  CHECK(db.recover_in_doubt() == 0);  // nothing left in sending
}

TEST_CASE("recover_in_doubt: an unreadable fence or a pre-fence database counts every row in sending") {
  for (const char* ids : {"*", "garbage", "3-1"}) {
    CAPTURE(ids);
    temp_dir dir;
    const auto file = dir.path / "kentongan.db";
    store db(file);
    db.recover_in_doubt();
    const auto claimed = six_claimed(db, 3);
    {
      SQLite::Database raw(file, SQLite::OPEN_READWRITE);
      SQLite::Statement q(raw, "INSERT INTO dispatch_fence (channel, ids) VALUES ('old', ?)");
      q.bind(1, ids);
      q.exec();
    }
    CHECK(db.recover_in_doubt() == 3);
    for (const auto& r : claimed) CHECK(read_row(file, r.id) == row_view{0, 1, 1});
  }
}

TEST_CASE("release_claim: a row never handed over goes back to the queue with its attempt returned") {
  temp_dir dir;
  const auto file = dir.path / "kentongan.db";
  store db(file);
  db.recover_in_doubt();
  const auto claimed = six_claimed(db, 3);
  const auto later = core::now() + std::chrono::seconds{5};
  db.release_claim(claimed[0].id, later, "no channel up");
  db.requeue(claimed[1].id, later, "throttled");  // a real attempt: counted
  db.mark_submitted(claimed[2].id, "sim", "p3", 1);
  db.release_claim(claimed[2].id, later, "late");  // submitted: not a claim any more, left alone
  CHECK(read_row(file, claimed[0].id) == row_view{0, 0, 0});
  CHECK(read_row(file, claimed[1].id) == row_view{0, 1, 0});
  CHECK(read_row(file, claimed[2].id) == row_view{2, 1, 0});
  // Claimed again and released again: never below zero.
  auto again = db.claim_due(later + std::chrono::seconds{1}, 1, true);
  REQUIRE(again.size() == 1);
  db.release_claim(again[0].id, later, "no channel up");
  db.release_claim(again[0].id, later, "no channel up");  // not in sending any more: nothing happens
  CHECK(read_row(file, again[0].id).attempts == (again[0].id == claimed[1].id ? 1 : 0));
}
