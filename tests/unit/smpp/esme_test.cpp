// The ESME channel against the SMSC simulator over 127.0.0.1, in one process and one io_context.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "protocol/smpp/esme_channel.hpp"
#include "protocol/smpp/pdu.hpp"
#include "protocol/gsm/gsm.hpp"
#include "tests/unit/channel_test_support.hpp"
#include "protocol/smpp/smsc_sim.hpp"

using namespace kentongan;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

using test_support::fake_events;
using test_support::run_until;

struct fixture {
  asio::io_context io;
  fake_events events;
  smpp::smsc_simulator sim;
  std::unique_ptr<smpp::esme_channel> esme;

  explicit fixture(smpp::smsc_settings sim_settings = {}, smpp::esme_settings settings = {}) : sim(io, std::move(sim_settings)) {
    sim.start({asio::ip::make_address("127.0.0.1"), 0});
    settings.name = "test";
    settings.host = "127.0.0.1";
    settings.port = sim.local_port();
    settings.system_id = "kentongan";
    settings.password = "secret";
    settings.source_addr = "KIM";
    settings.reconnect_min = 50ms;
    settings.reconnect_max = 200ms;
    if (settings.response_timeout == 30s) settings.response_timeout = 2s;
    esme = std::make_unique<smpp::esme_channel>(io, settings, events);
    asio::co_spawn(io, esme->run(), asio::detached);
    REQUIRE(run_until(io, [&] { return esme->is_up(); }));
  }
  ~fixture() {
    esme->stop();
    run_until(io, [&] { return esme->bound_sessions() == 0; }, 1s);
    sim.stop();
    esme.reset();
    io.run_for(20ms);
  }
  void submit(std::int64_t id, std::string text, std::string to = "+6281234567890") {
    esme->submit(channel::outbound{id, std::move(to), std::move(text), true, ""});
  }
};

const std::string long_gsm =
    "Pengumuman: harga kakao hari ini Rp 32.000/kg di gudang Merta Abadi. Penimbangan mulai pukul 08.00 @ balai desa; "
    "bawa kartu anggota. Info lebih lanjut hubungi pengurus KIM Ekasari. Terima kasih!";

}  // namespace

TEST_CASE("bind, submit one part, receive its receipt") {
  fixture f;
  CHECK(f.esme->bound_sessions() == 1);
  CHECK(f.esme->limits().window == 10);
  f.submit(1, "Halo @ £ $ _ warga");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1 && f.events.reports.size() == 1; }));
  const auto& r = f.events.results[0];
  CHECK(r.id == 1);
  CHECK(r.outcome == channel::submit_outcome::accepted);
  CHECK(r.parts == 1);
  CHECK_FALSE(r.provider_id.empty());
  CHECK(f.events.reports[0].provider_id == r.provider_id);
  CHECK(f.events.reports[0].status == channel::report_status::delivered);
  CHECK(f.sim.counters().accepted == 1);
  CHECK(run_until(f.io, [&] { return f.sim.counters().receipts_acked == 1; }));  // its resp may still be on the wire
}

TEST_CASE("a long text goes out as concatenated parts and gets one report") {
  REQUIRE(long_gsm.size() > 160);
  fixture f;
  f.submit(7, long_gsm);
  const std::string ucs2 = "Kabar: banjir di dusun Ekasari 🌧️ — harap waspada dan ikuti arahan petugas. Pesan panjang UCS-2.";
  f.submit(8, ucs2);
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 2 && f.events.reports.size() == 2; }));
  for (const auto& r : f.events.results) {
    CAPTURE(r.id);
    CHECK(r.outcome == channel::submit_outcome::accepted);
    CHECK(r.parts == static_cast<int>(gsm::plan_message(r.id == 7 ? long_gsm : ucs2).parts.size()));
    CHECK(r.parts == 2);
  }
  CHECK(f.sim.counters().accepted == 4);
  CHECK(f.events.reports[0].provider_id == f.events.results[0].provider_id);
}

TEST_CASE("receipts matched by their text when the SMSC sends no TLVs") {
  smpp::smsc_settings sim;
  sim.receipt_tlvs = false;
  sim.fail_rate = 1.0;
  smpp::esme_settings esme;
  esme.receipt_ids = smpp::receipt_id_form::decimal_to_hex;
  fixture f(sim, esme);
  f.submit(3, "Tes");
  REQUIRE(run_until(f.io, [&] { return f.events.reports.size() == 1 && f.events.results.size() == 1; }));
  CHECK(channel::normalise_provider_id(f.events.reports[0].provider_id) ==
        channel::normalise_provider_id(f.events.results[0].provider_id));
  CHECK(f.events.reports[0].status == channel::report_status::failed);
  CHECK(f.events.reports[0].reason.find("UNDELIV") != std::string::npos);
}

