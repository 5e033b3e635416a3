#include "tests/fakes/aggregator.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "tests/fakes/http_fake_server.hpp"

namespace kentongan::fakes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using nlohmann::json;

namespace {

using answer = http_fake_answer;

answer reply(bhttp::status status, std::string body, std::string type = "application/json") {
  answer a;
  a.status = status;
  a.body = std::move(body);
  a.content_type = std::move(type);
  return a;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Written here rather than taken from protocol/http, so that the fake checks the channel's
// encoding independently.
std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void parse_pairs(std::string_view text, std::map<std::string, std::string>& out) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const auto pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) out[decode(pair)] = "";
    else out[decode(pair.substr(0, eq))] = decode(pair.substr(eq + 1));
  }
}

}  // namespace

std::string_view to_string(aggregator_behaviour b) {
  switch (b) {
    case aggregator_behaviour::ok_json: return "ok_json";
    case aggregator_behaviour::ok_kannel: return "ok_kannel";
    case aggregator_behaviour::queued_kannel: return "queued_kannel";
    case aggregator_behaviour::refused_json: return "refused_json";
    case aggregator_behaviour::rate_limited: return "rate_limited";
    case aggregator_behaviour::server_error: return "server_error";
    case aggregator_behaviour::bad_gateway: return "bad_gateway";
    case aggregator_behaviour::bad_request: return "bad_request";
    case aggregator_behaviour::unauthorized: return "unauthorized";
    case aggregator_behaviour::hang: return "hang";
  }
  return "ok_json";
}

std::optional<aggregator_behaviour> parse_aggregator_behaviour(std::string_view s) {
  for (auto b : {aggregator_behaviour::ok_json, aggregator_behaviour::ok_kannel, aggregator_behaviour::queued_kannel,
                 aggregator_behaviour::refused_json, aggregator_behaviour::rate_limited, aggregator_behaviour::server_error,
                 aggregator_behaviour::bad_gateway, aggregator_behaviour::bad_request, aggregator_behaviour::unauthorized,
                 aggregator_behaviour::hang})
    if (to_string(b) == s) return b;
  return std::nullopt;
}

struct aggregator::impl : http_fake_server {
  impl(asio::io_context& io_context, aggregator_settings s)
      : http_fake_server(io_context, "fake-aggregator"), settings(std::move(s)) {}

  struct rule {
    aggregator_behaviour b;
    int times;
  };

  aggregator_settings settings;
  std::map<std::string, rule> behaviours;
  std::vector<aggregator_request> requests;
  std::uint64_t next_id = 1;

  aggregator_behaviour behaviour_for(const std::string& to) {
    const auto it = behaviours.find(to);
    if (it == behaviours.end()) return settings.default_behaviour;
    const auto b = it->second.b;
    if (it->second.times > 0 && --it->second.times == 0) behaviours.erase(it);
    return b;
  }

  struct callback_record {
    std::string url;
    int status = 0;
    std::string body;
  };
  std::vector<callback_record> callbacks;

  void start_callback(std::string url, std::string method, std::string content_type, std::string body,
                      std::map<std::string, std::string> headers, std::function<void(int, std::string)> done);

  std::optional<answer> control(const aggregator_request& rec) {
    if (rec.path == "/_fake/health") return reply(bhttp::status::ok, "ok", "text/plain");
    if (rec.path == "/_fake/requests") {
      json all = json::array();
      for (const auto& r : requests)
        all.push_back({{"method", r.method}, {"target", r.target}, {"path", r.path}, {"headers", r.headers}, {"body", r.body},
                       {"params", r.params}, {"to", r.to}, {"answer_id", r.answer_id}, {"answer_status", r.answer_status}});
      return reply(bhttp::status::ok, all.dump());
    }
    if (rec.path == "/_fake/callbacks") {
      json all = json::array();
      for (const auto& c : callbacks) all.push_back({{"url", c.url}, {"status", c.status}, {"body", c.body}});
      return reply(bhttp::status::ok, all.dump());
    }
    if (rec.path == "/_fake/clear" && rec.method == "POST") {
      requests.clear();
      callbacks.clear();
      return reply(bhttp::status::ok, "{}");
    }
    if (rec.path == "/_fake/behaviour" && rec.method == "POST") {
      const json b = json::parse(rec.body, nullptr, false);
      const auto parsed = b.is_object() ? parse_aggregator_behaviour(b.value("behaviour", "")) : std::nullopt;
      if (!parsed) return reply(bhttp::status::bad_request, R"({"error":"expected {\"to\",\"behaviour\",\"times\"}"})");
      const std::string to = b.value("to", "");
      if (to.empty()) settings.default_behaviour = *parsed;
      else behaviours[to] = rule{*parsed, b.value("times", -1)};
      return reply(bhttp::status::ok, "{}");
    }
    if (rec.path == "/_fake/callback" && rec.method == "POST") {
      const json b = json::parse(rec.body, nullptr, false);
      if (!b.is_object() || !b.contains("url")) return reply(bhttp::status::bad_request, R"({"error":"expected {\"url\",…}"})");
      std::map<std::string, std::string> headers;
      if (b.contains("headers") && b["headers"].is_object())
        for (const auto& [k, v] : b["headers"].items()) headers[k] = v.is_string() ? v.get<std::string>() : v.dump();
      const std::string body = !b.contains("body") ? std::string{} : b["body"].is_string() ? b["body"].get<std::string>() : b["body"].dump();
      start_callback(b.value("url", ""), b.value("method", "POST"), b.value("content_type", "application/x-www-form-urlencoded"), body,
                     std::move(headers), nullptr);
      return reply(bhttp::status::accepted, "{}");
    }
    return reply(bhttp::status::not_found, R"({"error":"unknown control route"})");
  }

