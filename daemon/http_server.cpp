#include "daemon/http_server.hpp"

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "protocol/http/codec.hpp"
#include "storage/disk_full.hpp"

namespace kentongan::daemon {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace http_codec = kentongan::http;  // `http` is Beast's here

std::string http_request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string{} : it->second;
}

std::pair<std::string, std::uint16_t> split_host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    throw std::invalid_argument("'" + text + "' is not HOST:PORT (for example 127.0.0.1:8787)");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw std::invalid_argument("'" + text + "' has no valid port number after ':'");
  }
  if (port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is above 65535");
  if (host.empty()) host = "127.0.0.1";
  return {host, static_cast<std::uint16_t>(port)};
}

struct http_server::state : std::enable_shared_from_this<http_server::state> {
  asio::io_context& io;
  http_handler handler;
  http_limits limits;
  tcp::acceptor acceptor;
  std::set<std::shared_ptr<beast::tcp_stream>> connections;
  bool stopped = false;

  state(asio::io_context& ctx, http_handler h, http_limits l)
      : io(ctx), handler(std::move(h)), limits(l), acceptor(ctx) {}
};

namespace {

// The body moves out of `req` (a webhook body is read once, never copied).
http_request to_request(http::request<http::string_body>& req) {
  http_request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  const auto q = out.target.find('?');
  out.path = http_codec::url_decode(std::string_view(out.target).substr(0, q), false);
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(out.target).substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      if (!pair.empty())
        out.query[http_codec::url_decode(pair.substr(0, eq), true)] =
            eq == std::string_view::npos ? std::string{} : http_codec::url_decode(pair.substr(eq + 1), true);
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(req.body());
  return out;
}

http::response<http::string_body> to_beast(http_response&& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "kentongan");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

asio::awaitable<void> write_error(beast::tcp_stream& stream, http::status status, const char* text) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::server, "kentongan");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = std::string(R"({"error":")") + text + "\"}\n";
  res.prepare_payload();
  beast::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  // Lingering close: the client may still be sending the body we refused. Closing with unread
  // bytes would send a RST, and the client's kernel would throw our answer away unread.
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds{2});
  std::array<char, 16 * 1024> scratch{};
  std::size_t drained = 0;
  while (!ec && drained < 4 * 1024 * 1024)
    drained += co_await stream.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
}

/// Why a decoded path is refused before routing, or nullptr. The admin API is no file server, but
/// a path that logs as something else (control characters, NUL) or climbs (..) is never meant well.
// The query is never logged: callback secrets (Kannel's dlr-url token) and tokens travel there.
// Control bytes are escaped so that a request cannot forge log lines.
std::string loggable_path(std::string_view target) {
  target = target.substr(0, std::min(target.find('?'), std::size_t{200}));
  std::string out;
  for (const char c : target) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\')
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out;
}

const char* bad_path(const std::string& path) {
  if (path.empty() || path.front() != '/') return "the request target must start with '/'";
  for (const char c : path)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "the path holds control characters";
  std::size_t i = 0;
  while (i < path.size()) {
    const auto j = path.find('/', i + 1);
    const auto segment = std::string_view(path).substr(i + 1, j == std::string::npos ? std::string::npos : j - i - 1);
    if (segment == "." || segment == "..") return "the path holds '.' or '..' segments";
    if (j == std::string::npos) break;
    i = j;
  }
  return nullptr;
}

