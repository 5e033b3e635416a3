"""Issue 9 and DESIGN "Nothing lost", over real SMPP: a broadcast goes out through the SMSC
simulator (`kentongan smsc-sim`, its own process, recording every submit_sm it accepts) while the
daemon is killed with SIGKILL at random moments and restarted, and residents' MO messages arrive
through a second simulator. At the end:
- every recipient was submitted at least once (counted from the simulator's record);
- a recipient submitted more than once was resubmitted only across a crash, by no more than the
  channel's window per crash (its `durable_lag` is 0, the default), and is a row the daemon reports
  in doubt (outbox.in_doubt); the
  extra submissions are no more than the rows the restarts recovered;
- the database passes PRAGMA integrity_check;
- every MO message the daemon acknowledged (deliver_sm_resp OK; the simulator records `mo_acked`)
  is in the inbox.
CI: ~2,000 recipients, 3 kills. KENTONGAN_LONG=1 (scripts/soak): 100,000 recipients, 12 kills.
KENTONGAN_SEED=N replays the same kill moments (the seed is printed).
"""
# ctest-timeout: 600

import json
import os
import sqlite3
import sys
import time

import faultproxy
import harness
from faultproxy import digits, smpp_channel
from harness import DaemonTest

LONG = os.environ.get("KENTONGAN_LONG") == "1"
RECIPIENTS = 100000 if LONG else 2000
KILLS = 12 if LONG else 3
MO_PER_RUN = 1000 if LONG else 200
TPS = 1000 if LONG else 300
WINDOW = 50 if LONG else 20
DEADLINE_S = 3600 if LONG else 300
PASSWORD = "uji-9876"  # SMPP 3.4 passwords are at most 8 characters


def mo_sender(run, i):
    return "62813%02d%06d" % (run % 100, i)


