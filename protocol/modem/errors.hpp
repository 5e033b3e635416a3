#pragma once
/// +CMS ERROR (27.005 §3.2.5) and +CME ERROR (27.007 §9.2) codes as a table: name, text and whether
/// the failed submit is worth retrying. Documented in protocol/modem/README.md. Pure, no I/O.

#include <span>
#include <string_view>

namespace kentongan::modem {

struct cms_error_info {
  int code = 0;
  std::string_view name;       ///< short identifier, "invalid_pdu_parameter"
  std::string_view text;       ///< as the standards word it
  bool retryable = true;       ///< false: this message will never succeed (bad number, bad PDU)
  bool link_problem = false;   ///< the SIM or the network is the problem: re-initialise the modem
};

/// Every code the table knows, in ascending order.
std::span<const cms_error_info> cms_error_table();
/// The row for `code`; codes not in the table get a generic row (RP cause, TP-FCS, manufacturer or
/// unknown range) that is retryable.
cms_error_info describe_cms_error(int code);
/// "SIM PIN required" for +CME ERROR: 11; "unknown" otherwise.
std::string_view cme_error_text(int code);

}  // namespace kentongan::modem
