#pragma once
/// A fake HTTP SMS aggregator for tests over 127.0.0.1: takes sends on any path (GET query, form
/// or JSON body), records every request, and answers per recipient like real aggregators do
/// (JSON success with an id, Kannel's plain-text "0: Accepted for delivery", 429, 5xx, 4xx, 401,
/// or no answer at all), and posts callbacks to the daemon. Control routes for separate-process
/// use (fake_aggregator --help): GET /_fake/requests, POST /_fake/behaviour {"to","behaviour",
/// "times"}, POST /_fake/clear, POST /_fake/callback {"url","method","content_type","body",
/// "headers"}, GET /_fake/callbacks, GET /_fake/health.
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

enum class aggregator_behaviour {
  ok_json,        ///< 200 {"status":"0","messages":[{"id":"AGG-<n>","to":…}]}
  ok_kannel,      ///< 202 text/plain "0: Accepted for delivery"
  queued_kannel,  ///< 202 text/plain "3: Queued for later delivery"
  refused_json,   ///< 200 {"status":"5","text":"Nomor tujuan tidak valid"} (Zenziva-style refusal)
  rate_limited,   ///< 429 with Retry-After: 2
  server_error,   ///< 500 {"status":"99","text":"internal error"}
  bad_gateway,    ///< 502 with an HTML body
  bad_request,    ///< 400 {"status":"21","text":"invalid destination"}
  unauthorized,   ///< 401 {"status":"7","text":"invalid credentials"}
  hang,           ///< never answers
};

std::string_view to_string(aggregator_behaviour b);
std::optional<aggregator_behaviour> parse_aggregator_behaviour(std::string_view s);

struct aggregator_request {
  std::string method;
  std::string target;                          ///< path and query as sent
  std::string path;                            ///< without the query
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::map<std::string, std::string> params;   ///< decoded query, then form or flat JSON body members
  std::string to;                              ///< params[to_field]
  std::string answer_id;                       ///< the id answered, if any
  int answer_status = 0;                       ///< 0 = not answered (hang)
};

struct aggregator_settings {
  std::string to_field = "to";                 ///< parameter or JSON member naming the recipient
  aggregator_behaviour default_behaviour = aggregator_behaviour::ok_json;
};

class aggregator {
 public:
  aggregator(boost::asio::io_context& io, aggregator_settings settings = {});
  ~aggregator();
  aggregator(const aggregator&) = delete;
  aggregator& operator=(const aggregator&) = delete;

  /// Listens on address:port (port 0 picks one). Throws boost::system::system_error if it cannot.
  void start(const std::string& address = "127.0.0.1", std::uint16_t port = 0);
  void stop();
  std::uint16_t port() const;
  /// "http://127.0.0.1:<port>"
  std::string base_url() const;

  /// Recipient as sent ("+62…", "62…" and "0…" are told apart: give it as the channel sends it).
  /// `times` > 0: only the next `times` requests for it, then the default again.
  void set_behaviour(const std::string& to, aggregator_behaviour b, int times = -1);
  void set_default_behaviour(aggregator_behaviour b);

  const std::vector<aggregator_request>& requests() const;
  void clear_requests();

  /// Sends a callback to `url` ("http://host:port/path?query") with the given method, Content-Type,
  /// extra headers and body; `done` gets the HTTP status (0 if unreachable) and the answer body.
  void post_callback(std::string url, std::string method, std::string content_type, std::string body,
                     std::map<std::string, std::string> headers, std::function<void(int status, std::string body)> done);

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kentongan::fakes
