// What an inbound message does. Runs on the storage writer thread, inside the transaction that
// stored the message, so that a message and its effects are durable together or not at all.
#include "daemon/service_impl.hpp"

namespace kentongan::daemon {

void service::handle_inbound_locked(storage::store& s, const std::string& channel_name, const channel::inbound& message,
                                    std::int64_t inbox_id) {
  s.log_event("inbound", channel_name, std::to_string(inbox_id));
  (void)message;
}

}  // namespace kentongan::daemon
