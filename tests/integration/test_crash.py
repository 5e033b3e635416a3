"""Issue 3 and DESIGN "Nothing lost": `kill -9` in the middle of a broadcast, then a restart on the
same state dir, ends with every recipient delivered; a phone gets the message twice only for rows
the status counts as in doubt (they were in `sending` when the daemon died)."""

import os
import unittest

import harness
from harness import DaemonTest

MANY = 300

# Fixed: BUG-SIM-IDS (simulated provider ids now unique across restarts), BUG-STOP-CLAIM (a claim
# that completes while the daemon stops goes back to the queue) and BUG-LOST-REPORTS (the simulated
# network keeps the delivery reports it owes in a journal and crosses one out only once the daemon
# has stored it, as an SMSC keeps a receipt until its deliver_sm_resp; after a restart it sends the
# rest again). So every crash test ends with every recipient `delivered`.


def journal_owed(d):
    """Provider ids the simulated network's reports journal still owes (it is in the state
    directory, or beside the phones' record when the daemon gives the channel no state directory)."""
    for folder in (d.state_dir, d.dir):
        path = os.path.join(folder, "sim-sim.reports")
        if os.path.exists(path):
            owed = []
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.startswith("+"):
                        owed.append(line[1:].rstrip("\n"))
                    elif line.startswith("-"):
                        owed.remove(line[1:].rstrip("\n"))
            return owed
    raise AssertionError("no reports journal in %s or %s" % (d.state_dir, d.dir))


class CrashTest(DaemonTest):
    extra_csv_rows = MANY

    def config(self):
        # Fast enough that the test is short, slow enough that the kill lands mid-broadcast, with a
        # delivery-report delay so that some rows are `submitted` (awaiting their report) at the kill.
        return harness.test_config(channel=harness.sim_channel(tps=50, window=20, dlr_delay_ms=300),
                                   extra_csv_rows=self.extra_csv_rows)

    def check_outcome(self, bid, text, in_doubt_recovered):
        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        # Every recipient delivered: a report the network owed at the kill came again after it.
        self.assertEqual(s["delivered"], s["recipients"], s)
        self.assertEqual(s["in_doubt"], in_doubt_recovered, "status counts what the restarts recovered")
        # Each delivery was reported for its own message, not for another that shares its provider id.
        self.assertEqual(self.d.duplicate_provider_ids(), [], "provider ids given to two messages")

        received = self.d.received(text)
        missing = self.d.subscriber_phones() - set(received)
        self.assertEqual(missing, set(), "recipients whose phone never got the message")
        self.assertEqual(set(received) - self.d.subscriber_phones(), set())
        extra = sum(n - 1 for n in received.values())
        self.assertLessEqual(extra, s["in_doubt"], "duplicates beyond the rows counted in doubt")
        return s

    def kill_mid_broadcast(self, bid, at_least):
        s = self.d.wait_status(bid, lambda s: s["delivered"] >= at_least, "%d deliveries" % at_least)
        self.assertLess(s["delivered"], s["recipients"], "the broadcast finished before the kill: slow the channel")
        self.d.kill9()
        ready = self.d.start()
        return ready["in_doubt_recovered"]

    def test_kill_9_mid_broadcast_then_restart(self):
        text = "Vaksinasi ternak gratis Rabu 09.00 di kandang kelompok."
        bid = self.d.broadcast("--all", "--text", text)
        recovered = self.kill_mid_broadcast(bid, 60)
        self.check_outcome(bid, text, recovered)

    def test_two_kills_in_one_broadcast(self):
        text = "Pendataan BLT: bawa KTP dan KK ke kantor desa Kamis."
        bid = self.d.broadcast("--all", "--text", text)
        recovered = self.kill_mid_broadcast(bid, 40)
        recovered += self.kill_mid_broadcast(bid, 160)
        self.check_outcome(bid, text, recovered)

    def test_sigterm_mid_broadcast_loses_and_duplicates_nothing(self):
        # A clean stop puts claimed rows back and waits for those in flight: nothing is in doubt.
        text = "Lomba 17 Agustus: daftar di kantor desa paling lambat Jumat."
        bid = self.d.broadcast("--all", "--text", text)
        self.d.wait_status(bid, lambda s: s["delivered"] >= 60, "60 deliveries")
        self.assertEqual(self.d.stop(), 0)
        ready = self.d.start()
        self.assertEqual(ready["in_doubt_recovered"], 0)
        s = self.check_outcome(bid, text, 0)
        self.assertEqual(set(self.d.received(text).values()), {1})
        self.assertEqual(s["in_doubt"], 0)


class CrashAwaitingReportsTest(DaemonTest):
    def config(self):
        # Reports take a minute: every message is `submitted`, none `delivered`, when the kill lands.
        return harness.test_config(channel=harness.sim_channel(dlr_delay_ms=60000))

    def test_kill_9_while_every_message_awaits_its_report(self):
        text = "Rapat perangkat desa Selasa 09.00."
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", text)
        s = self.d.wait_status(bid, lambda s: s["submitted"] == s["recipients"] > 0, "every message submitted")
        self.assertEqual(len(journal_owed(self.d)), s["recipients"], "a report owed for every accepted submit")
        self.d.kill9()
        # The network sends what it owes dlr_delay after the restart: a short one, so the test is too.
        self.d.write_config(harness.test_config(channel=harness.sim_channel(dlr_delay_ms=200)))
        self.d.start()
        # The phones did get them (the simulated network records a message when it accepts it), so
        # the broadcast must end as delivered rather than stay `submitted` for ever.
        self.assertEqual(len(self.d.received(text)), s["recipients"])
        s = self.d.wait_done(bid, stall_s=20)
        self.assertEqual(s["delivered"], s["recipients"], s)
        # Crossed out once stored (written out at the latest by the clean stop): nothing comes again.
        self.assertEqual(self.d.stop(), 0)
        self.assertEqual(journal_owed(self.d), [])


if __name__ == "__main__":
    harness.parse_args_and_run()