std::string peer_of(beast::tcp_stream& stream) {
  beast::error_code ec;
  const auto ep = stream.socket().remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

asio::awaitable<void> serve_connection(std::shared_ptr<http_server::state> st, std::shared_ptr<beast::tcp_stream> stream) {
  beast::flat_buffer buffer;
  auto log = spdlog::get("http");
  const std::string peer = peer_of(*stream);
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(st->limits.body_limit);
    parser.header_limit(st->limits.header_limit);
    beast::error_code ec;
    if (!first && buffer.size() == 0) {
      // Between keep-alive requests the client may think for idle_timeout; once it starts a
      // request, the whole request has read_timeout (a slowloris dribbling bytes is cut off).
      stream->expires_after(st->limits.idle_timeout);
      const auto n = co_await stream->async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      if (ec) break;
    }
    first = false;
    stream->expires_after(st->limits.read_timeout);
    co_await http::async_read(*stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) {
      // The stream is closed already: no answer can go out, but the operator sees who it was.
      if (log && (parser.got_some() || buffer.size() > 0))
        log->warn("http request rejected reason=read_timeout peer={} timeout_s={}", peer, st->limits.read_timeout.count());
      break;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset)
      break;
    if (ec == http::error::body_limit) {
      if (log) log->warn("http request rejected reason=body_too_large peer={} limit={}", peer, st->limits.body_limit);
      co_await write_error(*stream, http::status::payload_too_large, "request body too large");
      break;
    }
    if (ec == http::error::header_limit) {
      if (log) log->warn("http request rejected reason=headers_too_large peer={} limit={}", peer, st->limits.header_limit);
      co_await write_error(*stream, http::status::request_header_fields_too_large, "request headers too large");
      break;
    }
    if (ec) {
      if (log) log->warn("http request rejected reason=malformed peer={} error=\"{}\"", peer, ec.message());
      co_await write_error(*stream, http::status::bad_request, "malformed HTTP request");
      break;
    }
    auto req = parser.release();
    if (req.version() != 10 && req.version() != 11) {
      if (log) log->warn("http request rejected reason=bad_version peer={} version={}", peer, req.version());
      co_await write_error(*stream, http::status::http_version_not_supported, "only HTTP/1.0 and HTTP/1.1 are served");
      break;
    }
    const bool keep_alive = req.keep_alive();
    // HEAD is GET without the content (RFC 9110 §9.3.2): routed as GET, answered with its headers.
    const bool head = req.method() == http::verb::head;
    http_response response;
    try {
      http_request request = to_request(req);
      if (head) request.method = "GET";
      if (const char* why = bad_path(request.path)) {
        if (log) log->warn("http request rejected reason=bad_path peer={} detail=\"{}\"", peer, why);
        response = http_response{400, "application/json", std::string(R"({"error":")") + why + "\"}\n", {}};
      } else {
        response = co_await st->handler(request);
      }
    } catch (const std::exception& e) {
      if (storage::is_disk_full(e)) {
        // Refused, not failed: nothing of this request was stored; the client may try again later.
        if (log) log->error("http request refused reason=disk_full path=\"{}\" error=\"{}\"", loggable_path(std::string(req.target())), e.what());
        response = http_response{503, "application/json",
                                 R"({"error":"disk full: the database cannot be written; nothing of this request was stored, try again later","reason":"disk_full"})" "\n",
                                 {{"Retry-After", "30"}}};
      } else {
        if (log) log->error("http handler failed path=\"{}\" error=\"{}\"", loggable_path(std::string(req.target())), e.what());
        response = http_response{500, "application/json", R"({"error":"internal error, see the daemon log"})" "\n", {}};
      }
    }
    auto res = to_beast(std::move(response), req.version(), keep_alive && !st->stopped);
    stream->expires_after(st->limits.read_timeout);
    if (head) {
      // Content-Length stays the GET answer's; the body is not sent.
      http::response_serializer<http::string_body> serializer{res};
      co_await http::async_write_header(*stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await http::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream->close();
  st->connections.erase(stream);
}

asio::awaitable<void> accept_loop(std::shared_ptr<http_server::state> st) {
  std::uint64_t refused = 0;  // logged at most every 10 s: a flood must not flood the log too
  auto last_refusal_log = std::chrono::steady_clock::time_point{};
  while (!st->stopped) {
    beast::error_code ec;
    tcp::socket socket = co_await st->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (st->stopped || ec == asio::error::operation_aborted) break;
      continue;
    }
    if (st->connections.size() >= st->limits.max_connections) {
      // Refuse rather than queue: a flood of idle clients must not starve the admin API.
      socket.close(ec);
      ++refused;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_refusal_log >= std::chrono::seconds{10}) {
        if (auto log = spdlog::get("http"))
          log->warn("http connections refused reason=too_many_connections limit={} refused={}",
                    st->limits.max_connections, refused);
        last_refusal_log = now;
        refused = 0;
      }
      continue;
    }
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    st->connections.insert(stream);
    asio::co_spawn(st->io, serve_connection(st, stream), asio::detached);
  }
}

}  // namespace

http_server::http_server(asio::io_context& io, http_handler handler, http_limits limits)
    : state_(std::make_shared<state>(io, std::move(handler), limits)) {}

http_server::~http_server() { stop(); }

void http_server::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("cannot listen on '" + host + "': not an IP address (use for example 127.0.0.1)");
  const tcp::endpoint endpoint{address, port};
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message() +
                             " (is another kentongan running? choose another address with --listen)");
  asio::co_spawn(state_->io, accept_loop(state_), asio::detached);
}

std::uint16_t http_server::port() const {
  beast::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

void http_server::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  beast::error_code ec;
  state_->acceptor.close(ec);
  for (const auto& c : std::set(state_->connections)) c->socket().close(ec);
}

}  // namespace kentongan::daemon
