#pragma once
/// A small HTTP/1.1 server (Boost.Beast) on the daemon's I/O thread: keep-alive, a read deadline
/// and header/body size limits on every request. Beast stays inside http_server.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol/asio/asio.hpp"

namespace kentongan::daemon {

struct http_request {
  std::string method;                          ///< "GET", "POST" … (a HEAD request arrives as "GET"; only its headers are sent)
  std::string target;                          ///< raw target, "/api/x?y=1"
  std::string path;                            ///< decoded path without the query
  std::map<std::string, std::string> query;    ///< decoded query parameters
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const;
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct http_limits {
  std::size_t body_limit = 1024 * 1024;
  std::uint32_t header_limit = 16 * 1024;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds idle_timeout{60};
  std::size_t max_connections = 256;
  bool operator==(const http_limits&) const = default;
};

/// The handler is called on the I/O thread, one request at a time per connection; the request
/// outlives the handler's coroutine.
using http_handler = std::function<boost::asio::awaitable<http_response>(const http_request&)>;

class http_server {
 public:
  http_server(boost::asio::io_context& io, http_handler handler, http_limits limits = {});
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;
  /// Binds and starts accepting; throws std::runtime_error saying which address could not be bound.
  void listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  /// Stops accepting and closes open connections.
  void stop();

  struct state;  ///< opaque; shared with the connection coroutines

 private:
  std::shared_ptr<state> state_;
};

/// Splits "HOST:PORT" ("127.0.0.1:8787", "[::1]:80"); throws std::invalid_argument with the reason.
std::pair<std::string, std::uint16_t> split_host_port(const std::string& text);

}  // namespace kentongan::daemon
