#pragma once
// The storage conformance suite (STYLE.md: one suite every backend passes, after Kea's generic_lease_mgr tests).
// A backend supplies a factory type F with:
//   std::unique_ptr<storage::store> open();          // a new connection to the same, initially empty, database
//   std::unique_ptr<storage::writer> open_writer(std::size_t max_batch);
// and instantiates the suite with TEST_CASE_TEMPLATE_APPLY(store_conformance, std::tuple<F>).

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <set>
#include <string>
#include <vector>

#include "storage/store.hpp"

namespace kentongan::storage::conformance {

using namespace std::chrono_literals;

inline core::group grp(std::string id, bool self_subscribe = false) {
  return core::group{id, id + " name", "", self_subscribe, core::relay_policy::off};
}

inline core::subscriber sub(std::string phone, std::vector<std::string> groups,
                            std::map<std::string, std::string> attrs = {}, std::string name = "warga") {
  core::subscriber s;
  s.phone = std::move(phone);
  s.name = std::move(name);
  s.groups = std::move(groups);
  s.attributes = std::move(attrs);
  return s;
}

/// The test village: two groups, six subscribers with dusun and rt.
struct village {
  std::vector<core::group> groups{grp("petani-kakao"), grp("warga-dusun-1", true), grp("perangkat-desa")};
  std::vector<core::subscriber> subscribers{
      sub("+6281200000001", {"petani-kakao"}, {{"dusun", "Kaja"}, {"rt", "01"}}, "Wayan"),
      sub("+6281200000002", {"petani-kakao", "warga-dusun-1"}, {{"dusun", "Kaja"}, {"rt", "02"}}, "Made"),
      sub("+6281200000003", {"petani-kakao"}, {{"dusun", "Kelod"}, {"rt", "01"}}, "Nyoman"),
      sub("+6281200000004", {"warga-dusun-1"}, {{"dusun", "Kelod"}, {"rt", "03"}}, "Ketut"),
      sub("+6281200000005", {"warga-dusun-1"}, {}, "Putu"),
      sub("+6281200000006", {}, {{"dusun", "Kaja"}}, "Kadek"),
  };
  std::vector<core::officer> officers{{"+6281299999999", "Pak Kadus", "kadus", {"infrastruktur"}, {"warga-dusun-1"}}};
};

inline std::vector<std::string> phones_of(store& db, std::int64_t broadcast) {
  std::vector<std::string> out;
  db.export_deliveries(broadcast, [&](const delivery_row& r) { out.push_back(r.phone); });
  return out;
}

inline std::int64_t expand_all(store& db, std::int64_t id, std::size_t batch) {
  std::int64_t total = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    const auto n = db.expand_broadcast(id, batch);
    total += static_cast<std::int64_t>(n);
    if (n < batch) break;
  }
  return total;
}

/// A village with one broadcast to everyone expanded to its six recipients; returns the broadcast.
inline std::int64_t seed_village_broadcast(store& db) {
  village v;
  db.sync_config(v.groups, v.subscribers, v.officers);
  broadcast_spec spec;
  spec.text = "Rapat desa besok";
  spec.all = true;
  const auto id = db.create_broadcast(spec);
  expand_all(db, id, 100);
  return id;
}

/// Claims everything due and returns the outbox rows in claim order.
inline std::vector<outbox_row> claim_all(store& db, bool normal_allowed = true) {
  return db.claim_due(core::now() + 1s, 1000, normal_allowed);
}

}  // namespace kentongan::storage::conformance

