#pragma once
/// An HTTP client on libcurl's multi interface, driven by the io_context it is built with: sockets
/// are watched by Asio, one steady_timer serves libcurl's timeouts, connections are kept alive and
/// reused, HTTP/2 is used when the server offers it. Every method and callback runs on that thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol/asio/asio.hpp"

namespace kentongan::curl {

struct http_request {
  std::string method = "POST";           ///< GET, POST, PUT, DELETE …
  std::string url;
  std::vector<std::string> headers;      ///< "Name: value" lines
  std::string body;                      ///< sent as is (POST/PUT)
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  ///< whole transfer, connect included
  bool operator==(const http_request&) const = default;
};

struct http_response {
  long status = 0;                       ///< HTTP status; 0 when the transfer failed
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-case names, the last value of each
  int curl_code = 0;                     ///< CURLcode; 0 = the exchange completed
  std::string error;                     ///< libcurl's message when curl_code != 0
  bool timed_out = false;                ///< the request's timeout passed
  long http_version = 0;                 ///< 11 for HTTP/1.1, 2 for HTTP/2, 0 unknown
  long new_connections = 0;              ///< connections opened for this request (0 = reused)
  bool transport_ok() const { return curl_code == 0; }
  /// The transfer failed after the request may have reached the server (a timeout, a reset or a
  /// cut answer), as opposed to a name or connection failure before anything was sent.
  bool may_have_arrived() const {
    return curl_code != 0 && curl_code != 5 /* COULDNT_RESOLVE_PROXY */ && curl_code != 6 /* COULDNT_RESOLVE_HOST */ &&
           curl_code != 7 /* COULDNT_CONNECT */ && curl_code != 35 /* SSL_CONNECT_ERROR */;
  }
};

struct client_options {
  std::size_t max_response_bytes = 1 << 20;   ///< larger bodies fail the transfer
  long max_host_connections = 8;              ///< per host; HTTP/2 multiplexes over fewer
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  bool verify_tls = true;                     ///< off only for tests against self-signed servers
  std::string user_agent = "kentongan/0.1";
};

class client {
 public:
  explicit client(boost::asio::io_context& io, client_options options = {});
  /// Aborts what is in flight; their callbacks are not called.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Starts one request; `done` is called exactly once on the I/O thread, never from inside this
  /// call. Transport failures and timeouts arrive as a response with curl_code != 0.
  void request(http_request spec, std::function<void(http_response)> done);
  /// Requests started and not yet completed.
  std::size_t in_flight() const;
  /// Completes every request in flight with curl_code 42 (aborted by callback) and error "cancelled".
  void cancel_all();

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kentongan::curl
