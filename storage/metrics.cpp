// GET /metrics figures that only the database knows (issue 8). Run on the writer thread; the daemon caches
// the result for a few seconds, so a scrape never costs more than one pass over the outbox per period.
#include "storage/detail.hpp"
#include "storage/store.hpp"

namespace kentongan::storage {

using detail::use;

db_metrics store::metrics() const {
  db_metrics m;
  {
    use q(stmt("SELECT COALESCE(channel, ''), state, count(*) FROM outbox GROUP BY 1, 2"));
    while (q->executeStep()) {
      const auto state = static_cast<core::message_state>(q->getColumn(1).getInt());
      m.messages[{q->getColumn(0).getString(), std::string(core::to_string(state))}] += q->getColumn(2).getInt64();
    }
  }
  {
    // Only queued rows are in the partial index outbox_due (state = 0).
    use q(stmt("SELECT count(*), min(created_at) FROM outbox WHERE state = 0"));
    if (q->executeStep()) {
      m.queued = q->getColumn(0).getInt64();
      m.oldest_queued = detail::opt_time(q->getColumn(1));
    }
  }
  {
    use q(stmt("SELECT channel, outcome, count(*) FROM inbox GROUP BY 1, 2"));
    while (q->executeStep())
      m.inbound[{q->getColumn(0).getString(), q->getColumn(1).getString()}] = q->getColumn(2).getInt64();
  }
  for (const auto s : {status_new, status_in_progress, status_done, status_rejected}) m.aspirations[std::string(s)] = 0;
  {
    use q(stmt("SELECT status, count(*) FROM aspirations GROUP BY status"));
    while (q->executeStep()) m.aspirations[q->getColumn(0).getString()] = q->getColumn(1).getInt64();
  }
  return m;
}

}  // namespace kentongan::storage
