// The libcurl multi client on Asio, against the fake Graph API over 127.0.0.1.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "protocol/curl/curl_multi.hpp"
#include "tests/fakes/graph_api.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using kentongan::curl::client;
using kentongan::curl::http_request;
using kentongan::curl::http_response;

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

http_request send_to(const std::string& base, const std::string& to) {
  http_request r;
  r.url = base + "/v21.0/106540352242922/messages";
  r.headers = {"Authorization: Bearer test-token", "Content-Type: application/json"};
  r.body = R"({"messaging_product":"whatsapp","to":")" + to + R"(","type":"text","text":{"body":"x"}})";
  return r;
}

struct fixture {
  asio::io_context io;
  kentongan::fakes::graph_api fake{io};
  fixture() { fake.start(); }
};

}  // namespace

TEST_CASE("GET and POST complete on the event loop, never inside request()") {
  fixture f;
  client c(f.io);
  std::optional<http_response> got;
  bool inside = true;
  http_request get;
  get.method = "GET";
  get.url = f.fake.base_url() + "/_fake/health";
  c.request(get, [&](http_response r) {
    CHECK_FALSE(inside);
    got = std::move(r);
  });
  inside = false;
  CHECK(c.in_flight() == 1);
  REQUIRE(run_until(f.io, [&] { return got.has_value(); }));
  CHECK(got->transport_ok());
  CHECK(got->status == 200);
  CHECK(got->body == "ok");
  CHECK(got->headers["content-type"] == "text/plain");
  CHECK(got->http_version == 11);
  CHECK(c.in_flight() == 0);

  got.reset();
  c.request(send_to(f.fake.base_url(), "6281234567890"), [&](http_response r) { got = std::move(r); });
  REQUIRE(run_until(f.io, [&] { return got.has_value(); }));
  CHECK(got->status == 200);
  CHECK(got->body.find("\"messages\":[{\"id\":\"wamid.FAKE") != std::string::npos);
  REQUIRE(f.fake.requests().size() == 1);
  CHECK(f.fake.requests()[0].authorization == "Bearer test-token");
  CHECK(f.fake.requests()[0].content_type == "application/json");
  CHECK(f.fake.requests()[0].to == "6281234567890");
}

TEST_CASE("sequential requests reuse one kept-alive connection") {
  fixture f;
  client c(f.io);
  std::vector<http_response> done;
  for (int i = 0; i < 5; ++i) {
    c.request(send_to(f.fake.base_url(), "628123456789" + std::to_string(i)), [&](http_response r) { done.push_back(std::move(r)); });
    REQUIRE(run_until(f.io, [&] { return done.size() == static_cast<std::size_t>(i + 1); }));
  }
  CHECK(f.fake.connections() == 1);
  CHECK(done[0].new_connections == 1);
  for (std::size_t i = 1; i < done.size(); ++i) {
    CAPTURE(i);
    CHECK(done[i].status == 200);
    CHECK(done[i].new_connections == 0);
  }
}

TEST_CASE("many requests in flight at once, bounded connections") {
  fixture f;
  client c(f.io, {.max_host_connections = 4});
  std::size_t ok = 0, completed = 0;
  for (int i = 0; i < 40; ++i)
    c.request(send_to(f.fake.base_url(), "6281" + std::to_string(1000000 + i)), [&](http_response r) {
      ++completed;
      if (r.status == 200) ++ok;
    });
  CHECK(c.in_flight() == 40);
  REQUIRE(run_until(f.io, [&] { return completed == 40; }, 10s));
  CHECK(ok == 40);
  CHECK(f.fake.requests().size() == 40);
  CHECK(f.fake.connections() <= 4);
  CHECK(c.in_flight() == 0);
}

TEST_CASE("timeouts, refused connections, oversized answers") {
  fixture f;
  f.fake.set_behaviour("6289999999999", kentongan::fakes::behaviour::hang);
  client c(f.io, {.max_response_bytes = 1 << 16});
  std::optional<http_response> hung;
  auto req = send_to(f.fake.base_url(), "6289999999999");
  req.timeout = 200ms;
  const auto started = std::chrono::steady_clock::now();
  c.request(req, [&](http_response r) { hung = std::move(r); });
  REQUIRE(run_until(f.io, [&] { return hung.has_value(); }));
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(hung->timed_out);
  CHECK_FALSE(hung->transport_ok());
  CHECK(hung->status == 0);
  CHECK(took >= 190ms);
  CHECK(took < 2s);

  // A port nobody listens on: take one from a closed acceptor.
  asio::ip::tcp::acceptor probe(f.io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();
  std::optional<http_response> refused;
  c.request(send_to("http://127.0.0.1:" + std::to_string(port), "6281"), [&](http_response r) { refused = std::move(r); });
  REQUIRE(run_until(f.io, [&] { return refused.has_value(); }));
  CHECK_FALSE(refused->transport_ok());
  CHECK_FALSE(refused->timed_out);
  CHECK_FALSE(refused->error.empty());

  client small(f.io, {.max_response_bytes = 10});
  std::optional<http_response> big;
  small.request(send_to(f.fake.base_url(), "6281"), [&](http_response r) { big = std::move(r); });
  REQUIRE(run_until(f.io, [&] { return big.has_value(); }));
  CHECK_FALSE(big->transport_ok());
  CHECK(big->error == "response larger than 10 bytes");
}

TEST_CASE("destroying or cancelling with requests in flight") {
  fixture f;
  f.fake.set_default_behaviour(kentongan::fakes::behaviour::hang);
  bool called = false;
  {
    client c(f.io);
    c.request(send_to(f.fake.base_url(), "6281"), [&](http_response) { called = true; });
    run_until(f.io, [&] { return f.fake.requests().size() == 1; });
  }
  f.io.run_for(50ms);
  CHECK_FALSE(called);

  client c(f.io);
  std::optional<http_response> cancelled;
  c.request(send_to(f.fake.base_url(), "6282"), [&](http_response r) { cancelled = std::move(r); });
  run_until(f.io, [&] { return f.fake.requests().size() == 2; });
  c.cancel_all();
  CHECK(c.in_flight() == 0);
  CHECK_FALSE(cancelled.has_value());
  REQUIRE(run_until(f.io, [&] { return cancelled.has_value(); }));
  CHECK(cancelled->error == "cancelled");

  // A client can be destroyed from inside a completion callback.
  f.fake.set_default_behaviour(kentongan::fakes::behaviour::ok);
  auto owned = std::make_unique<client>(f.io);
  bool finished = false;
  owned->request(send_to(f.fake.base_url(), "6283"), [&](http_response) {
    owned.reset();
    finished = true;
  });
  REQUIRE(run_until(f.io, [&] { return finished; }));
  f.io.run_for(20ms);
}
