"""Issue 7, HTTP SMS aggregator: the real daemon with an "http" channel pointing at fake_aggregator on
127.0.0.1. A broadcast goes out through the aggregator (429 and 5xx answers retried, nothing lost,
nothing accepted twice) and ends delivered after signed delivery callbacks matched by the provider's
message id; an inbound callback "LAPOR …" becomes an aspiration whose ticket goes back out through the
aggregator; a callback with a missing or wrong signature is refused and stores nothing; a repeated
callback is stored once; Kannel-style GET callbacks on the separate webhook listener. Also: each
example in examples/aggregators/ passes `kentongan check-config` when dropped into a config."""

# ctest-timeout: 240

import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import Daemon, DaemonTest, FakeAggregator

TICKET = re.compile(r"\b(A\d{4,})\b")
CALLBACK_SECRET = "rahasia-callback-uji"

# perangkat-desa members of examples/desa-ekasari, as the channel writes them (to_format e164).
SYAFRIZAL = "+6281200000001"
NURHAYATI = "+6281200000004"
DESMAWATI = "+6281200000006"


def accepted(requests):
    """recipient → the sends the fake accepted (HTTP 200 with an id)."""
    out = {}
    for r in requests:
        if r["answer_status"] == 200 and r["answer_id"]:
            out.setdefault(r["to"], []).append(r)
    return out


def agg_channel(base_url, **extra):
    """A JSON API with HMAC-signed callbacks (docs/http-channel.md's own example, pointed at the fake)."""
    ch = {
        "name": "agg", "type": "http", "method": "post", "url": base_url + "/api/sms", "body": "json",
        "fields": {"to": "{to}", "text": "{text}", "ref": "{id}"},
        "to_format": "e164",
        "success": {"status_min": 200, "status_max": 299, "json_pointer": "/status", "equals": "0"},
        "id_pointer": "/messages/0/id", "error_code_pointer": "/status",
        "callback": {
            "fields": {"provider_id": "id", "status": "status", "from": "from", "text": "text",
                       "error": "error", "timestamp": "ts"},
            "status_map": {"DELIVERED": "delivered", "FAILED": "failed", "SENT": "ignore"},
            "check": "hmac_sha256", "secret_name": "X-Signature", "signature_prefix": "sha256=",
            "secret_file": "agg.callback", "reply": "TERIMA",
        },
        "tps": 50, "window": 10,
    }
    ch.update(extra)
    return ch


def kannel_channel(base_url):
    """Kannel's shape (GET sendsms, plain-text answer, our id as provider id, GET callbacks with a token)."""
    return {
        "name": "kannel", "type": "http", "method": "get", "url": base_url + "/cgi-bin/sendsms", "body": "query",
        "fields": {"to": "{to}", "text": "{text}",
                   "dlr-url": "http://127.0.0.1/webhooks/http/kannel?ref={id}&type=%d&token={callback_secret}"},
        "to_format": "msisdn",
        "success": {"status_min": 202, "status_max": 202, "body_contains": "delivery"},
        "id_pointer": "",
        "callback": {
            "format": "query",
            "fields": {"from": "from", "to": "to", "text": "text", "provider_id": "ref", "status": "type",
                       "timestamp": "ts"},
            "status_map": {"1": "delivered", "2": "failed", "8": "ignore"},
            "check": "query", "secret_name": "token", "secret_file": "kannel.callback",
        },
        "tps": 50, "window": 10,
    }


