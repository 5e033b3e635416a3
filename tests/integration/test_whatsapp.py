"""Issue 6, WhatsApp: the real daemon with a WhatsApp channel (the fake Graph API on 127.0.0.1) beside
the simulated SMS network. A broadcast reaches WhatsApp subscribers by WhatsApp (free text inside the
24-hour window, the template outside it; a number not on WhatsApp by SMS) and the others by SMS;
signed status webhooks move the outbox to delivered; an inbound WhatsApp text becomes an aspiration
whose ticket goes back on WhatsApp; a replayed webhook is stored once; a bad signature stores nothing;
the verification handshake; after a restart the daemon still knows who wrote within 24 hours.
Faults (429, 5xx, timeouts, token rotation) are in test_whatsapp_faults.py."""

# ctest-timeout: 240

import json
import re
import time
import urllib.error
import urllib.request

import harness
from harness import Daemon, DaemonTest

TICKET = re.compile(r"\b(A\d{4,})\b")

# Members of warga-dusun-1 who prefer WhatsApp (examples/desa-ekasari).
YUSNIAR = "+6281200000002"
YULIANTI = "+6281200000104"
RAHMAT = "+6281200000108"     # also petani-kakao
NOFRIANTI = "+6281200000113"
SURYANI = "+6281200000120"
WA_DUSUN_1 = {YUSNIAR, YULIANTI, RAHMAT, NOFRIANTI, SURYANI}
WA_KAKAO = {RAHMAT, "+6281200000205", "+6281200000220"}  # petani-kakao members preferring WhatsApp
VERIFY_TOKEN = "kentongan-verify"


def digits(phone):
    return phone.lstrip("+")


def body_of(request):
    return json.loads(request["body"]) if request["body"] else {}


def template_text(body):
    """The {{1}} parameter of a template request, or None."""
    for c in body.get("template", {}).get("components", []):
        for p in c.get("parameters", []):
            if p.get("type") == "text":
                return p.get("text")
    return None


def carries(request, text):
    body = body_of(request)
    return body.get("text", {}).get("body") == text or template_text(body) == text


