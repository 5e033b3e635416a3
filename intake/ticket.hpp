#pragma once
/// Aspiration ticket numbers, as intake names them: core/ticket.hpp holds the one implementation
/// (storage looks tickets up with it too).

#include "core/ticket.hpp"

namespace kentongan::intake {

using core::format_ticket;
using core::match_ticket;
using core::parse_ticket;
using core::ticket_match;

}  // namespace kentongan::intake
