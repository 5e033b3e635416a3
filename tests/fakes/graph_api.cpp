#include "tests/fakes/graph_api.hpp"

#include <deque>

#include <nlohmann/json.hpp>

#include "protocol/whatsapp/signature.hpp"
#include "tests/fakes/http_fake_server.hpp"

namespace kentongan::fakes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;

namespace {

// A webhook the control route asked to post and wait for: the answer is its HTTP status.
struct pending_post {
  std::string url, body, signature;
};

struct answer {
  http::status status = http::status::ok;
  std::string body;
  std::string content_type = "application/json";
  std::optional<pending_post> post = std::nullopt;
};

answer graph_error(http::status status, int code, std::string message, std::string details, int subcode = 0) {
  json e{{"message", std::move(message)}, {"type", "OAuthException"}, {"code", code}, {"fbtrace_id", "AFakeTrace0123"}};
  if (subcode != 0) e["error_subcode"] = subcode;
  if (!details.empty()) e["error_data"] = {{"messaging_product", "whatsapp"}, {"details", std::move(details)}};
  return {status, json{{"error", std::move(e)}}.dump()};
}

std::string digits_of(std::string_view to) {
  if (!to.empty() && to.front() == '+') to.remove_prefix(1);
  return std::string(to);
}

}  // namespace

std::string_view to_string(behaviour b) {
  switch (b) {
    case behaviour::ok: return "ok";
    case behaviour::not_on_whatsapp: return "not_on_whatsapp";
    case behaviour::re_engagement: return "re_engagement";
    case behaviour::rate_limited: return "rate_limited";
    case behaviour::pair_rate_limit: return "pair_rate_limit";
    case behaviour::server_error: return "server_error";
    case behaviour::bad_gateway: return "bad_gateway";
    case behaviour::invalid_token: return "invalid_token";
    case behaviour::hang: return "hang";
  }
  return "ok";
}

std::optional<behaviour> parse_behaviour(std::string_view s) {
  for (auto b : {behaviour::ok, behaviour::not_on_whatsapp, behaviour::re_engagement, behaviour::rate_limited,
                 behaviour::pair_rate_limit, behaviour::server_error, behaviour::bad_gateway, behaviour::invalid_token,
                 behaviour::hang})
    if (to_string(b) == s) return b;
  return std::nullopt;
}

struct graph_api::impl : http_fake_server {
  impl(asio::io_context& io_context, graph_api_settings s)
      : http_fake_server(io_context, "fake-graph-api"), settings(std::move(s)) {}

  graph_api_settings settings;
  std::map<std::string, behaviour> behaviours;  // by digits
  std::deque<std::pair<behaviour, std::size_t>> script;  // consumed by the next requests, whoever they are for
  std::vector<recorded_request> requests;
  std::uint64_t next_id = 1;

  behaviour behaviour_for(const std::string& to) {
    while (!script.empty() && script.front().second == 0) script.pop_front();
    if (!script.empty()) {
      --script.front().second;
      return script.front().first;
    }
    const auto it = behaviours.find(digits_of(to));
    return it == behaviours.end() ? settings.default_behaviour : it->second;
  }

