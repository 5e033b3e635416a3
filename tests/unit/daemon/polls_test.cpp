#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "daemon/polls.hpp"

using namespace kentongan;
using namespace kentongan::daemon;
using namespace std::chrono_literals;

namespace {

/// A fresh database file, removed afterwards.
struct temp_db {
  std::filesystem::path file;
  temp_db() {
    std::random_device rd;
    file = std::filesystem::temp_directory_path() / ("kentongan-polls-test-" + std::to_string(rd()) + ".db");
  }
  ~temp_db() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix, ec);
  }
};

core::subscriber person(std::string phone, std::string dusun) {
  core::subscriber s;
  s.phone = std::move(phone);
  s.name = "warga";
  s.groups = {"warga-dusun-1"};
  s.attributes = {{"dusun", std::move(dusun)}};
  return s;
}

}  // namespace

TEST_CASE("poll broadcast text numbers the options") {
  CHECK(poll_broadcast_text("Jadwal gotong royong?", {"Sabtu", "Minggu"}, "2026-12-05") ==
        "Jadwal gotong royong?\n1. Sabtu\n2. Minggu\nBalas dengan angka pilihan Anda sampai 2026-12-05.");
  CHECK(poll_broadcast_text("Q?", {"a", "b"}, "") == "Q?\n1. a\n2. b\nBalas dengan angka pilihan Anda.");
}

TEST_CASE("try_poll_vote: recipients' votes count, the latest wins, anything else goes on to the intake") {
  temp_db tmp;
  storage::store db(tmp.file);
  db.sync_config({core::group{"warga-dusun-1", "Warga Dusun 1", "", true, core::relay_policy::off}},
                 {person("+6281200000101", "Dusun 1"), person("+6281200000102", "Dusun 2")}, {});
  config::village_config cfg;
  intake_state state(cfg);

  std::string reply;
  CHECK_FALSE(try_poll_vote(db, state, "+6281200000101", "1", reply));  // no poll yet

  storage::broadcast_spec spec;
  spec.text = poll_broadcast_text("Jadwal gotong royong?", {"Sabtu", "Minggu"}, "");
  spec.groups = {"warga-dusun-1"};
  const auto id = db.create_broadcast(spec);
  db.create_poll(id, storage::poll_spec{"Jadwal gotong royong?", {"Sabtu", "Minggu"}, core::now() + 24h});
  CHECK_FALSE(try_poll_vote(db, state, "+6281200000101", "1", reply));  // not sent to them yet
  db.expand_broadcast(id, 100);

  struct row {
    const char* label;
    const char* phone;
    const char* text;
    bool vote;
    const char* ack_has;
  };
  for (const auto& r : {row{"a number", "+6281200000101", "2", true, "(Minggu)"},
                        row{"the option's word", "+6281200000102", "sabtu", true, "(Sabtu)"},
                        row{"a change of mind", "+6281200000101", "pilih 1", true, "(Sabtu)"},
                        row{"not a vote", "+6281200000101", "LAPOR lampu jalan mati", false, ""},
                        row{"out of range", "+6281200000101", "7", false, ""},
                        row{"not a recipient", "+6281299990001", "1", false, ""}}) {
    CAPTURE(r.label);
    reply.clear();
    CHECK(try_poll_vote(db, state, r.phone, r.text, reply) == r.vote);
    if (r.vote) CHECK(reply.find(r.ack_has) != std::string::npos);
    else CHECK(reply.empty());
  }
  const auto tally = db.poll_results(id, "dusun");
  CHECK(tally == storage::poll_tally{{"Dusun 1", {{1, 1}}}, {"Dusun 2", {{1, 1}}}});
}
