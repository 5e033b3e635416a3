"""Issue 9, hostile HTTP: the real daemon's listener (admin API, health checks, WhatsApp webhooks)
against oversized bodies and headers, slow clients, pipelined garbage, wrong methods, bad admin
tokens, path tricks, bad webhook signatures, odd content types and invalid JSON. Each gets a clear
status and a log line; none crashes the daemon, blocks another client or stores anything (every
table's row count is the same before and after)."""

# ctest-timeout: 180

import hashlib
import hmac
import json
import os
import socket
import threading
import time
import unittest

import harness
from harness import Daemon, DaemonTest

APP_SECRET = "test-app-secret"


def http_status(raw):
    """The status code of the first response in `raw` bytes, or None."""
    if not raw.startswith(b"HTTP/1."):
        return None
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def statuses(raw):
    """Every response status in `raw` (pipelined answers), in order."""
    out = []
    for part in raw.split(b"HTTP/1.")[1:]:
        try:
            out.append(int(part.split(b" ", 2)[1]))
        except (IndexError, ValueError):
            pass
    return out


class HostileHttpTest(DaemonTest):
    """The example village with a sim channel and a WhatsApp channel (its Graph API address is a
    closed port: webhooks are posted by the test itself, signed with the app secret)."""

    def config(self):
        cfg = harness.test_config()
        cfg["channels"] = [harness.sim_channel(),
                           harness.whatsapp_channel("http://127.0.0.1:%d" % harness.free_port())]
        return cfg

    def setUp(self):
        self.d = Daemon(self.config())
        self.addCleanup(self.d.cleanup)
        harness.write_whatsapp_secrets(self.d, app_secret=APP_SECRET)
        self.d.start()
        self.before = self.row_counts()
        self.log_mark = len(self.d.log_text(tail=None))

    def tearDown(self):
        # Whatever the test threw at it: alive, healthy, nothing stored.
        self.assertAlive()
        if self.before is not None:
            self.assertEqual(self.row_counts(), self.before, "a hostile request changed the database")
        super().tearDown()

    # -- helpers

    def row_counts(self):
        tables = [r[0] for r in self.d.db_query("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: self.d.db_query('SELECT count(*) FROM "%s"' % t)[0][0] for t in tables}

    def assertAlive(self):
        self.assertIsNone(self.d.proc.poll(), "the daemon died:\n" + self.d.log_text())
        status, body = self.d.http("GET", "/healthz", token=None)
        self.assertEqual((status, body.get("status")), (200, "ok"), self.d.log_text())

    def new_log(self):
        return self.d.log_text(tail=None)[self.log_mark:]

    def wait_log(self, needle, deadline_s=30):
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if needle in self.new_log():
                return
            time.sleep(0.1)
        self.fail("no log line with %r:\n%s" % (needle, self.new_log()[-4000:]))

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def raw(self, data, read_all=True):
        """Sends `data` on a new connection and reads until the daemon closes it (or 30 s)."""
        with self.connect() as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return self.read_until_close(s, read_all)

    @staticmethod
    def read_until_close(s, read_all=True):
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
                if not read_all and b"\r\n\r\n" in got:
                    break
        except socket.timeout:
            pass
        except ConnectionResetError:
            pass
        return got

    def request(self, method, target, headers=(), body=b"", token=False):
        """One request with Connection: close; (status, raw response)."""
        lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1", "Connection: close"]
        if token:
            lines.append("Authorization: Bearer " + self.d.token())
        lines += list(headers)
        if body:
            lines.append("Content-Length: %d" % len(body))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        got = self.raw(data)
        return http_status(got), got

    def body_json(self, raw):
        return json.loads(raw.split(b"\r\n\r\n", 1)[1])

    # -- size limits

    def test_oversized_body_announced_and_streamed(self):
        # Announced: refused on the header alone, before any byte of it arrives.
        status, _ = self.request("POST", "/api/broadcasts", ["Content-Type: application/json",
                                                             "Content-Length: 50000000"], token=True)
        self.assertEqual(status, 413)
        # Streamed in chunks past the limit while the client keeps sending: the answer still arrives.
        with self.connect() as s:
            s.sendall(("POST /api/broadcasts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" % self.d.token()).encode())
            chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"a" * 64 * 1024)
            try:
                for _ in range(40):  # 2.5 MiB > the 1 MiB limit
                    s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            got = self.read_until_close(s)
        self.assertEqual(http_status(got), 413, got[:200])
        # A full oversized body sent in one go (the client does not wait for an answer).
        status, _ = self.request("POST", "/webhooks/whatsapp", ["Content-Type: application/json"],
                                 body=b"[" + b"0," * (700 * 1024) + b"0]")
        self.assertEqual(status, 413)
        self.wait_log("reason=body_too_large")

    def test_oversized_headers_and_long_paths(self):
        status, _ = self.request("GET", "/healthz", ["X-Big: " + "a" * 20000])
        self.assertEqual(status, 431)
        status, _ = self.request("GET", "/healthz", ["X-H%d: %s" % (i, "b" * 100) for i in range(300)])
        self.assertEqual(status, 431)
        status, _ = self.request("GET", "/api/" + "x" * 20000, token=True)
        self.assertEqual(status, 431)
        self.wait_log("reason=headers_too_large")
        # A long path under the limit is an ordinary unknown route.
        status, raw = self.request("GET", "/api/" + "y" * 8000, token=True)
        self.assertEqual(status, 404, raw[:300])
        status, _ = self.request("GET", "/" + "z/" * 4000)
        self.assertEqual(status, 404)

    # -- slow clients

    def test_slowloris_does_not_block_others_and_is_cut_off(self):
        slow = []
        stop = threading.Event()
        closed = {}

        def dribble(i, s):
            # One header byte a second, for ever: only the daemon's read timeout ends it.
            try:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                while not stop.is_set():
                    s.sendall(b"X")
                    if stop.wait(1.0):
                        break
            except OSError:
                pass
            # The daemon closed it: recv sees the end (or a reset).
            try:
                s.settimeout(5)
                while s.recv(4096):
                    pass
            except OSError:
                pass
            closed[i] = time.monotonic()

        threads = []
        for i in range(8):
            s = self.connect()
            slow.append(s)
            t = threading.Thread(target=dribble, args=(i, s), daemon=True)
            t.start()
            threads.append(t)
        try:
            time.sleep(1.5)  # let them all start dribbling
            # While they hold their connections, another client is served at once (30 s socket
            # timeout: a blocked listener fails this, a slow machine does not).
            for _ in range(3):
                status, body = self.d.http("GET", "/healthz", token=None)
                self.assertEqual((status, body.get("status")), (200, "ok"))
            self.assertEqual(self.d.http("GET", "/api/broadcasts")[0], 200)
            self.assertEqual(len(closed), 0, "the slow clients were cut off before the check ran")
            # The read timeout closes every one of them (the daemon's is 10 s; generous deadline).
            for t in threads:
                t.join(timeout=60)
            self.assertEqual(len(closed), 8, "slow clients still open after 60 s")
        finally:
            stop.set()
            for s in slow:
                s.close()
        self.wait_log("reason=read_timeout")

    def test_silent_connections_are_closed(self):
        # Connect and say nothing: closed by the read timeout without a word (no log line needed).
        s = self.connect()
        try:
            s.settimeout(60)
            self.assertEqual(self.read_until_close(s), b"")
        finally:
            s.close()

    # -- garbage

    def test_pipelined_requests_and_garbage(self):
        ok = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        got = self.raw(ok + ok + ok.replace(b"Host: x", b"Host: x\r\nConnection: close"))
        self.assertEqual(statuses(got), [200, 200, 200], got)
        # A good request, then garbage in the same packet: the good one is answered, the garbage gets 400.
        got = self.raw(ok + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
        self.assertEqual(statuses(got), [200, 400], got)
        for junk in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200),  # a TLS hello
                     b"GET\r\n\r\n",
                     b"GET /hea\x00lthz HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: \x00\x01\r\n\r\n",
                     b"POST /api/broadcasts HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                     b"POST /api/broadcasts HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                     b"POST /api/broadcasts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
                     b"POST /api/broadcasts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"):
            got = self.raw(junk)
            self.assertIn(http_status(got), (400, 413), (junk[:60], got[:200]))
        self.wait_log("reason=malformed")
        # Another HTTP version: 505, not a guess.
        got = self.raw(b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n")
        self.assertIn(http_status(got), (400, 505), got[:200])  # Beast's parser refuses it first (400)
        # A request cut off half-way (the client stops sending): at most a 400, nothing stored.
        with self.connect() as s:
            s.sendall(("POST /api/broadcasts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Length: 100\r\n\r\n{\"text\": \"potong" % self.d.token()).encode())
            s.shutdown(socket.SHUT_WR)
            got = self.read_until_close(s)
        self.assertIn(http_status(got), (None, 400), got[:200])

    # -- methods, tokens, paths

    @staticmethod
    def allow_header(raw):
        for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"allow":
                return value.strip().decode()
        return None

    def test_wrong_methods(self):
        # A path the daemon has, with a method it does not take: 405 and the methods it does take
        # (RFC 9110 §15.5.6), whatever the method's name; nothing is done.
        for method, target, allow in (
                ("DELETE", "/api/broadcasts", "GET, HEAD, POST"),
                ("PUT", "/api/broadcasts/1", "GET, HEAD"),
                ("DELETE", "/api/broadcasts/1", "GET, HEAD"),
                ("GET", "/api/broadcasts/1/cancel", "POST"),
                ("GET", "/api/broadcasts/1/resend", "POST"),
                ("PATCH", "/api/sim/inbound", "POST"),
                ("GET", "/api/sim/inbound", "POST"),
                ("GET", "/api/reload", "POST"),
                ("GET", "/api/backup", "POST"),
                ("GET", "/api/subscribers/forget", "POST"),
                ("GET", "/api/modems/gsm1/balance", "POST"),
                ("DELETE", "/api/aspirations", "GET, HEAD"),
                ("POST", "/api/aspirations", "GET, HEAD"),
                ("GET", "/api/aspirations/A0001/reply", "POST"),
                ("PUT", "/api/polls", "POST"),
                ("DELETE", "/api/polls/1", "GET, HEAD"),
                ("FOO", "/api/broadcasts", "GET, HEAD, POST"),
                ("OPTIONS", "/api/broadcasts", "GET, HEAD, POST"),
                ("POST", "/healthz", "GET, HEAD"),
                ("DELETE", "/readyz", "GET, HEAD"),
                ("PUT", "/metrics", "GET, HEAD")):
            status, raw = self.request(method, target, token=True)
            self.assertEqual(status, 405, (method, target, raw[:300]))
            self.assertEqual(self.allow_header(raw), allow, (method, target, raw[:300]))
            self.assertEqual(self.body_json(raw).get("allow"), allow, (method, target))
        self.wait_log('admin api request refused reason=bad_method method=DELETE path=/api/broadcasts allow="GET, HEAD, POST"')
        self.wait_log("reason=bad_method method=POST path=/healthz")
        # The token is checked first: without it a wrong method is a 401, the routes stay unlisted.
        status, raw = self.request("DELETE", "/api/broadcasts")
        self.assertEqual(status, 401, raw[:200])
        # Paths the daemon does not have are still 404, whatever the method.
        for method, target in (("GET", "/api/nothing"), ("DELETE", "/api/nothing"), ("GET", "/api/broadcasts/1/explode"),
                               ("POST", "/api/sim/outbound"), ("GET", "/api"), ("GET", "/nothing"), ("PUT", "/")):
            status, raw = self.request(method, target, token=True)
            self.assertEqual(status, 404, (method, target, raw[:300]))
            self.assertIsNone(self.allow_header(raw), (method, target))
        self.wait_log("reason=unknown_route method=DELETE path=/api/nothing")
        # HEAD is GET without the content: the same status and Content-Length, no body.
        status, raw = self.request("HEAD", "/healthz")
        self.assertEqual(status, 200, raw[:300])
        head, _, rest = raw.partition(b"\r\n\r\n")
        self.assertEqual(rest, b"")
        self.assertIn(b"content-length: 16", head.lower())  # {"status":"ok"}\n
        status, raw = self.request("HEAD", "/api/broadcasts", token=True)
        self.assertEqual(status, 200, raw[:300])
        self.assertEqual(raw.partition(b"\r\n\r\n")[2], b"")
        status, raw = self.request("HEAD", "/api/reload", token=True)
        self.assertEqual((status, self.allow_header(raw)), (405, "POST"), raw[:300])
        # Keep-alive survives a 405: the next request on the same connection is answered.
        got = self.raw(b"DELETE /api/broadcasts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + self.d.token().encode() +
                       b"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(statuses(got), [405, 200], got[:400])
        # Webhooks: GET is the verification handshake, POST the notifications, nothing else.
        status, raw = self.request("DELETE", "/webhooks/whatsapp")
        self.assertEqual(status, 405)
        self.assertEqual(self.allow_header(raw), "GET, HEAD, POST")
        self.wait_log("webhook rejected reason=bad_method method=DELETE path=/webhooks/whatsapp")
        status, _ = self.request("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
        self.assertEqual(status, 403)
        self.wait_log("reason=bad_verify_token")
        # Absolute-form and authority-form targets are refused, not routed.
        status, _ = self.request("GET", "http://127.0.0.1/api/broadcasts")
        self.assertEqual(status, 400)
        status, _ = self.request("CONNECT", "127.0.0.1:22")
        self.assertEqual(status, 400)

    def test_bad_admin_tokens(self):
        token = self.d.token()
        wrong = ("", "Bearer", "Bearer ", "Bearer wrong", "Bearer " + token[:-1], "Bearer " + token + "x",
                 "Bearer " + token[:-1] + ("A" if token[-1] != "A" else "B"), "Basic " + token, token,
                 "Bearer  " + token, "Bearer " + token + "\x00", "Bearer " + "a" * 10000)
        for value in wrong:
            headers = [] if value == "" else ["Authorization: " + value]
            for method, target, body in (("GET", "/api/broadcasts", b""),
                                         ("POST", "/api/broadcasts", b'{"text":"x","all":true}'),
                                         ("POST", "/api/sim/inbound", b'{"from":"081200000101","text":"LAPOR x"}'),
                                         ("POST", "/api/subscribers/forget", b'{"phone":"081200000101"}'),
                                         ("GET", "/api/aspirations", b"")):
                status, raw = self.request(method, target, headers + ["Content-Type: application/json"], body)
                # A NUL in a header value is refused by the parser itself (400).
                self.assertIn(status, (401, 400) if "\x00" in value else (401,), (value[:40], target, raw[:200]))
        # The token in the query string or a cookie is not the token.
        self.assertEqual(self.request("GET", "/api/broadcasts?token=" + token)[0], 401)
        self.assertEqual(self.request("GET", "/api/broadcasts", ["Cookie: token=" + token])[0], 401)
        self.wait_log("reason=bad_token")
        self.assertNotIn(token, self.d.log_text(tail=None), "the admin token appeared in the log")
        # The right token still works.
        self.assertEqual(self.request("GET", "/api/broadcasts", token=True)[0], 200)

    def test_path_tricks(self):
        # No trick reaches an admin route without the token, and none is misrouted with it.
        for target in ("/api/../api/broadcasts", "/%2e%2e/api/broadcasts", "/api/%2e%2e/api/broadcasts",
                       "/healthz/../api/broadcasts", "/webhooks/../api/broadcasts",
                       "/webhooks/whatsapp/../../api/broadcasts", "/api/./broadcasts", "/api/broadcasts/%2E%2E"):
            status, raw = self.request("GET", target, token=True)
            self.assertEqual(status, 400, (target, raw[:200]))
        self.wait_log("reason=bad_path")
        for target in ("/api/broadcasts%00", "/api/broadcasts%0d%0aX-Injected:%20yes", "/api%0a2026-01-01%20fake%20log%20line",
                       "/healthz%00", "/api/broadcasts%7f"):
            status, raw = self.request("GET", target, token=True)
            self.assertEqual(status, 400, (target, raw[:200]))
            self.assertNotIn(b"X-Injected", raw.split(b"\r\n\r\n")[0])
        self.assertNotIn("fake log line", self.d.log_text(tail=None))
        # Double slashes: the same route, and still behind the token.
        self.assertEqual(self.request("GET", "//api//broadcasts")[0], 401)
        self.assertEqual(self.request("GET", "//api//broadcasts", token=True)[0], 200)
        self.assertEqual(self.request("GET", "/API/broadcasts", token=True)[0], 404)
        # Query garbage is ignored or refused, never a crash.
        for query in ("limit=%zz&&&==&=", "limit=-1", "limit=99999999999999999999999", "limit=1e9",
                      "by=%00", "by=" + "%ff" * 100, "limit=" + "9" * 5000, "a" * 8000, "%", "%%%%", "&&&&",
                      "by=dusun&by=rt", "limit=5;DROP%20TABLE%20outbox"):
            status, raw = self.request("GET", "/api/broadcasts?" + query, token=True)
            self.assertIn(status, (200, 400), (query[:40], raw[:200]))
        for query in ("status=%00", "since=99999-99-99", "until=" + "x" * 3000, "tag=%ff%fe", "limit=-5"):
            status, raw = self.request("GET", "/api/aspirations?" + query, token=True)
            self.assertIn(status, (200, 400), (query[:40], raw[:200]))
        status, _ = self.request("GET", "/api/broadcasts/1?by=%00", token=True)
        self.assertEqual(status, 404)
        status, _ = self.request("GET", "/api/broadcasts/99999999999999999999999", token=True)
        self.assertEqual(status, 400)

    # -- bodies: content types and JSON

    def test_content_types_and_invalid_json(self):
        bodies = (b"text=hello&all=true", b"not json", b"{", b"[1,2,3]", b'"a string"', b"null", b"123",
                  b'{"text": 5, "all": true}', b'{"text": "", "all": true}', b'{"text": "x"}',
                  b'{"text": "x", "all": "yes"}',
                  b'{"text": "x", "groups": [1, 2]}', b'{"text": "x", "groups": ["no-such-group"]}',
                  b'{"text": "x", "groups": "perangkat-desa"}', b'{"text": "x", "all": true, "where": "dusun=Kaja"}',
                  b'{"text": "x", "all": true, "at": "yesterday-ish"}', b'{"text": "x", "all": true, "expires": "-5m"}',
                  b'{"text": "x", "all": true, "priority": "bencana"}', b'{"text": "x", "all": true, "where": [5]}',
                  b'{"text": "x", "all": true,}', b'{"text": "\xff\xfe", "all": true}',
                  b'{"text": "x", "all": true, "dry_run": "please"}', b'{"text": ["x"], "all": true}',
                  b'{"text": "x", "all": true, "created_by": 5}', b'{"text": "x", "all": true, "limit": 1e999}',
                  b"\xef\xbb\xbf" + b'{"text": "x", "all": true, "dry_run": 1}')
        for ctype in ("application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            for body in bodies:
                status, raw = self.request("POST", "/api/broadcasts", ["Content-Type: " + ctype], body, token=True)
                self.assertEqual(status, 400, (ctype, body, raw[:300]))
                self.assertIn("error", self.body_json(raw))
        # A number beyond a double: nlohmann throws out_of_range, not parse_error; the answer names it.
        status, raw = self.request("POST", "/api/broadcasts", ["Content-Type: application/json"],
                                   b'{"text": "x", "all": true, "n": -1e999}', token=True)
        self.assertEqual(status, 400, raw[:300])
        self.assertIn("number overflow", self.body_json(raw)["error"])
        for target in ("/api/sim/inbound", "/api/subscribers/forget", "/api/broadcasts/1/resend", "/api/polls",
                       "/api/reload", "/api/aspirations/A0001/reply"):
            for body in (b"not json", b"[]", b'{"from": 5, "phone": [1], "only": 7, "question": {}, "text": 1}'):
                if target == "/api/reload" and body.startswith(b"{"):
                    continue  # reload takes no body: a JSON object is ignored
                status, raw = self.request("POST", target, ["Content-Type: application/json"], body, token=True)
                self.assertIn(status, (400, 404), (target, body, raw[:300]))
        status, raw = self.request("POST", "/api/sim/inbound", ["Content-Type: application/json"],
                                   b'{"from": "not a phone", "text": "x"}', token=True)
        self.assertEqual(status, 400, raw[:300])

    def test_deeply_nested_json(self):
        # About 400,000 levels of nesting (under the 1 MiB body limit) once crashed the daemon with a
        # stack overflow; bodies nesting deeper than 64 levels are now refused before parsing.
        deep = b"[" * 400000 + b"]" * 400000
        status, raw = self.request("POST", "/api/broadcasts", ["Content-Type: application/json"], deep, token=True)
        self.assertEqual(status, 400, raw[:300])
        self.assertIsNone(self.d.proc.poll())

    # -- webhooks

    def signed(self, body):
        return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()

    def webhook_body(self, text="halo"):
        return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000", "phone_number_id": harness.WA_PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Warga"}, "wa_id": "6281200000101"}],
                "messages": [{"from": "6281200000101", "id": "wamid.HOSTILE%d" % time.monotonic_ns(),
                              "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}]}}]}]}).encode()

    def test_webhook_signatures_and_bodies(self):
        body = self.webhook_body()
        ctype = "Content-Type: application/json"
        cases = (
            ([ctype], 401),                                                     # no signature
            ([ctype, "X-Hub-Signature-256: "], 401),                            # empty
            ([ctype, "X-Hub-Signature-256: sha256=" + "0" * 64], 403),          # wrong
            ([ctype, "X-Hub-Signature-256: " + self.signed(body)[:-1]], 403),   # truncated
            ([ctype, "X-Hub-Signature-256: sha1=" + self.signed(body)[7:]], 403),
            ([ctype, "X-Hub-Signature-256: " + self.signed(body + b" ")], 403),  # for another body
            ([ctype, "X-Hub-Signature-256: " + "z" * 5000], 403),
            ([ctype, "X-Hub-Signature: sha1=" + hashlib.sha1(body).hexdigest()], 401),
        )
        for headers, want in cases:
            status, raw = self.request("POST", "/webhooks/whatsapp", headers, body)
            self.assertEqual(status, want, (headers, raw[:200]))
        self.wait_log("reason=missing_signature")
        self.wait_log("reason=bad_signature")
        # Correctly signed but not a webhook: refused with a reason, nothing stored.
        for bad in (b"not json", b"{}", b"[]", b'{"object": "page"}', b'{"object": "whatsapp_business_account", "entry": 5}',
                    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"from": 5}]}}]}]}',
                    b"[" * 100000 + b"]" * 100000):
            for content_type in ("application/json", "text/plain", "application/octet-stream"):
                status, raw = self.request("POST", "/webhooks/whatsapp",
                                           ["Content-Type: " + content_type, "X-Hub-Signature-256: " + self.signed(bad)], bad)
                self.assertIn(status, (400, 200), (bad[:60], raw[:200]))
                if status == 200:  # accepted as an empty notification: must have stored nothing
                    self.assertEqual(self.row_counts(), self.before, bad[:60])
        self.wait_log("reason=malformed")
        # The admin token is not a webhook signature, and a webhook path does not open the admin API.
        status, _ = self.request("POST", "/webhooks/whatsapp", [ctype], body, token=True)
        self.assertEqual(status, 401)
        status, _ = self.request("POST", "/webhooks/other", [ctype, "X-Hub-Signature-256: " + self.signed(body)], body)
        self.assertEqual(status, 404)

    def test_valid_webhook_still_stores_after_the_abuse(self):
        # The control: everything above left the listener working for a real notification.
        self.request("POST", "/webhooks/whatsapp", ["Content-Type: application/json"], b"x" * 5000)
        body = self.webhook_body("terima kasih")
        status, raw = self.request("POST", "/webhooks/whatsapp",
                                   ["Content-Type: application/json", "X-Hub-Signature-256: " + self.signed(body)], body)
        self.assertEqual(status, 200, raw[:300])
        self.assertEqual(self.d.db_query("SELECT count(*) FROM inbox WHERE text = ?", ("terima kasih",))[0][0], 1)
        self.before = None  # this one was meant to store (and its answers go on changing the outbox)


if __name__ == "__main__":
    harness.parse_args_and_run()