  // Returns nullopt for "hang": the request is recorded and never answered.
  std::optional<answer> handle_messages(recorded_request& rec) {
    if (rec.authorization != "Bearer " + settings.token)
      return graph_error(http::status::unauthorized, 190,
                         "Error validating access token: Session has expired on Sunday, 25-Dec-16 04:45:57 PST.", {}, 463);
    json body = json::parse(rec.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("to") || !body["to"].is_string())
      return graph_error(http::status::bad_request, 100, "(#100) The parameter to is required.", {});
    rec.to = body["to"].get<std::string>();
    rec.type = body.value("type", "");
    switch (behaviour_for(rec.to)) {
      case behaviour::ok: break;
      case behaviour::not_on_whatsapp:
        return graph_error(http::status::bad_request, 131026, "(#131026) Message Undeliverable.",
                           "Message Undeliverable: the recipient is not a WhatsApp user.");
      case behaviour::re_engagement:
        if (rec.type == "text")
          return graph_error(http::status::bad_request, 131047, "(#131047) Re-engagement message",
                             "Message failed to send because more than 24 hours have passed since the customer last "
                             "replied to this number.");
        break;
      case behaviour::rate_limited:
        return graph_error(http::status::too_many_requests, 130429, "(#130429) Rate limit hit",
                           "Cloud API message throughput has been reached.");
      case behaviour::pair_rate_limit:
        return graph_error(http::status::bad_request, 131056,
                           "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                           "Message failed to send because there were too many messages sent from this phone number "
                           "to the same phone number in a short period of time.");
      case behaviour::server_error:
        return graph_error(http::status::internal_server_error, 131000, "(#131000) Something went wrong",
                           "Something went wrong.");
      case behaviour::bad_gateway:
        return answer{http::status::bad_gateway, "<html><body>502 Bad Gateway</body></html>", "text/html"};
      case behaviour::invalid_token:
        return graph_error(http::status::unauthorized, 190,
                           "Error validating access token: Session has expired on Sunday, 25-Dec-16 04:45:57 PST.", {}, 463);
      case behaviour::hang:
        return std::nullopt;
    }
    rec.answer_id = "wamid.FAKE" + std::to_string(next_id++) + "." + digits_of(rec.to);
    const std::string wa_id = digits_of(rec.to);
    json ok{{"messaging_product", "whatsapp"},
            {"contacts", json::array({json{{"input", rec.to}, {"wa_id", wa_id}}})},
            {"messages", json::array({json{{"id", rec.answer_id}}})}};
    return answer{http::status::ok, ok.dump()};
  }

  asio::awaitable<std::optional<http_fake_answer>> respond(const http_fake_request& req) override;

  std::optional<answer> handle(const http_fake_request& req) {
    recorded_request rec;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    rec.authorization = std::string(req[http::field::authorization]);
    rec.content_type = std::string(req[http::field::content_type]);
    rec.body = req.body();
    const std::string& target = rec.target;

    if (target == "/_fake/health") return answer{http::status::ok, "ok", "text/plain"};
    if (target == "/_fake/requests") {
      json all = json::array();
      for (const auto& r : requests)
        all.push_back({{"method", r.method}, {"target", r.target}, {"to", r.to}, {"type", r.type},
                       {"authorization", r.authorization}, {"body", r.body}, {"answer_id", r.answer_id},
                       {"answer_status", r.answer_status}});
      return answer{http::status::ok, all.dump()};
    }
    if (target == "/_fake/behaviour" && req.method() == http::verb::post) {
      json b = json::parse(req.body(), nullptr, false);
      const auto parsed = b.is_object() ? parse_behaviour(b.value("behaviour", "")) : std::nullopt;
      if (!parsed) return answer{http::status::bad_request, R"({"error":"expected {\"to\",\"behaviour\"}"})"};
      const std::string to = b.value("to", "");
      if (to.empty()) settings.default_behaviour = *parsed;
      else behaviours[digits_of(to)] = *parsed;
      return answer{http::status::ok, "{}"};
    }
    if (target == "/_fake/script" && req.method() == http::verb::post) {
      json b = json::parse(req.body(), nullptr, false);
      if (!b.is_object() || !b.contains("sequence") || !b["sequence"].is_array())
        return answer{http::status::bad_request, R"({"error":"expected {\"sequence\":[{\"behaviour\",\"count\"}]}"})"};
      std::deque<std::pair<behaviour, std::size_t>> steps;
      for (const auto& step : b["sequence"]) {
        const auto parsed = step.is_object() ? parse_behaviour(step.value("behaviour", "")) : std::nullopt;
        const auto count = step.is_object() ? step.value("count", 1) : 0;
        if (!parsed || count < 0) return answer{http::status::bad_request, R"({"error":"bad step"})"};
        steps.emplace_back(*parsed, static_cast<std::size_t>(count));
      }
      script.insert(script.end(), steps.begin(), steps.end());
      return answer{http::status::ok, "{}"};
    }
    if (target == "/_fake/token" && req.method() == http::verb::post) {
      json b = json::parse(req.body(), nullptr, false);
      if (!b.is_object() || !b.contains("token") || !b["token"].is_string())
        return answer{http::status::bad_request, R"({"error":"expected {\"token\"}"})"};
      settings.token = b["token"].get<std::string>();
      return answer{http::status::ok, "{}"};
    }
    if (target == "/_fake/clear" && req.method() == http::verb::post) {
      requests.clear();
      script.clear();
      return answer{http::status::ok, "{}"};
    }
    if (target == "/_fake/webhook" && req.method() == http::verb::post) {
      json b = json::parse(req.body(), nullptr, false);
      if (!b.is_object() || !b.contains("url") || !(b.contains("body") || b.contains("messages") || b.contains("statuses")))
        return answer{http::status::bad_request, R"({"error":"expected {\"url\",\"body\"} or {\"url\",\"messages\",\"statuses\"}"})"};
      std::string body;
      if (b.contains("body")) {
        body = b["body"].is_string() ? b["body"].get<std::string>() : b["body"].dump();
      } else {
        std::vector<webhook_message> messages;
        std::vector<webhook_status> statuses;
        for (const auto& m : b.value("messages", json::array()))
          messages.push_back({m.value("from", ""), m.value("name", ""), m.value("id", ""), m.value("text", ""),
                              m.value("timestamp", std::int64_t{0})});
        for (const auto& st : b.value("statuses", json::array()))
          statuses.push_back({st.value("id", ""), st.value("status", ""), st.value("recipient", ""),
                              st.value("timestamp", std::int64_t{0}), st.value("error_code", 0), st.value("error_title", "")});
        body = build_webhook(messages, statuses);
      }
      if (b.value("wait", false))
        return answer{http::status::ok, {}, "application/json", pending_post{b.value("url", ""), body, b.value("signature", "")}};
      start_webhook(b.value("url", ""), body, nullptr, b.value("signature", ""));
      return answer{http::status::accepted, "{}"};
    }

    // /{version}/{phone_number_id}/messages
    const std::string suffix = "/" + settings.phone_number_id + "/messages";
    const bool messages_route = req.method() == http::verb::post && target.size() > suffix.size() + 2 &&
                                target.starts_with("/v") && target.ends_with(suffix) &&
                                target.find('/', 1) == target.size() - suffix.size();
    std::optional<answer> a;
    if (messages_route) {
      a = handle_messages(rec);
    } else {
      a = answer{http::status::not_found,
                 json{{"error", {{"message", "Unsupported post request."}, {"type", "GraphMethodException"}, {"code", 100},
                                 {"fbtrace_id", "AFakeTrace0123"}}}}.dump()};
    }
    rec.answer_status = a ? static_cast<int>(a->status) : 0;
    requests.push_back(std::move(rec));
    return a;
  }

