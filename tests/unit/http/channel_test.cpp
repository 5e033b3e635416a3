// The HTTP aggregator channel against the fake aggregator over 127.0.0.1.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "protocol/http/http_channel.hpp"
#include "tests/fakes/aggregator.hpp"
#include "tests/unit/channel_test_support.hpp"

namespace asio = boost::asio;
namespace chan = kentongan::channel;
namespace h = kentongan::http;
using kentongan::fakes::aggregator_behaviour;
using kentongan::test_support::run_until;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct fixture {
  asio::io_context io;
  kentongan::fakes::aggregator fake{io};
  kentongan::test_support::fake_events events;
  std::unique_ptr<h::http_channel> channel;

  explicit fixture(std::function<void(h::http_settings&)> adjust = {}) {
    fake.start();
    h::http_settings s;
    s.name = "agg";
    s.url = fake.base_url() + "/api/send";
    s.method = h::http_method::post;
    s.body = h::body_kind::form;
    s.fields = {{"to", "{to}"}, {"text", "{text}"}, {"ref", "{id}"}, {"from", "{from}"}};
    s.from = "KIM";
    s.auth_value = "Bearer rahasia-token";
    s.id_pointer = "/messages/0/id";
    s.success.json_pointer = "/status";
    s.success.equals = "0";
    s.error_code_pointer = "/status";
    s.request_timeout = 500ms;
    s.down_time = 200ms;
    if (adjust) adjust(s);
    REQUIRE(h::validate(s).empty());
    channel = std::make_unique<h::http_channel>(io, s, events);
  }

  chan::submit_result send(std::int64_t id, const std::string& to, const std::string& text) {
    const auto before = events.results.size();
    channel->submit(chan::outbound{id, to, text, true, {}});
    REQUIRE(run_until(io, [&] { return events.results.size() == before + 1; }));
    CHECK(events.results.back().id == id);
    return events.results.back();
  }
};

const std::string resident = "+6281234567890";

}  // namespace

TEST_CASE("form POST: URL, body, auth header; the provider id is kept") {
  fixture f;
  const auto r = f.send(7, resident, "Rapat petani kakao besok jam 9 & bawa 50% iuran");
  CHECK(r.outcome == chan::submit_outcome::accepted);
  CHECK(r.provider_id == "AGG-1");
  CHECK(r.parts == 1);
  CHECK_FALSE(r.slow_down);
  REQUIRE(f.fake.requests().size() == 1);
  const auto& q = f.fake.requests().front();
  CHECK(q.method == "POST");
  CHECK(q.path == "/api/send");
  CHECK(q.headers.at("authorization") == "Bearer rahasia-token");
  CHECK(q.headers.at("content-type") == "application/x-www-form-urlencoded");
  CHECK(q.body == "to=6281234567890&text=Rapat%20petani%20kakao%20besok%20jam%209%20%26%20bawa%2050%25%20iuran&ref=7&from=KIM");
  CHECK(q.params.at("text") == "Rapat petani kakao besok jam 9 & bawa 50% iuran");
  CHECK(q.params.at("ref") == "7");
  CHECK(f.channel->stats().accepted == 1);
}

TEST_CASE("JSON body from a template, e164 numbers, UTF-8 text, parts counted") {
  fixture f([](h::http_settings& s) {
    s.body = h::body_kind::json;
    s.fields.clear();
    s.body_template = R"({"to":"{to}","text":"{text}","meta":{"ref":"{id}"}})";
    s.to_format = h::number_format::e164;
  });
  const std::string text = "Harga kakao naik — \"Rp 120.000\"/kg 🌾\nInfo: balai desa";
  const auto r = f.send(8, resident, text);
  CHECK(r.outcome == chan::submit_outcome::accepted);
  CHECK(r.parts == 1);
  const auto body = json::parse(f.fake.requests().back().body);
  CHECK(body["to"] == resident);
  CHECK(body["text"] == text);
  CHECK(body["meta"]["ref"] == "8");
  CHECK(f.fake.requests().back().headers.at("content-type") == "application/json");

  const auto long_one = f.send(9, resident, std::string(200, 'a'));
  CHECK(long_one.parts == 2);
}