// ---------------------------------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("storage conformance", F, store_conformance) {
  using namespace kentongan;
  using namespace kentongan::storage;
  using namespace kentongan::storage::conformance;
  F factory;
  auto db = factory.open();
  const village v;

  SUBCASE("config sync reports what changed and keeps SMS subscriptions and opt-outs") {
    struct step {
      const char* label;
      std::function<void(village&)> edit;
      sync_report expected;
    };
    village cfg = v;
    const std::vector<step> steps{
        {"first load", [](village&) {}, {6, 0, 0, 3, 0, 0, 1}},
        {"same config again", [](village&) {}, {0, 0, 0, 0, 0, 0, 1}},
        {"a name changes", [](village& c) { c.subscribers[0].name = "Wayan Sudarma"; }, {0, 1, 0, 0, 0, 0, 1}},
        {"an attribute changes", [](village& c) { c.subscribers[1].attributes["rt"] = "09"; }, {0, 1, 0, 0, 0, 0, 1}},
        {"a membership changes", [](village& c) { c.subscribers[2].groups.push_back("warga-dusun-1"); },
         {0, 1, 0, 0, 0, 0, 1}},
        {"a group is renamed and one added",
         [](village& c) {
           c.groups[2].name = "Perangkat";
           c.groups.push_back(grp("pemuda"));
         },
         {0, 0, 0, 1, 1, 0, 1}},
        {"a subscriber and a group go",
         [](village& c) {
           c.subscribers.erase(c.subscribers.begin() + 5);
           c.groups.pop_back();
         },
         {0, 0, 1, 0, 0, 1, 1}},
        {"a subscriber is added", [](village& c) { c.subscribers.push_back(sub("+6281200000007", {"petani-kakao"})); },
         {1, 0, 0, 0, 0, 0, 1}},
    };
    for (const auto& s : steps) {
      CAPTURE(s.label);
      s.edit(cfg);
      CHECK(db->sync_config(cfg.groups, cfg.subscribers, cfg.officers) == s.expected);
    }
    auto wayan = db->get_subscriber("+6281200000001");
    REQUIRE(wayan);
    CHECK(wayan->name == "Wayan Sudarma");
    CHECK(wayan->attributes.at("dusun") == "Kaja");
    CHECK_FALSE(db->get_subscriber("+6281200000006").has_value());
    CHECK(db->list_officers() == v.officers);
    CHECK(db->get_group("warga-dusun-1")->self_subscribe);

    // DAFTAR by SMS, opt-outs, then a reload: both survive.
    db->subscribe("+6281200000001", "warga-dusun-1", core::consent_source::sms);
    db->subscribe("+6281277777777", "warga-dusun-1", core::consent_source::sms);
    db->opt_out("+6281200000003", std::nullopt);
    db->opt_out("+6281200000002", std::string("petani-kakao"));
    CHECK(db->sync_config(cfg.groups, cfg.subscribers, cfg.officers) == sync_report{0, 0, 0, 0, 0, 0, 1});
    CHECK(db->get_subscriber("+6281200000001")->groups ==
          std::vector<std::string>{"petani-kakao", "warga-dusun-1"});
    CHECK(db->get_subscriber("+6281277777777").has_value());
    CHECK(db->is_opted_out("+6281200000003", "warga-dusun-1"));
    CHECK(db->is_opted_out("+6281200000002", "petani-kakao"));
    CHECK_FALSE(db->is_opted_out("+6281200000002", "warga-dusun-1"));

    // Wayan leaves the config but joined a group by SMS: he stays, with that group only.
    cfg.subscribers.erase(cfg.subscribers.begin());
    CHECK(db->sync_config(cfg.groups, cfg.subscribers, cfg.officers) == sync_report{0, 1, 0, 0, 0, 0, 1});
    CHECK(db->get_subscriber("+6281200000001")->groups == std::vector<std::string>{"warga-dusun-1"});
    // Reopening (a restart) keeps all of it.
    db.reset();
    db = factory.open();
    CHECK(db->is_opted_out("+6281200000003", "petani-kakao"));
    CHECK(db->get_subscriber("+6281277777777")->groups == std::vector<std::string>{"warga-dusun-1"});
  }

  SUBCASE("broadcast expansion: groups, all, where filters, opt-outs, in small batches") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    db->opt_out("+6281200000003", std::string("petani-kakao"));  // only petani-kakao
    db->opt_out("+6281200000005", std::nullopt);                  // everything
    db->opt_out("+6281200000002", std::string("petani-kakao"));  // still in warga-dusun-1
    struct row {
      const char* label;
      broadcast_spec spec;
      std::set<std::string> expected;
    };
    const auto spec = [](std::vector<std::string> groups, bool all = false,
                         std::vector<std::pair<std::string, std::string>> where = {}) {
      broadcast_spec s;
      s.text = "Penyuluhan hama kakao di balai desa, Sabtu 08.00";
      s.groups = std::move(groups);
      s.all = all;
      s.where = std::move(where);
      return s;
    };
    const std::vector<row> rows{
        {"one group, opt-outs excluded", spec({"petani-kakao"}), {"+6281200000001"}},
        {"two groups, each member once", spec({"petani-kakao", "warga-dusun-1"}),
         {"+6281200000001", "+6281200000002", "+6281200000004"}},
        {"all: everyone not opted out of everything they joined", spec({}, true),
         {"+6281200000001", "+6281200000002", "+6281200000004", "+6281200000006"}},
        {"all with a where filter", spec({}, true, {{"dusun", "Kaja"}}),
         {"+6281200000001", "+6281200000002", "+6281200000006"}},
        {"two filters are AND", spec({}, true, {{"dusun", "Kaja"}, {"rt", "02"}}), {"+6281200000002"}},
        {"group and filter", spec({"warga-dusun-1"}, false, {{"dusun", "Kelod"}}), {"+6281200000004"}},
        {"unknown group", spec({"tidak-ada"}), {}},
        {"filter nobody matches", spec({}, true, {{"dusun", "Tengah"}}), {}},
        {"same group twice", spec({"warga-dusun-1", "warga-dusun-1"}), {"+6281200000002", "+6281200000004"}},
    };
    for (const auto& r : rows) {
      CAPTURE(r.label);
      CHECK(db->count_recipients(r.spec) == static_cast<std::int64_t>(r.expected.size()));
      const auto id = db->create_broadcast(r.spec);
      CHECK(db->get_broadcast(id)->state == "scheduled");
      CHECK(expand_all(*db, id, 1) == static_cast<std::int64_t>(r.expected.size()));
      CHECK(db->expand_broadcast(id, 1) == 0);  // done: nothing more, ever
      const auto got = phones_of(*db, id);
      CHECK(std::set<std::string>(got.begin(), got.end()) == r.expected);
      CHECK(got.size() == r.expected.size());  // no duplicates
      CHECK(db->get_broadcast(id)->state == "sending");
      CHECK(db->get_broadcast(id)->recipients == static_cast<std::int64_t>(r.expected.size()));
      CHECK(db->counts(id).queued == static_cast<std::int64_t>(r.expected.size()));
    }
  }

  SUBCASE("expansion resumes after a restart without repeating anyone") {
    village big = v;
    for (int i = 10; i < 60; ++i)
      big.subscribers.push_back(sub("+62812000001" + std::to_string(i), {"petani-kakao"}));
    db->sync_config(big.groups, big.subscribers, big.officers);
    broadcast_spec s;
    s.text = "Harga kakao naik";
    s.groups = {"petani-kakao"};
    const auto id = db->create_broadcast(s);
    CHECK(db->expand_broadcast(id, 7) == 7);
    CHECK(db->get_broadcast(id)->state == "expanding");
    CHECK(db->due_broadcasts(core::now()).size() == 1);
    db.reset();  // the daemon dies between batches
    db = factory.open();
    // A subscriber who joins mid-broadcast is included once; one who opts out is not.
    db->subscribe("+6281288888888", "petani-kakao", core::consent_source::sms);
    db->opt_out("+6281200000159", std::nullopt);
    const auto rest = expand_all(*db, id, 7);
    const auto got = phones_of(*db, id);
    const std::set<std::string> unique(got.begin(), got.end());
    CHECK(got.size() == unique.size());
    CHECK(7 + rest == 3 + 50 + 1 - 1);
    CHECK(static_cast<std::int64_t>(got.size()) == 7 + rest);
    CHECK(unique.count("+6281288888888") == 1);
    CHECK(unique.count("+6281200000159") == 0);
    CHECK(db->due_broadcasts(core::now()).empty());
  }

  SUBCASE("two broadcasts expanding at once interleave without mixing") {
    village big = v;
    for (int i = 10; i < 40; ++i)
      big.subscribers.push_back(sub("+62812000002" + std::to_string(i), {"petani-kakao", "warga-dusun-1"}));
    db->sync_config(big.groups, big.subscribers, big.officers);
    broadcast_spec a;
    a.text = "A";
    a.groups = {"petani-kakao"};
    broadcast_spec b = a;
    b.text = "B";
    b.groups = {"warga-dusun-1", "perangkat-desa"};
    const auto ia = db->create_broadcast(a);
    const auto ib = db->create_broadcast(b);
    for (int round = 0; round < 20; ++round) {
      db->expand_broadcast(ia, 4);
      db->expand_broadcast(ib, 3);
    }
    const auto pa = phones_of(*db, ia);
    const auto pb = phones_of(*db, ib);
    CHECK(static_cast<std::int64_t>(pa.size()) == db->count_recipients(a));
    CHECK(static_cast<std::int64_t>(pb.size()) == db->count_recipients(b));
    CHECK(pa.size() == 3 + 30);
    CHECK(pb.size() == 3 + 30);
    CHECK(std::set<std::string>(pa.begin(), pa.end()).size() == pa.size());
    CHECK(std::set<std::string>(pb.begin(), pb.end()).size() == pb.size());
    CHECK(db->get_broadcast(ia)->state == "sending");
    CHECK(db->get_broadcast(ib)->state == "sending");
  }

  SUBCASE("scheduled broadcasts are due only at their time") {
    broadcast_spec s;
    s.text = "Rapat desa";
    s.all = true;
    s.send_at = core::now() + 1h;
    const auto later = db->create_broadcast(s);
    s.send_at.reset();
    const auto now_id = db->create_broadcast(s);
    const auto due = db->due_broadcasts(core::now());
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == now_id);
    CHECK(db->due_broadcasts(core::now() + 2h).size() == 2);
    CHECK(db->get_broadcast(later)->spec.send_at.has_value());
    CHECK(db->list_broadcasts(10).front().id == now_id);
  }

  SUBCASE("claim_due: urgent first, then oldest; quiet hours hold normal rows") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec normal;
    normal.text = "Gotong royong Minggu";
    normal.groups = {"petani-kakao"};
    const auto n = db->create_broadcast(normal);
    expand_all(*db, n, 100);
    const auto reply = db->enqueue_direct("+6281200000004", "Terima kasih", core::priority::normal, "sms");
    broadcast_spec urgent = normal;
    urgent.text = "Banjir! Mengungsi ke balai desa";
    urgent.priority = core::priority::urgent;
    const auto u = db->create_broadcast(urgent);
    expand_all(*db, u, 100);

    const auto quiet = claim_all(*db, false);
    REQUIRE(quiet.size() == 3);
    for (const auto& r : quiet) {
      CHECK(r.priority == core::priority::urgent);
      CHECK(r.broadcast_id == u);
      CHECK(r.text == urgent.text);
      CHECK(r.attempts == 1);
    }
    CHECK(quiet[0].id < quiet[1].id);
    CHECK(quiet[0].name == "Wayan");
    const auto rest = claim_all(*db, true);
    REQUIRE(rest.size() == 4);
    CHECK(rest[0].broadcast_id == n);
    CHECK(rest[3].id == reply);
    CHECK(rest[3].broadcast_id == 0);
    CHECK(rest[3].text == "Terima kasih");
    CHECK(rest[3].channel_pref == "sms");
    CHECK(claim_all(*db).empty());  // all are sending now
    CHECK(db->counts(n).sending == 3);
  }

  SUBCASE("outbox state transitions") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec s;
    s.text = "Posyandu Selasa";
    s.groups = {"petani-kakao"};
    const auto b = db->create_broadcast(s);
    expand_all(*db, b, 10);
    auto rows = claim_all(*db);
    REQUIRE(rows.size() == 3);
    db->mark_submitted(rows[0].id, "sim", "00AB12", 1);
    db->mark_submitted(rows[1].id, "sim", "ff01", 1);
    db->mark_submitted(rows[2].id, "sim", "x9", 1);
    struct report {
      const char* label;
      std::string channel, provider_id;
      core::message_state state;
      bool known;
    };
    for (const auto& r : std::vector<report>{
             {"receipt spells the id without zeros and in upper case", "sim", "AB12", core::message_state::delivered,
              true},
             {"failure report", "sim", "FF01", core::message_state::failed, true},
             {"repeated report for a finished row", "sim", "ff01", core::message_state::delivered, true},
             {"unknown id", "sim", "dead", core::message_state::delivered, false},
             {"known id on another channel", "smpp", "ab12", core::message_state::delivered, false},
         }) {
      CAPTURE(r.label);
      CHECK(db->mark_reported(r.channel, r.provider_id, r.state, "") == r.known);
    }
    CHECK(db->outbox_state(rows[0].id) == core::message_state::delivered);
    CHECK(db->outbox_state(rows[1].id) == core::message_state::failed);  // the late "delivered" did not undo it
    db->requeue(rows[2].id, core::now() + 1h, "throttled");
    CHECK(db->outbox_state(rows[2].id) == core::message_state::queued);
    CHECK(claim_all(*db).empty());  // not before its next attempt
    const auto again = db->claim_due(core::now() + 2h, 10, true);
    REQUIRE(again.size() == 1);
    CHECK(again[0].attempts == 2);
    db->mark_failed(again[0].id, "permanent");
    CHECK(db->outbox_state(again[0].id) == core::message_state::failed);
    db->finish_broadcasts();
    CHECK(db->get_broadcast(b)->state == "done");
    const auto c = db->counts(b);
    CHECK(c == state_counts{3, 0, 0, 0, 1, 2, 0, 0, 0});

    // Expiry and cancel.
    s.expires_at = core::now() + 1min;
    const auto e = db->create_broadcast(s);
    expand_all(*db, e, 10);
    CHECK(db->expire_due(core::now()) == 0);
    CHECK(db->claim_due(core::now() + 2min, 10, true).empty());  // past expiry: never sent
    CHECK(db->expire_due(core::now() + 2min) == 3);
    CHECK(db->counts(e).expired == 3);
    s.expires_at.reset();
    const auto x = db->create_broadcast(s);
    expand_all(*db, x, 10);
    db->claim_due(core::now() + 1s, 1, true);
    CHECK(db->cancel_broadcast(x) == 2);
    CHECK(db->get_broadcast(x)->state == "cancelled");
    CHECK(db->counts(x) == state_counts{3, 0, 1, 0, 0, 0, 0, 2, 0});
  }

  SUBCASE("count_submitted_since: per channel, since a time, whatever happened after the submit") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec s;
    s.text = "Kerja bakti Minggu";
    s.all = true;
    const auto b = db->create_broadcast(s);
    expand_all(*db, b, 10);
    const auto before = core::now() - 1ms;
    auto rows = claim_all(*db);
    REQUIRE(rows.size() == 6);
    db->mark_submitted(rows[0].id, "sim-a", "1", 1);
    db->mark_submitted(rows[1].id, "sim-a", "2", 3);  // three parts: still one message for the caps
    db->mark_submitted(rows[2].id, "sim-a", "3", 1);
    db->mark_submitted(rows[3].id, "modem", "4", 1);
    db->mark_failed(rows[4].id, "refused before submit");  // never reached the network
    db->requeue(rows[5].id, core::now() + 1h, "throttled");
    CHECK(db->mark_reported("sim-a", "1", core::message_state::delivered, ""));
    CHECK(db->mark_reported("sim-a", "2", core::message_state::failed, "absent subscriber"));
    const auto after = core::now() + 1s;
    struct row {
      const char* label;
      std::string channel;
      core::time_point since;
      std::int64_t expected;
    };
    for (const auto& r : std::vector<row>{
             {"submitted, delivered and failed after submit all count", "sim-a", before, 3},
             {"another channel counts its own", "modem", before, 1},
             {"a channel that sent nothing", "smpp", before, 0},
             {"nothing since a later time", "sim-a", after, 0},
             {"everything since long ago", "sim-a", core::time_point{}, 3},
         }) {
      CAPTURE(r.label);
      CHECK(db->count_submitted_since(r.channel, r.since) == r.expected);
    }
    db.reset();
    db = factory.open();  // durable: a restart sees the same counts
    CHECK(db->count_submitted_since("sim-a", before) == 3);
  }

  SUBCASE("rows left in sending by a crash are requeued and counted in doubt") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec s;
    s.text = "Pemadaman listrik";
    s.groups = {"warga-dusun-1"};
    const auto b = db->create_broadcast(s);
    expand_all(*db, b, 10);
    const auto claimed = db->claim_due(core::now() + 1s, 2, true);
    REQUIRE(claimed.size() == 2);
    db->mark_submitted(claimed[0].id, "sim", "1", 1);
    db.reset();
    db = factory.open();
    CHECK(db->recover_in_doubt() == 1);
    CHECK(db->recover_in_doubt() == 0);
    const auto c = db->counts(b);
    CHECK(c.queued == 2);
    CHECK(c.submitted == 1);
    CHECK(c.in_doubt == 1);
    const auto retry = claim_all(*db);
    REQUIRE(retry.size() == 2);
    CHECK(retry[0].id == claimed[1].id);  // the in-doubt one keeps its place
    CHECK(retry[0].in_doubt);
    CHECK(retry[0].attempts == 2);
  }

  SUBCASE("opting out during a broadcast cancels what is not yet sent") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec s;
    s.text = "Vaksinasi ternak";
    s.groups = {"petani-kakao"};
    const auto kakao = db->create_broadcast(s);
    s.groups = {"petani-kakao", "warga-dusun-1"};
    const auto both = db->create_broadcast(s);
    expand_all(*db, kakao, 10);
    expand_all(*db, both, 10);
    const auto reply = db->enqueue_direct("+6281200000002", "Balasan", core::priority::normal, "");
    // Made is in both groups: leaving petani-kakao cancels the petani-kakao broadcast only.
    CHECK(db->opt_out("+6281200000002", std::string("petani-kakao")) == 1);
    CHECK(db->counts(kakao).cancelled == 1);
    CHECK(db->counts(both).cancelled == 0);
    // Leaving everything cancels the rest, but not a direct reply (the opt-out confirmation path).
    CHECK(db->opt_out("+6281200000002", std::nullopt) == 1);
    CHECK(db->counts(both).cancelled == 1);
    CHECK(db->outbox_state(reply) == core::message_state::queued);
    // A row in flight that comes back for a retry after the opt-out is cancelled, not resent.
    const auto claimed = db->claim_due(core::now() + 1s, 100, true);
    const auto wayan = std::find_if(claimed.begin(), claimed.end(), [&](const outbox_row& r) {
      return r.phone == "+6281200000001" && r.broadcast_id == kakao;
    });
    REQUIRE(wayan != claimed.end());
    db->opt_out("+6281200000001", std::nullopt);
    db->requeue(wayan->id, core::now(), "timeout");
    CHECK(db->outbox_state(wayan->id) == core::message_state::cancelled);
    // DAFTAR again clears it, for that group only.
    db->subscribe("+6281200000002", "warga-dusun-1", core::consent_source::sms);
    CHECK_FALSE(db->is_opted_out("+6281200000002", "warga-dusun-1"));
    CHECK(db->is_opted_out("+6281200000002", "petani-kakao"));
  }

  SUBCASE("resend goes to those not reached") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec s;
    s.text = "Pembagian pupuk";
    s.groups = {"petani-kakao"};
    const auto b = db->create_broadcast(s);
    expand_all(*db, b, 10);
    const auto rows = claim_all(*db);
    REQUIRE(rows.size() == 3);
    db->mark_delivered(rows[0].id);
    db->mark_failed(rows[1].id, "absent subscriber");
    db->mark_submitted(rows[2].id, "sim", "77", 1);
    const auto failed_only = db->resend(b, true);
    CHECK(expand_all(*db, failed_only, 1) == 1);
    CHECK(phones_of(*db, failed_only) == std::vector<std::string>{rows[1].phone});
    const auto undelivered = db->resend(b, false);
    CHECK(expand_all(*db, undelivered, 1) == 2);
    CHECK(phones_of(*db, undelivered) == std::vector<std::string>{rows[1].phone, rows[2].phone});
    CHECK(db->get_broadcast(undelivered)->resend_of == b);
    CHECK(db->get_broadcast(undelivered)->spec.text == s.text);
    CHECK_THROWS_AS(db->resend(99999, false), storage_error);
  }

  SUBCASE("counts by a subscriber attribute") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec s;
    s.text = "Kerja bakti";
    s.all = true;
    const auto b = db->create_broadcast(s);
    expand_all(*db, b, 10);
    const auto rows = claim_all(*db);
    for (const auto& r : rows)
      if (r.phone == "+6281200000001") db->mark_delivered(r.id);
    const auto by = db->counts_by(b, "dusun");
    REQUIRE(by.size() == 3);
    CHECK(by.at("Kaja").recipients == 3);
    CHECK(by.at("Kaja").delivered == 1);
    CHECK(by.at("Kaja").sending == 2);
    CHECK(by.at("Kelod").recipients == 2);
    CHECK(by.at("").recipients == 1);
  }

  SUBCASE("inbox de-duplicates per channel and provider id") {
    struct row {
      const char* label;
      std::string channel, provider_id;
      bool stored;
    };
    const auto t = core::now();
    for (const auto& r : std::vector<row>{{"first", "sim", "m1", true},
                                          {"same id again", "sim", "m1", false},
                                          {"same id, other channel", "wa", "m1", true},
                                          {"other id", "sim", "m2", true},
                                          {"no provider id", "modem", "", true},
                                          {"no provider id again", "modem", "", true}}) {
      CAPTURE(r.label);
      CHECK(db->store_inbound(r.channel, r.provider_id, "+6281200000001", "LAPOR jalan rusak", t).has_value() ==
            r.stored);
    }
    // Flood control, repeats within a window, and re-routing what a crash left unhandled.
    CHECK(db->inbound_count("+6281200000001", t) == 5);
    CHECK(db->inbound_count("+6281200000001", t + 1s) == 0);
    CHECK(db->inbound_count("+6281200000002", t) == 0);
    const auto later = db->store_inbound("sim", "m9", "+6281200000001", "LAPOR jalan rusak", t + 10s);
    REQUIRE(later);
    CHECK(db->find_repeat("+6281200000001", "LAPOR jalan rusak", t, *later).has_value());
    CHECK_FALSE(db->find_repeat("+6281200000001", "LAPOR jalan rusak", t + 5s, *later).has_value());
    CHECK_FALSE(db->find_repeat("+6281200000001", "INFO HARGA", t, *later).has_value());
    const auto pending = db->unhandled_inbound(100);
    REQUIRE(pending.size() == 6);
    CHECK(pending[0].provider_id == "m1");
    CHECK(pending[4].provider_id.empty());
    for (const auto& r : pending) db->mark_inbound_handled(r.id, "aspiration");
    CHECK(db->unhandled_inbound(100).empty());
    // Auto-reply cap counts direct messages only.
    db->enqueue_direct("+6281200000001", "Terima kasih", core::priority::normal, "");
    db->enqueue_direct("+6281200000001", "Terima kasih", core::priority::normal, "");
    CHECK(db->direct_count("+6281200000001", t) == 2);
    CHECK(db->direct_count("+6281200000001", t + 1h) == 0);
  }

  SUBCASE("forget erases a number and its texts, keeps anonymous counts") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    const auto phone = std::string("+6281200000002");
    db->opt_out(phone, std::string("petani-kakao"));
    const auto in = db->store_inbound("sim", "f1", phone, "LAPOR lampu jalan mati", core::now());
    db->create_aspiration({"A", "aspirasi", phone, "Made", "lampu jalan mati", "sim", {"infrastruktur"}, in,
                           core::now()});
    db->enqueue_direct(phone, "Terima kasih Made", core::priority::normal, "");
    db->log_event("subscribe", phone, "group=warga-dusun-1");
    const auto r = db->forget(phone);
    CHECK(r == forget_report{1, 2, 1, 1, 1, 1});
    CHECK_FALSE(db->get_subscriber(phone).has_value());
    CHECK_FALSE(db->is_opted_out(phone, "petani-kakao"));
    const auto a = db->find_aspiration("A0001");
    REQUIRE(a);
    CHECK(a->phone.empty());
    CHECK(a->text.empty());
    CHECK(a->tags == std::vector<std::string>{"infrastruktur"});
    CHECK(db->forget(phone) == forget_report{});
  }

  SUBCASE("aspirations: tickets, answers, status history, lists") {
    const auto t0 = core::now();
    const auto a = db->create_aspiration({"A", "aspirasi", "+6281200000001", "Wayan",
                                          "irigasi di subak timur tersumbat", "sim", {"air", "pertanian"}, {}, t0});
    const auto b = db->create_aspiration({"A", "pengaduan", "+6281200000004", "", "jalan berlubang", "sim",
                                          {"infrastruktur"}, {}, t0 + 1h});
    CHECK(a == "A0001");
    CHECK(b == "A0002");
    struct lookup {
      const char* typed;
      std::optional<std::int64_t> number;
    };
    for (const auto& l : std::vector<lookup>{{"A0001", 1}, {"a0001", 1}, {"0001", 1}, {"1", 1}, {" A0002 ", 2},
                                             {"ASP-0002", 2}, {"A9999", std::nullopt}, {"", std::nullopt},
                                             {"A", std::nullopt}, {"A00x1", std::nullopt}}) {
      CAPTURE(l.typed);
      const auto found = db->find_aspiration(l.typed);
      CHECK(found.has_value() == l.number.has_value());
      if (found && l.number) CHECK(found->number == *l.number);
    }
    db->add_answer("a0001", "Pak Kadus", "Besok dibersihkan");
    auto row = db->find_aspiration("A0001");
    CHECK(row->status == "diproses");
    CHECK(row->last_answer == "Besok dibersihkan");
    CHECK(row->first_answer_at.has_value());
    db->set_status("A0001", status_done, "Pak Kadus", "Sudah bersih");
    row = db->find_aspiration("A0001");
    CHECK(row->status == "selesai");
    CHECK(row->closed_at.has_value());
    CHECK(row->last_answer == "Sudah bersih");
    db->add_tags("A0002", {"jalan", "infrastruktur"}, "admin");
    CHECK(db->find_aspiration("A0002")->tags == std::vector<std::string>{"infrastruktur", "jalan"});
    const auto h = db->aspiration_history("A0001");
    REQUIRE(h.size() == 3);
    CHECK(h[0].action == "created");
    CHECK(h[1].action == "answer");
    CHECK(h[1].actor == "Pak Kadus");
    CHECK(h[2].status == "selesai");
    CHECK_THROWS_AS(db->set_status("A0001", "hilang", "x", ""), storage_error);
    CHECK_THROWS_AS(db->add_answer("A0404", "x", "y"), storage_error);

    struct query {
      const char* label;
      aspiration_filter filter;
      std::vector<std::string> tickets;
    };
    for (const auto& q : std::vector<query>{
             {"everything, oldest first", {}, {"A0001", "A0002"}},
             {"by status", {std::string("baru"), {}, false, {}, {}, 0}, {"A0002"}},
             {"by tag", {{}, std::string("air"), false, {}, {}, 0}, {"A0001"}},
             {"open only", {{}, {}, true, {}, {}, 0}, {"A0002"}},
             {"since", {{}, {}, false, t0 + 30min, {}, 0}, {"A0002"}},
             {"until", {{}, {}, false, {}, t0 + 30min, 0}, {"A0001"}},
             {"limit", {{}, {}, false, {}, {}, 1}, {"A0001"}},
             {"nothing", {std::string("ditolak"), {}, false, {}, {}, 0}, {}},
         }) {
      CAPTURE(q.label);
      std::vector<std::string> got;
      for (const auto& r : db->list_aspirations(q.filter)) got.push_back(r.ticket);
      CHECK(got == q.tickets);
    }
    // Numbers are never reused, even for another prefix.
    CHECK(db->create_aspiration({"H", "aspirasi", "+6281200000001", "", "hoaks?", "sim", {"hoaks"}, {}, t0}) ==
          "H0003");

    // Overdue reminders and the monthly report.
    CHECK_FALSE(db->find_aspiration("A0002")->reminded_at.has_value());
    db->mark_reminded("A0002", t0 + 72h);
    CHECK(db->find_aspiration("A0002")->reminded_at == t0 + 72h);
    const auto counts = db->aspiration_counts(t0, t0 + 2h);
    CHECK(counts == std::vector<tag_status_count>{{"air", "selesai", 1},
                                                  {"hoaks", "baru", 1},
                                                  {"infrastruktur", "baru", 1},
                                                  {"jalan", "baru", 1},
                                                  {"pertanian", "selesai", 1}});
    const auto median = db->median_first_answer(t0 - 1h, t0 + 2h);
    REQUIRE(median.has_value());
    CHECK(*median >= std::chrono::milliseconds{0});
    CHECK_FALSE(db->median_first_answer(t0 + 10h, t0 + 20h).has_value());
  }

  SUBCASE("aspiration kinds: changed by an officer, recorded in the history") {
    const auto t = db->create_aspiration({"A", "pengaduan", "+6281200000001", "", "kapan pupuk datang?", "sim", {}, {},
                                          core::now()});
    struct change {
      const char* label;
      const char* kind;
      bool changed;
    };
    for (const auto& c : std::vector<change>{{"a question, not a complaint", "permintaan-informasi", true},
                                             {"the same kind again records nothing", "permintaan-informasi", false},
                                             {"back to an aspiration", "aspirasi", true}}) {
      CAPTURE(c.label);
      CHECK(db->set_kind(t, c.kind, "Pak Kadus") == c.changed);
      CHECK(db->find_aspiration(t)->kind == c.kind);
    }
    const auto h = db->aspiration_history(t);
    REQUIRE(h.size() == 3);
    CHECK(h[1].action == "kind");
    CHECK(h[1].actor == "Pak Kadus");
    CHECK(h[1].text == "pengaduan -> permintaan-informasi");
    CHECK(h[1].status == "baru");
    CHECK(h[2].text == "permintaan-informasi -> aspirasi");
    CHECK_THROWS_AS(db->set_kind(t, "keluhan", "x"), storage_error);
    CHECK_THROWS_AS(db->set_kind("A0404", "aspirasi", "x"), storage_error);
    CHECK(db->find_aspiration(t)->kind == "aspirasi");
  }

  SUBCASE("repeats: the same sender and text within the window") {
    const auto t = core::now() - 1h;
    const std::string wayan = "+6281200000001", made = "+6281200000002";
    db->store_inbound("sim", "r1", wayan, "LAPOR jalan rusak", t);
    db->store_inbound("wa", "r2", made, "LAPOR jalan rusak", t + 1s);
    db->store_inbound("sim", "r3", wayan, "INFO HARGA", t + 2s);
    struct repeat_case {
      const char* label;
      std::string phone, text;
      std::chrono::seconds age_of_window_start;  // since = t + this
      bool repeat;
    };
    for (const auto& c : std::vector<repeat_case>{
             {"same sender, same text, inside the window", wayan, "LAPOR jalan rusak", 0s, true},
             {"the earlier one is before the window", wayan, "LAPOR jalan rusak", 1s, false},
             {"same text from someone else", "+6281200000003", "LAPOR jalan rusak", 0s, false},
             {"another channel, same sender and text", made, "LAPOR jalan rusak", 0s, true},
             {"same sender, other text", wayan, "LAPOR jalan berlubang", 0s, false},
             {"case differs: not the same text", wayan, "lapor jalan rusak", 0s, false},
         }) {
      CAPTURE(c.label);
      CHECK(db->find_repeat(c.phone, c.text, t + c.age_of_window_start, 1000).has_value() == c.repeat);
    }
    // Only messages stored before the one being handled count: the first of a pair is never its own repeat.
    const auto first = db->store_inbound("sim", "r4", "+6281200000005", "halo", t + 20s);
    const auto second = db->store_inbound("sim", "r5", "+6281200000005", "halo", t + 21s);
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    CHECK_FALSE(db->find_repeat("+6281200000005", "halo", t, *first).has_value());
    CHECK(db->find_repeat("+6281200000005", "halo", t, *second) == first);
  }

  SUBCASE("polls: one vote per person, the latest counts, only before the deadline") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    broadcast_spec s;
    s.text = "Jadwal gotong royong? Balas 1 Sabtu, 2 Minggu";
    s.groups = {"petani-kakao"};
    const auto b = db->create_broadcast(s);
    const auto t = core::now();
    const poll_spec poll{"Jadwal gotong royong?", {"Sabtu", "Minggu"}, t + 24h};
    db->create_poll(b, poll);
    CHECK_THROWS_AS(db->create_poll(99999, poll), storage_error);
    CHECK(db->get_poll(b)->spec == poll);
    CHECK_FALSE(db->open_poll_for("+6281200000001", t).has_value());  // not expanded yet: nobody got it
    expand_all(*db, b, 10);
    REQUIRE(db->open_poll_for("+6281200000001", t).has_value());
    CHECK(db->open_poll_for("+6281200000001", t)->broadcast_id == b);
    CHECK_FALSE(db->open_poll_for("+6281200000004", t).has_value());  // not a recipient
    CHECK_FALSE(db->open_poll_for("+6281200000001", t + 25h).has_value());  // closed
    struct vote {
      const char* label;
      std::string phone;
      int option;
      std::chrono::milliseconds after;
      bool counted;
    };
    for (const auto& x : std::vector<vote>{{"first vote", "+6281200000001", 1, 1min, true},
                                           {"changes their mind", "+6281200000001", 2, 2min, true},
                                           {"an older vote arriving late does not win", "+6281200000001", 1, 90s, false},
                                           {"another voter", "+6281200000002", 2, 1min, true},
                                           {"a third", "+6281200000003", 1, 1min, true},
                                           {"no such option", "+6281200000003", 3, 3min, false},
                                           {"after the deadline", "+6281200000003", 2, 25h, false}}) {
      CAPTURE(x.label);
      CHECK(db->record_vote(b, x.phone, x.option, t + x.after) == x.counted);
    }
    CHECK(db->poll_results(b, "") == poll_tally{{"", {{1, 1}, {2, 2}}}});
    CHECK(db->poll_results(b, "dusun") == poll_tally{{"Kaja", {{2, 2}}}, {"Kelod", {{1, 1}}}});
    db->forget("+6281200000002");
    CHECK(db->poll_results(b, "") == poll_tally{{"", {{1, 1}, {2, 2}}}});
    const auto summary = db->broadcast_summary(t - 1h, t + 1h);
    CHECK(summary.first == 1);
    CHECK(summary.second.queued == 2);  // the forgotten person's row was cancelled
    CHECK(summary.second.cancelled == 1);
  }

  SUBCASE("a held broadcast is released by rescheduling") {
    broadcast_spec s;
    s.text = "KIRIM warga-dusun-1 ada kucing hilang";
    s.groups = {"warga-dusun-1"};
    s.send_at = core::now() + 24h * 365 * 10;
    const auto b = db->create_broadcast(s);
    CHECK(db->due_broadcasts(core::now()).empty());
    CHECK(db->reschedule(b, std::nullopt));
    CHECK(db->due_broadcasts(core::now()).size() == 1);
    db->cancel_broadcast(b);
    CHECK_FALSE(db->reschedule(b, std::nullopt));
  }

  SUBCASE("the writer shares one commit among many jobs; a throwing job is rolled back alone") {
    db->sync_config(v.groups, v.subscribers, v.officers);
    auto w = factory.open_writer(4096);
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> posters;
    constexpr int per_thread = 500;
    for (int t = 0; t < 4; ++t)
      posters.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          const bool bad = i % 100 == 99;
          w->post(
              [t, i, bad](store& s) {
                s.store_inbound("sim", std::to_string(t) + "-" + std::to_string(i), "+6281200000001", "halo",
                                core::now());
                if (bad) throw std::runtime_error("job failed on purpose");
              },
              [&, bad](std::exception_ptr e) {
                if (e) {
                  CHECK(bad);
                  ++failed;
                } else {
                  ++ok;
                }
              });
        }
      });
    for (auto& p : posters) p.join();
    w->stop();
    CHECK(ok == 4 * per_thread - 4 * 5);
    CHECK(failed == 4 * 5);
    CHECK(w->commits() < 4 * per_thread);
    CHECK(w->commits() >= 1);
    MESSAGE("writer: " << 4 * per_thread << " jobs in " << w->commits() << " commits");
    // What committed is there; what threw is not.
    db.reset();
    db = factory.open();
    CHECK_FALSE(db->store_inbound("sim", "0-0", "+6281200000001", "halo", core::now()).has_value());
    CHECK(db->store_inbound("sim", "0-99", "+6281200000001", "halo", core::now()).has_value());
    CHECK_THROWS_AS(w->post([](store&) {}), storage_error);
  }

  SUBCASE("the writer never puts more than max_batch jobs in one commit") {
    auto w = factory.open_writer(16);
    std::atomic<int> done{0};
    for (int i = 0; i < 200; ++i)
      w->post([i](store& s) { s.log_event("test", "", std::to_string(i)); }, [&](std::exception_ptr) { ++done; });
    w->stop();
    CHECK(done == 200);
    CHECK(w->commits() >= 200 / 16);
  }

  SUBCASE("writer completions run after the commit is durable") {
    auto w = factory.open_writer(16);
    std::promise<bool> visible;
    w->post([](store& s) { s.store_inbound("sim", "d1", "+6281200000001", "halo", core::now()); },
            [&](std::exception_ptr e) {
              // Another connection already sees the row: the COMMIT has returned.
              auto other = factory.open();
              visible.set_value(!e && !other->store_inbound("sim", "d1", "+6281200000001", "halo", core::now()));
            });
    CHECK(visible.get_future().get());
  }
}
