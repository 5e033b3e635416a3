#include "daemon/http_client.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

#include "protocol/asio/asio.hpp"

namespace kentongan::daemon {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

http_reply http_call(const std::string& host, std::uint16_t port, const std::string& method, const std::string& target,
                     const std::string& body, const std::string& bearer_token, std::chrono::seconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) throw std::runtime_error("cannot resolve " + where + ": " + ec.message());
  stream.expires_after(timeout);
  stream.connect(endpoints, ec);
  if (ec)
    throw std::runtime_error("cannot reach the daemon at " + where + ": " + ec.message() +
                             " (is `kentongan serve` running? is --listen the same as the daemon's?)");
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "kentongan-cli");
  if (!bearer_token.empty()) req.set(http::field::authorization, "Bearer " + bearer_token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) throw std::runtime_error("cannot send to the daemon at " + where + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec) throw std::runtime_error("no answer from the daemon at " + where + ": " + ec.message());
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  auto res = parser.release();
  return http_reply{res.result_int(), res.body()};
}

}  // namespace kentongan::daemon
