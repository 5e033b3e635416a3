// The modem channel against the modem simulator on a pseudo-terminal, in one process and one io_context.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "protocol/gsm/gsm.hpp"
#include "tests/unit/channel_test_support.hpp"
#include "protocol/modem/modem_channel.hpp"
#include "tests/fakes/modem_sim.hpp"

using namespace kentongan;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

using test_support::fake_events;
using test_support::run_until;

modem::modem_settings fast_settings() {
  modem::modem_settings m;
  m.name = "gsm";
  m.tps = 0;
  m.command_timeout = 500ms;
  m.send_timeout = 700ms;
  m.registration_poll = 10ms;
  m.registration_timeout = 2s;
  m.reopen_min = 30ms;
  m.reopen_max = 200ms;
  m.reset_wait = 150ms;
  m.settle = 10ms;
  m.sweep_interval = 10s;
  m.health_interval = 10s;
  m.ussd_timeout = 1s;
  m.ussd_balance_code = "*888#";
  return m;
}

struct fixture {
  asio::io_context io;
  fake_events events;
  fakes::modem_simulator sim;
  std::unique_ptr<modem::modem_channel> modem;

  explicit fixture(fakes::modem_sim_settings sim_settings = {}, modem::modem_settings settings = fast_settings(), bool wait_up = true)
      : sim(io, std::move(sim_settings)) {
    settings.device = sim.device();
    modem = std::make_unique<modem::modem_channel>(io, settings, events);
    asio::co_spawn(io, modem->run(), asio::detached);
    if (wait_up) REQUIRE(run_until(io, [&] { return modem->is_up(); }));
  }
  ~fixture() {
    modem->stop();
    io.run_for(50ms);
    modem.reset();
    io.run_for(20ms);
  }
  void submit(std::int64_t id, std::string text, std::string to = "+6281234567890", bool report = true) {
    modem->submit(channel::outbound{id, std::move(to), std::move(text), report, ""});
  }
  std::size_t count(std::string_view command) const {
    return static_cast<std::size_t>(std::count(sim.commands().begin(), sim.commands().end(), command));
  }
};

const std::string long_text =
    "Pengumuman: harga kakao hari ini Rp 32.000/kg di gudang Merta Abadi. Penimbangan mulai pukul 08.00 @ balai desa; "
    "bawa kartu anggota. Info lebih lanjut hubungi pengurus KIM Ekasari. Terima kasih!";

}  // namespace

TEST_CASE("start-up sequence") {
  struct row {
    const char* label;
    fakes::modem_sim_settings sim;
    std::string pin;
    std::vector<std::string> expected;
  };
  fakes::modem_sim_settings with_pin;
  with_pin.pin = "1234";
  with_pin.searching_polls = 2;
  const std::vector<row> rows{
      {"plain SIM, registered", {}, "",
       {"AT", "ATE0", "AT+CMEE=1", "AT+CPIN?", "AT+CREG?", "AT+CMGF=0", "AT+CSCA?", "AT+CNMI=2,1,0,1,0", "AT+CSQ", "AT+COPS?", "AT+CMGL=4"}},
      {"PIN and a slow registration", with_pin, "1234",
       {"AT", "ATE0", "AT+CMEE=1", "AT+CPIN?", "AT+CPIN=\"1234\"", "AT+CREG?", "AT+CREG?", "AT+CREG?", "AT+CMGF=0", "AT+CSCA?",
        "AT+CNMI=2,1,0,1,0", "AT+CSQ", "AT+COPS?", "AT+CMGL=4"}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto settings = fast_settings();
    settings.pin = r.pin;
    fixture f(r.sim, settings);
    REQUIRE(run_until(f.io, [&] { return f.sim.commands().size() >= r.expected.size(); }));
    CHECK(f.sim.commands() == r.expected);
    CHECK_FALSE(f.sim.echo());
    const auto h = f.modem->health();
    CHECK(h.up);
    CHECK(h.state == "up");
    CHECK(h.operator_name == "TELKOMSEL");
    REQUIRE(h.signal.has_value());
    CHECK(h.signal->rssi == 21);
    CHECK(h.smsc == "+6281100000");
    CHECK(f.events.link_states == std::vector<bool>{true});
    CHECK(f.modem->limits().window == 1);
  }
}

TEST_CASE("a SIM that wants a PIN we do not have stays down, and a wrong PIN is never tried twice") {
  fakes::modem_sim_settings sim;
  sim.pin = "1234";
  {
    fixture f(sim, fast_settings(), false);
    CHECK(run_until(f.io, [&] { return f.modem->health().state.find("no pin_file") != std::string::npos; }, 2s));
    CHECK_FALSE(f.modem->is_up());
  }
  {
    auto settings = fast_settings();
    settings.pin = "0000";
    fixture f(sim, settings, false);
    CHECK(run_until(f.io, [&] { return f.modem->health().state.find("not trying again") != std::string::npos; }, 2s));
    CHECK(f.count("AT+CPIN=\"0000\"") == 1);
  }
}

TEST_CASE("send one part, its status report marks it delivered") {
  fixture f;
  f.submit(1, "Halo warga @ £ $ _ Ekasari");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1 && f.events.reports.size() == 1; }));
  const auto& r = f.events.results[0];
  CHECK(r.id == 1);
  CHECK(r.outcome == channel::submit_outcome::accepted);
  CHECK(r.parts == 1);
  CHECK(r.provider_id == modem::report_provider_id(0, "+6281234567890"));
  REQUIRE(f.sim.sent().size() == 1);
  CHECK(f.sim.sent()[0].to == "+6281234567890");
  CHECK(f.sim.sent()[0].text == "Halo warga @ £ $ _ Ekasari");
  CHECK(f.sim.sent()[0].report);
  CHECK(f.events.reports[0].provider_id == r.provider_id);
  CHECK(f.events.reports[0].status == channel::report_status::delivered);
  CHECK(f.modem->health().counters.parts_sent == 1);
}

