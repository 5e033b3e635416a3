#include "protocol/smpp/connection.hpp"

#include <cstring>

namespace kentongan::smpp {

namespace asio = boost::asio;

connection::connection(asio::ip::tcp::socket socket, std::uint32_t max_pdu)
    : socket_(std::move(socket)), max_pdu_(max_pdu), rx_(64 * 1024) {
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
}

asio::awaitable<connection::incoming> connection::receive() {
  for (;;) {
    const std::span<const std::uint8_t> pending(rx_.data() + rx_begin_, rx_end_ - rx_begin_);
    const auto f = check_frame(pending, max_pdu_);
    if (f.kind == frame_kind::invalid_length) {
      incoming in;
      in.what = incoming::kind::bad_length;
      in.result.head = peek_header(pending).value_or(header{});
      co_return in;
    }
    if (f.kind == frame_kind::complete) {
      incoming in;
      in.what = incoming::kind::pdu;
      in.result = decode(pending.first(f.length));
      rx_begin_ += f.length;
      co_return in;
    }
    if (!open_) co_return incoming{};
    // Make room: move the partial PDU to the front, grow only up to the PDU size limit.
    if (rx_begin_ > 0) {
      std::memmove(rx_.data(), rx_.data() + rx_begin_, rx_end_ - rx_begin_);
      rx_end_ -= rx_begin_;
      rx_begin_ = 0;
    }
    if (rx_end_ == rx_.size()) rx_.resize(std::min<std::size_t>(rx_.size() * 2, max_pdu_ + 16u));
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(asio::buffer(rx_.data() + rx_end_, rx_.size() - rx_end_),
                                                           asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) {
      close();
      co_return incoming{};
    }
    rx_end_ += n;
  }
}

bool connection::send(const pdu& p) {
  if (!open_) return false;
  if (!encode(p, out_)) return false;
  start_writing();
  return true;
}

bool connection::send_bytes(std::span<const std::uint8_t> bytes) {
  if (!open_) return false;
  out_.insert(out_.end(), bytes.begin(), bytes.end());
  start_writing();
  return true;
}

void connection::start_writing() {
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(socket_.get_executor(), write_loop(shared_from_this()), asio::detached);
  }
}

asio::awaitable<void> connection::write_loop(std::shared_ptr<connection> self) {
  while (self->open_ && !self->out_.empty()) {
    self->sending_.clear();
    std::swap(self->sending_, self->out_);
    boost::system::error_code ec;
    co_await asio::async_write(self->socket_, asio::buffer(self->sending_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      self->close();
      break;
    }
  }
  self->writing_ = false;
  if (self->close_when_flushed_) self->close();
}

void connection::close_after_flush() {
  close_when_flushed_ = true;
  if (!writing_) close();
}

void connection::close() {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  out_.clear();
}

}  // namespace kentongan::smpp