  void start_webhook(std::string url, std::string body, std::function<void(int)> done, std::string signature);

  std::string build_webhook(const std::vector<webhook_message>& messages, const std::vector<webhook_status>& statuses) const {
    json value{{"messaging_product", "whatsapp"},
               {"metadata", {{"display_phone_number", "15550783881"}, {"phone_number_id", settings.phone_number_id}}}};
    if (!messages.empty()) {
      json contacts = json::array(), items = json::array();
      for (const auto& m : messages) {
        const std::string wa_id = digits_of(m.from);
        contacts.push_back({{"profile", {{"name", m.name}}}, {"wa_id", wa_id}});
        items.push_back({{"from", wa_id}, {"id", m.wamid}, {"timestamp", std::to_string(m.timestamp)}, {"type", "text"},
                         {"text", {{"body", m.text}}}});
      }
      value["contacts"] = std::move(contacts);
      value["messages"] = std::move(items);
    }
    if (!statuses.empty()) {
      json items = json::array();
      for (const auto& st : statuses) {
        json item{{"id", st.wamid}, {"status", st.status}, {"timestamp", std::to_string(st.timestamp)},
                  {"recipient_id", digits_of(st.recipient)}};
        if (st.status == "sent")
          item["pricing"] = {{"billable", true}, {"pricing_model", "PMP"}, {"category", "marketing"}};
        if (st.error_code != 0)
          item["errors"] = json::array({json{{"code", st.error_code}, {"title", st.error_title}, {"message", st.error_title},
                                             {"error_data", {{"details", st.error_title}}},
                                             {"href", "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}});
        items.push_back(std::move(item));
      }
      value["statuses"] = std::move(items);
    }
    json doc{{"object", "whatsapp_business_account"},
             {"entry", json::array({json{{"id", "102290129340398"},
                                         {"changes", json::array({json{{"value", std::move(value)}, {"field", "messages"}}})}}})}};
    // Meta escapes non-ASCII as \uXXXX (protocols.md §4.5); dump(ensure_ascii) does the same.
    return doc.dump(-1, ' ', true);
  }
};

namespace {

// Parameters by const reference: the caller's named locals outlive the coroutine (g++ 12 note in
// docs/architecture.md).
asio::awaitable<int> post_signed(const std::shared_ptr<graph_api::impl>& self, const std::string& url,
                                 const std::string& body, const std::string& signature) {
  const http_fake_url parts = split_url(url);
  http::request<http::string_body> req{http::verb::post, parts.target, 11};
  req.set(http::field::host, parts.hostport);
  req.set(http::field::content_type, "application/json");
  req.set("X-Hub-Signature-256", signature.empty() ? whatsapp::sign_body(body, self->settings.app_secret) : signature);
  req.body() = body;
  req.prepare_payload();
  const http_fake_reply got = co_await send_request(self->io(), parts, req);
  co_return got.status;
}

asio::awaitable<void> post_task(std::shared_ptr<graph_api::impl> self, std::string url, std::string body,
                                std::function<void(int)> done, std::string signature) {
  const int status = co_await post_signed(self, url, body, signature);
  if (done) done(status);
}

}  // namespace

asio::awaitable<std::optional<http_fake_answer>> graph_api::impl::respond(const http_fake_request& req) {
  auto a = handle(req);
  if (!a) co_return std::nullopt;
  if (a->post) {
    const pending_post post = std::move(*a->post);
    const auto self = std::static_pointer_cast<impl>(shared_from_this());
    const int status = co_await post_signed(self, post.url, post.body, post.signature);
    a->body = "{\"status\":" + std::to_string(status) + "}";
  }
  co_return http_fake_answer{a->status, std::move(a->body), std::move(a->content_type), {}};
}

void graph_api::impl::start_webhook(std::string url, std::string body, std::function<void(int)> done, std::string signature) {
  asio::co_spawn(io(), post_task(std::static_pointer_cast<impl>(shared_from_this()), std::move(url), std::move(body), std::move(done), std::move(signature)),
                 asio::detached);
}

graph_api::graph_api(asio::io_context& io, graph_api_settings settings)
    : impl_(std::make_shared<impl>(io, std::move(settings))) {}

graph_api::~graph_api() { stop(); }

void graph_api::start(const std::string& address, std::uint16_t port) { impl_->listen(address, port); }

void graph_api::stop() { impl_->close(); }

std::uint16_t graph_api::port() const { return impl_->port(); }

std::string graph_api::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void graph_api::set_behaviour(const std::string& to, behaviour b) { impl_->behaviours[digits_of(to)] = b; }
void graph_api::set_default_behaviour(behaviour b) { impl_->settings.default_behaviour = b; }
void graph_api::set_token(std::string token) { impl_->settings.token = std::move(token); }
void graph_api::push_script(behaviour b, std::size_t count) { impl_->script.emplace_back(b, count); }
const std::vector<recorded_request>& graph_api::requests() const { return impl_->requests; }
void graph_api::clear_requests() { impl_->requests.clear(); }
std::size_t graph_api::connections() const { return impl_->connections(); }

void graph_api::post_webhook(std::string url, std::string body, std::function<void(int)> done, std::string signature_header) {
  impl_->start_webhook(std::move(url), std::move(body), std::move(done), std::move(signature_header));
}

std::string graph_api::text_webhook(const std::string& from, const std::string& name, const std::string& wamid,
                                    const std::string& text, std::int64_t timestamp) const {
  return impl_->build_webhook({webhook_message{from, name, wamid, text, timestamp}}, {});
}

std::string graph_api::status_webhook(const std::string& wamid, const std::string& status, const std::string& recipient,
                                      std::int64_t timestamp, int error_code, const std::string& error_title) const {
  return impl_->build_webhook({}, {webhook_status{wamid, status, recipient, timestamp, error_code, error_title}});
}

std::string graph_api::webhook_body(const std::vector<webhook_message>& messages,
                                    const std::vector<webhook_status>& statuses) const {
  return impl_->build_webhook(messages, statuses);
}

}  // namespace kentongan::fakes