class WhatsAppBase(DaemonTest):
    """The example village with channels [wa (fake Graph API), sim]; retries after about a second."""

    webhook_listen = None
    fake_token = "test-token"     # the token the fake Graph API accepts
    daemon_token = "test-token"   # the token in the daemon's token_file

    def config(self):
        cfg = harness.test_config(limits={"retry_base_s": 1, "retry_max_s": 5})
        cfg["channels"] = [harness.whatsapp_channel(self.fake.base_url), harness.sim_channel(dlr_delay_ms=20)]
        if self.webhook_listen:
            cfg.setdefault("http", {})["webhook_listen"] = self.webhook_listen
        return cfg

    def setUp(self):
        self.fake = harness.FakeGraphApi(token=self.fake_token)
        self.addCleanup(self.fake.stop)
        self.d = Daemon(self.config())
        self.addCleanup(self.d.cleanup)
        harness.write_whatsapp_secrets(self.d, token=self.daemon_token, verify_token=VERIFY_TOKEN)
        self.prepare()
        self.d.start()

    def prepare(self):
        """Runs after the daemon's directory exists, before it starts."""

    # -- helpers

    def webhook_url(self):
        return "http://%s/webhooks/whatsapp" % (self.webhook_listen or self.d.listen)

    def send_in(self, phone, wamid, text, ago_s=0, name="Warga"):
        status = self.fake.webhook(self.webhook_url(), messages=[
            {"from": digits(phone), "name": name, "id": wamid, "text": text, "timestamp": int(time.time()) - ago_s}])
        self.assertEqual(status, 200, self.d.log_text())

    def answered(self, requests, text):
        """phone (E.164) → the requests carrying `text` that the fake accepted (HTTP 200)."""
        out = {}
        for r in requests:
            if r["answer_status"] == 200 and carries(r, text):
                out.setdefault("+" + digits(r["to"]), []).append(r)
        return out

    def wait_answered(self, text, phones, what):
        got = self.fake.wait_requests(lambda rs: set(self.answered(rs, text)) >= set(phones), what,
                                      deadline_s=90, daemon=self.d)
        return self.answered(got, text)

    def deliver_all(self, requests, read=()):
        """Signed status webhooks for the given accepted requests: `sent` then `delivered` (only `read`
        for phones in `read`: Meta may skip delivered), several statuses per notification."""
        now = int(time.time())
        statuses = []
        for r in requests:
            to = digits(r["to"])
            statuses.append({"id": r["answer_id"], "status": "sent", "recipient": to, "timestamp": now})
            final = "read" if "+" + to in read else "delivered"
            statuses.append({"id": r["answer_id"], "status": final, "recipient": to, "timestamp": now + 1})
        for i in range(0, len(statuses), 4):
            self.assertEqual(self.fake.webhook(self.webhook_url(), statuses=statuses[i:i + 4]), 200, self.d.log_text())
        return statuses

    def inbox_rows(self, wamid):
        return self.d.db_query("SELECT count(*) FROM inbox WHERE provider_id = ?", (wamid,))[0][0]

    def post_raw(self, body, headers):
        req = urllib.request.Request(self.webhook_url(), data=body, method="POST")
        for k, v in headers.items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get_raw(self, query):
        try:
            with urllib.request.urlopen(self.webhook_url() + "?" + query, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


class WhatsAppTest(WhatsAppBase):

    def test_broadcast_to_whatsapp_and_sms_with_window_fallback_and_statuses(self):
        # Yulianti wrote an hour ago (window open); Suryani 25 hours ago (closed); Nofrianti is not on WhatsApp.
        self.send_in(YULIANTI, "wamid.IN.yulianti", "INFO HARGA", ago_s=3600)
        self.send_in(SURYANI, "wamid.IN.suryani", "INFO JADWAL", ago_s=25 * 3600)
        self.fake.set_behaviour(digits(NOFRIANTI), "not_on_whatsapp")

        text = "Gotong royong membersihkan saluran irigasi hari Minggu jam 07.00. Bawa cangkul."
        bid = self.d.broadcast("--group", "warga-dusun-1", "--text", text)
        on_wa = WA_DUSUN_1 - {NOFRIANTI}
        got = self.wait_answered(text, on_wa, "the broadcast to every WhatsApp subscriber")

        # Free text inside the 24-hour window, the configured template outside it.
        for phone in on_wa:
            self.assertEqual(len(got[phone]), 1, (phone, got[phone]))
            body = body_of(got[phone][0])
            if phone == YULIANTI:
                self.assertEqual(body["type"], "text", body)
                self.assertEqual(body["text"]["body"], text)
            else:
                self.assertEqual(body["type"], "template", (phone, body))
                self.assertEqual(body["template"]["name"], "pengumuman_desa")
                self.assertEqual(template_text(body), text)
            self.assertEqual(got[phone][0]["authorization"], "Bearer test-token")

        # Not on WhatsApp (131026): the same message by SMS; everyone else without WhatsApp by SMS.
        subscribers = {p for p in self.d.subscriber_phones()}
        members = {r[0] for r in self.d.db_query("SELECT phone FROM outbox WHERE broadcast_id = ?", (bid,))}
        self.assertTrue(members & subscribers)
        by_sms = (members - WA_DUSUN_1) | {NOFRIANTI}
        self.d.wait_phones(lambda m: {ph for ph, _, t in m if t == text} >= by_sms, "the SMS part of the broadcast")
        self.assertEqual(set(self.d.received(text)), by_sms)
        self.assertTrue(all(n == 1 for n in self.d.received(text).values()))
        refused = [r for r in self.fake.requests() if r["to"].lstrip("+") == digits(NOFRIANTI) and carries(r, text)]
        self.assertEqual([r["answer_status"] for r in refused], [400])

        # Signed status webhooks move the WhatsApp rows to delivered (one only `read`), replays change nothing.
        accepted = [got[p][0] for p in sorted(on_wa)]
        statuses = self.deliver_all(accepted, read={RAHMAT})
        self.assertEqual(self.fake.webhook(self.webhook_url(), statuses=statuses[:4]), 200)
        s = self.d.wait_status(bid, lambda s: s["delivered"] == s["recipients"], "every recipient delivered")
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["failed"], 0)
        rows = dict(self.d.db_query("SELECT phone, channel FROM outbox WHERE broadcast_id = ?", (bid,)))
        for phone in on_wa:
            self.assertEqual(rows[phone], "wa", phone)
        for phone in by_sms:
            self.assertEqual(rows[phone], "sim", phone)
        self.assertEqual(self.d.duplicate_provider_ids(), [])

    def test_inbound_text_becomes_aspiration_answered_on_whatsapp_once(self):
        report = "LAPOR lampu jalan di RT 02 mati sejak seminggu"
        self.send_in(YUSNIAR, "wamid.IN.lampu", report, name="Yusniar")

        def ticket_replies(rs):
            return [r for r in rs if digits(r["to"]) == digits(YUSNIAR) and r["answer_status"] == 200
                    and TICKET.search(body_of(r).get("text", {}).get("body", ""))]
        got = self.fake.wait_requests(lambda rs: ticket_replies(rs), "the ticket reply on WhatsApp", daemon=self.d)
        reply = body_of(ticket_replies(got)[0])
        self.assertEqual(reply["type"], "text")  # she just wrote: inside the window
        ticket = TICKET.search(reply["text"]["body"]).group(1)
        a = self.d.cli_json("aspirations", "show", ticket, "--json")
        self.assertEqual(a["phone"], YUSNIAR)
        self.assertIn("lampu jalan", a["text"])

        # Meta redelivers: 200 again, stored once, answered once.
        self.send_in(YUSNIAR, "wamid.IN.lampu", report, name="Yusniar")
        self.assertEqual(self.inbox_rows("wamid.IN.lampu"), 1)
        # A later message's reply is queued after anything the replay could have caused.
        self.send_in(YUSNIAR, "wamid.IN.info", "INFO POSYANDU")
        self.fake.wait_requests(lambda rs: any(digits(r["to"]) == digits(YUSNIAR) and "Posyandu" in r["body"]
                                               and r["answer_status"] == 200 for r in rs), "the INFO reply", daemon=self.d)
        self.assertEqual(self.d.db_query("SELECT count(*) FROM outbox WHERE phone = ? AND text LIKE ?",
                                         (YUSNIAR, "%" + ticket + "%"))[0][0], 1)
        self.assertEqual(len(ticket_replies(self.fake.requests())), 1)
        self.assertEqual(self.d.db_query("SELECT count(*) FROM aspirations WHERE text LIKE ?", ("%lampu jalan%",))[0][0], 1)

    def test_bad_signatures_store_nothing_and_verification_handshake(self):
        inbox_before = self.d.db_query("SELECT count(*) FROM inbox")[0][0]
        msg = {"from": digits(YULIANTI), "name": "X", "id": "wamid.IN.forged", "text": "LAPOR palsu", "timestamp": int(time.time())}
        self.assertEqual(self.fake.webhook(self.webhook_url(), messages=[msg], signature="sha256=" + "0" * 64), 403)
        self.assertEqual(self.fake.webhook(self.webhook_url(), messages=[msg], signature="sha1=" + "0" * 40), 403)
        body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
        status, _ = self.post_raw(body, {"Content-Type": "application/json"})
        self.assertEqual(status, 401)
        # Signed but not JSON: 400, nothing stored.
        self.assertEqual(self.fake.webhook(self.webhook_url(), body="{not json"), 400)
        self.assertEqual(self.d.db_query("SELECT count(*) FROM inbox")[0][0], inbox_before)
        self.assertEqual(self.inbox_rows("wamid.IN.forged"), 0)
        self.assertNotIn("LAPOR palsu", self.d.log_text(tail=None))  # logged without the body
        self.assertIn("webhook rejected", self.d.log_text(tail=None))

        # Meta's subscription handshake (vectors.md H9).
        ok = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + VERIFY_TOKEN
        self.assertEqual(self.get_raw(ok), (200, "1158201444"))
        self.assertEqual(self.get_raw("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong")[0], 403)
        self.assertEqual(self.get_raw("hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=" + VERIFY_TOKEN)[0], 403)