TEST_CASE("MO messages are reassembled and acknowledged only once stored") {
  fixture f;
  f.events.auto_ack = false;
  struct row { const char* label; smpp::concat_style style; std::string text; };
  const std::vector<row> rows{
      {"single", smpp::concat_style::udh8, "ASPIRASI jalan rusak di dusun 2 @ RT 03"},
      {"8-bit UDH", smpp::concat_style::udh8, long_gsm},
      {"16-bit UDH", smpp::concat_style::udh16, long_gsm},
      {"SAR TLVs", smpp::concat_style::sar, long_gsm},
      {"message_payload", smpp::concat_style::payload, long_gsm},
      {"UCS-2 in parts", smpp::concat_style::udh8, "Lapor: air bersih mati 3 hari ☹ mohon dibantu. " + std::string(60, 'x')},
  };
  for (const auto& r : rows) f.sim.send_mo({"6281234567890", "9123", r.text, r.style});
  REQUIRE(run_until(f.io, [&] { return f.events.inbound.size() == rows.size(); }));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string label = rows[i].label;
    CAPTURE(label);
    CHECK(f.events.inbound[i].text == rows[i].text);
    CHECK(f.events.inbound[i].from == "+6281234567890");
  }
  CHECK(f.sim.counters().mo_acked == 0);
  for (auto& ack : f.events.acks) ack(true);
  const auto parts = f.sim.counters().mo_parts;
  CHECK(parts == 1 + 2 + 2 + 2 + 1 + 2);
  REQUIRE(run_until(f.io, [&] { return f.sim.counters().mo_acked == parts; }));
}

TEST_CASE("an MO delivered again after a lost deliver_sm_resp has the same provider id") {
  smpp::smsc_settings sim;
  sim.mo_lose_first_ack = true;
  fixture f(sim);
  struct row { const char* label; smpp::concat_style style; std::string text; };
  const std::vector<row> rows{
      {"single", smpp::concat_style::udh8, "LAPOR lampu jalan mati di RT 02"},
      {"8-bit UDH", smpp::concat_style::udh8, long_gsm},
      {"SAR TLVs", smpp::concat_style::sar, long_gsm},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto before = f.events.inbound.size();
    std::vector<std::string> seen;
    f.sim.send_mo({"6281234567890", "9123", r.text, r.style});
    REQUIRE(run_until(f.io, [&] { return f.events.inbound.size() == before + 2; }));
    CHECK(f.events.inbound[before].text == r.text);
    CHECK(f.events.inbound[before + 1].text == r.text);
    CHECK(f.events.inbound[before].provider_id.rfind("mo-", 0) == 0);
    CHECK(f.events.inbound[before].provider_id == f.events.inbound[before + 1].provider_id);
  }
  // Different messages, different ids.
  CHECK(f.events.inbound[0].provider_id != f.events.inbound[2].provider_id);
  CHECK(f.events.inbound[2].provider_id != f.events.inbound[4].provider_id);
}

TEST_CASE("a refused MO store is answered with a temporary error") {
  fixture f;
  f.events.auto_ack = false;
  f.sim.send_mo({"6281234567890", "9123", "CEK ASP-2026-000123", smpp::concat_style::udh8});
  REQUIRE(run_until(f.io, [&] { return f.events.acks.size() == 1; }));
  f.events.acks[0](false);
  REQUIRE(run_until(f.io, [&] { return f.sim.counters().mo_rejected == 1; }));
}

TEST_CASE("MO parts missing after the reassembly timeout are delivered as received") {
  smpp::esme_settings esme;
  esme.reassembly_timeout = 200ms;
  esme.enquire_link = 100ms;
  fixture f({}, esme);
  // Part 1 of 2 only, 8-bit reference 9, raw GSM "Halo".
  smpp::sm_body b;
  b.source_addr_ton = 1;
  b.source_addr = "6281234567890";
  b.esm_class = 0x40;
  b.short_message = {0x05, 0x00, 0x03, 0x09, 0x02, 0x01, 'H', 'a', 'l', 'o'};
  const auto bytes = smpp::encode(smpp::pdu{smpp::command::deliver_sm, 0, 77, b});
  REQUIRE(bytes);
  f.sim.send_raw(*bytes);
  run_until(f.io, [&] { return false; }, 100ms);
  CHECK(f.events.inbound.empty());
  REQUIRE(run_until(f.io, [&] { return f.events.inbound.size() == 1; }));
  CHECK(f.events.inbound[0].text == "Halo");
}

