// The WhatsApp channel against the fake Graph API over 127.0.0.1.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "protocol/whatsapp/signature.hpp"
#include "protocol/whatsapp/whatsapp_channel.hpp"
#include "tests/fakes/graph_api.hpp"

namespace asio = boost::asio;
namespace chan = kentongan::channel;
namespace wa = kentongan::whatsapp;
using kentongan::fakes::behaviour;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_for(5ms);
  }
  return true;
}

struct recorder final : chan::events {
  std::vector<chan::submit_result> results;
  std::vector<std::pair<bool, std::string>> links;
  void on_submit_result(const std::string&, chan::submit_result r) override { results.push_back(std::move(r)); }
  void on_delivery_report(const std::string&, chan::delivery_report, std::function<void(bool)> ack) override {
    if (ack) ack(true);
  }
  void on_inbound(const std::string&, chan::inbound, std::function<void(bool)>) override {}
  void on_link_state(const std::string&, bool up, const std::string& reason) override { links.emplace_back(up, reason); }
};

struct fixture {
  asio::io_context io;
  kentongan::fakes::graph_api fake{io};
  recorder events;
  std::unique_ptr<wa::whatsapp_channel> channel;

  explicit fixture(std::function<void(wa::settings&)> adjust = {}) {
    fake.start();
    wa::settings s;
    s.name = "wa";
    s.api_base = fake.base_url();
    s.api_version = "v21.0";
    s.phone_number_id = "106540352242922";
    s.token = "test-token";
    s.templates["pengumuman"] = wa::template_spec{"pengumuman_kim", "id", true};
    s.request_timeout = 300ms;
    if (adjust) adjust(s);
    channel = std::make_unique<wa::whatsapp_channel>(io, s, events);
  }

  chan::submit_result send(std::int64_t id, const std::string& to, const std::string& text, const std::string& tmpl = "pengumuman") {
    const auto before = events.results.size();
    channel->submit(chan::outbound{id, to, text, true, tmpl});
    REQUIRE(run_until(io, [&] { return events.results.size() == before + 1; }));
    CHECK(events.results.back().id == id);
    return events.results.back();
  }

  json last_body() const {
    REQUIRE_FALSE(fake.requests().empty());
    return json::parse(fake.requests().back().body);
  }
};

}  // namespace

TEST_CASE("text inside the 24-hour window, template outside it") {
  fixture f;
  f.channel->note_inbound("+6281234567890", kentongan::core::now() - 23h);
  auto r = f.send(1, "+6281234567890", "Rapat petani kakao besok jam 9.");
  CHECK(r.outcome == chan::submit_outcome::accepted);
  CHECK(r.provider_id == f.fake.requests().back().answer_id);
  CHECK(r.provider_id.starts_with("wamid."));
  CHECK(f.fake.requests().back().target == "/v21.0/106540352242922/messages");
  CHECK(f.fake.requests().back().authorization == "Bearer test-token");
  CHECK(f.last_body()["type"] == "text");
  CHECK(f.last_body()["to"] == "6281234567890");
  CHECK(f.last_body()["text"]["body"] == "Rapat petani kakao besok jam 9.");

  f.channel->note_inbound("+6281200000000", kentongan::core::now() - 25h);  // window closed
  r = f.send(2, "+6281200000000", "Rapat petani kakao\nbesok jam 9.");
  CHECK(r.outcome == chan::submit_outcome::accepted);
  const auto body = f.last_body();
  CHECK(body["type"] == "template");
  CHECK(body["template"]["name"] == "pengumuman_kim");
  CHECK(body["template"]["language"]["code"] == "id");
  CHECK(body["template"]["components"][0]["parameters"][0]["text"] == "Rapat petani kakao besok jam 9.");

  // A template key not in the map is used as the approved name itself.
  r = f.send(3, "+6281200000001", "x", "info_harga");
  CHECK(r.outcome == chan::submit_outcome::accepted);
  CHECK(f.last_body()["template"]["name"] == "info_harga");

  const auto s = f.channel->stats();
  CHECK(s.texts == 1);
  CHECK(s.templates == 2);
  CHECK(s.accepted == 3);
}

TEST_CASE("neither window nor template: permanent, so that the daemon falls back to SMS") {
  fixture f;
  const auto r = f.send(7, "+6281234567890", "Halo", "");
  CHECK(r.outcome == chan::submit_outcome::permanent);
  CHECK(r.reason == "outside the 24-hour WhatsApp window and no template for this message");
  CHECK(f.fake.requests().empty());

  fixture g([](wa::settings& s) { s.default_template = "pengumuman"; });
  CHECK(g.send(8, "+6281234567890", "Halo", "").outcome == chan::submit_outcome::accepted);
}