class WhatsAppRestartTest(WhatsAppBase):
    """Webhooks on their own listener; the 24-hour window survives a restart (seeded from the inbox)."""

    def config(self):
        if not self.webhook_listen:
            self.webhook_listen = "127.0.0.1:%d" % harness.free_port()
        return super().config()

    def test_window_seeded_from_inbox_after_restart(self):
        # The webhook listener serves webhooks only, never the admin API.
        try:
            urllib.request.urlopen("http://%s/api/broadcasts" % self.webhook_listen, timeout=30)
            self.fail("the admin API answered on the webhook listener")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 404)

        self.send_in(RAHMAT, "wamid.IN.rahmat", "INFO JADWAL", ago_s=3600, name="Rahmat")
        self.fake.wait_requests(lambda rs: any(digits(r["to"]) == digits(RAHMAT) and r["answer_status"] == 200 for r in rs),
                                "the INFO reply", daemon=self.d)
        self.assertEqual(self.d.stop(), 0, self.d.log_text())
        self.d.start()

        text = "Penyuluhan hama penggerek buah kakao, Kamis 09.00 di Kantor Desa."
        self.d.broadcast("--group", "petani-kakao", "--text", text)
        got = self.wait_answered(text, WA_KAKAO, "the broadcast to the cocoa farmers on WhatsApp")
        self.assertEqual(body_of(got[RAHMAT][0])["type"], "text", "Rahmat wrote 1 hour ago: free text, not the template")
        for phone in WA_KAKAO - {RAHMAT}:
            self.assertEqual(body_of(got[phone][0])["type"], "template", phone)


if __name__ == "__main__":
    harness.parse_args_and_run()
