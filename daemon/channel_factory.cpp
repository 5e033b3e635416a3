#include "daemon/channel_factory.hpp"

#include <stdexcept>

#include <algorithm>
#include <fmt/format.h>

#include "protocol/http/http_channel.hpp"
#include "protocol/modem/modem_channel.hpp"
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
  // The reports the simulated network owes survive a kill -9 (sim_channel.hpp). Without a state
  // directory from the caller the journal sits beside the phones' record, the simulator's other
  // durable file; with neither the reports live in memory only.
  const auto journal_name = "sim-" + cs.name + ".reports";
  if (!options.state_dir.empty())
    ss.reports_journal = (options.state_dir / journal_name).string();
  else if (!options.sim_record_file.empty())
    ss.reports_journal = (std::filesystem::path(options.sim_record_file).parent_path() / journal_name).string();
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
  // SMPP 3.4 §5.2.4: the password is a C-Octet String of at most 9 octets with its NUL. A longer one
  // cannot be put in a bind at all: say so at start-up instead of a link that never binds.
  if (es.password.size() > 8)
    throw std::runtime_error("smpp channel " + cs.name + ": the password in " + p.password_file + " is " +
                             std::to_string(es.password.size()) +
                             " characters, SMPP 3.4 allows at most 8; ask the operator for the exact password");
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

std::unique_ptr<channel::channel> make_modem(boost::asio::io_context& io, const config::channel_settings& cs,
                                             const config::modem_channel& m, channel::events& events) {
  modem::modem_settings ms;
  ms.name = cs.name;
  ms.device = m.device;
  ms.baud = m.baud;
  // The PIN is read here and handed to the channel; it is never logged.
  if (!m.pin_file.empty()) ms.pin = config::read_secret(m.pin_file);
  ms.smsc = m.smsc;
  ms.tps = cs.tps;
  ms.window = static_cast<unsigned>(std::max<std::size_t>(1, cs.window));
  ms.status_reports = m.status_reports;
  ms.ussd_balance_code = m.ussd_balance;
  // The daemon schedules balance checks itself (service::modem_balance_loop) so that each is logged.
  ms.balance_interval = std::chrono::seconds{0};
  ms.balance_warning = m.balance_warn_below;
  ms.price_per_part = cs.price_per_part;
  ms.hourly_cap = cs.hourly_cap;
  ms.daily_cap = cs.daily_cap;
  return std::make_unique<modem::modem_channel>(io, ms, events);
}

std::unique_ptr<channel::channel> make_http(boost::asio::io_context& io, const config::channel_settings& cs,
                                            const config::http_channel& h, channel::events& events) {
  http::http_settings hs = h.settings;
  hs.name = cs.name;
  hs.tps = cs.tps;
  hs.window = std::max<std::size_t>(1, cs.window);
  hs.hourly_cap = cs.hourly_cap;
  hs.daily_cap = cs.daily_cap;
  hs.price_per_part = cs.price_per_part;
  // Secrets are read here, at start-up, and handed to the channel; they are never logged.
  if (!h.auth_file.empty()) hs.auth_value = config::read_secret(h.auth_file);
  for (const auto& [name, file] : h.secret_files) hs.secrets[name] = config::read_secret(file);
  if (!h.callback_secret_file.empty()) hs.callback.secret = config::read_secret(h.callback_secret_file);
  return std::make_unique<http::http_channel>(io, std::move(hs), events);
}

}  // namespace

http::http_channel* as_http(channel::channel* link) { return dynamic_cast<http::http_channel*>(link); }

modem::modem_channel* as_modem(channel::channel* link) { return dynamic_cast<modem::modem_channel*>(link); }

nlohmann::json modem_health_json(const modem::modem_channel& m) {
  const auto h = m.health();
  nlohmann::json j{{"state", h.state}, {"operator", h.operator_name}, {"smsc", h.smsc}};
  if (h.signal) {
    j["signal_rssi"] = h.signal->rssi;
    if (const auto dbm = modem::rssi_dbm(h.signal->rssi)) j["signal_dbm"] = *dbm;
  }
  if (!h.balance.empty()) {
    j["balance"] = h.balance;
    if (h.balance_amount) j["balance_amount"] = *h.balance_amount;
    j["balance_low"] = h.balance_low;
    if (h.balance_at) j["balance_at_ms"] = core::to_millis(*h.balance_at);
  }
  return j;
}

std::string modem_metrics(const std::vector<const modem::modem_channel*>& modems) {
  if (modems.empty()) return {};
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  std::vector<modem::modem_health> health;
  for (const auto* m : modems) health.push_back(m->health());
  family("kentongan_modem_signal_rssi", "gauge", "AT+CSQ signal quality 0-31 (99 unknown)");
  for (std::size_t i = 0; i < modems.size(); ++i)
    if (health[i].signal)
      out += "kentongan_modem_signal_rssi{channel=\"" + modems[i]->name() + "\"} " + std::to_string(health[i].signal->rssi) + "\n";
  family("kentongan_modem_balance", "gauge", "Prepaid balance from the last USSD answer");
  for (std::size_t i = 0; i < modems.size(); ++i)
    if (health[i].balance_amount)
      out += fmt::format("kentongan_modem_balance{{channel=\"{}\"}} {}\n", modems[i]->name(), *health[i].balance_amount);
  family("kentongan_modem_balance_low", "gauge", "1 when the balance is below balance_warn_below");
  for (std::size_t i = 0; i < modems.size(); ++i)
    out += "kentongan_modem_balance_low{channel=\"" + modems[i]->name() + "\"} " + (health[i].balance_low ? "1" : "0") + "\n";
  family("kentongan_modem_resets_total", "counter", "Modem resets (AT+CFUN=1,1) after a hang");
  for (std::size_t i = 0; i < modems.size(); ++i)
    out += "kentongan_modem_resets_total{channel=\"" + modems[i]->name() + "\"} " + std::to_string(health[i].counters.resets) + "\n";
  family("kentongan_modem_reopens_total", "counter", "Times the modem's serial port was opened");
  for (std::size_t i = 0; i < modems.size(); ++i)
    out += "kentongan_modem_reopens_total{channel=\"" + modems[i]->name() + "\"} " + std::to_string(health[i].counters.opens) + "\n";
  return out;
}

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
  if (const auto* h = std::get_if<config::http_channel>(&cs.settings)) {
    built_channel out;
    out.link = make_http(io, cs, *h, events);
    return out;
  }
  if (const auto* m = std::get_if<config::modem_channel>(&cs.settings)) {
    built_channel out;
    out.link = make_modem(io, cs, *m, events);
    return out;
  }
  built_channel out;
  out.not_started = "this build does not support the channel type yet";
  return out;
}

}  // namespace kentongan::daemon
