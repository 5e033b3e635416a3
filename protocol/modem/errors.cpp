#include "protocol/modem/errors.hpp"

#include <algorithm>
#include <iterator>

namespace kentongan::modem {
namespace {

// protocols.md §3.3. The rule: permanent only when the message itself can never go through (the
// destination does not exist, the PDU is malformed); problems of our SIM, credit or network are
// retryable, so the dispatcher waits or fails over to another channel. 1–127 are 24.011 Annex E-2 RP
// causes (names beyond 38 from memory of the annex), 128–255 23.040 §9.2.3.22 TP-FCS values.
constexpr cms_error_info table[] = {
    {1, "unassigned_number", "Unassigned (unallocated) number", false, false},
    {8, "operator_barring", "Operator determined barring (often: no credit on the SIM)", true, false},
    {10, "call_barred", "Call barred", true, false},
    {21, "sm_transfer_rejected", "Short message transfer rejected", true, false},
    {27, "destination_out_of_service", "Destination out of service", true, false},
    {28, "unidentified_subscriber", "Unidentified subscriber", false, false},
    {29, "facility_rejected", "Facility rejected", true, false},
    {30, "unknown_subscriber", "Unknown subscriber", false, false},
    {38, "network_out_of_order", "Network out of order", true, true},
    {41, "temporary_failure", "Temporary failure", true, false},
    {42, "congestion", "Congestion", true, false},
    {47, "resources_unavailable", "Resources unavailable, unspecified", true, false},
    {50, "facility_not_subscribed", "Requested facility not subscribed", true, false},
    {69, "facility_not_implemented", "Requested facility not implemented", false, false},
    {81, "invalid_sm_reference", "Invalid short message transfer reference value", true, false},
    {95, "invalid_message", "Invalid message, unspecified", false, false},
    {96, "mandatory_ie_missing", "Invalid mandatory information", false, false},
    {97, "message_type_nonexistent", "Message type non-existent or not implemented", false, false},
    {98, "message_not_compatible", "Message not compatible with short message protocol state", true, false},
    {99, "ie_nonexistent", "Information element non-existent or not implemented", false, false},
    {111, "protocol_error", "Protocol error, unspecified", false, false},
    {127, "interworking", "Interworking, unspecified", true, false},
    {128, "telematic_interworking_not_supported", "Telematic interworking not supported", false, false},
    {129, "sm_type0_not_supported", "Short message Type 0 not supported", false, false},
    {143, "tp_pid_error", "Unspecified TP-PID error", false, false},
    {144, "dcs_not_supported", "Data coding scheme (alphabet) not supported", false, false},
    {159, "tp_dcs_error", "Unspecified TP-DCS error", false, false},
    {160, "command_not_actioned", "Command cannot be actioned", true, false},
    {192, "sc_busy", "SC busy", true, false},
    {193, "no_sc_subscription", "No SC subscription", true, true},
    {194, "sc_system_failure", "SC system failure", true, false},
    {195, "invalid_sme_address", "Invalid SME address", false, false},
    {196, "destination_sme_barred", "Destination SME barred", false, false},
    {197, "sm_rejected_duplicate", "SM Rejected-Duplicate SM", false, false},
    {198, "tp_vpf_not_supported", "TP-VPF not supported", false, false},
    {199, "tp_vp_not_supported", "TP-VP not supported", false, false},
    {300, "me_failure", "ME failure", true, true},
    {302, "operation_not_allowed", "Operation not allowed", true, false},
    {303, "operation_not_supported", "Operation not supported", true, false},
    {304, "invalid_pdu_parameter", "Invalid PDU mode parameter", false, false},
    {305, "invalid_text_parameter", "Invalid text mode parameter", false, false},
    {310, "sim_not_inserted", "SIM not inserted", true, true},
    {311, "sim_pin_required", "SIM PIN required", true, true},
    {313, "sim_failure", "SIM failure", true, true},
    {314, "sim_busy", "SIM busy", true, false},
    {316, "sim_puk_required", "SIM PUK required", true, true},
    {321, "invalid_memory_index", "Invalid memory index", false, false},
    {322, "memory_full", "Memory full", true, false},
    {330, "smsc_address_unknown", "SMSC address unknown", true, true},
    {331, "no_network_service", "No network service", true, true},
    {332, "network_timeout", "Network timeout", true, false},
    {500, "unknown_error", "Unknown error", true, false},
};

}  // namespace

std::span<const cms_error_info> cms_error_table() { return table; }

cms_error_info describe_cms_error(int code) {
  const auto it = std::lower_bound(std::begin(table), std::end(table), code, [](const cms_error_info& e, int c) { return e.code < c; });
  if (it != std::end(table) && it->code == code) return *it;
  if (code >= 0 && code <= 127) return {code, "rp_cause", "24.011 RP cause", true, false};
  if (code >= 128 && code <= 255) return {code, "tp_failure_cause", "23.040 TP-FCS value", true, false};
  if (code >= 300 && code <= 511) return {code, "me_error", "27.005 ME/network error", true, false};
  if (code >= 512) return {code, "manufacturer_specific", "Manufacturer specific", true, false};
  return {code, "unknown", "Unknown error", true, false};
}

std::string_view cme_error_text(int code) {
  switch (code) {
    case 3: return "operation not allowed";
    case 4: return "operation not supported";
    case 10: return "SIM not inserted";
    case 11: return "SIM PIN required";
    case 12: return "SIM PUK required";
    case 13: return "SIM failure";
    case 14: return "SIM busy";
    case 15: return "SIM wrong";
    case 16: return "incorrect password";
    case 30: return "no network service";
    case 31: return "network timeout";
    case 100: return "unknown";
    default: return "unknown";
  }
}

}  // namespace kentongan::modem
