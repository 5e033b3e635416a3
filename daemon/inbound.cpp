// What an inbound message does. Runs on the storage writer thread, inside the transaction that
// stored the message, so that a message and its effects (aspiration, subscription, replies) are
// durable together or not at all, and the provider is acknowledged only after both.
#include "daemon/inbound.hpp"

#include <algorithm>
#include <array>

#include "config/phone.hpp"
#include "daemon/logging.hpp"
#include "daemon/polls.hpp"
#include "daemon/service_impl.hpp"
#include "intake/command.hpp"
#include "intake/reply.hpp"
#include "intake/text.hpp"
#include "intake/ticket.hpp"

namespace kentongan::daemon {

intake::settings intake_settings_from(const config::village_config& cfg) {
  intake::overrides o;
  o.keywords = cfg.keywords;
  o.replies = cfg.replies;
  for (const auto& t : cfg.tags) o.tags.emplace_back(t.tag, t.words);
  auto merged = intake::merge(intake::default_settings(), o);
  if (!merged.errors.empty()) {
    std::string msg = "the config's keywords/replies/tags were refused:";
    for (const auto& e : merged.errors) msg += "\n  " + e;
    throw std::runtime_error(msg);
  }
  auto s = std::move(merged.value);
  s.ticket_prefix = cfg.ticket_prefix;
  s.unmatched = cfg.unmatched == "help" ? intake::unmatched_policy::help : intake::unmatched_policy::aspiration;
  s.flood.messages_per_minute = static_cast<std::uint32_t>(std::max(1, cfg.limits.inbound_per_minute));
  s.flood.replies_per_hour = static_cast<std::uint32_t>(std::max(1, cfg.limits.auto_replies_per_hour));
  s.deadline.first_answer_days = cfg.limits.first_answer_days;
  s.deadline.resolution_days = cfg.limits.resolution_days;
  return s;
}

intake_rules::intake_rules(std::uint64_t gen, intake::settings s, const std::vector<core::officer>& officers)
    : generation(gen), settings(std::move(s)), tagger(settings.tags) {
  for (const auto& o : officers) officer_phones.push_back(o.phone);
}

intake_state::intake_state(const config::village_config& cfg, std::uint64_t gen)
    : settings(intake_settings_from(cfg)),
      tagger(settings.tags),
      flood(settings.flood),
      config(cfg),
      generation(gen),
      io_rules(std::make_shared<const intake_rules>(gen, settings, cfg.officers)) {}

namespace {

/// The text an aspiration made from `c` would carry (and be tagged by), or nullptr.
const std::string* aspiration_text(const intake::command& c, const intake::settings& s) {
  if (const auto* a = std::get_if<intake::aspiration>(&c)) return &a->text;
  if (const auto* h = std::get_if<intake::hoax>(&c)) return &h->text;
  // An unmatched text becomes an aspiration of the same text (unless it is a poll vote or help).
  if (const auto* u = std::get_if<intake::unmatched>(&c))
    if (!u->text.empty() && s.unmatched == intake::unmatched_policy::aspiration) return &u->text;
  return nullptr;
}

}  // namespace

prepared_inbound prepare_inbound(const intake_rules& rules, const std::string& phone, const std::string& text) {
  prepared_inbound p;
  p.generation = rules.generation;
  p.officer = std::find(rules.officer_phones.begin(), rules.officer_phones.end(), phone) != rules.officer_phones.end();
  p.command = intake::parse(text, rules.settings, p.officer ? intake::sender_role::officer : intake::sender_role::resident);
  if (const auto* t = aspiration_text(p.command, rules.settings)) {
    p.tagged_text = *t;
    p.tags = rules.tagger(*t);
  }
  return p;
}

namespace {

using vars = std::map<std::string, std::string>;

/// One inbound message being handled: the sender, what they may do, and the replies to queue.
struct conversation {
  storage::store& store;
  intake_state& state;
  const std::string& channel;
  const std::string& phone;
  std::shared_ptr<spdlog::logger> log;
  inbound_effects& effects;
  const core::officer* officer = nullptr;
  bool replies_allowed = true;
  std::optional<std::int64_t> inbox_id = std::nullopt;  ///< the message's inbox row: its exact text, as received
  const prepared_inbound* prepared = nullptr;  ///< the I/O thread's parse and tags, when of this state's generation
  core::time_point received_at{};  ///< when the resident's message arrived (its inbox row's received_at)