TEST_CASE("Kannel sendsms: GET query, plain-text success, our id as provider id") {
  fixture f([](h::http_settings& s) {
    s.method = h::http_method::get;
    s.url = s.url.substr(0, s.url.find("/api")) + "/cgi-bin/sendsms";
    s.body = h::body_kind::query;
    s.secrets = {{"username", "kim"}, {"password", "p@ss word"}};
    s.callback.secret = "cbsecret";
    s.fields = {{"username", "{secret:username}"}, {"password", "{secret:password}"}, {"to", "{to}"}, {"text", "{text}"},
                {"dlr-mask", "3"},
                {"dlr-url", "http://127.0.0.1:8787/webhooks/http/kannel?ref={id}&type=%d&token={callback_secret}"}};
    s.auth_value.clear();
    s.id_pointer.clear();
    s.success = {};
    s.success.body_contains = "Accepted for delivery";
    s.error_code_pointer.clear();
  });
  f.fake.set_default_behaviour(aggregator_behaviour::ok_kannel);
  const auto r = f.send(42, resident, "Posyandu Sabtu, 08.00 WITA");
  CHECK(r.outcome == chan::submit_outcome::accepted);
  CHECK(r.provider_id == "42");
  const auto& q = f.fake.requests().back();
  CHECK(q.method == "GET");
  CHECK(q.path == "/cgi-bin/sendsms");
  CHECK(q.body.empty());
  CHECK(q.headers.count("authorization") == 0);
  CHECK(q.params.at("username") == "kim");
  CHECK(q.params.at("password") == "p@ss word");
  CHECK(q.params.at("text") == "Posyandu Sabtu, 08.00 WITA");
  CHECK(q.params.at("dlr-url") == "http://127.0.0.1:8787/webhooks/http/kannel?ref=42&type=%d&token=cbsecret");

  // "Queued for later delivery" is not the success text: retried.
  f.fake.set_default_behaviour(aggregator_behaviour::queued_kannel);
  const auto queued = f.send(43, resident, "x");
  CHECK(queued.outcome == chan::submit_outcome::permanent);  // a 2xx without the success text
}

