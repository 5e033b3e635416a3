#pragma once
/// An SMPP 3.4 SMSC simulator for tests, demos and benchmarks: accepts binds, answers submit_sm
/// with unique ids, sends delivery receipts, can throttle, fail and drop links, and sends MO
/// messages (multipart too). Runs on the io_context it is given; every method on that thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/asio/asio.hpp"

namespace kentongan::smpp {

/// How a long MO message is split ([SMPP34] §5.2.12 UDHI, §5.3.2.22-24 SAR, §5.3.2.32 payload).
enum class concat_style { udh8, udh16, sar, payload };

struct mo_message {
  std::string from;   ///< source_addr, e.g. "6281234567890" (TON 1 / NPI 1)
  std::string to;     ///< destination_addr, e.g. "9123"
  std::string text;   ///< UTF-8; GSM-7 when it fits, else UCS-2
  concat_style style = concat_style::udh8;
  bool operator==(const mo_message&) const = default;
};

/// A malformed PDU sent once to the first link that binds, to test the ESME's error handling.
enum class malformed_kind {
  none,
  unknown_command,  ///< a header-only PDU with command_id 0x00000099: generic_nack ESME_RINVCMDID, link kept (§4.3)
  bad_length,       ///< command_length 8 (< 16): generic_nack ESME_RINVCMDLEN, the stream is lost, link dropped (§3.2)
  bad_deliver_sm,   ///< a deliver_sm whose source_addr has no NUL: deliver_sm_resp with an error, link kept
};

struct smsc_settings {
  std::string system_id = "kentongan-sim";       ///< sent in bind_*_resp
  std::string password;                          ///< empty: any password binds
  std::chrono::milliseconds dlr_delay{0};        ///< submit → receipt
  double fail_rate = 0.0;                        ///< share of receipts that say UNDELIV (0..1)
  std::uint32_t throttle_after = 0;              ///< submits per second before ESME_RTHROTTLED; 0 = off
  std::uint32_t drop_every = 0;                  ///< drop the link instead of answering every Nth submit; 0 = off
  std::vector<mo_message> mo;                    ///< sent to the first receiver that binds
  bool receipt_tlvs = true;                      ///< add receipted_message_id and message_state TLVs
  std::uint32_t seed = 1;                        ///< for fail_rate
  malformed_kind malformed = malformed_kind::none;  ///< sent once, right after the first bind
  /// Pretend the first deliver_sm_resp of each MO message was lost: drop the link when the last
  /// part is acknowledged and deliver the same PDUs again after the next bind (§4.6.2 redelivery).
  bool mo_lose_first_ack = false;
  /// A receipt answered with an error, or unanswered when its link went away, goes out again
  /// this long after (§4.6.2: the SMSC keeps it until the ESME takes it).
  std::chrono::milliseconds receipt_retry{1000};
  bool operator==(const smsc_settings&) const = default;
};

struct smsc_counters {
  std::uint64_t connections = 0;
  std::uint64_t binds = 0;
  std::uint64_t bind_failures = 0;
  std::uint64_t unbinds = 0;
  std::uint64_t submits = 0;          ///< submit_sm received
  std::uint64_t accepted = 0;         ///< answered ESME_ROK
  std::uint64_t throttled = 0;        ///< answered ESME_RTHROTTLED
  std::uint64_t drops = 0;            ///< links dropped on purpose
  std::uint64_t receipts = 0;         ///< receipts sent
  std::uint64_t failed_receipts = 0;  ///< of which UNDELIV
  std::uint64_t receipts_acked = 0;   ///< deliver_sm_resp OK for receipts
  std::uint64_t receipts_rejected = 0;  ///< deliver_sm_resp with an error for receipts (each sent again)
  std::uint64_t mo_parts = 0;         ///< MO deliver_sm sent
  std::uint64_t mo_acked = 0;         ///< deliver_sm_resp OK for MO parts
  std::uint64_t mo_rejected = 0;      ///< deliver_sm_resp with an error for MO parts
  std::uint64_t enquire_links = 0;
  std::uint64_t generic_nacks = 0;    ///< sent by us for malformed PDUs
  bool operator==(const smsc_counters&) const = default;
};

/// One thing that happened, for --record (tests read these as JSON lines).
struct smsc_event {
  enum class kind {
    bind,                ///< a link bound (message_id holds the bind command name)
    closed,              ///< a link went away
    submit,              ///< submit_sm accepted with message_id
    mo_acked,            ///< deliver_sm_resp OK for an MO part
    mo_rejected,         ///< deliver_sm_resp with an error for an MO part (status)
    mo_ack_lost,         ///< deliver_sm_resp OK ignored on purpose (mo_lose_first_ack); the message comes again
    generic_nack,        ///< the ESME sent generic_nack (status, sequence)
    malformed_sent,      ///< the malformed PDU went out (message_id holds its kind)
    malformed_answered,  ///< the ESME answered it with a response other than generic_nack (status)
  };
  kind what = kind::submit;
  std::uint64_t session = 0;           ///< connection number, from 1
  std::string message_id;
  std::string source;
  std::string dest;
  std::string text;                    ///< this part's text, decoded to UTF-8
  std::string message;                 ///< MO events: the whole message's text
  std::optional<std::uint16_t> udh_ref;  ///< concatenation reference (UDH or SAR), if any
  std::uint8_t part = 1;
  std::uint8_t parts = 1;
  std::uint32_t status = 0;
  std::uint32_t sequence = 0;
  std::uint8_t data_coding = 0;
};
std::string_view to_string(smsc_event::kind k);

class smsc_simulator {
 public:
  smsc_simulator(boost::asio::io_context& io, smsc_settings settings);
  ~smsc_simulator();
  smsc_simulator(const smsc_simulator&) = delete;
  smsc_simulator& operator=(const smsc_simulator&) = delete;

  /// Listens (port 0 picks a free one). Throws boost::system::system_error if it cannot.
  void start(const boost::asio::ip::tcp::endpoint& endpoint);
  /// The port listened on, after start().
  std::uint16_t local_port() const;
  /// Closes the listener and every link at once (like a crash); receipts not yet sent, or sent
  /// and not yet answered OK, are kept and go out after a later start().
  void stop();
  /// Queues one MO message for the next receiver-capable link.
  void send_mo(mo_message message);
  /// Sends raw bytes on every bound link (for malformed-PDU tests).
  void send_raw(std::vector<std::uint8_t> bytes);
  smsc_counters counters() const;
  /// Called on the simulator's thread for every event; leave unset when nobody records (benchmarks).
  void on_event(std::function<void(const smsc_event&)> sink);
  /// Links currently bound.
  std::size_t bound_links() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kentongan::smpp
