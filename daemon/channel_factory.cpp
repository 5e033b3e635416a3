#include "daemon/channel_factory.hpp"

#include <algorithm>

#include "protocol/sim/sim_channel.hpp"
#include "protocol/smpp/esme_channel.hpp"
#include "protocol/whatsapp/whatsapp_channel.hpp"

namespace kentongan::daemon {

namespace {

std::unique_ptr<channel::channel> make_sim(boost::asio::io_context& io, const config::channel_settings& cs,
                                           const config::sim_channel& s, channel::events& events,
                                           const factory_options& options) {
  sim::settings ss;
  ss.name = cs.name;
  ss.limits = channel::rate_limits{cs.tps, cs.window, cs.hourly_cap, cs.daily_cap};
  ss.dlr_delay = std::chrono::milliseconds{static_cast<long>(s.dlr_delay_ms)};
  ss.fail_rate = s.fail_rate;
  ss.transient_fail_rate = s.transient_fail_rate;
  ss.record_file = options.sim_record_file;
  return std::make_unique<sim::sim_channel>(io, ss, events);
}

std::unique_ptr<channel::channel> make_smpp(boost::asio::io_context& io, const config::channel_settings& cs,
                                            const config::smpp_channel& p, channel::events& events) {
  smpp::esme_settings es;
  es.name = cs.name;
  es.host = p.host;
  es.port = p.port;
  es.system_id = p.system_id;
  // The secret is read here, at start-up, and handed to the channel; it is never logged.
  if (!p.password_file.empty()) es.password = config::read_secret(p.password_file);
  es.system_type = p.system_type;
  es.bind = p.bind == "transmitter" ? smpp::bind_mode::transmitter
            : p.bind == "receiver"  ? smpp::bind_mode::receiver
            : p.bind == "pair"      ? smpp::bind_mode::pair
                                    : smpp::bind_mode::transceiver;
  es.sessions = static_cast<unsigned>(std::max(1, p.sessions));
  es.window = static_cast<unsigned>(std::max<std::size_t>(1, cs.window));
  es.tps = cs.tps;
  es.source_addr = p.source_addr;
  es.source_ton = p.source_ton;
  es.source_npi = p.source_npi;
  es.enquire_link = std::chrono::seconds{p.enquire_link_s};
  es.response_timeout = std::chrono::seconds{p.response_timeout_s};
  es.reconnect_max = std::chrono::seconds{p.reconnect_max_s};
  es.registered_delivery = p.registered_delivery ? 1 : 0;
  es.gsm7_packed = p.packed_gsm7;
  es.use_message_payload = p.use_message_payload;
  es.transliterate = cs.transliterate;
  es.price_per_part = cs.price_per_part;
  return std::make_unique<smpp::esme_channel>(io, es, events);
}

built_channel make_whatsapp(boost::asio::io_context& io, const config::channel_settings& cs,
                            const config::whatsapp_channel& w, channel::events& events,
                            const factory_options& options) {
  whatsapp::settings ws;
  ws.name = cs.name;
  ws.api_base = w.api_base;
  ws.api_version = w.api_version;
  ws.phone_number_id = w.phone_number_id;
  ws.token = config::read_secret(w.token_file);
  for (const auto& [purpose, name] : w.templates) {
    ws.templates[purpose] = whatsapp::template_spec{name, "id", true};
    if (purpose == "broadcast" || purpose == "default") ws.default_template = purpose;
  }
  ws.tps = cs.tps;
  ws.window = cs.window;
  ws.price_per_message = cs.price_per_part;
  // Plain-HTTP test servers on loopback need no TLS; Meta's API is always HTTPS and verified.
  ws.verify_tls = ws.api_base.rfind("https://", 0) == 0;
  auto link = std::make_unique<whatsapp::whatsapp_channel>(io, ws, events);
  whatsapp_endpoint ep;
  ep.name = cs.name;
  ep.phone_number_id = w.phone_number_id;
  ep.app_secret = w.app_secret_file.empty() ? std::string{} : config::read_secret(w.app_secret_file);
  ep.verify_token = w.verify_token_file.empty() ? std::string{} : config::read_secret(w.verify_token_file);
  ep.link = link.get();
  if (ep.app_secret.empty() && options.log)
    options.log->warn("whatsapp channel has no app_secret_file: its webhooks will be refused name={}", cs.name);
  built_channel out;
  out.link = std::move(link);
  out.whatsapp = std::move(ep);
  return out;
}

}  // namespace

built_channel make_channel(boost::asio::io_context& io, const config::channel_settings& cs, channel::events& events,
                           const factory_options& options) {
  if (const auto* s = std::get_if<config::sim_channel>(&cs.settings)) {
    built_channel out;
    out.link = make_sim(io, cs, *s, events, options);
    return out;
  }
  if (const auto* p = std::get_if<config::smpp_channel>(&cs.settings)) {
    built_channel out;
    out.link = make_smpp(io, cs, *p, events);
    return out;
  }
  if (const auto* w = std::get_if<config::whatsapp_channel>(&cs.settings)) return make_whatsapp(io, cs, *w, events, options);
  built_channel out;
  out.not_started = "this build does not support the channel type yet";
  return out;
}

}  // namespace kentongan::daemon
