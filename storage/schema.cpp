#include "storage/schema.hpp"

#include <array>

namespace kentongan::storage {
namespace {

// Times are INTEGER milliseconds since the Unix epoch (core::to_millis).
// outbox.state holds core::message_state as its enum value: 0 queued, 1 sending, 2 submitted, 3 delivered,
// 4 failed, 5 expired, 6 cancelled. Integers keep the million-row indexes small.
constexpr std::string_view v1 = R"sql(
CREATE TABLE groups (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  self_subscribe INTEGER NOT NULL DEFAULT 0,
  relay TEXT NOT NULL DEFAULT 'off'
);

-- source: 'config' (listed in the config, which is the truth for it) or 'sms' (joined by DAFTAR).
CREATE TABLE subscribers (
  id INTEGER PRIMARY KEY,
  phone TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL CHECK (source IN ('config', 'sms')),
  consent_source TEXT NOT NULL,
  consent_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- One row per free column (dusun, rt, komoditas …): broadcasts expand in subscriber-id order, so a
-- `--where` filter is one primary-key probe per candidate and `--by rt` one probe per outbox row.
CREATE TABLE subscriber_attributes (
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (subscriber_id, key)
) WITHOUT ROWID;

CREATE TABLE memberships (
  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  source TEXT NOT NULL CHECK (source IN ('config', 'sms')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, subscriber_id)
) WITHOUT ROWID;
CREATE INDEX memberships_subscriber ON memberships(subscriber_id, group_id);

-- By phone, not subscriber id, so an opt-out outlives the subscriber row. group_slug '*' = all groups.
CREATE TABLE opt_outs (
  phone TEXT NOT NULL,
  group_slug TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (phone, group_slug)
) WITHOUT ROWID;

CREATE TABLE officers (
  id INTEGER PRIMARY KEY,
  phone TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL DEFAULT ''
);
CREATE TABLE officer_tags (
  officer_id INTEGER NOT NULL REFERENCES officers(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (officer_id, tag)
) WITHOUT ROWID;
CREATE TABLE officer_groups (
  officer_id INTEGER NOT NULL REFERENCES officers(id) ON DELETE CASCADE,
  group_slug TEXT NOT NULL,
  PRIMARY KEY (officer_id, group_slug)
) WITHOUT ROWID;

-- cursor: last subscriber id (or, for a resend, last source outbox id) already expanded.
CREATE TABLE broadcasts (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL,
  template_name TEXT NOT NULL DEFAULT '',
  all_subscribers INTEGER NOT NULL DEFAULT 0,
  priority INTEGER NOT NULL DEFAULT 0,
  send_at INTEGER,
  expires_at INTEGER,
  created_by TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'expanding', 'sending', 'done', 'cancelled')),
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  recipients INTEGER NOT NULL DEFAULT 0,
  cursor INTEGER NOT NULL DEFAULT 0,
  resend_of INTEGER REFERENCES broadcasts(id),
  resend_only_failed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX broadcasts_state ON broadcasts(state, send_at);
CREATE TABLE broadcast_groups (
  broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  group_slug TEXT NOT NULL,
  PRIMARY KEY (broadcast_id, group_slug)
) WITHOUT ROWID;
CREATE TABLE broadcast_filters (
  broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (broadcast_id, position)
) WITHOUT ROWID;

-- Broadcast rows leave text, name and channel_pref NULL and take them from broadcasts and subscribers
-- when claimed: a million recipients do not store a million copies of the announcement.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  broadcast_id INTEGER REFERENCES broadcasts(id),
  subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE SET NULL,
  phone TEXT NOT NULL,
  text TEXT,
  channel_pref TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  state INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  in_doubt INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  expires_at INTEGER,
  channel TEXT,
  provider_id TEXT,
  parts INTEGER,
  reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  submitted_at INTEGER,
  finished_at INTEGER
);
-- The dispatcher's "due rows by priority": only queued rows are in it, so it stays small.
CREATE INDEX outbox_due ON outbox(priority DESC, id) WHERE state = 0;
-- Counts, progress, cancel and finish per broadcast (covering for counts), and "this subscriber's queued rows
-- of broadcast B" for opt-outs. No index by phone: each index costs about 0.4 s of CPU per million recipients
-- expanded, and only the rare `forget` looks rows up by number.
CREATE INDEX outbox_broadcast ON outbox(broadcast_id, state, subscriber_id);
-- Rows are flagged in doubt only by a crash recovery: the partial index costs nothing while expanding.
CREATE INDEX outbox_in_doubt ON outbox(broadcast_id) WHERE in_doubt = 1;
-- Replies sent to a number recently (auto-reply cap, issue 5); broadcast rows are not in it, so it costs the
-- expansion nothing.
CREATE INDEX outbox_direct ON outbox(phone, created_at) WHERE broadcast_id IS NULL;
-- Delivery reports find their row by provider id.
CREATE INDEX outbox_provider ON outbox(channel, provider_id) WHERE provider_id IS NOT NULL;
-- expire_due.
CREATE INDEX outbox_expiry ON outbox(expires_at) WHERE state = 0 AND expires_at IS NOT NULL;

CREATE TABLE inbox (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  provider_id TEXT,
  phone TEXT NOT NULL,
  text TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  stored_at INTEGER NOT NULL,
  handled_at INTEGER,
  outcome TEXT NOT NULL DEFAULT '',
  UNIQUE (channel, provider_id)
);
CREATE INDEX inbox_phone ON inbox(phone, received_at);
-- Stored but not yet routed (the daemon died in between): re-routed at start-up.
CREATE INDEX inbox_unhandled ON inbox(id) WHERE handled_at IS NULL;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_kind ON events(kind, at);
)sql";

// Issue 5: aspirations. AUTOINCREMENT makes the id a sequence that never hands out a number twice, even after
// rows are deleted; the ticket is the prefix plus that number.
constexpr std::string_view v2 = R"sql(
CREATE TABLE aspirations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  prefix TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('baru', 'diproses', 'selesai', 'ditolak')),
  phone TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL,
  channel TEXT NOT NULL DEFAULT '',
  inbox_id INTEGER REFERENCES inbox(id) ON DELETE SET NULL,
  received_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  first_answer_at INTEGER,
  closed_at INTEGER,
  last_answer TEXT NOT NULL DEFAULT '',
  reminded_at INTEGER
);
CREATE INDEX aspirations_received ON aspirations(received_at);
CREATE INDEX aspirations_status ON aspirations(status, received_at);
CREATE INDEX aspirations_phone ON aspirations(phone);
CREATE TABLE aspiration_tags (
  aspiration_id INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (aspiration_id, tag)
) WITHOUT ROWID;
CREATE INDEX aspiration_tags_tag ON aspiration_tags(tag, aspiration_id);
CREATE TABLE aspiration_history (
  id INTEGER PRIMARY KEY,
  aspiration_id INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX aspiration_history_aspiration ON aspiration_history(aspiration_id, id);
)sql";

