"""Issue 9, network faults over SMPP: a broadcast goes through a fault-injecting TCP proxy
(faultproxy.FaultProxy) to the SMSC simulator. Every few seconds, at random moments, the proxy drops
every link (RST) or black-holes the traffic for a few seconds (the links stay open and silent: the
daemon's response timeout and enquire_link must notice), and once the simulator itself is restarted,
coming back throttled (`--throttle-after`) for the rest of the broadcast. At the end:
- the broadcast is done, nobody failed, every recipient was submitted at least once (counted from
  the simulator's record);
- a recipient submitted twice is counted in doubt by the daemon (outbox.in_doubt), and was resubmitted
  only after the link its first submit went on was lost.
CI: 1,000 recipients. KENTONGAN_LONG=1 (scripts/soak): 10,000 recipients, faults all the way.
KENTONGAN_SEED=N replays the same fault moments (the seed is printed).
"""
# ctest-timeout: 600

import json
import os
import sqlite3
import sys
import time

import faultproxy
import harness
from faultproxy import FaultProxy, digits, smpp_channel
from harness import DaemonTest

LONG = os.environ.get("KENTONGAN_LONG") == "1"
RECIPIENTS = 10000 if LONG else 1000
TPS = 200 if LONG else 100
WINDOW = 10
DEADLINE_S = 3600 if LONG else 300
PASSWORD = "uji-9876"  # SMPP 3.4 passwords are at most 8 characters
# Share of the broadcast after which the simulator restarts, throttled for the rest of it.
THROTTLE_AT = 0.9
THROTTLE_AFTER = TPS // 2

# BUG-UNCOUNTED-RESUBMIT (found by this test, see docs/reliability.md): a submit_sm whose response
# never arrives (link lost, response timeout) comes back to the daemon as an ordinary retryable
# failure and is requeued WITHOUT the in_doubt flag, so the SMSC may have it twice while the daemon
# reports no duplicate. While this is True the test checks the weaker promise (such duplicates only
# after a lost link, at most a window per link) and prints how many there were; set it to False
# once protocol/channel's submit_result can say "maybe sent" and the daemon flags those rows.
KNOWN_BUG_UNCOUNTED_RESUBMIT = False


