"""Issue 9, disk full: the daemon's state directory (database, WAL, admin token) on a small tmpfs the
test mounts (root only; skipped otherwise, with the reason). A broadcast is under way and residents'
messages are stored; then a filler file takes every free byte. The daemon must say so (log, /readyz
not ready, 503 "disk full" to API clients), refuse new work, lose nothing it had accepted, and carry
on by itself once the filler is deleted: the broadcast completes, every accepted message is there,
new work is accepted again and the database passes its integrity check."""

# ctest-timeout: 240

import errno
import os
import subprocess
import time
import unittest
import urllib.request

import harness
from harness import Daemon

RESIDENTS = ["+62812000001%02d" % i for i in range(1, 6)]
FS_SIZE = "24m"


def can_mount():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def fill(path):
    """Writes `path` until the file system refuses; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 16, 1 << 12, 512, 1):
            block = b"\0" * size
            while True:
                try:
                    f.write(block)
                    written += size
                except OSError as e:
                    if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                        raise
                    break
    return written


class DiskFullTest(unittest.TestCase):

    def setUp(self):
        if not can_mount():
            self.skipTest("needs root to mount a small tmpfs for the database (CI runs as root); "
                          "RLIMIT_FSIZE is no substitute: SQLite reports EFBIG as an I/O error, not SQLITE_FULL")
        cfg = harness.test_config(channel=harness.sim_channel(tps=150, window=20, dlr_delay_ms=20),
                                  limits={"inbound_per_minute": 1000, "auto_replies_per_hour": 1000,
                                          "retry_base_s": 1, "retry_max_s": 2}, extra_csv_rows=1500)
        self.d = Daemon(cfg, extra_csv_rows=1500)
        self.addCleanup(self.d.cleanup)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % FS_SIZE, "tmpfs", self.d.state_dir],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (%s)" % r.stderr.strip())
        self.addCleanup(self.unmount)
        self.filler = os.path.join(self.d.state_dir, "filler")

    def unmount(self):
        self.d.stop()
        subprocess.run(["umount", "-l", self.d.state_dir], capture_output=True)

    def post(self, path, body):
        return self.d.http("POST", path, body)

    def test_full_disk_is_reported_refused_and_survived(self):
        d = self.d
        d.start()
        # Accepted before the disk fills: a broadcast to everyone, and residents' messages.
        everyone = len(d.subscriber_phones())
        text = "Gotong royong Minggu pagi di balai desa"
        bid = d.broadcast("--all", "--text", text)
        for i, phone in enumerate(RESIDENTS):
            status, body = self.post("/api/sim/inbound", {"from": phone, "text": "sebelum penuh %d" % i})
            self.assertEqual(status, 202, body)
        d.wait_phones(lambda m: sum(1 for _, _, t in m if t == text) >= 100, "the broadcast under way", deadline_s=90)
        deadline = time.monotonic() + 60
        while d.db_query("SELECT count(*) FROM inbox WHERE text LIKE 'sebelum penuh %'")[0][0] < len(RESIDENTS):
            self.assertLess(time.monotonic(), deadline, "the residents' messages were never stored")
            time.sleep(0.1)

        # The disk fills. Writes keep coming (the broadcast's progress, new broadcasts): within a
        # few of them the daemon finds out and says so.
        fill(self.filler)
        refused = None
        deadline = time.monotonic() + 90
        n = 0
        while time.monotonic() < deadline:
            status, body = self.post("/api/broadcasts", {"text": "Uji %d" % n, "groups": ["perangkat-desa"]})
            n += 1
            if status == 503:
                refused = body
                break
            self.assertEqual(status, 201, body)
            time.sleep(0.05)
        self.assertIsNotNone(refused, "no write ever failed on the full disk:\n" + d.log_text())
        self.assertIn("disk full", refused["error"])
        self.assertEqual(refused.get("reason"), "disk_full")
        created_before_full = n - 1

        # Reported: readyz not ready (saying why), a log line; alive and answering.
        status, ready = d.http("GET", "/readyz", token=None)
        self.assertEqual(status, 503, ready)
        self.assertTrue(ready.get("disk_full"), ready)
        self.assertIn("disk full", d.log_text(tail=None))
        self.assertEqual(d.http("GET", "/healthz", token=None)[0], 200)
        # A read may share a batch with failing writes: answered, or refused as disk full, never a 500.
        self.assertIn(d.http("GET", "/api/broadcasts/%d" % bid)[0], (200, 503))
        # New work refused with a clear error, and nothing of it stored.
        for path, body in (("/api/broadcasts", {"text": "tidak boleh", "all": True}),
                           ("/api/sim/inbound", {"from": RESIDENTS[0], "text": "saat penuh"})):
            status, reply = self.post(path, body)
            self.assertEqual(status, 503, (path, reply))
            self.assertIn("disk full", reply["error"])
        self.assertIsNone(d.proc.poll(), "the daemon died on a full disk:\n" + d.log_text())

        # Space returns: the daemon notices by itself and carries on.
        os.unlink(self.filler)
        deadline = time.monotonic() + 60
        while True:
            status, ready = d.http("GET", "/readyz", token=None)
            if status == 200:
                break
            self.assertLess(time.monotonic(), deadline, "still not ready after space returned: %r\n%s" % (ready, d.log_text()))
            time.sleep(0.2)
        status, body = self.post("/api/broadcasts", {"text": "Sudah lega", "groups": ["perangkat-desa"]})
        self.assertEqual(status, 201, body)
        status, body = self.post("/api/sim/inbound", {"from": RESIDENTS[0], "text": "setelah lega"})
        self.assertEqual(status, 202, body)

        # Nothing accepted was lost: the broadcast reaches everyone, the messages are all there.
        s = d.wait_done(bid, deadline_s=150)
        self.assertEqual(s["recipients"], everyone)
        self.assertEqual(s["delivered"] + s["failed"], everyone, s)
        got = d.received(text)
        self.assertEqual(len(got), everyone, "recipients without the broadcast: %d" % (everyone - len(got)))
        texts = {r[0] for r in d.db_query("SELECT text FROM inbox")}
        for i in range(len(RESIDENTS)):
            self.assertIn("sebelum penuh %d" % i, texts)
        deadline = time.monotonic() + 60
        while "setelah lega" not in {r[0] for r in d.db_query("SELECT text FROM inbox")}:
            self.assertLess(time.monotonic(), deadline, "the message after space returned was never stored")
            time.sleep(0.1)
        self.assertNotIn("saat penuh", texts)
        # Every broadcast answered 201 exists; none answered 503 does.
        made = {r[0] for r in d.db_query("SELECT text FROM broadcasts")}
        for i in range(created_before_full):
            self.assertIn("Uji %d" % i, made)
        self.assertNotIn("Uji %d" % created_before_full, made)
        self.assertNotIn("tidak boleh", made)
        self.assertEqual(d.db_query("PRAGMA integrity_check")[0][0], "ok")
        self.assertEqual(d.stop(), 0, d.log_text())
        reports = [line for line in d.log_text(tail=None).splitlines() if harness.SANITIZER_REPORT.search(line)]
        self.assertEqual(reports, [])


if __name__ == "__main__":
    harness.parse_args_and_run()