  asio::awaitable<std::optional<http_fake_answer>> respond(const http_fake_request& req) override { co_return handle(req); }

  std::optional<answer> handle(const http_fake_request& req) {
    aggregator_request rec;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    const auto q = rec.target.find('?');
    rec.path = rec.target.substr(0, q);
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rec.headers[name] = std::string(f.value());
    }
    rec.body = req.body();
    if (q != std::string::npos) parse_pairs(std::string_view(rec.target).substr(q + 1), rec.params);
    const auto type_it = rec.headers.find("content-type");
    const std::string type = type_it == rec.headers.end() ? std::string{} : type_it->second;
    if (type.find("x-www-form-urlencoded") != std::string::npos) {
      parse_pairs(rec.body, rec.params);
    } else if (type.find("json") != std::string::npos) {
      const json doc = json::parse(rec.body, nullptr, false);
      if (doc.is_object())
        for (const auto& [k, v] : doc.items()) rec.params[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    if (rec.path.starts_with("/_fake/")) return control(rec);
    rec.to = rec.params[settings.to_field];

    std::optional<answer> a;
    switch (behaviour_for(rec.to)) {
      case aggregator_behaviour::ok_json:
        rec.answer_id = "AGG-" + std::to_string(next_id++);
        a = reply(bhttp::status::ok, json{{"status", "0"}, {"messages", json::array({json{{"id", rec.answer_id}, {"to", rec.to}}})}}.dump());
        break;
      case aggregator_behaviour::ok_kannel:
        a = reply(bhttp::status::accepted, "0: Accepted for delivery", "text/html");
        break;
      case aggregator_behaviour::queued_kannel:
        a = reply(bhttp::status::accepted, "3: Queued for later delivery", "text/html");
        break;
      case aggregator_behaviour::refused_json:
        a = reply(bhttp::status::ok, R"({"status":"5","text":"Nomor tujuan tidak valid"})");
        break;
      case aggregator_behaviour::rate_limited:
        a = reply(bhttp::status::too_many_requests, R"({"status":"29","text":"too many requests"})");
        a->headers.emplace_back("Retry-After", "2");
        break;
      case aggregator_behaviour::server_error:
        a = reply(bhttp::status::internal_server_error, R"({"status":"99","text":"internal error"})");
        break;
      case aggregator_behaviour::bad_gateway:
        a = reply(bhttp::status::bad_gateway, "<html><body>502 Bad Gateway</body></html>", "text/html");
        break;
      case aggregator_behaviour::bad_request:
        a = reply(bhttp::status::bad_request, R"({"status":"21","text":"invalid destination"})");
        break;
      case aggregator_behaviour::unauthorized:
        a = reply(bhttp::status::unauthorized, R"({"status":"7","text":"invalid credentials"})");
        break;
      case aggregator_behaviour::hang:
        break;
    }
    rec.answer_status = a ? static_cast<int>(a->status) : 0;
    requests.push_back(std::move(rec));
    return a;
  }
};

namespace {

asio::awaitable<void> callback_task(std::shared_ptr<aggregator::impl> self, std::string url, std::string method,
                                    std::string content_type, std::string body, std::map<std::string, std::string> headers,
                                    std::function<void(int, std::string)> done) {
  const http_fake_url parts = split_url(url);
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), parts.target, 11};
  req.set(bhttp::field::host, parts.hostport);
  if (!body.empty()) req.set(bhttp::field::content_type, content_type);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http_fake_reply got = co_await send_request(self->io(), parts, req);
  const int status = got.status;
  std::string answer_body = std::move(got.body);
  self->callbacks.push_back({url, status, answer_body});
  if (done) done(status, std::move(answer_body));
}

}  // namespace

void aggregator::impl::start_callback(std::string url, std::string method, std::string content_type, std::string body,
                                      std::map<std::string, std::string> headers, std::function<void(int, std::string)> done) {
  asio::co_spawn(io(),
                 callback_task(std::static_pointer_cast<impl>(shared_from_this()), std::move(url), std::move(method),
                               std::move(content_type), std::move(body), std::move(headers), std::move(done)),
                 asio::detached);
}

aggregator::aggregator(asio::io_context& io, aggregator_settings settings)
    : impl_(std::make_shared<impl>(io, std::move(settings))) {}

aggregator::~aggregator() { stop(); }

void aggregator::start(const std::string& address, std::uint16_t port) { impl_->listen(address, port); }

void aggregator::stop() { impl_->close(); }

std::uint16_t aggregator::port() const { return impl_->port(); }

std::string aggregator::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void aggregator::set_behaviour(const std::string& to, aggregator_behaviour b, int times) {
  impl_->behaviours[to] = impl::rule{b, times};
}
void aggregator::set_default_behaviour(aggregator_behaviour b) { impl_->settings.default_behaviour = b; }
const std::vector<aggregator_request>& aggregator::requests() const { return impl_->requests; }
void aggregator::clear_requests() { impl_->requests.clear(); }

void aggregator::post_callback(std::string url, std::string method, std::string content_type, std::string body,
                               std::map<std::string, std::string> headers, std::function<void(int, std::string)> done) {
  impl_->start_callback(std::move(url), std::move(method), std::move(content_type), std::move(body), std::move(headers),
                        std::move(done));
}

}  // namespace kentongan::fakes