  std::string render(std::string_view id, const vars& v = {}) const { return intake::render(state.settings, id, v); }

  void reply(std::string_view id, const vars& v = {}) { reply_text(render(id, v), id); }

  /// Every automatic answer to the sender goes through here (replies, info pages, vote acks).
  void reply_text(const std::string& text, std::string_view what) {
    if (!replies_allowed) return;
    if (!state.flood.allow_reply(phone, std::chrono::steady_clock::now())) {
      // Two auto-responders must never loop: past the hourly cap the sender gets silence.
      store.log_event("reply_suppressed", phone, std::string(what));
      return;
    }
    // Replies go back on the channel the person used; urgent, because they are awake now.
    store.enqueue_direct(phone, text, core::priority::urgent, channel);
  }

  void send_to(const std::string& to, std::string_view id, const vars& v) {
    store.enqueue_direct(to, render(id, v), core::priority::urgent, "");
  }

  const core::group* find_group(const std::string& typed) const {
    for (const auto& g : state.config.groups)
      if (g.id == typed || intake::slug(g.name) == typed || intake::slug(g.id) == typed) return &g;
    return nullptr;
  }

  std::string group_list(bool only_self_subscribe) const {
    std::string out;
    for (const auto& g : state.config.groups)
      if (!only_self_subscribe || g.self_subscribe) out += (out.empty() ? "" : ", ") + g.id;
    return out.empty() ? "-" : out;
  }

  std::string ticket(std::int64_t n) const { return intake::format_ticket(state.settings.ticket_prefix, n); }

  void new_aspiration(const std::string& text, std::string_view kind, bool hoax) {
    storage::aspiration_spec spec;
    spec.prefix = state.settings.ticket_prefix;
    spec.kind = std::string(kind);
    spec.phone = phone;
    spec.name = store.subscriber_name(phone);  // one probe; get_subscriber also reads groups and attributes
    spec.text = text;  // the intake's normalised working copy; the inbox row keeps the original
    spec.inbox_id = inbox_id;
    spec.channel = channel;
    // Tagged on the I/O thread already when this is the text it saw (it is, unless a poll or a reload intervened).
    spec.tags = prepared && !prepared->tagged_text.empty() && prepared->tagged_text == text ? prepared->tags : state.tagger(text);
    if (hoax) {
      std::erase(spec.tags, std::string("lainnya"));
      spec.tags.insert(spec.tags.begin(), "hoaks");
    }
    // Deadlines count from when the resident sent it, not from when it was handled: a message replayed
    // after a restart or held behind a busy writer keeps its own time (an unset time means "now").
    spec.received_at = received_at == core::time_point{} ? core::now() : received_at;
    const auto t = store.create_aspiration(spec);
    std::string tags;
    for (const auto& tg : spec.tags) tags += (tags.empty() ? "" : ", ") + tg;
    log->info("aspiration created ticket={} kind={} tags=\"{}\" from={}", t, spec.kind, tags, log_phone(phone));
    reply(hoax ? intake::reply_id::ack_hoax : intake::reply_id::ack_aspiration, {{"ticket", t}, {"kind", spec.kind}});
    // New aspirations go to the officers who handle their tags ("*" handles all).
    for (const auto& o : state.config.officers) {
      const bool handles = std::any_of(o.tags.begin(), o.tags.end(), [&](const std::string& ot) {
        return ot == "*" || std::find(spec.tags.begin(), spec.tags.end(), ot) != spec.tags.end();
      });
      if (handles && o.phone != phone) send_to(o.phone, intake::reply_id::officer_forward, {{"ticket", t}, {"tags", tags}, {"text", text}});
    }
  }

  void operator()(const intake::subscribe& c) {
    const auto* g = find_group(c.group);
    if (!g) return reply(intake::reply_id::unknown_group, {{"group", c.group}, {"groups", group_list(true)}});
    if (!g->self_subscribe) return reply(intake::reply_id::subscribe_closed, {{"group", g->id}});
    store.subscribe(phone, g->id, core::consent_source::sms);
    log->info("subscribed by sms group={} phone={}", g->id, log_phone(phone));
    reply(intake::reply_id::subscribed, {{"group", g->id}});
  }