class SmppFaultTest(DaemonTest):
    extra_csv_rows = RECIPIENTS

    def setUp(self):
        self.rng = faultproxy.seeded_rng()
        sim_port = harness.free_port()
        self.proxy = FaultProxy(sim_port)
        self.addCleanup(self.proxy.close)
        self.d = faultproxy.smpp_daemon(
            self, [smpp_channel("smsc", self.proxy.port, "smsc.pass", tps=TPS, window=WINDOW, max_attempts=100,
                                enquire_link_s=1, response_timeout_s=2, reconnect_max_s=1)],
            {"retry_base_s": 1, "retry_max_s": 2, "auto_replies_per_hour": 0}, PASSWORD, self.extra_csv_rows)
        self.sim = faultproxy.smsc_sim(self, self.d.dir, "smsc", sim_port, PASSWORD, dlr_delay_ms=20)
        self.sim.start()
        self.d.start()

    def submits(self, marker):
        return sum(1 for e in self.sim.events() if e.get("event") == "submit" and marker in e.get("text", ""))

    def test_drops_blackholes_restart_and_throttling(self):
        marker = "Gotong royong"
        text = "Gotong royong bersih parit Minggu 07.00, bawa cangkul. Kantor desa."
        bid = self.d.broadcast("--all", "--text", text)
        faults = {"drop": 0, "blackhole": 0, "sim_restart": 0}
        finished = False
        cycle = ["drop", "blackhole"]
        start = time.monotonic()
        k = 0
        while not finished:
            # A random moment every 1.5-3 s; the broadcast's own progress decides when we stop.
            until = time.monotonic() + self.rng.uniform(1.5, 3.0)
            while time.monotonic() < until:
                code, s = self.d.http("GET", "/api/broadcasts/%d" % bid)
                if code == 200 and s["state"] == "done" and s["queued"] + s["sending"] == 0:
                    finished = True
                    break
                if self.d.proc.poll() is not None:
                    self.fail("the daemon died:\n" + self.d.log_text())
                if time.monotonic() - start > DEADLINE_S:
                    self.fail("the broadcast did not finish within %ds under faults: %s\n%s"
                              % (DEADLINE_S, json.dumps(s), self.d.log_text()))
                time.sleep(0.1)
            if finished:
                break
            if not faults["sim_restart"] and self.submits(marker) >= THROTTLE_AT * RECIPIENTS:
                # The SMSC goes away (every link with it) and comes back answering ESME_RTHROTTLED
                # beyond THROTTLE_AFTER submits a second, until the end.
                self.sim.stop()
                self.sim.start(throttle_after=THROTTLE_AFTER)
                faults["sim_restart"] += 1
                continue
            fault = cycle[k % len(cycle)]
            k += 1
            if fault == "drop":
                self.proxy.drop_links()
            else:
                self.proxy.set_mode("blackhole")
                time.sleep(self.rng.uniform(2.5, 4.0))  # longer than response_timeout_s and enquire_link_s
                self.proxy.set_mode("pass")
                self.proxy.drop_links()  # the silent links are dead to the daemon by now; clear them
            faults[fault] += 1
        elapsed = time.monotonic() - start

        s = self.d.wait_status(bid, lambda s: s["state"] == "done" and s["queued"] + s["sending"] == 0, "end")
        self.assertEqual(self.d.stop(), 0, self.d.log_text())
        self.sim.stop()
        self.check(bid, marker, s, faults, elapsed)

    def check(self, bid, marker, s, faults, elapsed):
        events = self.sim.events()
        phones = {digits(p) for p in self.d.subscriber_phones()}
        # A link is (simulator run, session): sessions count from 1 again after the simulator's
        # restart, seen as a bind whose session number is not above the last one.
        subs = {}
        run, last = 0, 0
        for e in events:
            if e.get("event") == "bind":
                if e["session"] <= last:
                    run += 1
                last = e["session"]
            elif e.get("event") == "submit" and marker in e.get("text", ""):
                subs.setdefault(digits(e["dest"]), []).append((run, e["session"]))
        missing = phones - set(subs)
        duplicated = {d: v for d, v in subs.items() if len(v) > 1}
        same_link = [d for d, v in duplicated.items() if any(a == b for a, b in zip(v, v[1:]))]
        extra = sum(len(v) - 1 for v in subs.values())

        con = sqlite3.connect("file:%s?mode=ro" % self.d.db_file, uri=True)
        try:
            integrity = con.execute("PRAGMA integrity_check").fetchall()
            in_doubt = {digits(r[0]) for r in con.execute(
                "SELECT phone FROM outbox WHERE broadcast_id = ? AND in_doubt = 1", (bid,))}
        finally:
            con.close()
        uncounted = set(duplicated) - in_doubt
        binds = sum(1 for e in events if e.get("event") == "bind")
        summary = {"test": "faults", "recipients": s["recipients"], "faults": faults, "binds": binds,
                   "submits": sum(len(v) for v in subs.values()), "duplicates": extra,
                   "duplicates_not_in_doubt": len(uncounted), "resubmitted_on_same_link": len(same_link),
                   "failed": s["failed"], "integrity_check": integrity[0][0] if integrity else None,
                   "seconds": round(elapsed, 1)}
        sys.stderr.write("SOAK-RESULT %s\n" % json.dumps(summary))

        self.assertEqual(integrity, [("ok",)])
        self.assertGreaterEqual(faults["drop"] + faults["blackhole"], 2, "the broadcast ended before the faults")
        self.assertEqual(s["failed"] + s["expired"] + s["cancelled"], 0, s)
        self.assertEqual(missing, set(), "recipients never submitted")
        self.assertEqual(set(subs) - phones, set())
        # The same session both times: the daemon sent it again while the link that took it was alive.
        self.assertEqual(same_link, [], "resubmitted on the link that had accepted it")
        if KNOWN_BUG_UNCOUNTED_RESUBMIT:
            lost_links = binds - 1
            self.assertLessEqual(extra, WINDOW * max(lost_links, 0),
                                 "more duplicates than a window per lost link")
            if uncounted:
                sys.stderr.write("BUG-UNCOUNTED-RESUBMIT: %d recipients submitted twice, not counted in doubt\n"
                                 % len(uncounted))
        else:
            self.assertEqual(uncounted, set(), "duplicates the daemon does not report in doubt")


if __name__ == "__main__":
    harness.parse_args_and_run()
