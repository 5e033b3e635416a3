"""Issue 6 with the faults of issue 9: during a WhatsApp broadcast the Graph API answers 429, then
5xx, then does not answer at all (the request times out); the broadcast still completes, nothing is
lost and no recipient is accepted twice (counted per recipient at the fake). An access token that
Meta refuses (code 190) stops the channel loudly without losing a message; a new token file and
`kentongan reload` bring it back."""

# ctest-timeout: 300

import json
import os
import time

import harness
from test_whatsapp import WhatsAppBase, body_of, carries, digits

GROUP = "uji-wa"
RECIPIENTS = 24


def wa_phone(i):
    return "+62813%08d" % (70000000 + i)


class FaultBase(WhatsAppBase):
    """RECIPIENTS extra subscribers who prefer WhatsApp, in group uji-wa."""

    channels = ("wa", "sim")

    def config(self):
        cfg = super().config()
        cfg["groups"] = cfg["groups"] + [{"id": GROUP, "name": "Uji WhatsApp"}]
        csv_files = cfg.get("subscribers_csv", [])
        cfg["subscribers_csv"] = ([csv_files] if isinstance(csv_files, str) else list(csv_files)) + ["uji-wa.csv"]
        cfg["channels"] = [harness.whatsapp_channel(self.fake.base_url, tps=20, window=6)]
        if "sim" in self.channels:
            cfg["channels"].append(harness.sim_channel(dlr_delay_ms=20))
        return cfg

    def prepare(self):
        with open(os.path.join(self.d.dir, "uji-wa.csv"), "w", encoding="utf-8") as f:
            f.write("phone;name;groups;channel\n")
            for i in range(RECIPIENTS):
                f.write("%s;Warga WA %d;%s;whatsapp\n" % (wa_phone(i), i, GROUP))

    def phones(self):
        return {wa_phone(i) for i in range(RECIPIENTS)}

    def accepted_once(self, text):
        """Waits until every recipient has a request the fake accepted; checks none has two."""
        got = self.wait_answered(text, self.phones(), "every recipient accepted by the Graph API")
        twice = {p: len(rs) for p, rs in got.items() if len(rs) != 1}
        self.assertEqual(twice, {}, "recipients accepted more than once")
        return [got[p][0] for p in sorted(self.phones())]

    def finish(self, bid, accepted):
        self.deliver_all(accepted)
        s = self.d.wait_status(bid, lambda s: s["state"] == "done" and s["delivered"] == RECIPIENTS, "every recipient delivered")
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["recipients"], RECIPIENTS)
        self.assertEqual(s["failed"], 0)
        channels = {r[0] for r in self.d.db_query("SELECT DISTINCT channel FROM outbox WHERE broadcast_id = ?", (bid,))}
        self.assertEqual(channels, {"wa"})
        self.assertEqual(self.d.duplicate_provider_ids(), [])
        return s


class WhatsAppFaultsTest(FaultBase):

    def test_429_then_5xx_then_timeouts_lose_nothing_and_send_once(self):
        self.fake.script(("rate_limited", 3), ("server_error", 2), ("bad_gateway", 1), ("hang", 2))
        text = "Pembagian pupuk bersubsidi Sabtu 08.00 di gudang Poktan. Bawa KTP."
        bid = self.d.broadcast("--group", GROUP, "--text", text)
        accepted = self.accepted_once(text)

        tries = [r for r in self.fake.requests() if carries(r, text)]
        answers = sorted(r["answer_status"] for r in tries)
        # Every scripted failure was retried exactly once more; nothing else was sent twice.
        self.assertEqual(answers, sorted([0, 0, 429, 429, 429, 500, 500, 502] + [200] * RECIPIENTS), answers)
        self.assertEqual(len(tries), RECIPIENTS + 8)
        self.assertIn("channel throttled by the network name=wa", self.d.log_text(tail=None))

        self.finish(bid, accepted)
        self.assertEqual(self.d.received(text), {}, "nothing went by SMS: retryable errors are not a fallback")


class WhatsAppTokenTest(FaultBase):
    """Only the WhatsApp channel, so that messages wait for it instead of going by SMS."""

    channels = ("wa",)
    fake_token = "EAAG-new-token"
    daemon_token = "EAAG-old-token"

    def readyz(self):
        return self.d.http("GET", "/readyz", token=None)

    def test_refused_token_stops_channel_loudly_and_reload_brings_it_back(self):
        text = "Rapat kelompok tani Jumat 14.00 di balai desa."
        bid = self.d.broadcast("--group", GROUP, "--text", text)
        self.fake.wait_requests(lambda rs: any(r["answer_status"] == 401 for r in rs), "the refused token", daemon=self.d)

        # Down, loudly: log, readiness; the messages wait (none failed, none accepted).
        deadline = time.monotonic() + 60
        while True:
            code, body = self.readyz()
            if code == 503 and not body["channels"][0]["up"]:
                break
            self.assertLess(time.monotonic(), deadline, "the channel never went down: %r\n%s" % (body, self.d.log_text()))
            time.sleep(0.2)
        log = self.d.log_text(tail=None)
        self.assertIn("channel down name=wa", log)
        self.assertIn("(#190)", log)
        self.assertNotIn("EAAG-old-token", log)  # never the secret
        s = self.d.status(bid)
        self.assertEqual(s["failed"] + s["delivered"] + s["submitted"], 0, s)

        # A reload with the same token file changes nothing: Meta would refuse it again.
        sent = len(self.fake.requests())
        self.d.cli("reload")
        self.assertEqual(self.readyz()[0], 503)
        self.assertEqual(len(self.fake.requests()), sent)

        # The rotated token: reload, the channel comes back, every message goes out once.
        with open(os.path.join(self.d.dir, "wa.token"), "w") as f:
            f.write(self.fake_token + "\n")
        self.d.cli("reload")
        self.assertEqual(self.readyz()[0], 200, self.readyz())
        accepted = self.accepted_once(text)
        for r in accepted:
            self.assertEqual(r["authorization"], "Bearer " + self.fake_token)
        self.assertIn("whatsapp token replaced name=wa", self.d.log_text(tail=None))
        self.finish(bid, accepted)


if __name__ == "__main__":
    harness.parse_args_and_run()
