"""Issue 9, the GSM modem across a crash: a status report that reaches the modem after the daemon
was killed with SIGKILL still finds its message. The modem channel's TP-MR → message map lives in
memory; the provider id it gives an accepted message is made of the TP-MR and the recipient only
(modem::report_provider_id), so the restarted daemon matches the report from its contents.

Each case: a broadcast through the pty modem simulator (tests/fakes/modem_sim_main.cpp) that holds
its status reports (--hold-reports); every message submitted and that state committed (read from the
database file); SIGKILL; restart; the simulator then sends the reports; every message ends
delivered, nobody gets the SMS twice and no report is an unknown receipt.
  - routed reports (+CDS), sent after the restart;
  - stored reports (+CDSI, --stored-reports), stored on the SIM while the daemon is dead and found
    by the start-up sweep (AT+CMGL=4)."""

# ctest-timeout: 240

import shutil
import tempfile
import unittest

import harness
import test_modem
from harness import DaemonTest

GROUP = "warga-dusun-1"
DEADLINE_S = 90


class ModemCrashCase:
    sim_args = ()
    release_while_down = False

    def setUp(self):
        # The simulator first: the daemon opens the modem at start and is ready once it is up.
        if not harness.fake_binary("modem-sim"):
            self.skipTest("this build has no modem-sim (tests/fakes)")
        self.sim_dir = tempfile.mkdtemp(prefix="kentongan-modem-crash-")
        self.addCleanup(shutil.rmtree, self.sim_dir, True)
        self.sim = test_modem.ModemSim(self.sim_dir, ("--hold-reports",) + tuple(self.sim_args))
        self.addCleanup(self.sim.stop)
        super().setUp()

    def config(self):
        return harness.test_config(channel=test_modem.modem_channel(self.sim.link))

    def rows(self, bid):
        return self.d.db_query("SELECT id, state, provider_id, in_doubt FROM outbox WHERE broadcast_id = ?", (bid,))

    def release_reports(self):
        self.sim.command("reports")
        line = self.sim.other.get(timeout=DEADLINE_S)
        while line != "released":
            line = self.sim.other.get(timeout=DEADLINE_S)

    def test_report_after_sigkill_marks_delivered(self):
        text = "Pembagian bibit kakao Jumat pukul 08.00 di gudang kelompok tani."
        bid = self.d.broadcast("--group", GROUP, "--text", text)
        s = self.d.wait_status(bid, lambda s: s["state"] == "done" and s["recipients"] > 0
                               and s["submitted"] == s["recipients"], "every message submitted", deadline_s=DEADLINE_S)
        recipients = s["recipients"]
        # Durable: the database file itself has every row submitted with its provider id.
        rows = harness.poll_until(lambda: self.rows(bid),
                                  lambda rows: len(rows) == recipients and all(r[1] == 2 and r[2] for r in rows),
                                  DEADLINE_S, 0.2, lambda rows: "rows not all submitted: %r" % (rows,))
        self.assertEqual(len({r[2] for r in rows}), recipients, "one provider id per message")

        self.d.kill9()
        if self.release_while_down:
            self.release_reports()  # stored on the SIM; nobody reads the port
        self.d.start()
        if not self.release_while_down:
            self.release_reports()

        s = self.d.wait_status(bid, lambda s: s["delivered"] + s["failed"] == s["recipients"],
                               "every delivery report after the restart", deadline_s=DEADLINE_S)
        self.assertEqual(s["delivered"], recipients, s)
        self.assertEqual(s["failed"], 0, s)
        self.assertEqual([r for r in self.rows(bid) if r[3]], [], "no row in doubt: every one was submitted")
        sent = [to for to, t in self.sim.all_sent() if t == text]
        self.assertEqual(len(sent), recipients, "one SMS per recipient, none sent again after the restart")
        self.assertEqual(len(set(sent)), recipients)
        unknown = self.d.db_query("SELECT subject, detail FROM events WHERE kind = 'unknown_receipt'")
        self.assertEqual(unknown, [], "every report found its message")


class RoutedReportsTest(ModemCrashCase, DaemonTest):
    """+CDS: the report is routed to the restarted daemon."""


class StoredReportsTest(ModemCrashCase, DaemonTest):
    """+CDSI: the reports are stored on the SIM while the daemon is dead; the start-up sweep reads them."""
    sim_args = ("--stored-reports",)
    release_while_down = True


if __name__ == "__main__":
    harness.parse_args_and_run()
