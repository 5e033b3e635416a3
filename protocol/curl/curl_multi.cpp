#include "protocol/curl/curl_multi.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <curl/curl.h>

namespace kentongan::curl {

namespace asio = boost::asio;

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct socket_watch {
  explicit socket_watch(asio::io_context& io, curl_socket_t fd) : descriptor(io, fd) {}
  asio::posix::stream_descriptor descriptor;
  int wanted = CURL_POLL_NONE;   // what libcurl asked for last
  bool read_armed = false;       // a wait or a posted action is pending
  bool write_armed = false;
};

struct transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string request_body;
  http_response response;
  std::function<void(http_response)> done;
  std::size_t limit = 0;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {};

  transfer() = default;
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;
  ~transfer() {
    if (headers != nullptr) curl_slist_free_all(headers);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

// Polled with a zero timeout before every wait: Asio's reactor is edge-triggered, and libcurl may
// leave bytes in the socket (or want to write to a socket that is already writable), in which case
// no new edge would ever come.
short ready_now(curl_socket_t fd, short events) {
  pollfd p{fd, events, 0};
  if (::poll(&p, 1, 0) <= 0) return 0;
  return p.revents;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  if (t->response.body.size() + n > t->limit) {
    t->too_large = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  try {
    t->response.body.append(data, n);
  } catch (...) {
    return 0;
  }
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  try {
    std::string_view line(data, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      t->response.headers.clear();  // a new response (after 100 Continue)
      return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    t->response.headers[std::move(name)] = std::string(value);
  } catch (...) {
    return 0;
  }
  return n;
}

}  // namespace

struct client::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_context, client_options o) : io(io_context), options(std::move(o)), timer(io_context) {
    global_init();
    multi = curl_multi_init();
    if (multi == nullptr) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() { shutdown(); }

  asio::io_context& io;
  client_options options;
  CURLM* multi = nullptr;
  asio::steady_timer timer;
  std::unordered_map<curl_socket_t, std::shared_ptr<socket_watch>> sockets;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> transfers;

  void shutdown() {
    if (multi == nullptr) return;
    timer.cancel();
    for (auto& [easy, t] : transfers) curl_multi_remove_handle(multi, easy);
    transfers.clear();
    curl_multi_cleanup(multi);  // closes pooled connections through on_close
    multi = nullptr;
    for (auto& [fd, w] : sockets) (void)w->descriptor.release();
    sockets.clear();
  }

  // libcurl tells which sockets to watch for what (CURLMOPT_SOCKETFUNCTION).
  static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void*) noexcept {
    auto* self = static_cast<impl*>(user);
    try {
      if (what == CURL_POLL_REMOVE) {
        self->forget(fd);
        return 0;
      }
      auto& w = self->sockets[fd];
      if (!w) w = std::make_shared<socket_watch>(self->io, fd);
      w->wanted = what;
      self->arm(fd, w);
    } catch (...) {
      return -1;
    }
    return 0;
  }

  // libcurl closes a socket: stop watching it first, so that the number is free before reuse.
  static int on_close(void* user, curl_socket_t fd) noexcept {
    static_cast<impl*>(user)->forget(fd);
    return ::close(fd);
  }

  static int on_timer(CURLM*, long timeout_ms, void* user) noexcept {
    auto* self = static_cast<impl*>(user);
    try {
      self->timer.cancel();
      if (timeout_ms < 0) return 0;
      self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
      self->timer.async_wait([weak = self->weak_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto s = weak.lock()) s->action(CURL_SOCKET_TIMEOUT, 0);
      });
    } catch (...) {
      return -1;
    }
    return 0;
  }

  void forget(curl_socket_t fd) {
    const auto it = sockets.find(fd);
    if (it == sockets.end()) return;
    boost::system::error_code ignored;
    (void)it->second->descriptor.release();  // cancels its waits; libcurl owns the descriptor
    sockets.erase(it);
  }

