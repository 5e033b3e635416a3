#pragma once
/// One SMPP TCP link as both ends use it: frames incoming bytes into PDUs with a size limit, and
/// coalesces outgoing PDUs into one write at a time. Single-threaded: use it on its io_context only.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "protocol/asio/asio.hpp"
#include "protocol/smpp/pdu.hpp"

namespace kentongan::smpp {

class connection : public std::enable_shared_from_this<connection> {
 public:
  explicit connection(boost::asio::ip::tcp::socket socket, std::uint32_t max_pdu = default_max_pdu);

  struct incoming {
    enum class kind { pdu, bad_length, closed } what = kind::closed;
    decode_result result;  ///< for kind::pdu; result.error may be set (answer with a nack or an error _resp)
  };
  /// Next PDU from the peer. bad_length: the stream cannot be resynchronised ([SMPP34] §3.2).
  boost::asio::awaitable<incoming> receive();

  /// Queues a PDU for sending; returns false when the PDU cannot be encoded or the link is closed.
  bool send(const pdu& p);
  /// Queues raw octets in order with the PDUs (the simulator's malformed-PDU tests).
  bool send_bytes(std::span<const std::uint8_t> bytes);
  /// Closes the socket now; pending reads and writes complete with an error.
  void close();
  /// Closes once everything queued has been written (after an unbind_resp, a generic_nack).
  void close_after_flush();
  bool is_open() const { return open_; }
  /// Octets queued but not yet handed to the socket.
  std::size_t queued() const { return out_.size(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  void start_writing();
  static boost::asio::awaitable<void> write_loop(std::shared_ptr<connection> self);

  boost::asio::ip::tcp::socket socket_;
  std::uint32_t max_pdu_;
  std::vector<std::uint8_t> rx_;
  std::size_t rx_begin_ = 0;
  std::size_t rx_end_ = 0;
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> sending_;
  bool writing_ = false;
  bool open_ = true;
  bool close_when_flushed_ = false;
};

}  // namespace kentongan::smpp
