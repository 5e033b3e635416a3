#pragma once
/// The HTTP parts the fake servers (aggregator, Graph API) share: a keep-alive HTTP/1.1 listener on
/// which a derived class answers each request (or never, to hang), and a one-shot client for their
/// callbacks. Header-only, because graph_api.cpp is compiled straight into unit tests and benchmarks.
/// Everything runs on the io_context given; every method on that thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/asio/asio.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kentongan::fakes {

using http_fake_request = boost::beast::http::request<boost::beast::http::string_body>;

struct http_fake_answer {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< set after Server and Content-Type
};

/// Owns the listener and its connections; held by a shared_ptr (connections keep it alive).
class http_fake_server : public std::enable_shared_from_this<http_fake_server> {
 public:
  /// `server_name` is the Server header of every answer.
  http_fake_server(boost::asio::io_context& io, std::string server_name)
      : io_(io), server_name_(std::move(server_name)), acceptor_(io) {}
  virtual ~http_fake_server() = default;
  http_fake_server(const http_fake_server&) = delete;
  http_fake_server& operator=(const http_fake_server&) = delete;

  /// Listens on address:port (port 0 picks one). Throws boost::system::system_error if it cannot.
  void listen(const std::string& address, std::uint16_t port);
  /// Closes the listener and every connection.
  void close();
  std::uint16_t port() const {
    boost::system::error_code ec;
    const auto ep = acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
  }
  /// TCP connections accepted so far.
  std::size_t connections() const { return connections_; }
  boost::asio::io_context& io() const { return io_; }

  /// The answer to one request; nullopt reads on and never answers (the client's timeout fires).
  virtual boost::asio::awaitable<std::optional<http_fake_answer>> respond(const http_fake_request& req) = 0;

 private:
  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<http_fake_server> self);
  static boost::asio::awaitable<void> serve_connection(std::shared_ptr<http_fake_server> self,
                                                       std::shared_ptr<boost::beast::tcp_stream> stream);

  boost::asio::io_context& io_;
  std::string server_name_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<boost::beast::tcp_stream>> streams_;
  std::size_t connections_ = 0;
  bool running_ = false;
};

/// "http://host:port/path?query" taken apart for a request (no port: 80; no path: "/").
struct http_fake_url {
  std::string hostport, host, port, target;
};

inline http_fake_url split_url(std::string_view url) {
  http_fake_url out;
  if (url.starts_with("http://")) url.remove_prefix(7);
  const auto slash = url.find('/');
  out.hostport = std::string(url.substr(0, slash));
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = out.hostport.rfind(':');
  out.host = out.hostport.substr(0, colon);
  out.port = colon == std::string::npos ? "80" : out.hostport.substr(colon + 1);
  return out;
}

struct http_fake_reply {
  int status = 0;  ///< 0: unreachable, or no complete answer within the deadline
  std::string body;
};

/// Sends `req` (target and Host already set from `url`) on a new connection with a 10 s deadline.
/// Parameters by const reference: the caller's named locals outlive the coroutine (g++ 12 note in
/// docs/architecture.md).
inline boost::asio::awaitable<http_fake_reply> send_request(boost::asio::io_context& io, const http_fake_url& url,
                                                            const http_fake_request& req) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  using asio::ip::tcp;
  http_fake_reply reply;
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    boost::beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> res;
        co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
          reply.status = static_cast<int>(res.result_int());
          reply.body = res.body();
        }
      }
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
  }
  co_return reply;
}

inline void http_fake_server::listen(const std::string& address, std::uint16_t port) {
  namespace asio = boost::asio;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(address), port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  running_ = true;
  asio::co_spawn(io_, accept_loop(shared_from_this()), asio::detached);
}

inline void http_fake_server::close() {
  running_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& w : streams_)
    if (auto s = w.lock()) s->socket().close(ignored);
  streams_.clear();
}

inline boost::asio::awaitable<void> http_fake_server::accept_loop(std::shared_ptr<http_fake_server> self) {
  namespace asio = boost::asio;
  while (self->running_) {
    boost::system::error_code ec;
    asio::ip::tcp::socket socket = co_await self->acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!self->running_ || ec == asio::error::operation_aborted) break;
      continue;
    }
    ++self->connections_;
    auto stream = std::make_shared<boost::beast::tcp_stream>(std::move(socket));
    std::erase_if(self->streams_, [](const auto& w) { return w.expired(); });
    self->streams_.push_back(stream);
    asio::co_spawn(self->io_, serve_connection(self, stream), asio::detached);
  }
}

inline boost::asio::awaitable<void> http_fake_server::serve_connection(std::shared_ptr<http_fake_server> self,
                                                                       std::shared_ptr<boost::beast::tcp_stream> stream) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    stream->expires_after(std::chrono::seconds(60));
    boost::system::error_code ec;
    co_await http::async_read(*stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const auto& req = parser.get();
    const auto a = co_await self->respond(req);
    if (!a) continue;  // hang: read on; the client gives up and closes
    http::response<http::string_body> res{a->status, req.version()};
    res.set(http::field::server, self->server_name_);
    res.set(http::field::content_type, a->content_type);
    for (const auto& [k, v] : a->headers) res.set(k, v);
    res.keep_alive(req.keep_alive());
    res.body() = a->body;
    res.prepare_payload();
    co_await http::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !req.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream->close();
}

}  // namespace kentongan::fakes