TEST_CASE("throttling slows the channel down and makes the submit retryable") {
  smpp::smsc_settings sim;
  sim.throttle_after = 3;
  fixture f(sim);
  for (int i = 0; i < 10; ++i) f.submit(i, "Tes " + std::to_string(i));
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 10; }));
  int accepted = 0, throttled = 0;
  for (const auto& r : f.events.results) {
    if (r.outcome == channel::submit_outcome::accepted) ++accepted;
    if (r.outcome == channel::submit_outcome::retryable && r.slow_down) {
      ++throttled;
      CHECK(r.reason == "ESME_RTHROTTLED (0x58)");
    }
  }
  CHECK(accepted == 3);
  CHECK(throttled == 7);
  CHECK(f.esme->counters().throttled == 7);
}

TEST_CASE("the simulator restarted: link down, submits refused as retryable, then rebound") {
  fixture f;
  const auto port = f.sim.local_port();
  f.sim.stop();
  REQUIRE(run_until(f.io, [&] { return !f.esme->is_up(); }));
  CHECK(f.events.link_states.back() == false);
  f.submit(1, "Tes saat putus");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1; }));
  CHECK(f.events.results[0].outcome == channel::submit_outcome::retryable);
  f.sim.start({asio::ip::make_address("127.0.0.1"), port});
  REQUIRE(run_until(f.io, [&] { return f.esme->is_up(); }));
  f.submit(2, "Tes setelah sambung");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 2 && f.events.reports.size() == 1; }));
  CHECK(f.events.results[1].outcome == channel::submit_outcome::accepted);
  CHECK(f.esme->counters().binds == 2);
}

TEST_CASE("a link dropped mid-window fails the outstanding submits as retryable and reconnects") {
  smpp::smsc_settings sim;
  sim.drop_every = 5;
  fixture f(sim);
  for (int i = 0; i < 8; ++i) f.submit(i, "Tes " + std::to_string(i));
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 8; }));
  int accepted = 0, retryable = 0;
  for (const auto& r : f.events.results) {
    if (r.outcome == channel::submit_outcome::accepted) ++accepted;
    if (r.outcome == channel::submit_outcome::retryable) ++retryable;
  }
  // The simulator drops like a crash: responses it had not written yet are lost too.
  CHECK(accepted + retryable == 8);
  CHECK(retryable >= 4);
  REQUIRE(run_until(f.io, [&] { return f.esme->is_up(); }));
  f.submit(9, "lagi");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 9; }));
  CHECK(f.events.results.back().outcome == channel::submit_outcome::accepted);
}

TEST_CASE("malformed PDUs from the SMSC are nacked and the link is kept") {
  fixture f;
  // query_sm (0x03) is not a command we take: generic_nack ESME_RINVCMDID, link kept.
  f.sim.send_raw({0, 0, 0, 0x10, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x2a});
  REQUIRE(run_until(f.io, [&] { return f.esme->counters().generic_nacks_sent == 1; }));
  f.submit(1, "masih hidup");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1; }));
  CHECK(f.events.results[0].outcome == channel::submit_outcome::accepted);
  // A command_length that cannot be right: nack and drop, then reconnect.
  f.sim.send_raw({0xF0, 0, 0, 0x11, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 0x2b});
  REQUIRE(run_until(f.io, [&] { return f.esme->counters().disconnects == 1; }));
  REQUIRE(run_until(f.io, [&] { return f.esme->is_up(); }));
}

TEST_CASE("enquire_link keeps an idle link and the window holds at most `window` submits") {
  smpp::esme_settings esme;
  esme.enquire_link = 50ms;
  esme.window = 2;
  esme.sessions = 2;
  fixture f({}, esme);
  REQUIRE(run_until(f.io, [&] { return f.esme->bound_sessions() == 2; }));
  CHECK(f.esme->limits().window == 4);
  run_until(f.io, [&] { return f.sim.counters().enquire_links >= 4; }, 1s);
  CHECK(f.sim.counters().enquire_links >= 4);
  for (int i = 0; i < 30; ++i) f.submit(i, "Tes");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 30; }));
  for (const auto& r : f.events.results) CHECK(r.outcome == channel::submit_outcome::accepted);
}