class SmscCrashTest(DaemonTest):
    extra_csv_rows = RECIPIENTS

    def setUp(self):
        self.rng = faultproxy.seeded_rng()
        self.sim_port, self.mo_port = harness.free_port(), harness.free_port()
        self.d = faultproxy.smpp_daemon(self, [
            smpp_channel("smsc", self.sim_port, "smsc.pass", tps=TPS, window=WINDOW),
            # Receiver only: MO messages come this way, nothing is sent on it.
            smpp_channel("smsc-mo", self.mo_port, "smsc.pass", bind="receiver"),
        ], {"inbound_per_minute": 100000, "auto_replies_per_hour": 0}, PASSWORD, self.extra_csv_rows)
        self.sim = faultproxy.smsc_sim(self, self.d.dir, "smsc", self.sim_port, PASSWORD, dlr_delay_ms=20)
        self.mo_sim = faultproxy.smsc_sim(self, self.d.dir, "smsc-mo", self.mo_port, PASSWORD)
        self.sim.start()
        self.mo_run = 0
        self.scanned = self.counted = 0
        self.start_mo_sim()
        self.d.start()

    def start_mo_sim(self):
        """A fresh MO simulator per daemon run: it sends its batch as soon as the daemon binds, so
        a kill soon after a start lands while MO messages are being stored and acknowledged."""
        self.mo_run += 1
        lines = [(mo_sender(self.mo_run, i), "LAPOR uji-crash run %d pesan %d jalan rusak" % (self.mo_run, i))
                 for i in range(MO_PER_RUN)]
        self.mo_sim.start(mo_lines=lines)
        return lines

    def broadcast_submits(self, marker):
        """Submits of the broadcast so far (counted incrementally: the record grows to 100,000s)."""
        events = self.sim.events()
        for e in events[self.scanned:]:
            if e.get("event") == "submit" and marker in e.get("text", ""):
                self.counted += 1
        self.scanned = len(events)
        return self.counted

    def wait_submits(self, marker, at_least, deadline_s=DEADLINE_S):
        deadline = time.monotonic() + deadline_s
        while True:
            n = self.broadcast_submits(marker)
            if n >= at_least:
                return n
            if self.d.proc.poll() is not None:
                raise AssertionError("the daemon died:\n" + self.d.log_text())
            if time.monotonic() > deadline:
                raise AssertionError("only %d submits of %d within %ds\n%s" % (n, at_least, deadline_s, self.d.log_text()))
            time.sleep(0.02)

    def test_sigkill_at_random_moments_loses_nothing(self):
        marker = "Banjir"
        text = "Banjir: warga bantaran sungai siaga, ikuti arahan petugas. Info: kantor desa."
        bid = self.d.broadcast("--all", "--text", text)
        # Kill points at random shares of the broadcast; every other kill instead comes a random
        # instant after the restart, while the MO batch is being taken in.
        shares = sorted(self.rng.uniform(0.03, 0.9) for _ in range(KILLS))
        recovered, kill_log = [], []
        self.crash_marks = []
        start = time.monotonic()
        for k, share in enumerate(shares):
            if k % 2 == 1:
                time.sleep(self.rng.uniform(0.0, 0.6))  # a random moment, not a wait for anything
            else:
                self.wait_submits(marker, int(share * RECIPIENTS))
                time.sleep(self.rng.uniform(0.0, 0.05))
            submitted = self.broadcast_submits(marker)
            self.d.kill9()
            # Where this crash lies in the record: the next bind after this point is the new daemon
            # (what the dead one had sent is recorded before it, even if read a moment later).
            self.crash_marks.append(len(self.sim.events()))
            self.mo_sim.stop()
            self.start_mo_sim()
            ready = self.d.start()
            recovered.append(ready["in_doubt_recovered"])
            kill_log.append({"kill": k + 1, "submits_before": submitted, "in_doubt_recovered": recovered[-1]})
            sys.stderr.write("kill %d after %d submits: %d rows recovered in doubt\n" % (k + 1, submitted, recovered[-1]))

        s = self.d.wait_status(bid, lambda s: s["state"] == "done" and s["queued"] + s["sending"] == 0,
                               "every recipient submitted", deadline_s=DEADLINE_S, stall_s=60)
        # The last MO batch arrives without a kill: all of it is acknowledged.
        tag = " run %d " % self.mo_run
        deadline = time.monotonic() + 120
        while sum(1 for e in self.mo_sim.events() if e["event"] == "mo_acked" and tag in e["message"]) < MO_PER_RUN:
            if time.monotonic() > deadline:
                self.fail("the last MO batch (no kill) was not all acknowledged\n" + self.d.log_text())
            time.sleep(0.1)
        elapsed = time.monotonic() - start
        self.assertEqual(self.d.stop(), 0, self.d.log_text())
        self.sim.stop()
        self.mo_sim.stop()
        self.check(bid, marker, s, recovered, kill_log, elapsed)

    def check(self, bid, marker, s, recovered, kill_log, elapsed):
        events = self.sim.events()
        phones = {digits(p) for p in self.d.subscriber_phones()}
        self.assertEqual(s["recipients"], len(phones), s)

        # Where each daemon run begins in the record: the first bind after each kill.
        bind_at = [i for i, e in enumerate(events) if e.get("event") == "bind"]
        binds = [bind_at[0]] + [next(i for i in bind_at if i >= mark) for mark in self.crash_marks]
        subs = {}
        for i, e in enumerate(events):
            if e.get("event") == "submit" and marker in e.get("text", ""):
                subs.setdefault(digits(e["dest"]), []).append(i)

        missing = phones - set(subs)
        self.assertEqual(len(missing), 0, "recipients never submitted: %s" % sorted(missing)[:10])
        self.assertEqual(set(subs) - phones, set(), "submits to numbers that are no recipient")

        per_crash = [0] * len(binds)
        within_run = []
        duplicated = set()
        for dest, idx in subs.items():
            for a, b in zip(idx, idx[1:]):
                duplicated.add(dest)
                crossing = [n for n, pos in enumerate(binds) if a < pos < b]
                if not crossing:
                    within_run.append(dest)
                else:
                    per_crash[crossing[0]] += 1
        extra = sum(len(v) - 1 for v in subs.values())

        con = sqlite3.connect("file:%s?mode=ro" % self.d.db_file, uri=True)
        try:
            integrity = con.execute("PRAGMA integrity_check").fetchall()
            in_doubt = {digits(r[0]) for r in con.execute(
                "SELECT phone FROM outbox WHERE broadcast_id = ? AND in_doubt = 1", (bid,))}
            inbox = {r[0] for r in con.execute("SELECT text FROM inbox WHERE channel = 'smsc-mo'")}
            inbox_rows = con.execute("SELECT count(*) FROM inbox WHERE channel = 'smsc-mo'").fetchone()[0]
        finally:
            con.close()

        mo_events = self.mo_sim.events()
        acked = [e["message"] for e in mo_events if e["event"] == "mo_acked"]
        lost = [t for t in acked if t not in inbox]

        summary = {
            "test": "smsc_crash", "recipients": s["recipients"], "kills": len(recovered),
            "submits": sum(len(v) for v in subs.values()), "duplicates": extra,
            "duplicates_per_crash": per_crash[1:], "in_doubt_recovered": recovered, "in_doubt_rows": len(in_doubt),
            "window": WINDOW, "resubmitted_within_one_run": len(within_run), "duplicates_not_in_doubt":
            len(duplicated - in_doubt), "integrity_check": integrity[0][0] if integrity else None,
            "mo_acked": len(acked), "mo_in_inbox": inbox_rows, "mo_acked_lost": len(lost),
            "seconds": round(elapsed, 1),
        }
        sys.stderr.write("SOAK-RESULT %s\n" % json.dumps(summary))
        sys.stderr.write("kills: %s\n" % json.dumps(kill_log))

        self.assertEqual(integrity, [("ok",)], "PRAGMA integrity_check")
        self.assertEqual(within_run, [], "recipients submitted twice within one daemon run (no crash between)")
        # per_crash[0] counts resubmissions across the first bind: none, the broadcast began after it.
        self.assertEqual(per_crash[0], 0)
        for n, dup in enumerate(per_crash[1:], 1):
            self.assertLessEqual(dup, WINDOW, "crash %d: more duplicates than the in-flight window" % n)
            self.assertLessEqual(dup, recovered[n - 1], "crash %d: more duplicates than rows recovered in doubt" % n)
        self.assertEqual(duplicated - in_doubt, set(), "duplicates the daemon does not report in doubt")
        self.assertLessEqual(extra, sum(recovered))
        self.assertEqual(lost[:10], [], "MO messages acknowledged to the SMSC but not in the inbox (%d)" % len(lost))
        self.assertGreater(len(acked), 0, "no MO message was acknowledged: the inbound half tested nothing")


if __name__ == "__main__":
    harness.parse_args_and_run()