TEST_CASE("a long text goes out part after part and gets one report") {
  fixture f;
  f.submit(7, long_text);
  const std::string ucs2 = "Kabar: banjir di dusun Ekasari 🌧️ — harap waspada dan ikuti arahan petugas. Pesan panjang UCS-2.";
  f.submit(8, ucs2);
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 2 && f.events.reports.size() == 2; }));
  for (const auto& r : f.events.results) {
    CAPTURE(r.id);
    CHECK(r.outcome == channel::submit_outcome::accepted);
    CHECK(r.parts == 2);
  }
  REQUIRE(f.sim.sent().size() == 4);
  CHECK(f.sim.sent()[0].text + f.sim.sent()[1].text == long_text);
  CHECK(f.sim.sent()[2].text + f.sim.sent()[3].text == ucs2);
  CHECK(f.events.reports[0].provider_id == f.events.results[0].provider_id);
  CHECK(f.events.reports[1].provider_id == f.events.results[1].provider_id);
}

TEST_CASE("status reports: stored (+CDSI), failed, or not wanted") {
  struct row {
    const char* label;
    bool as_cds;
    std::uint8_t status;
    bool want;
    std::optional<channel::report_status> expected;
  };
  const std::vector<row> rows{
      {"+CDSI, read and deleted", false, 0x00, true, channel::report_status::delivered},
      {"+CDS failed 0x41", true, 0x41, true, channel::report_status::failed},
      {"+CDS expired 0x46", true, 0x46, true, channel::report_status::expired},
      {"no report asked", true, 0x00, false, std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    fakes::modem_sim_settings sim;
    sim.report_as_cds = r.as_cds;
    sim.report_status = r.status;
    fixture f(sim);
    f.submit(3, "Rapat kelompok tani besok pagi", "+6281234567890", r.want);
    REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1; }));
    CHECK(f.sim.sent()[0].report == r.want);
    if (r.expected) {
      REQUIRE(run_until(f.io, [&] { return f.events.reports.size() == 1; }));
      CHECK(f.events.reports[0].status == *r.expected);
      CHECK(f.events.reports[0].provider_id == f.events.results[0].provider_id);
      if (!r.as_cds) CHECK(run_until(f.io, [&] { return f.sim.stored() == 0; }));
    } else {
      f.io.run_for(100ms);
      CHECK(f.events.reports.empty());
    }
  }
}

TEST_CASE("a stored status report is deleted only once its report is stored; ack(false) leaves it for the sweep") {
  fakes::modem_sim_settings sim;
  sim.report_as_cds = false;
  auto settings = fast_settings();
  settings.sweep_interval = 100ms;
  fixture f(sim, settings);
  f.events.auto_ack_reports = false;
  f.submit(4, "Gotong royong Sabtu pagi");
  REQUIRE(run_until(f.io, [&] { return f.events.report_acks.size() == 1; }));
  CHECK(f.events.reports[0].provider_id == f.events.results[0].provider_id);
  f.io.run_for(150ms);
  CHECK(f.sim.stored() == 1);
  CHECK(f.events.reports.size() == 1);  // in hand: the sweep does not hand it over twice
  f.events.report_acks[0](false);
  REQUIRE(run_until(f.io, [&] { return f.events.report_acks.size() == 2; }));
  CHECK(f.events.reports[1].provider_id == f.events.results[0].provider_id);
  CHECK(f.events.reports[1].status == channel::report_status::delivered);
  CHECK(f.sim.stored() == 1);
  f.events.report_acks[1](true);
  REQUIRE(run_until(f.io, [&] { return f.sim.stored() == 0; }));
  f.io.run_for(150ms);
  CHECK(f.events.reports.size() == 2);
}