TEST_CASE("Graph API errors through the table") {
  struct row {
    const char* label;
    behaviour fake;
    chan::submit_outcome outcome;
    bool slow_down;
    const char* reason_part;
  };
  const row rows[] = {
      {"429 / 130429 slows down", behaviour::rate_limited, chan::submit_outcome::retryable, true, "(#130429)"},
      {"131056 pair rate slows down", behaviour::pair_rate_limit, chan::submit_outcome::retryable, true, "(#131056)"},
      {"not on WhatsApp is permanent", behaviour::not_on_whatsapp, chan::submit_outcome::permanent, false,
       "not reachable on WhatsApp: (#131026)"},
      {"5xx retries", behaviour::server_error, chan::submit_outcome::retryable, false, "(HTTP 500)"},
      {"502 HTML retries", behaviour::bad_gateway, chan::submit_outcome::retryable, false, "(HTTP 502)"},
      {"no answer retries", behaviour::hang, chan::submit_outcome::retryable, false, "no answer from the Graph API"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    fixture f;
    f.fake.set_behaviour("+6281234567890", r.fake);
    f.channel->note_inbound("+6281234567890", kentongan::core::now());
    const auto res = f.send(11, "+6281234567890", "Halo");
    CHECK(res.outcome == r.outcome);
    CHECK(res.slow_down == r.slow_down);
    CAPTURE(res.reason);
    CHECK(res.reason.find(r.reason_part) != std::string::npos);
    CHECK(res.provider_id.empty());
    CHECK(f.channel->is_up());
  }
}

TEST_CASE("131047 re-engagement: the text is sent again as the template") {
  fixture f;
  f.fake.set_behaviour("+6281234567890", behaviour::re_engagement);
  f.channel->note_inbound("+6281234567890", kentongan::core::now() - 1h);  // we believe the window is open
  const auto r = f.send(21, "+6281234567890", "Halo");
  CHECK(r.outcome == chan::submit_outcome::accepted);
  REQUIRE(f.fake.requests().size() == 2);
  CHECK(f.fake.requests()[0].type == "text");
  CHECK(f.fake.requests()[1].type == "template");
  CHECK_FALSE(f.channel->last_inbound("+6281234567890"));
  CHECK(f.channel->stats().template_retries == 1);

  // Without a template it is permanent (SMS fallback).
  f.channel->note_inbound("+6281234567890", kentongan::core::now() - 1h);
  const auto p = f.send(22, "+6281234567890", "Halo", "");
  CHECK(p.outcome == chan::submit_outcome::permanent);
  CHECK(p.reason.find("(#131047)") != std::string::npos);
}

TEST_CASE("an invalid token takes the channel down loudly and loses nothing") {
  fixture f;
  f.fake.set_token("the-new-token");
  f.channel->note_inbound("+6281234567890", kentongan::core::now());
  auto r = f.send(31, "+6281234567890", "Halo");
  CHECK(r.outcome == chan::submit_outcome::retryable);
  CHECK(r.reason.find("(#190)") != std::string::npos);
  CHECK_FALSE(f.channel->is_up());
  REQUIRE_FALSE(f.events.links.empty());
  CHECK_FALSE(f.events.links.back().first);
  CHECK(f.events.links.back().second.find("(#190)") != std::string::npos);
  CHECK(f.events.links.back().second.find("test-token") == std::string::npos);  // never the secret
  CHECK(f.channel->down_reason() == f.events.links.back().second);

  // While down, submits come back retryable without a request.
  const auto sent = f.fake.requests().size();
  r = f.send(32, "+6281234567890", "Halo");
  CHECK(r.outcome == chan::submit_outcome::retryable);
  CHECK(r.reason.starts_with("whatsapp channel down: "));
  CHECK(f.fake.requests().size() == sent);

  // The same token again (a reload with an unchanged token file) leaves it down: Meta would refuse it.
  CHECK_FALSE(f.channel->set_token("test-token"));
  CHECK_FALSE(f.channel->is_up());

  CHECK(f.channel->set_token("the-new-token"));
  CHECK(f.channel->is_up());
  CHECK(f.events.links.back().first);
  CHECK(f.send(33, "+6281234567890", "Halo").outcome == chan::submit_outcome::accepted);
}

TEST_CASE("run() until stop()") {
  fixture f;
  bool finished = false;
  asio::co_spawn(f.io, f.channel->run(), [&](std::exception_ptr) { finished = true; });
  REQUIRE(run_until(f.io, [&] { return !f.events.links.empty(); }));
  CHECK(f.events.links.back() == std::pair<bool, std::string>{true, "ready"});
  CHECK(f.channel->limits().messages_per_second == 20.0);
  CHECK(f.channel->kind() == "whatsapp");
  f.channel->stop();
  REQUIRE(run_until(f.io, [&] { return finished; }));
  CHECK_FALSE(f.channel->is_up());
  CHECK(f.send(41, "+6281234567890", "Halo").outcome == chan::submit_outcome::retryable);
}

TEST_CASE("statuses become delivery reports, messages become inbound") {
  wa::status_update st;
  st.wamid = "wamid.A";
  struct row {
    const char* label;
    wa::status_kind kind;
    std::vector<wa::webhook_error> errors;
    std::optional<chan::report_status> expected;
    std::string reason;
  };
  const row rows[] = {
      {"sent: nothing new", wa::status_kind::sent, {}, std::nullopt, ""},
      {"delivered", wa::status_kind::delivered, {}, chan::report_status::delivered, ""},
      {"read counts as delivered", wa::status_kind::read, {}, chan::report_status::delivered, ""},
      {"failed with its error", wa::status_kind::failed,
       {{131026, "Message undeliverable", "Message undeliverable", "not a WhatsApp user"}},
       chan::report_status::failed, "(#131026) Message undeliverable: not a WhatsApp user"},
      {"failed without errors", wa::status_kind::failed, {}, chan::report_status::failed, "failed (no error given)"},
      {"deleted: ignored", wa::status_kind::other, {}, std::nullopt, ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    st.status = r.kind;
    st.errors = r.errors;
    const auto rep = wa::report_from_status(st);
    REQUIRE(rep.has_value() == r.expected.has_value());
    if (rep) {
      CHECK(rep->provider_id == "wamid.A");
      CHECK(rep->status == *r.expected);
      CHECK(rep->reason == r.reason);
    }
  }

  wa::inbound_message m;
  m.wamid = "wamid.IN";
  m.from = "+6281234567890";
  m.profile_name = "Pak Rahmat";
  m.text = "LAPOR jalan rusak";
  m.timestamp = 1749416383;
  const auto in = wa::inbound_from_message(m);
  CHECK(in.provider_id == "wamid.IN");
  CHECK(in.from == "+6281234567890");
  CHECK(in.profile_name == "Pak Rahmat");
  CHECK(in.text == "LAPOR jalan rusak");
  CHECK(kentongan::core::to_millis(in.received_at) == 1749416383000);
}

TEST_CASE("the fake posts signed webhooks") {
  // A one-shot receiver on 127.0.0.1 that checks the signature the way the daemon will.
  asio::io_context io;
  kentongan::fakes::graph_api fake(io);
  fake.start();
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::string received;
  asio::ip::tcp::socket peer(io);
  acceptor.async_accept(peer, [&](const boost::system::error_code& ec) {
    REQUIRE_FALSE(ec);
    auto buf = std::make_shared<std::array<char, 8192>>();
    peer.async_read_some(asio::buffer(*buf), [&, buf](const boost::system::error_code&, std::size_t n) {
      received.assign(buf->data(), n);
      asio::write(peer, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
    });
  });
  int status = -1;
  const auto body = fake.text_webhook("+6281234567890", "Bu Wayan", "wamid.W1", "Harga kakao?", 1749416383);
  fake.post_webhook("http://127.0.0.1:" + std::to_string(port) + "/webhooks/whatsapp", body, [&](int s) { status = s; });
  REQUIRE(run_until(io, [&] { return status != -1; }));
  CHECK(status == 200);
  CHECK(received.starts_with("POST /webhooks/whatsapp HTTP/1.1\r\n"));
  const auto sig = received.find("X-Hub-Signature-256: ");
  REQUIRE(sig != std::string::npos);
  const auto header = received.substr(sig + 21, 71);
  const auto payload = received.substr(received.find("\r\n\r\n") + 4);
  CHECK(payload == body);
  CHECK(wa::verify_signature(payload, header, "test-app-secret"));
  const auto parsed = wa::parse_webhook(payload);
  REQUIRE(parsed.ok);
  REQUIRE(parsed.value.messages.size() == 1);
  CHECK(parsed.value.messages[0].from == "+6281234567890");
  CHECK(parsed.value.messages[0].profile_name == "Bu Wayan");
}