class HttpChannelBase(DaemonTest):
    webhook_listen = None
    default_behaviour = "ok_json"

    def channels(self):
        return [agg_channel(self.fake.base_url)]

    def config(self):
        cfg = harness.test_config(limits={"retry_base_s": 1, "retry_max_s": 3})
        cfg["channels"] = self.channels()
        if self.webhook_listen:
            cfg.setdefault("http", {})["webhook_listen"] = self.webhook_listen
        return cfg

    def setUp(self):
        self.fake = FakeAggregator()
        self.addCleanup(self.fake.stop)
        if self.default_behaviour != "ok_json":
            self.fake.set_behaviour("", self.default_behaviour)
        self.d = Daemon(self.config())
        self.addCleanup(self.d.cleanup)
        for name in ("agg.callback", "kannel.callback"):
            with open(os.path.join(self.d.dir, name), "w") as f:
                f.write(CALLBACK_SECRET + "\n")
        self.d.start()

    def callback_url(self, channel="agg"):
        return "http://%s/webhooks/http/%s" % (self.webhook_listen or self.d.listen, channel)

    def post(self, payload, signature=True, secret=CALLBACK_SECRET, channel="agg"):
        """POSTs a JSON callback (signed unless signature is False); (status, body)."""
        body = json.dumps(payload).encode()
        req = urllib.request.Request(self.callback_url(channel), data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        if signature:
            req.add_header("X-Signature", "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
        return self._open(req)

    def get(self, params, channel):
        req = urllib.request.Request(self.callback_url(channel) + "?" + urllib.parse.urlencode(params), method="GET")
        return self._open(req)

    @staticmethod
    def _open(req):
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def count(self, sql, params=()):
        return self.d.db_query(sql, params)[0][0]


class HttpChannelTest(HttpChannelBase):

    def test_broadcast_retried_through_aggregator_and_delivered_by_callbacks(self):
        # The aggregator is busy or broken for some recipients at first.
        self.fake.set_behaviour(SYAFRIZAL, "rate_limited", times=2)
        self.fake.set_behaviour(NURHAYATI, "server_error", times=2)
        self.fake.set_behaviour(DESMAWATI, "bad_gateway", times=1)
        text = "Rapat perangkat desa hari Kamis pukul 09.00 di balai desa."
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", text)
        s = self.d.wait_status(bid, lambda s: s["recipients"] > 0 and s["submitted"] + s["delivered"] == s["recipients"],
                               "every message accepted by the aggregator")
        total = s["recipients"]
        got = accepted(self.fake.requests())
        rows = self.d.db_query("SELECT phone, channel, provider_id FROM outbox WHERE broadcast_id = ?", (bid,))
        self.assertEqual(len(rows), total)
        for phone, channel, provider_id in rows:
            self.assertEqual(channel, "agg", phone)
            self.assertIn(phone, got, "never accepted by the aggregator: " + phone)
            self.assertEqual(len(got[phone]), 1, "accepted twice: " + phone)  # nothing sent twice
            # Stored through core::normalise_provider_id (lower case), as reports are matched.
            self.assertEqual(provider_id, got[phone][0]["answer_id"].lower(), phone)
            self.assertEqual(json.loads(got[phone][0]["body"])["text"], text)
        answers = {r["to"]: [] for r in self.fake.requests()}
        for r in self.fake.requests():
            answers[r["to"]].append(r["answer_status"])
        self.assertEqual(answers[SYAFRIZAL], [429, 429, 200])
        self.assertEqual(answers[NURHAYATI], [500, 500, 200])
        self.assertEqual(answers[DESMAWATI], [502, 200])

        # Signed delivery callbacks, several items per request, an intermediate SENT first.
        items = []
        for phone, reqs in got.items():
            items.append({"id": reqs[0]["answer_id"], "status": "SENT"})
            items.append({"id": reqs[0]["answer_id"], "status": "DELIVERED"})
        for i in range(0, len(items), 4):
            self.assertEqual(self.post(items[i:i + 4]), (200, "TERIMA"), self.d.log_text())
        s = self.d.wait_done(bid)
        self.assertEqual(s["delivered"], total, json.dumps(s))
        self.assertEqual(self.d.duplicate_provider_ids(), [])

    def test_inbound_callback_becomes_aspiration_replied_through_aggregator_once(self):
        report = "LAPOR saluran air di RT 04 tersumbat sampah"
        item = {"id": "MO-7001", "from": "081200000004", "to": "99876", "text": report, "ts": int(time.time())}
        self.assertEqual(self.post(item), (200, "TERIMA"), self.d.log_text())

        def ticket_replies(rs):
            return [r for r in accepted(rs).get(NURHAYATI, []) if TICKET.search(json.loads(r["body"])["text"])]
        got = self.fake.wait_requests(ticket_replies, "the ticket reply through the aggregator", self.d)
        ticket = TICKET.search(json.loads(ticket_replies(got)[0]["body"])["text"]).group(1)
        a = self.d.cli_json("aspirations", "show", ticket, "--json")
        self.assertEqual(a["phone"], NURHAYATI)
        self.assertIn("saluran air", a["text"])

        # The aggregator repeats the callback: 200 again, stored once, answered once.
        self.assertEqual(self.post(item), (200, "TERIMA"))
        self.assertEqual(self.count("SELECT count(*) FROM inbox WHERE channel = 'agg' AND provider_id = 'MO-7001'"), 1)
        # A later message's reply is queued after anything the repeat could have caused.
        later = {"id": "MO-7002", "from": "081200000004", "text": "INFO POSYANDU", "ts": int(time.time())}
        self.assertEqual(self.post(later), (200, "TERIMA"))
        self.fake.wait_requests(lambda rs: any("Posyandu" in json.loads(r["body"])["text"]
                                               for r in accepted(rs).get(NURHAYATI, [])), "the INFO reply", self.d)
        self.assertEqual(len(ticket_replies(self.fake.requests())), 1)
        self.assertEqual(self.count("SELECT count(*) FROM aspirations WHERE text LIKE ?", ("%saluran air%",)), 1)

    def test_bad_secret_refused_and_nothing_stored(self):
        inbox_before = self.count("SELECT count(*) FROM inbox")
        forged = {"id": "MO-FORGED", "from": "081200000006", "text": "LAPOR palsu sekali", "ts": int(time.time())}
        self.assertEqual(self.post(forged, signature=False)[0], 401)
        self.assertEqual(self.post(forged, secret="bukan-rahasia")[0], 403)
        self.assertEqual(self.get({"from": "081200000006", "text": "LAPOR palsu sekali"}, "agg")[0], 401)
        status, _ = self.post(forged, channel="tidak-ada")
        self.assertEqual(status, 404)
        self.assertEqual(self.count("SELECT count(*) FROM inbox"), inbox_before)
        self.assertEqual(self.count("SELECT count(*) FROM aspirations WHERE text LIKE ?", ("%palsu%",)), 0)
        self.assertNotIn("palsu sekali", self.d.log_text(tail=None))  # refused bodies are not logged
        self.assertNotIn(CALLBACK_SECRET, self.d.log_text(tail=None))
        self.assertIn("webhook rejected", self.d.log_text(tail=None))


class KannelCallbackTest(HttpChannelBase):
    """Kannel's shape: GET sendsms, our outbox id as the provider id, GET dlr-url / get-url callbacks
    with the secret in the query, served on the separate webhook listener."""

    default_behaviour = "ok_kannel"

    def setUp(self):
        self.webhook_listen = "127.0.0.1:%d" % harness.free_port()
        super().setUp()

    def channels(self):
        return [kannel_channel(self.fake.base_url)]

    def test_get_callbacks_deliver_and_bring_replies(self):
        text = "Gotong royong hari Minggu pukul 07.00."
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", text)
        self.d.wait_status(bid, lambda s: s["recipients"] > 0 and s["submitted"] == s["recipients"], "every message accepted")
        rows = self.d.db_query("SELECT id, provider_id FROM outbox WHERE broadcast_id = ?", (bid,))
        for oid, provider_id in rows:
            self.assertEqual(provider_id, str(oid))
            self.assertEqual(self.get({"ref": provider_id, "type": "8", "token": CALLBACK_SECRET}, "kannel"), (200, "OK"))
            self.assertEqual(self.get({"ref": provider_id, "type": "1", "token": CALLBACK_SECRET}, "kannel"), (200, "OK"))
        s = self.d.wait_done(bid)
        self.assertEqual(s["delivered"], s["recipients"])
        # A wrong token: 403, nothing stored.
        self.assertEqual(self.get({"from": "6281200000006", "text": "LAPOR x", "ref": "k1", "token": "salah"}, "kannel")[0], 403)
        self.assertEqual(self.count("SELECT count(*) FROM inbox WHERE channel = 'kannel'"), 0)
        # A reply by get-url, twice (Kannel retries when it got no answer): stored once.
        reply = {"from": "6281200000006", "to": "99876", "text": "INFO POSYANDU", "ref": "kannel-mo-1",
                 "ts": str(int(time.time())), "token": CALLBACK_SECRET}
        self.assertEqual(self.get(reply, "kannel"), (200, "OK"))
        self.assertEqual(self.get(reply, "kannel"), (200, "OK"))
        self.assertEqual(self.count("SELECT count(*) FROM inbox WHERE channel = 'kannel'"), 1)
        self.fake.wait_requests(lambda rs: any(r["to"] == "6281200000006" and "Posyandu" in r["params"].get("text", "")
                                               for r in rs), "the INFO reply through Kannel", self.d)


class ExampleAggregatorConfigTest(unittest.TestCase):
    """examples/aggregators/*.json pass check-config when put in a config, with dummy secret files."""

    def test_examples_pass_check_config(self):
        examples = sorted(glob.glob(os.path.join(harness.REPO, "examples", "aggregators", "*.json")))
        self.assertTrue(examples, "no examples/aggregators/*.json")
        for path in examples:
            with self.subTest(example=os.path.basename(path)):
                tmp = tempfile.mkdtemp(prefix="kentongan-agg-example-")
                self.addCleanup(shutil.rmtree, tmp, True)
                for name in os.listdir(harness.EXAMPLE_DIR):
                    if name.endswith(".csv"):
                        shutil.copy(os.path.join(harness.EXAMPLE_DIR, name), tmp)
                with open(path, encoding="utf-8") as f:
                    channel = json.loads(harness.strip_json_comments(f.read()))

                def dummy(file_path, tag):
                    local = os.path.join(tmp, tag + "-" + os.path.basename(file_path))
                    with open(local, "w") as f:
                        f.write("dummy-" + tag + "\n")
                    return local
                files = 0
                if "auth_file" in channel:
                    channel["auth_file"] = dummy(channel["auth_file"], "auth")
                    files += 1
                for key, file_path in channel.get("secret_files", {}).items():
                    channel["secret_files"][key] = dummy(file_path, key)
                    files += 1
                if "secret_file" in channel.get("callback", {}):
                    channel["callback"]["secret_file"] = dummy(channel["callback"]["secret_file"], "callback")
                    files += 1
                self.assertGreater(files, 0, "the example names no secret file")
                cfg = harness.test_config()
                cfg["channels"] = [harness.sim_channel(), channel]
                config_file = os.path.join(tmp, "kentongan.json")
                with open(config_file, "w", encoding="utf-8") as f:
                    json.dump(cfg, f, indent=2, ensure_ascii=False)
                p = subprocess.run([harness.KENTONGAN, "--config", config_file, "check-config"],
                                   capture_output=True, text=True, timeout=harness.CLI_TIMEOUT_S, cwd=tmp)
                self.assertEqual(p.returncode, 0, "check-config refused %s:\nstdout: %s\nstderr: %s"
                                 % (os.path.basename(path), p.stdout, p.stderr))


if __name__ == "__main__":
    harness.parse_args_and_run()