TEST_CASE("a report's provider id is built from its TP-MR and recipient alone") {
  struct row {
    const char* label;
    int mr;
    std::string recipient;
    int other_mr;
    std::string other;
    bool same;
  };
  const std::vector<row> rows{
      {"TP-RA international, as submitted", 17, "+6281234567890", 17, "+6281234567890", true},
      {"TP-RA without the plus (TON unknown)", 17, "+6281234567890", 17, "6281234567890", true},
      {"TP-RA in national form", 17, "+6281234567890", 17, "081234567890", true},
      {"another TP-MR", 17, "+6281234567890", 18, "+6281234567890", false},
      {"TP-MR wrapped: another recipient", 17, "+6281234567890", 17, "+6281234567891", false},
      {"a number differing in its ninth-last digit", 17, "+6281234567890", 17, "+6281334567890", false},
      // Only the last nine digits count (what a national and an international TP-RA share): the same
      // TP-MR to a number differing only before them would share the id.
      {"differing before the last nine digits", 17, "+6281234567890", 17, "+6285234567890", true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto a = modem::report_provider_id(r.mr, r.recipient);
    const auto b = modem::report_provider_id(r.other_mr, r.other);
    CHECK((a == b) == r.same);
    CHECK(a.starts_with("mr" + std::to_string(r.mr) + "-"));
    CHECK(a.size() == 2 + std::to_string(r.mr).size() + 1 + 8);
    CHECK(a.find("234567890") == std::string::npos);  // no phone digits in logs and exports
  }
}

TEST_CASE("a status report that comes after a restart finds its message by TP-MR and recipient") {
  struct row {
    const char* label;
    bool as_cds;
    std::string text;
    std::size_t reports;  ///< delivery reports handed over after the restart
  };
  const std::vector<row> rows{
      {"+CDS, routed", true, "Posyandu balita Rabu pagi", 1},
      {"+CDSI, stored: deleted once stored", false, "Posyandu balita Rabu pagi", 1},
      {"two parts: the first part's report stands for the message", true, long_text, 2},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    fakes::modem_sim_settings sim;
    sim.hold_reports = true;
    sim.report_as_cds = r.as_cds;
    fixture f(sim);
    f.submit(9, r.text, "+6281234567890");
    REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1; }));
    const auto provider_id = f.events.results[0].provider_id;
    REQUIRE(!f.sim.sent().empty());
    CHECK(provider_id == modem::report_provider_id(f.sim.sent()[0].mr, "+6281234567890"));

    // The daemon dies (its TP-MR map with it) and a new channel opens the same modem.
    f.modem->stop();
    f.io.run_for(50ms);
    f.modem.reset();
    auto settings = fast_settings();
    settings.device = f.sim.device();
    f.modem = std::make_unique<modem::modem_channel>(f.io, settings, f.events);
    asio::co_spawn(f.io, f.modem->run(), asio::detached);
    REQUIRE(run_until(f.io, [&] { return f.modem->is_up(); }));

    f.sim.release_reports();
    REQUIRE(run_until(f.io, [&] { return f.events.reports.size() == r.reports; }));
    CHECK(f.events.reports[0].provider_id == provider_id);
    CHECK(f.events.reports[0].status == channel::report_status::delivered);
    for (std::size_t i = 1; i < f.events.reports.size(); ++i) CHECK(f.events.reports[i].provider_id != provider_id);
    CHECK(f.modem->health().counters.unmatched_reports == r.reports);
    if (!r.as_cds) CHECK(run_until(f.io, [&] { return f.sim.stored() == 0; }));
  }
}

TEST_CASE("+CMS ERROR: retryable or permanent, and the link stays up") {
  struct row {
    int code;
    channel::submit_outcome outcome;
  };
  const std::vector<row> rows{
      {42, channel::submit_outcome::retryable},
      {500, channel::submit_outcome::retryable},
      {1, channel::submit_outcome::permanent},
      {304, channel::submit_outcome::permanent},
  };
  for (const auto& r : rows) {
    CAPTURE(r.code);
    fixture f;
    f.sim.fail_submits(r.code);
    f.submit(5, "Tes");
    f.submit(6, "Tes lagi");
    REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 2; }));
    CHECK(f.events.results[0].outcome == r.outcome);
    CHECK(f.events.results[0].reason.find("+CMS ERROR: " + std::to_string(r.code)) == 0);
    CHECK(f.events.results[1].outcome == channel::submit_outcome::accepted);
    CHECK(f.modem->is_up());
  }
}