TEST_CASE("tps is honoured") {
  smpp::esme_settings esme;
  esme.tps = 100;
  fixture f({}, esme);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) f.submit(i, "Tes");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 50; }));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // 10 in the initial burst, then 40 at 100/s: at least 0.4 s.
  CHECK(elapsed >= 380ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("sustained traffic: every submit answered and every receipt reported") {
  smpp::esme_settings esme;
  esme.sessions = 2;
  esme.window = 64;
  fixture f({}, esme);
  REQUIRE(run_until(f.io, [&] { return f.esme->bound_sessions() == 2; }));
  constexpr int total = 5000;
  const auto start = std::chrono::steady_clock::now();
  int next = 0;
  // Keep at most `window` messages in flight, as the dispatcher does.
  const auto window = static_cast<std::size_t>(f.esme->limits().window);
  REQUIRE(run_until(
      f.io,
      [&] {
        while (next < total && static_cast<std::size_t>(next) - f.events.results.size() < window) f.submit(next++, "Tes beban");
        return f.events.results.size() == total && f.events.reports.size() == total;
      },
      60s));
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  MESSAGE("submitted and receipted " << total << " messages in " << elapsed.count() << " s ("
                                     << static_cast<double>(total) / elapsed.count() << "/s, debug build)");
  for (const auto& r : f.events.results) REQUIRE(r.outcome == channel::submit_outcome::accepted);
  // The channel reports a receipt before its deliver_sm_resp has reached the simulator: wait for it.
  CHECK(run_until(f.io, [&] { return f.sim.counters().receipts_acked == total; }));
}

TEST_CASE("a receipt is answered only once its report is stored; a refused store makes the SMSC send it again") {
  // One report per message; for a multipart message only the first part's answer waits for the
  // store (receipt_group in esme_channel.cpp), the other parts are answered at once.
  struct row { const char* label; std::string text; std::uint64_t answered_at_once; };
  const std::vector<row> rows{
      {"one part", "Rapat kelompok tani Kamis 19.00", 0},
      {"two parts", long_gsm, 1},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    smpp::smsc_settings sim;
    sim.receipt_retry = 100ms;
    fixture f(sim);
    f.events.auto_ack_reports = false;
    f.submit(1, r.text);
    REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1 && f.events.report_acks.size() == 1; }));
    const auto provider_id = f.events.results[0].provider_id;
    CHECK(f.events.reports[0].provider_id == provider_id);
    run_until(f.io, [&] { return false; }, 150ms);
    CHECK(f.sim.counters().receipts_acked == r.answered_at_once);
    CHECK(f.sim.counters().receipts_rejected == 0);

    f.events.report_acks[0](false);  // the daemon could not store it: ESME_RX_T_APPN
    REQUIRE(run_until(f.io, [&] { return f.sim.counters().receipts_rejected == 1; }));
    REQUIRE(run_until(f.io, [&] { return f.events.report_acks.size() == 2; }));
    CHECK(f.events.reports[1].provider_id == provider_id);
    CHECK(f.events.reports[1].status == channel::report_status::delivered);
    CHECK(f.sim.counters().receipts_acked == r.answered_at_once);

    f.events.report_acks[1](true);
    REQUIRE(run_until(f.io, [&] { return f.sim.counters().receipts_acked == r.answered_at_once + 1; }));
    run_until(f.io, [&] { return false; }, 250ms);
    CHECK(f.events.reports.size() == 2);
    CHECK(f.sim.counters().receipts_rejected == 1);
  }
}

TEST_CASE("a receipt whose link went down while it was being stored is answered after the redelivery") {
  smpp::smsc_settings sim;
  sim.receipt_retry = 100ms;
  fixture f(sim);
  f.events.auto_ack_reports = false;
  f.submit(1, "Posyandu balita Sabtu pagi");
  REQUIRE(run_until(f.io, [&] { return f.events.report_acks.size() == 1; }));
  const auto port = f.sim.local_port();
  f.sim.stop();
  REQUIRE(run_until(f.io, [&] { return !f.esme->is_up(); }));
  f.events.report_acks[0](true);  // stored, but the answer has no link to go on
  f.sim.start({asio::ip::make_address("127.0.0.1"), port});
  REQUIRE(run_until(f.io, [&] { return f.events.report_acks.size() == 2; }));
  CHECK(f.events.reports[1].provider_id == f.events.results[0].provider_id);
  CHECK(f.sim.counters().receipts_acked == 0);
  f.events.report_acks[1](true);
  REQUIRE(run_until(f.io, [&] { return f.sim.counters().receipts_acked == 1; }));
}