  void operator()(const intake::unsubscribe& c) {
    const core::group* g = c.group ? find_group(*c.group) : nullptr;
    // Opt-out is absolute: a group we cannot recognise means everything.
    const auto cancelled = store.opt_out(phone, g ? std::optional<std::string>(g->id) : std::nullopt);
    effects.opted_out.push_back(phone);
    log->info("opted out group={} cancelled={} phone={}", g ? g->id : "*", cancelled, log_phone(phone));
    if (g)
      reply(intake::reply_id::unsubscribed, {{"group", g->id}});
    else
      reply(intake::reply_id::unsubscribed_all);
  }

  void operator()(const intake::aspiration& c) { new_aspiration(c.text, intake::to_string(c.kind), false); }
  void operator()(const intake::hoax& c) { new_aspiration(c.text, "aspirasi", true); }

  void operator()(const intake::check& c) {
    std::optional<storage::aspiration_row> a;
    if (c.ticket) {
      a = store.find_aspiration(ticket(*c.ticket));
    } else if (c.argument.empty()) {
      // The latest of their own, by the phone index: a scan of every aspiration here held the writer
      // for as long as the table took to read, on every `CEK`.
      a = store.latest_aspiration_of(phone);
      if (!a) return reply(intake::reply_id::no_aspirations);
    }
    // A ticket is private to the person who sent it (and to officers).
    if (!a || (a->phone != phone && !officer))
      return reply(intake::reply_id::ticket_not_found, {{"ticket", c.ticket ? ticket(*c.ticket) : c.argument}});
    if (a->last_answer.empty())
      return reply(intake::reply_id::status, {{"ticket", a->ticket}, {"status", a->status}, {"kind", a->kind}});
    std::string answered_by = "petugas";
    for (const auto& ev : store.aspiration_history(a->ticket))
      if (ev.action == "answer") answered_by = ev.actor;
    reply(intake::reply_id::status_answered,
          {{"ticket", a->ticket}, {"status", a->status}, {"kind", a->kind}, {"name", answered_by}, {"answer", a->last_answer}});
  }

  void operator()(const intake::info& c) {
    std::string topics;
    for (const auto& p : state.config.info) topics += (topics.empty() ? "" : ", ") + p.topic;
    if (c.topic.empty()) return reply(intake::reply_id::info_index, {{"topics", topics}});
    for (const auto& p : state.config.info)
      if (intake::fold_case(p.topic) == c.topic) return reply_text(p.text, "info");
    reply(intake::reply_id::info_unknown, {{"topic", c.topic}, {"topics", topics}});
  }

  void operator()(const intake::relay& c) {
    const auto* g = find_group(c.group);
    if (!g) return reply(intake::reply_id::unknown_group, {{"group", c.group}, {"groups", group_list(false)}});
    if (g->relay == core::relay_policy::off) return reply(intake::reply_id::relay_closed, {{"group", g->id}});
    const auto sub = store.get_subscriber(phone);
    const bool member = sub && std::find(sub->groups.begin(), sub->groups.end(), g->id) != sub->groups.end();
    if (!member && !officer) return reply(intake::reply_id::relay_not_member, {{"group", g->id}});
    const std::string name = sub && !sub->name.empty() ? sub->name : core::mask_phone(phone);
    storage::broadcast_spec spec;
    spec.text = name + ": " + c.text;
    spec.groups = {g->id};
    spec.created_by = "relay:" + phone;
    if (g->relay == core::relay_policy::moderated && !officer) {
      // Held until a moderator approves: scheduled far in the future, released by SETUJU.
      spec.send_at = core::from_millis(253402300799000LL);  // 9999-12-31
      const auto id = store.create_broadcast(spec);
      reply(intake::reply_id::relay_pending, {{"group", g->id}, {"id", std::to_string(id)}});
      for (const auto& o : state.config.officers)
        if (std::find(o.groups.begin(), o.groups.end(), g->id) != o.groups.end() ||
            std::find(o.tags.begin(), o.tags.end(), "*") != o.tags.end())
          send_to(o.phone, intake::reply_id::moderation_request,
                  {{"id", std::to_string(id)}, {"name", name}, {"group", g->id}, {"text", c.text}});
      return;
    }
    const auto id = store.create_broadcast(spec);
    effects.new_broadcast = true;
    log->info("relay posted group={} broadcast={} from={}", g->id, id, log_phone(phone));
    reply(intake::reply_id::relay_sent, {{"group", g->id}});
  }

  void operator()(const intake::help&) {
    reply(officer ? intake::reply_id::officer_help : intake::reply_id::help, {{"prefix", state.settings.ticket_prefix}});
  }