TEST_CASE("a multipart message refused half-way says how many parts went out") {
  fixture f;
  // The first part is accepted, then the network refuses.
  f.sim.fail_submits(42, 1, 1);
  f.submit(9, long_text);
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1; }));
  CHECK(f.events.results[0].outcome == channel::submit_outcome::retryable);
  CHECK(f.events.results[0].reason.find("1 of 2 parts sent") != std::string::npos);
}

TEST_CASE("receive on +CMTI; AT+CMGD only after ack(true)") {
  fixture f;
  f.events.auto_ack = false;
  f.sim.deliver("+6281298765432", "LAPOR jalan rusak di dusun 2 #jalan");
  REQUIRE(run_until(f.io, [&] { return f.events.inbound.size() == 1; }));
  const auto& m = f.events.inbound[0];
  CHECK(m.from == "+6281298765432");
  CHECK(m.text == "LAPOR jalan rusak di dusun 2 #jalan");
  CHECK(m.provider_id.starts_with("gsm:+6281298765432@"));
  f.io.run_for(100ms);
  CHECK(f.sim.stored() == 1);
  CHECK(f.sim.counters().deletes == 0);
  f.events.acks[0](true);
  REQUIRE(run_until(f.io, [&] { return f.sim.stored() == 0; }));
  CHECK(f.count("AT+CMGD=0") == 1);
  CHECK(f.events.inbound.size() == 1);
}

TEST_CASE("ack(false) leaves the message on the SIM and the sweep hands it over again") {
  auto settings = fast_settings();
  settings.sweep_interval = 100ms;
  fixture f({}, settings);
  f.events.auto_ack = false;
  f.sim.deliver("+6281298765432", "CEK ASP-2026-000123");
  REQUIRE(run_until(f.io, [&] { return f.events.inbound.size() == 1; }));
  f.events.acks[0](false);
  REQUIRE(run_until(f.io, [&] { return f.events.inbound.size() == 2; }));
  CHECK(f.events.inbound[1].provider_id == f.events.inbound[0].provider_id);  // the inbox dedupes on it
  CHECK(f.sim.stored() == 1);
  f.events.acks[1](true);
  REQUIRE(run_until(f.io, [&] { return f.sim.stored() == 0; }));
}

TEST_CASE("a concatenated delivery is reassembled and every part deleted after the ack") {
  fixture f;
  f.sim.deliver("+6285712345678", long_text);
  REQUIRE(run_until(f.io, [&] { return f.events.inbound.size() == 1; }));
  CHECK(f.events.inbound[0].text == long_text);
  REQUIRE(run_until(f.io, [&] { return f.sim.stored() == 0; }));
  CHECK(f.modem->health().counters.inbound_parts == 2);
}

TEST_CASE("messages stored before start-up are found by the sweep; vector F1 and junk") {
  asio::io_context io;
  fakes::modem_sim_settings sim_settings;
  fakes::modem_simulator sim(io, sim_settings);
  sim.deliver_pdu("07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07", false);  // F12
  sim.deliver_pdu("06917228195339040B917228214365F700003130805120618005D4F29C2E03", false);              // F1
  sim.deliver_pdu("0011000B916407", false);                                                              // truncated
  fake_events events;
  auto settings = fast_settings();
  settings.device = sim.device();
  auto modem = std::make_unique<modem::modem_channel>(io, settings, events);
  asio::co_spawn(io, modem->run(), asio::detached);
  REQUIRE(run_until(io, [&] { return events.inbound.size() == 2 && sim.stored() == 0; }));
  CHECK(events.inbound[0].from == "+31641600986");
  CHECK(events.inbound[0].text == "How are you?");
  CHECK(events.inbound[1].from == "+27821234567");
  CHECK(events.inbound[1].text == "Test2");
  // F1: SCTS 2013-03-08 15:02:16 +02:00.
  CHECK(core::to_millis(events.inbound[1].received_at) == 1362747736000);
  CHECK(modem->health().counters.undecodable == 1);
  modem->stop();
  io.run_for(50ms);
}

