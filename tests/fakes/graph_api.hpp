#pragma once
/// A fake Meta Graph API for tests and integration runs over 127.0.0.1: answers
/// `POST /{version}/{phone_number_id}/messages` like the Cloud API (realistic success and error
/// bodies, chosen per recipient), records every request, and posts signed webhooks to a URL.
/// Control routes for separate-process use: GET /_fake/requests, POST /_fake/behaviour
/// {"to","behaviour"}, POST /_fake/script {"sequence":[{"behaviour","count"}]}, POST /_fake/token
/// {"token"}, POST /_fake/clear, POST /_fake/webhook {"url", "body" | "messages"/"statuses"
/// [, "signature"][, "wait"]}, GET /_fake/health (see graph_api_main.cpp --help).
/// Runs on the io_context it is given; every method on that thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/asio/asio.hpp"

namespace kentongan::fakes {

/// How the fake answers a send to one recipient.
enum class behaviour {
  ok,               ///< 200 with contacts and a new wamid
  not_on_whatsapp,  ///< 400, code 131026 (message undeliverable)
  re_engagement,    ///< 400, code 131047, for text messages only (templates succeed)
  rate_limited,     ///< 429, code 130429
  pair_rate_limit,  ///< 400, code 131056
  server_error,     ///< 500, code 131000
  bad_gateway,      ///< 502 with an HTML body (a proxy in between)
  invalid_token,    ///< 401, code 190 subcode 463
  hang,             ///< never answers (the client's timeout fires)
};

std::string_view to_string(behaviour b);
std::optional<behaviour> parse_behaviour(std::string_view s);

struct recorded_request {
  std::string method;
  std::string target;          ///< path and query
  std::string authorization;   ///< the Authorization header as sent
  std::string content_type;
  std::string body;
  std::string to;              ///< body "to", when JSON
  std::string type;            ///< body "type": "text", "template", …
  std::string answer_id;       ///< the wamid answered, if any
  int answer_status = 0;
};

/// One item of a webhook body built by webhook_body() (vectors.md H.6 / H.7 shapes).
struct webhook_message {
  std::string from;       ///< digits or E.164
  std::string name;       ///< profile name
  std::string wamid;
  std::string text;
  std::int64_t timestamp = 0;
};
struct webhook_status {
  std::string wamid;
  std::string status;     ///< sent, delivered, read, failed
  std::string recipient;
  std::int64_t timestamp = 0;
  int error_code = 0;     ///< with status failed
  std::string error_title;
};

struct graph_api_settings {
  std::string token = "test-token";               ///< the only bearer token accepted (else 401/190)
  std::string phone_number_id = "106540352242922";
  std::string app_secret = "test-app-secret";     ///< signs posted webhooks
  behaviour default_behaviour = behaviour::ok;
};

class graph_api {
 public:
  graph_api(boost::asio::io_context& io, graph_api_settings settings = {});
  ~graph_api();
  graph_api(const graph_api&) = delete;
  graph_api& operator=(const graph_api&) = delete;

  /// Listens on address:port (port 0 picks one). Throws boost::system::system_error if it cannot.
  void start(const std::string& address = "127.0.0.1", std::uint16_t port = 0);
  /// Closes the listener and every connection.
  void stop();
  std::uint16_t port() const;
  /// "http://127.0.0.1:<port>", the api_base for the channel.
  std::string base_url() const;

  /// Recipient as sent in "to" (digits, or with "+": both forms match).
  void set_behaviour(const std::string& to, behaviour b);
  void set_default_behaviour(behaviour b);
  void set_token(std::string token);
  /// The next requests to /messages, whoever they are for, get these behaviours in order (`count`
  /// requests each) before the per-recipient and default behaviours apply again.
  void push_script(behaviour b, std::size_t count);

  const std::vector<recorded_request>& requests() const;
  void clear_requests();
  /// TCP connections accepted so far (keep-alive tests).
  std::size_t connections() const;

  /// POSTs `body` to `url` ("http://host:port/path") with X-Hub-Signature-256 from the app secret
  /// (or the given header value when not empty); `done` gets the HTTP status (0 if unreachable).
  void post_webhook(std::string url, std::string body, std::function<void(int status)> done,
                    std::string signature_header = {});

  /// Webhook bodies shaped like Meta's (vectors.md H.2) for tests.
  std::string text_webhook(const std::string& from, const std::string& name, const std::string& wamid,
                           const std::string& text, std::int64_t timestamp) const;
  std::string status_webhook(const std::string& wamid, const std::string& status, const std::string& recipient,
                             std::int64_t timestamp, int error_code = 0, const std::string& error_title = {}) const;
  /// One notification carrying several messages and statuses in one change, as Meta batches them.
  std::string webhook_body(const std::vector<webhook_message>& messages, const std::vector<webhook_status>& statuses) const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kentongan::fakes