  std::optional<storage::aspiration_row> officer_ticket(std::int64_t n) {
    auto a = store.find_aspiration(ticket(n));
    if (!a) reply(intake::reply_id::officer_ticket_not_found, {{"ticket", ticket(n)}});
    else if (a->status == storage::status_done || a->status == storage::status_rejected) {
      reply(intake::reply_id::officer_ticket_final, {{"ticket", a->ticket}, {"status", a->status}});
      return std::nullopt;
    }
    return a;
  }

  void operator()(const intake::officer_reply& c) {
    auto a = officer_ticket(c.ticket);
    if (!a) return;
    store.add_answer(a->ticket, officer->name, c.text);
    const auto now_status = store.find_aspiration(a->ticket)->status;
    send_to(a->phone, intake::reply_id::answer, {{"ticket", a->ticket}, {"name", officer->name}, {"answer", c.text}, {"status", now_status}});
    reply(intake::reply_id::officer_reply_sent, {{"ticket", a->ticket}, {"status", now_status}});
  }

  void operator()(const intake::officer_close& c) {
    auto a = officer_ticket(c.ticket);
    if (!a) return;
    // One history entry for the closing note (an answer) and one for the status change.
    if (!c.text.empty()) store.add_answer(a->ticket, officer->name, c.text);
    store.set_status(a->ticket, storage::status_done, officer->name, "");
    send_to(a->phone, intake::reply_id::status_changed,
            {{"ticket", a->ticket}, {"status", std::string(storage::status_done)}, {"name", officer->name}, {"answer", c.text}});
    reply(intake::reply_id::officer_closed, {{"ticket", a->ticket}, {"status", std::string(storage::status_done)}});
  }

  void operator()(const intake::officer_approve& c) {
    std::int64_t id = 0;
    for (char ch : c.id) id = ch >= '0' && ch <= '9' ? id * 10 + (ch - '0') : id;
    const auto b = store.get_broadcast(id);
    const bool pending = b && b->state == "scheduled" && b->spec.created_by.rfind("relay:", 0) == 0 && b->spec.send_at &&
                         *b->spec.send_at > core::now() + std::chrono::hours{24 * 365};
    if (!pending) return reply(intake::reply_id::approve_not_found, {{"id", c.id}});
    auto spec = b->spec;
    spec.send_at.reset();
    spec.created_by += " approved-by:" + officer->phone;
    store.cancel_broadcast(id);
    store.create_broadcast(spec);
    effects.new_broadcast = true;
    const std::string group = spec.groups.empty() ? "" : spec.groups.front();
    reply(intake::reply_id::approved, {{"id", c.id}, {"group", group}});
  }

  void operator()(const intake::incomplete& c) { reply(intake::reply_id::usage(c.which), {{"prefix", state.settings.ticket_prefix}}); }