  void arm(curl_socket_t fd, const std::shared_ptr<socket_watch>& w) {
    const bool want_in = (w->wanted & CURL_POLL_IN) != 0;
    const bool want_out = (w->wanted & CURL_POLL_OUT) != 0;
    if (want_in && !w->read_armed) {
      w->read_armed = true;
      if (ready_now(fd, POLLIN) != 0) {
        asio::post(io, [weak = weak_from_this(), ww = std::weak_ptr(w), fd] { fire(weak, ww, fd, CURL_CSELECT_IN); });
      } else {
        w->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                 [weak = weak_from_this(), ww = std::weak_ptr(w), fd](const boost::system::error_code& ec) {
                                   if (ec) {
                                     if (auto x = ww.lock()) x->read_armed = false;
                                     return;
                                   }
                                   fire(weak, ww, fd, CURL_CSELECT_IN);
                                 });
      }
    }
    if (want_out && !w->write_armed) {
      w->write_armed = true;
      if (ready_now(fd, POLLOUT) != 0) {
        asio::post(io, [weak = weak_from_this(), ww = std::weak_ptr(w), fd] { fire(weak, ww, fd, CURL_CSELECT_OUT); });
      } else {
        w->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                 [weak = weak_from_this(), ww = std::weak_ptr(w), fd](const boost::system::error_code& ec) {
                                   if (ec) {
                                     if (auto x = ww.lock()) x->write_armed = false;
                                     return;
                                   }
                                   fire(weak, ww, fd, CURL_CSELECT_OUT);
                                 });
      }
    }
  }

  static void fire(const std::weak_ptr<impl>& weak, const std::weak_ptr<socket_watch>& ww, curl_socket_t fd, int flag) {
    const auto self = weak.lock();
    const auto w = ww.lock();
    if (!self || !w) return;
    (flag == CURL_CSELECT_IN ? w->read_armed : w->write_armed) = false;
    const auto it = self->sockets.find(fd);
    if (it == self->sockets.end() || it->second != w) return;  // forgotten or replaced meanwhile
    const int wanted_bit = flag == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    if ((w->wanted & wanted_bit) == 0) return;
    self->action(fd, flag);
    // Still watched and still wanted: wait again (libcurl does not repeat CURL_POLL_* it already said).
    if (self->multi == nullptr) return;
    const auto again = self->sockets.find(fd);
    if (again != self->sockets.end() && again->second == w) self->arm(fd, w);
  }

  void action(curl_socket_t fd, int flags) {
    if (multi == nullptr) return;
    const auto keep = shared_from_this();  // a completion callback may destroy the client
    int running = 0;
    curl_multi_socket_action(multi, fd, flags, &running);
    complete_finished();
  }

  void complete_finished() {
    std::vector<std::unique_ptr<transfer>> finished;
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* easy = m->easy_handle;
      const CURLcode code = m->data.result;
      const auto it = transfers.find(easy);
      if (it == transfers.end()) continue;
      auto t = std::move(it->second);
      transfers.erase(it);
      auto& r = t->response;
      r.curl_code = static_cast<int>(code);
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
      curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &r.new_connections);
      long version = 0;
      curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
      r.http_version = version == CURL_HTTP_VERSION_1_0 ? 10 : version == CURL_HTTP_VERSION_1_1 ? 11
                     : version == CURL_HTTP_VERSION_2_0 ? 2 : version == CURL_HTTP_VERSION_3 ? 3 : 0;
      if (code != CURLE_OK) {
        r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        r.error = t->too_large ? "response larger than " + std::to_string(t->limit) + " bytes"
                : t->error[0] != '\0' ? std::string(t->error) : std::string(curl_easy_strerror(code));
        r.status = 0;
      }
      curl_multi_remove_handle(multi, easy);
      finished.push_back(std::move(t));
    }
    for (auto& t : finished) {
      auto done = std::move(t->done);
      auto response = std::move(t->response);
      t.reset();
      if (done) done(std::move(response));
    }
  }

  void start(http_request spec, std::function<void(http_response)> done) {
    auto fail_later = [this](std::function<void(http_response)> cb, std::string why) {
      http_response r;
      r.curl_code = static_cast<int>(CURLE_FAILED_INIT);
      r.error = std::move(why);
      asio::post(io, [cb = std::move(cb), r = std::move(r)]() mutable { if (cb) cb(std::move(r)); });
    };
    if (multi == nullptr) return fail_later(std::move(done), "client closed");
    auto t = std::make_unique<transfer>();
    t->easy = curl_easy_init();
    if (t->easy == nullptr) return fail_later(std::move(done), "curl_easy_init failed");
    t->done = std::move(done);
    t->limit = options.max_response_bytes;
    t->request_body = std::move(spec.body);
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, spec.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &impl::on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    const auto timeout = std::max<std::chrono::milliseconds::rep>(1, spec.timeout.count());
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<std::chrono::milliseconds::rep>(timeout, options.connect_timeout.count())));
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // prefer multiplexing on an HTTP/2 connection to a new one
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    for (const auto& h : spec.headers) t->headers = curl_slist_append(t->headers, h.c_str());
    t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (spec.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (spec.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, spec.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request_body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->request_body.size()));
    }
    CURL* key = t->easy;
    transfers.emplace(key, std::move(t));
    // Adding a handle only sets a zero timeout (on_timer); the transfer starts from the event loop.
    if (const CURLMcode rc = curl_multi_add_handle(multi, key); rc != CURLM_OK) {
      auto failed = std::move(transfers[key]);
      transfers.erase(key);
      fail_later(std::move(failed->done), curl_multi_strerror(rc));
    }
  }

  void cancel_all() {
    if (multi == nullptr) return;
    for (auto& [easy, t] : transfers) {
      curl_multi_remove_handle(multi, easy);
      http_response r;
      r.curl_code = static_cast<int>(CURLE_ABORTED_BY_CALLBACK);
      r.error = "cancelled";
      asio::post(io, [cb = std::move(t->done), r = std::move(r)]() mutable { if (cb) cb(std::move(r)); });
    }
    transfers.clear();
  }
};

client::client(asio::io_context& io, client_options options) : impl_(std::make_shared<impl>(io, std::move(options))) {}

client::~client() {
  if (impl_) impl_->shutdown();
}

void client::request(http_request spec, std::function<void(http_response)> done) {
  impl_->start(std::move(spec), std::move(done));
}

std::size_t client::in_flight() const { return impl_->transfers.size(); }

void client::cancel_all() { impl_->cancel_all(); }

}  // namespace kentongan::curl
