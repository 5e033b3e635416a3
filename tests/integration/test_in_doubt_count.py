"""Issue 9, P2's figure: after a SIGKILL, the rows recovered *in doubt* are the ones that may have
reached the network, not every row the dispatcher had claimed.

The dispatcher claims rows (`store::claim_due`, state 1 `sending`) a quarter second ahead of the
channel into its in-memory backlog; of those, only the rows handed to the link and not yet answered
(at most the window × sessions), plus accepted ones whose `submitted` state is not yet durable (the
channel's `durable_lag`, 0 here as by default), can have reached the network. Before handing a row
over, the dispatcher commits a *dispatch fence* naming it (and the few rows it may hand before its next
fence); `store::recover_in_doubt` flags in doubt only the rows in `sending` a fence names and gives the
others their attempt back.

The test kills the daemon twice in the middle of a broadcast on a channel whose claim-ahead is far
bigger than its window (tps 100, window 5: about 26 claimed, at most 5 may have been sent) and checks,
after each restart, `in_doubt_recovered` (/readyz) against that bound; every recipient delivered,
duplicates within the rows in doubt and a consistent status are asserted as well. Before each restart it
reads the database and the simulated phones' record to say how many of the rows in `sending` had never
reached the network (printed, for the record)."""

# ctest-timeout: 300

import sys
import unittest

import harness
from harness import DaemonTest

MANY = 1000
TPS = 100
WINDOW = 5
SESSIONS = 1


def may_have_reached_network(tps, window, sessions):
    """The most rows a crash can leave unrecorded at the network: service::window_of plus
    service::durable_lag_of (the channel's durable_lag: 0, the default, in this test)."""
    del tps  # the claim-ahead depends on it, what may have reached the network does not
    return window * sessions


class InDoubtCountTest(DaemonTest):
    extra_csv_rows = MANY

    def config(self):
        return harness.test_config(channel=harness.sim_channel(tps=TPS, window=WINDOW, dlr_delay_ms=50),
                                   extra_csv_rows=self.extra_csv_rows)

    def claimed_rows(self, bid):
        return [(r[0], r[1]) for r in self.d.db_query(
            "SELECT id, phone FROM outbox WHERE broadcast_id = ? AND state = 1", (bid,))]

    def test_in_doubt_after_sigkill_is_what_may_have_been_sent(self):
        text = "Musyawarah dusun soal irigasi sawah, Sabtu 09.00 di balai."
        bid = self.d.broadcast("--all", "--text", text)
        bound = may_have_reached_network(TPS, WINDOW, SESSIONS)
        figures = []
        for at_least in (150, 450):
            s = self.d.wait_status(bid, lambda s: s["submitted"] + s["delivered"] >= at_least,
                                   "%d submitted" % at_least)
            self.assertLess(s["submitted"] + s["delivered"] + s["failed"], s["recipients"],
                            "the broadcast finished before the kill: slow the channel")
            self.d.kill9()
            claimed = self.claimed_rows(bid)
            got = self.d.received(text)
            never_sent = sum(1 for _, phone in claimed if phone not in got)
            ready = self.d.start()
            recovered = ready["in_doubt_recovered"]
            self.assertLessEqual(recovered, len(claimed), "recovery flags no more than the rows left in sending")
            figures.append((recovered, never_sent))
        sys.stderr.write("in doubt per kill (recovered in doubt, rows in sending that never reached the network): %r; bound %d\n"
                         % (figures, bound))

        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["delivered"], s["recipients"], s)
        self.assertEqual(s["in_doubt"], sum(f[0] for f in figures), "status counts what the restarts recovered")
        received = self.d.received(text)
        self.assertEqual(set(received), self.d.subscriber_phones(), "every recipient got it")
        self.assertLessEqual(sum(n - 1 for n in received.values()), s["in_doubt"],
                             "duplicates beyond the rows counted in doubt")

        over = [f for f in figures if f[0] > bound]
        self.assertEqual(over, [], "more rows in doubt than may have reached the network (bound %d)" % bound)

if __name__ == "__main__":
    harness.parse_args_and_run()