  void operator()(const intake::unmatched& c) {
    // A reply to an open poll ("1", "Sabtu") is a vote; anything else goes on to the intake.
    std::string ack;
    if (try_poll_vote(store, state, phone, c.text, ack)) return reply_text(ack, intake::reply_id::vote_ack);
    const auto resolved = intake::resolve_unmatched(c, state.settings);
    if (std::holds_alternative<intake::unmatched>(resolved)) return operator()(intake::help{});
    std::visit(*this, resolved);
  }
};

}  // namespace

void service::handle_inbound_locked(storage::store& s, const std::string& channel_name, const channel::inbound& message,
                                    std::int64_t inbox_id, inbound_effects& effects) {
  auto& st = *intake_;
  const std::string& phone = message.from;
  conversation conv{s, st, channel_name, phone, spdlog::get("intake") ? spdlog::get("intake") : log_, effects};
  conv.inbox_id = inbox_id;
  conv.received_at = message.received_at;
  if (effects.prepared && effects.prepared->generation == st.generation) conv.prepared = effects.prepared;
  for (const auto& o : st.config.officers)
    if (o.phone == phone) conv.officer = &o;
  // A phone that resends (no network ack, an impatient thumb) must not open a second ticket or get a
  // second reply: the repeat is kept in the inbox, marked, and goes no further (issue 5 "intake pipeline").
  if (const auto window = std::chrono::seconds{st.config.limits.dedupe_window_s}; window.count() > 0) {
    if (const auto earlier = s.find_repeat(phone, message.text, message.received_at - window, inbox_id)) {
      s.mark_inbound_handled(inbox_id, "duplicate");
      s.log_event("duplicate", phone, std::to_string(inbox_id) + " repeats " + std::to_string(*earlier));
      conv.log->info("repeated message ignored inbox={} repeats={} from={}", inbox_id, *earlier, log_phone(phone));
      return;
    }
  }
  if (!st.flood.accept_message(phone, std::chrono::steady_clock::now())) {
    // Stored (above) and marked, but not answered: a flood must not turn into a flood of replies.
    s.mark_inbound_handled(inbox_id, "flood");
    s.log_event("flood", phone, std::to_string(inbox_id));
    return;
  }
  const auto cmd = conv.prepared ? conv.prepared->command
                                 : intake::parse(message.text, st.settings,
                                                 conv.officer ? intake::sender_role::officer : intake::sender_role::resident);
  // Named in the order of intake::command's alternatives; /metrics counts the inbox by it.
  static constexpr std::array<std::string_view, std::variant_size_v<intake::command>> outcomes{
      "subscribe", "unsubscribe", "aspiration", "check", "info", "hoax", "relay", "help",
      "officer_reply", "officer_close", "officer_approve", "incomplete", "unmatched"};
  effects.outcome = std::string(outcomes[cmd.index()]);
  std::visit(conv, cmd);
}

void service::reload_intake() {
  // Runs on the I/O thread: the I/O thread's rules change here, the writer's in the job below; a message
  // parsed under the old generation and handled under the new one is parsed again by the writer.
  const auto generation = intake_->io_rules->generation + 1;
  auto next = std::make_shared<intake_state>(config_, generation);
  intake_->io_rules = next->io_rules;
  auto* self = this;
  change([self, next](storage::store&) {
    auto& st = *self->intake_;
    if (st.generation >= next->generation) return;  // run again in its batch: already taken, and moved from
    st.settings = std::move(next->settings);
    st.tagger = std::move(next->tagger);
    st.flood = std::move(next->flood);
    st.config = std::move(next->config);
    st.generation = next->generation;
  });
}

}  // namespace kentongan::daemon

namespace kentongan::daemon {

void service::apply_inbound_effects(const inbound_effects& effects) {
  if (effects.new_broadcast) wake_scheduler();
  if (effects.opted_out.empty()) return;
  // Claimed rows wait in memory for tokens; an opt-out must stop them too, not only the queue.
  for (auto& slot : channels_) {
    std::deque<storage::outbox_row> keep;
    for (auto& row : slot->backlog) {
      const bool stop = row.broadcast_id != 0 &&
                        std::find(effects.opted_out.begin(), effects.opted_out.end(), row.phone) != effects.opted_out.end();
      if (!stop) {
        keep.push_back(std::move(row));
        continue;
      }
      const auto id = row.id;
      // Requeued after an opt-out, the store cancels the row instead.
      change([id](storage::store& s) { s.requeue(id, core::now(), "recipient opted out"); });
    }
    slot->backlog.swap(keep);
  }
}

void service::on_inbound(const std::string& channel_name, channel::inbound message, std::function<void(bool)> ack) {
  auto* self = this;
  // Networks spell senders many ways ("6281…", "081…", "+62 812…"); the inbox keeps E.164.
  if (const auto phone = config::normalise_phone(message.from, config_.village.country); phone.ok())
    message.from = phone.e164;
  ++inbound_count_;
  auto stored = std::make_shared<bool>(false);
  auto effects = std::make_shared<inbound_effects>();
  // The pure work (text normalisation, keyword, tags) here, so the writer thread only runs SQL.
  auto prepared = std::make_shared<const prepared_inbound>(prepare_inbound(*intake_->io_rules, message.from, message.text));
  change(
      [self, channel_name, message, stored, effects, prepared](storage::store& s) {
        *effects = inbound_effects{};  // the job may run again (store::writer::post_held_while_full)
        const auto id = s.store_inbound(channel_name, message.provider_id, message.from, message.text, message.received_at);
        *stored = true;
        if (!id) return;  // a redelivery: stored once already, nothing happens twice
        effects->prepared = prepared.get();
        self->handle_inbound_locked(s, channel_name, message, *id, *effects);
        effects->prepared = nullptr;
        if (!effects->outcome.empty()) s.mark_inbound_handled(*id, effects->outcome);
      },
      [self, ack, stored, effects](std::exception_ptr e) {
        if (ack) ack(!e && *stored);
        self->apply_inbound_effects(*effects);
        self->wake_dispatcher_for_new_rows();
      });
}

}  // namespace kentongan::daemon
