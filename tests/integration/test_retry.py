"""Issue 3: retryable failures go back to the queue with backoff and are delivered in the end;
permanent failures are `failed` with the reason, and `--resend ID --only failed` tries those again."""

import harness
from harness import DaemonTest


class TransientFailureTest(DaemonTest):
    def config(self):
        # 30 % of submits fail once, retryably. Enough attempts that giving up is practically
        # impossible (0.3^30), and a short backoff so the test does not wait for minutes.
        return harness.test_config(
            channel=harness.sim_channel(transient_fail_rate=0.3, max_attempts=30),
            limits={"retry_base_s": 1, "retry_max_s": 2})

    def test_transient_failures_are_retried_then_delivered(self):
        text = "Pemadaman listrik Kamis 10.00-14.00 untuk perbaikan jaringan."
        people = len(harness.example_subscribers())
        bid = self.d.broadcast("--all", "--text", text)
        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        self.assertEqual((s["state"], s["delivered"], s["failed"]), ("done", people, 0), s)

        # Retries did happen (with 46 recipients at 30 %, a run without any is a 1-in-10^7 event)…
        retried = self.d.db_query("SELECT count(*) FROM outbox WHERE broadcast_id = ? AND attempts > 1", (bid,))[0][0]
        self.assertGreater(retried, 0)
        # …and a failed submit never reached the phone, so each phone has it once.
        received = self.d.received(text)
        self.assertEqual(set(received), self.d.subscriber_phones())
        self.assertEqual(set(received.values()), {1})


class PermanentFailureTest(DaemonTest):
    def config(self):
        # The simulated network fails a stable 20 % of numbers for good.
        return harness.test_config(channel=harness.sim_channel(fail_rate=0.2))

    def test_permanent_failures_are_failed_with_a_reason(self):
        text = "Musyawarah desa Senin 19.30 di balai desa."
        bid = self.d.broadcast("--all", "--text", text)
        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["state"], "done")
        self.assertGreater(s["failed"], 0)
        self.assertGreater(s["delivered"], 0)
        self.assertEqual(s["delivered"] + s["failed"], s["recipients"])

        failed = {phone: reason for phone, reason in self.d.db_query(
            "SELECT phone, reason FROM outbox WHERE broadcast_id = ? AND state = 4", (bid,))}
        self.assertEqual(len(failed), s["failed"])
        for reason in failed.values():
            self.assertTrue(reason, "a failed row without a reason")
        received = self.d.received(text)
        self.assertEqual(set(received) & set(failed), set())
        self.assertEqual(len(received), s["delivered"])

        # Resend to those it did not reach: a new broadcast with exactly the failed numbers.
        out = self.d.cli_json("broadcast", "--resend", str(bid), "--only", "failed", "--json")
        again = out["id"]
        self.assertNotEqual(again, bid)
        s2 = self.d.wait_done(again)
        self.assertEqual(s2["recipients"], len(failed), s2)
        self.assertEqual(s2["failed"], len(failed))  # the same numbers fail again: the network has not changed
        resent_to = {r[0] for r in self.d.db_query("SELECT phone FROM outbox WHERE broadcast_id = ?", (again,))}
        self.assertEqual(resent_to, set(failed))


if __name__ == "__main__":
    harness.parse_args_and_run()
