#pragma once
/// Private to daemon/: poll votes in the inbound path (issue 5 "Polls").

#include <string>
#include <vector>

#include "daemon/inbound.hpp"
#include "storage/store.hpp"

namespace kentongan::daemon {

/// Writer thread only. When `phone` got a poll that is still open and `text` reads as a vote for one
/// of its options, records the vote (the latest counts) and sets `reply_text` to the rendered
/// `vote_ack`; returns true. Otherwise changes nothing and returns false: the text goes on to the
/// normal intake. The caller queues `reply_text` under its own reply rules (flood cap, channel).
bool try_poll_vote(storage::store& store, intake_state& state, const std::string& phone, const std::string& text,
                   std::string& reply_text);

/// The broadcast text of a poll: the question, then one "n. option" line per option, then how to answer.
std::string poll_broadcast_text(const std::string& question, const std::vector<std::string>& options,
                                const std::string& until_local);

}  // namespace kentongan::daemon