TEST_CASE("error answers: 429 slows down and retries, 5xx retries, 4xx and refusals are permanent") {
  struct row {
    std::string label;
    aggregator_behaviour behaviour;
    chan::submit_outcome outcome;
    bool slow_down;
    std::string reason_start;
  };
  const std::vector<row> rows = {
      {"429", aggregator_behaviour::rate_limited, chan::submit_outcome::retryable, true, "HTTP 429 code 29"},
      {"500", aggregator_behaviour::server_error, chan::submit_outcome::retryable, false, "HTTP 500 code 99"},
      {"502 HTML", aggregator_behaviour::bad_gateway, chan::submit_outcome::retryable, false, "HTTP 502: <html>"},
      {"400", aggregator_behaviour::bad_request, chan::submit_outcome::permanent, false, "HTTP 400 code 21"},
      {"200 refusal", aggregator_behaviour::refused_json, chan::submit_outcome::permanent, false, "HTTP 200 code 5"},
      {"no answer", aggregator_behaviour::hang, chan::submit_outcome::retryable, false, "aggregator unreachable: no answer within 500 ms"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    fixture f;
    f.fake.set_behaviour("6281234567890", r.behaviour, 1);
    const auto first = f.send(1, resident, "Kerja bakti Minggu");
    CHECK(first.outcome == r.outcome);
    CHECK(first.slow_down == r.slow_down);
    CHECK(first.provider_id.empty());
    CAPTURE(first.reason);
    CHECK(first.reason.starts_with(r.reason_start));
    // The dispatcher sends a retryable message again; the aggregator has recovered by then.
    const auto again = f.send(1, resident, "Kerja bakti Minggu");
    CHECK(again.outcome == chan::submit_outcome::accepted);
    CHECK(again.provider_id == "AGG-1");
  }
}

TEST_CASE("429 says how long to wait when the aggregator does") {
  fixture f;
  f.fake.set_behaviour("6281234567890", aggregator_behaviour::rate_limited, 1);
  const auto r = f.send(1, resident, "x");
  CHECK(r.slow_down);
  CHECK(r.reason.ends_with("(Retry-After: 2)"));
  CHECK(f.channel->stats().rate_limited == 1);
}

TEST_CASE("401: the channel goes down, messages wait, and it comes back") {
  fixture f;
  f.fake.set_behaviour("6281234567890", aggregator_behaviour::unauthorized, 1);
  const auto r = f.send(1, resident, "x");
  CHECK(r.outcome == chan::submit_outcome::retryable);
  CHECK_FALSE(f.channel->is_up());
  CHECK(f.channel->down_reason().starts_with("aggregator refused the credentials: HTTP 401"));
  REQUIRE_FALSE(f.events.link_states.empty());
  CHECK_FALSE(f.events.link_states.back());
  const auto waiting = f.send(2, resident, "y");
  CHECK(waiting.outcome == chan::submit_outcome::retryable);
  CHECK(f.fake.requests().size() == 1);  // not sent while down
  // down_time passes: up again and sending.
  REQUIRE(run_until(f.io, [&] { return f.channel->is_up(); }));
  CHECK(f.events.link_states.back());
  CHECK(f.send(2, resident, "y").outcome == chan::submit_outcome::accepted);

  // New credentials bring it up at once.
  f.fake.set_behaviour("6281234567890", aggregator_behaviour::unauthorized, 1);
  f.send(3, resident, "z");
  CHECK_FALSE(f.channel->is_up());
  f.channel->set_auth("Bearer new");
  CHECK(f.channel->is_up());
  f.send(3, resident, "z");
  CHECK(f.fake.requests().back().headers.at("authorization") == "Bearer new");
}

TEST_CASE("run() reports the link and ends on stop(); submits after stop are retryable") {
  fixture f;
  bool done = false;
  asio::co_spawn(f.io, f.channel->run(), [&](std::exception_ptr) { done = true; });
  REQUIRE(run_until(f.io, [&] { return !f.events.link_states.empty(); }));
  CHECK(f.events.link_states.front());
  CHECK(f.channel->limits().messages_per_second == doctest::Approx(5.0));
  f.channel->stop();
  REQUIRE(run_until(f.io, [&] { return done; }));
  CHECK_FALSE(f.events.link_states.back());
  CHECK(f.send(1, resident, "x").outcome == chan::submit_outcome::retryable);
}

TEST_CASE("handle_callback: secret checked, inbound and reports as channel values") {
  fixture f([](h::http_settings& s) {
    s.callback.enabled = true;
    s.callback.check = h::secret_check::header;
    s.callback.secret_name = "X-Callback-Token";
    s.callback.secret = "cb-rahasia";
    s.callback.fields.timestamp = "ts";
    s.callback.status_map = {{"DELIVERED", h::report_state::delivered}, {"FAILED", h::report_state::failed}};
  });
  CHECK(h::callback_path("agg") == "/webhooks/http/agg");

  h::callback_request mo{"POST", "application/x-www-form-urlencoded", {}, {{"x-callback-token", "cb-rahasia"}},
                         "from=081234567890&text=LAPOR+lampu+jalan+mati&id=MO-77&ts=1767225600"};
  const auto in = f.channel->handle_callback(mo);
  REQUIRE(in.ok());
  CHECK(in.http_status == 200);
  CHECK(in.reply == "OK");
  REQUIRE(in.messages.size() == 1);
  CHECK(in.messages[0].provider_id == "MO-77");
  CHECK(in.messages[0].from == resident);
  CHECK(in.messages[0].text == "LAPOR lampu jalan mati");
  CHECK(kentongan::core::to_millis(in.messages[0].received_at) == 1767225600000);

  h::callback_request dlr{"POST", "application/json", {}, {{"x-callback-token", "cb-rahasia"}},
                          R"({"id":"AGG-1","status":"FAILED","error":"absent subscriber"})"};
  const auto rep = f.channel->handle_callback(dlr);
  REQUIRE(rep.ok());
  REQUIRE(rep.reports.size() == 1);
  CHECK(rep.reports[0].provider_id == "AGG-1");
  CHECK(rep.reports[0].status == chan::report_status::failed);
  CHECK(rep.reports[0].reason == "status FAILED: absent subscriber");

  // No provider id: a stable one from the content and timestamp, so a redelivery dedupes.
  h::callback_request no_id = mo;
  no_id.body = "from=081234567890&text=halo&ts=1767225600";
  const auto a = f.channel->handle_callback(no_id);
  const auto b = f.channel->handle_callback(no_id);
  REQUIRE(a.messages.size() == 1);
  CHECK(a.messages[0].provider_id.starts_with("h:"));
  CHECK(a.messages[0].provider_id == b.messages[0].provider_id);

  h::callback_request forged = dlr;
  forged.headers["x-callback-token"] = "cb-rahasiA";
  const auto bad = f.channel->handle_callback(forged);
  CHECK(bad.error == h::callback_error::bad_secret);
  CHECK(bad.http_status == 403);
  CHECK(bad.reports.empty());
  CHECK(bad.reason.find("cb-rahasia") == std::string::npos);

  const auto stats = f.channel->stats();
  CHECK(stats.callbacks == 5);
  CHECK(stats.callbacks_rejected == 1);
  CHECK(stats.inbound == 3);
  CHECK(stats.reports == 1);
}

TEST_CASE("the fake posts callbacks (for integration tests): form body, headers and query arrive") {
  asio::io_context io;
  kentongan::fakes::aggregator sender{io};
  kentongan::fakes::aggregator receiver{io};
  sender.start();
  receiver.start();
  int status = -1;
  std::string body;
  sender.post_callback(receiver.base_url() + "/webhooks/http/agg?token=t", "POST", "application/x-www-form-urlencoded",
                       "from=081234567890&text=halo+desa", {{"X-Callback-Token", "s"}}, [&](int st, std::string b) {
                         status = st;
                         body = std::move(b);
                       });
  REQUIRE(run_until(io, [&] { return status != -1; }));
  CHECK(status == 200);
  REQUIRE(receiver.requests().size() == 1);
  const auto& got = receiver.requests().front();
  CHECK(got.path == "/webhooks/http/agg");
  CHECK(got.params.at("token") == "t");
  CHECK(got.params.at("text") == "halo desa");
  CHECK(got.headers.at("x-callback-token") == "s");
}

TEST_CASE("unusable settings are a start-up error naming every problem") {
  asio::io_context io;
  kentongan::test_support::fake_events events;
  h::http_settings s;
  s.name = "rusak";
  s.url = "ftp://x/{too}";
  CHECK_THROWS_WITH_AS(h::http_channel(io, s, events),
                       "http channel \"rusak\": url: must start with http:// or https://; url: unknown placeholder {too} "
                       "(known: {to} {text} {id} {from} {callback_secret} {secret:NAME})",
                       std::invalid_argument);
}

TEST_CASE("to_outcome: messages without any id never share one") {
  h::callback_result parsed;
  parsed.messages = {{"", "+6281234567890", "", "a", 0}, {"", "+6281234567890", "", "a", 0}};
  const auto when = kentongan::core::from_millis(1767225600123);
  const auto first = h::to_outcome(parsed, {}, when, 0);
  const auto second = h::to_outcome(parsed, {}, when, 2);
  REQUIRE(first.messages.size() == 2);
  CHECK(first.messages[0].provider_id == "r:1767225600123.0");
  CHECK(first.messages[1].provider_id == "r:1767225600123.1");
  CHECK(second.messages[0].provider_id == "r:1767225600123.2");
}