// Issue 5: polls carried by a broadcast; one vote per person (the latest counts), and overdue reminders.
constexpr std::string_view v3 = R"sql(
CREATE TABLE polls (
  broadcast_id INTEGER PRIMARY KEY REFERENCES broadcasts(id) ON DELETE CASCADE,
  question TEXT NOT NULL,
  until INTEGER NOT NULL
);
CREATE INDEX polls_until ON polls(until);
CREATE TABLE poll_options (
  broadcast_id INTEGER NOT NULL REFERENCES polls(broadcast_id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (broadcast_id, number)
) WITHOUT ROWID;
CREATE TABLE poll_votes (
  broadcast_id INTEGER NOT NULL REFERENCES polls(broadcast_id) ON DELETE CASCADE,
  phone TEXT NOT NULL,
  subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE SET NULL,
  option INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (broadcast_id, phone)
) WITHOUT ROWID;
)sql";

// Issue 9: which rows in `sending` may have reached the network. Each channel's dispatcher writes, before it
// hands a row to its link, the rows it may hand until its next write (ranges of outbox ids, "a-b,c"); after a
// crash only the rows in `sending` named here are in doubt, the others were claimed but never handed over.
constexpr std::string_view v4 = R"sql(
CREATE TABLE dispatch_fence (
  channel TEXT PRIMARY KEY,
  ids TEXT NOT NULL
) WITHOUT ROWID;
-- Written by a daemon from before the fence: every row it left in sending counts as in doubt.
INSERT INTO dispatch_fence (channel, ids) VALUES ('*', '*');
)sql";

// A broadcast's counts by state in their own small table, kept by the store (store::count_move) in the
// transaction of each change. The broadcast index no longer holds `state`: a message changes state two or
// three times, and each change moved its entry in a million-entry index (a delete and an insert), 35-50 %
// of the storage writer's SQL per message (bench_dispatch_writer).
constexpr std::string_view v5 = R"sql(
CREATE TABLE broadcast_counts (
  broadcast_id INTEGER NOT NULL,
  state INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (broadcast_id, state)
) WITHOUT ROWID;
INSERT INTO broadcast_counts (broadcast_id, state, n)
  SELECT broadcast_id, state, count(*) FROM outbox WHERE broadcast_id IS NOT NULL GROUP BY broadcast_id, state;
DROP INDEX outbox_broadcast;
-- "This subscriber's rows of broadcast B" (opt-outs, polls) and a broadcast's rows.
CREATE INDEX outbox_broadcast ON outbox(broadcast_id, subscriber_id);
)sql";

constexpr std::array<std::string_view, 5> all{v1, v2, v3, v4, v5};

}  // namespace

std::span<const std::string_view> migrations() { return all; }

}  // namespace kentongan::storage
