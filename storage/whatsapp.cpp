// WhatsApp (issue 6): what the channel needs from the inbox when the daemon starts.
#include "storage/detail.hpp"
#include "storage/store.hpp"

namespace kentongan::storage {

using detail::use;

std::vector<std::pair<std::string, core::time_point>> store::latest_inbound(const std::string& channel,
                                                                            core::time_point since) const {
  // The 24-hour customer-service window runs from the resident's last message (protocols.md §4.6);
  // received_at is the provider's timestamp of that message, not when we stored it.
  std::vector<std::pair<std::string, core::time_point>> out;
  use q(stmt("SELECT phone, max(received_at) FROM inbox WHERE channel = :c AND received_at >= :s "
             "GROUP BY phone ORDER BY phone"));
  q->bind(":c", channel);
  q->bind(":s", static_cast<std::int64_t>(core::to_millis(since)));
  while (q->executeStep()) out.emplace_back(q->getColumn(0).getString(), core::from_millis(q->getColumn(1).getInt64()));
  return out;
}

}  // namespace kentongan::storage