TEST_CASE("URCs between response lines are still acted on") {
  fakes::modem_sim_settings sim;
  sim.interleave_urcs = true;
  auto settings = fast_settings();
  settings.health_interval = 50ms;  // keeps commands flowing, so held URCs go out inside responses
  fixture f(sim, settings);
  f.sim.send_urc("^RSSI:17");
  f.submit(1, "Halo");
  f.sim.deliver("+6281298765432", "INFO HARGA");
  REQUIRE(run_until(f.io, [&] { return f.events.reports.size() == 1 && f.events.inbound.size() == 1 && f.sim.stored() == 0; }));
  CHECK(f.events.reports[0].status == channel::report_status::delivered);
  CHECK(f.events.inbound[0].text == "INFO HARGA");
  CHECK(f.modem->health().counters.noise >= 1);
}

TEST_CASE("a hung modem: down, queued messages wait, reset with AT+CFUN=1,1, reopen, resume") {
  fixture f;
  f.sim.hang();
  f.submit(1, "Pesan pertama");
  f.submit(2, "Pesan kedua");
  // The first one was in AT+CMGS when the modem went silent: it may have gone out, so it is retryable.
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1; }));
  CHECK(f.events.results[0].id == 1);
  CHECK(f.events.results[0].outcome == channel::submit_outcome::retryable);
  REQUIRE(run_until(f.io, [&] { return !f.modem->is_up(); }));
  CHECK(f.events.link_states == std::vector<bool>{true, false});
  f.submit(3, "Saat modem mati");
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 2; }));
  CHECK(f.events.results[1].id == 3);
  CHECK(f.events.results[1].outcome == channel::submit_outcome::retryable);
  f.sim.unhang();
  REQUIRE(run_until(f.io, [&] { return f.modem->is_up(); }));
  CHECK(f.sim.counters().resets == 1);
  REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 3; }));
  CHECK(f.events.results[2].id == 2);
  CHECK(f.events.results[2].outcome == channel::submit_outcome::accepted);
  CHECK(f.events.link_states == std::vector<bool>{true, false, true});
  CHECK(f.modem->health().counters.hangs >= 1);
}

TEST_CASE("an unplugged modem: down until it comes back behind the same device path") {
  const auto dir = std::filesystem::temp_directory_path() / ("kentongan-modem-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  fakes::modem_sim_settings sim;
  sim.link_path = (dir / "ttyUSB0").string();
  {
    fixture f(sim);
    f.sim.unplug();
    REQUIRE(run_until(f.io, [&] { return !f.modem->is_up(); }));
    f.io.run_for(100ms);
    CHECK(f.modem->health().state.find("cannot open") != std::string::npos);
    f.sim.replug();
    REQUIRE(run_until(f.io, [&] { return f.modem->is_up(); }));
    f.submit(1, "Sudah kembali");
    REQUIRE(run_until(f.io, [&] { return f.events.results.size() == 1; }));
    CHECK(f.events.results[0].outcome == channel::submit_outcome::accepted);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("USSD balance on demand and on a schedule") {
  auto settings = fast_settings();
  settings.balance_warning = 20000;
  fixture f({}, settings);
  std::optional<std::pair<bool, std::string>> answer;
  f.modem->check_balance([&](bool ok, std::string text) { answer = std::pair{ok, std::move(text)}; });
  REQUIRE(run_until(f.io, [&] { return answer.has_value(); }));
  CHECK(answer->first);
  CHECK(answer->second == "Sisa pulsa Anda Rp 12.500. Aktif s.d. 30-06-2026");
  CHECK(f.count("AT+CUSD=1,\"*888#\",15") == 1);
  const auto h = f.modem->health();
  CHECK(h.balance_amount == 12500.0);
  CHECK(h.balance_low);
  CHECK(h.balance_at.has_value());

  auto scheduled = fast_settings();
  scheduled.balance_interval = 1s;
  fixture g({}, scheduled);
  REQUIRE(run_until(g.io, [&] { return g.modem->health().balance_amount.has_value(); }));

  auto none = fast_settings();
  none.ussd_balance_code.clear();
  fixture h2({}, none);
  std::optional<bool> refused;
  h2.modem->check_balance([&](bool ok, std::string) { refused = ok; });
  REQUIRE(run_until(h2.io, [&] { return refused.has_value(); }));
  CHECK_FALSE(*refused);
}

TEST_CASE("balance amounts") {
  struct row {
    const char* text;
    std::optional<double> amount;
  };
  const std::vector<row> rows{
      {"Sisa pulsa Anda Rp 12.500. Aktif s.d. 30-06-2026", 12500.0},
      {"Pulsa:Rp1.250.000,00", 1250000.0},
      {"Balance 3500 until 2026", 3500.0},
      {"Maaf, layanan tidak tersedia", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(modem::parse_balance_amount(r.text) == r.amount);
  }
}
