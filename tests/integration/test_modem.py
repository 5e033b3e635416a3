"""Issue 7, the GSM modem: the real daemon with a modem channel on the pty modem simulator
(tests/fakes/modem_sim_main.cpp). A broadcast goes out through AT+CMGS and is delivered by status
reports; an inbound LAPOR read from the SIM becomes an aspiration and its acknowledgement goes out
through the modem; `kentongan modem balance` asks the network by USSD; the modem unplugged in the
middle of a broadcast loses nothing."""

# ctest-timeout: 240

import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import harness
from harness import DaemonTest

MODEM = "modem-tsel"
RESIDENT = "+6281200000101"  # Rosmaniar (anggota.csv)
TICKET = re.compile(r"\b(A\d{4,})\b")
DEADLINE_S = 90


class ModemSim:
    """`modem-sim --link PATH`: a modem on a pty behind a stable symlink (kept across unplug/replug).
    Control lines go to its stdin; every SMS it accepts comes back as `sent MR TO TEXT`."""

    def __init__(self, directory, args=()):
        self.link = os.path.join(directory, "ttyMODEM0")
        self.proc = subprocess.Popen([harness.fake_binary("modem-sim"), "--link", self.link] + list(args),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.device = self.proc.stdout.readline().strip()
        if not self.device:
            raise AssertionError("modem-sim printed no device path")
        self.lock = threading.Lock()
        self.sent = []  # (to, text)
        self.other = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[0] == "sent":
                with self.lock:
                    self.sent.append((parts[2], parts[3] if len(parts) > 3 else ""))
            else:
                self.other.put(line)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def sent_to(self, phone):
        with self.lock:
            return [t for to, t in self.sent if to == phone]

    def all_sent(self):
        with self.lock:
            return list(self.sent)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def modem_channel(device, **extra):
    ch = {"name": MODEM, "type": "modem", "device": device, "baud": 115200, "tps": 50, "window": 1,
          "status_reports": True, "ussd_balance": "*888#", "balance_warn_below": 20000,
          "operators": ["telkomsel"], "price_per_part": 150}
    ch.update(extra)
    return ch


def wait_for(predicate, what, daemon, deadline_s=DEADLINE_S):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("no %s within %ds:\n%s" % (what, deadline_s, daemon.log_text()))


class ModemTest(DaemonTest):

    def setUp(self):
        # The simulator first: the daemon opens the modem at start and is ready once it is up.
        if not harness.fake_binary("modem-sim"):
            self.skipTest("this build has no modem-sim (tests/fakes)")
        self.sim_dir = tempfile.mkdtemp(prefix="kentongan-modem-")
        self.addCleanup(shutil.rmtree, self.sim_dir, True)
        self.sim = ModemSim(self.sim_dir)
        self.addCleanup(self.sim.stop)
        super().setUp()

    def config(self):
        return harness.test_config(channel=modem_channel(self.sim.link))

    def modem_health(self):
        _, body = self.d.http("GET", "/readyz", token=None)
        for ch in body.get("channels", []):
            if ch["name"] == MODEM:
                return ch
        raise AssertionError("readyz lists no %s: %r" % (MODEM, body))

    def broadcast_all_delivered(self, group, text):
        bid = self.d.broadcast("--group", group, "--text", text)
        s = self.d.wait_status(bid, lambda s: s["state"] == "done" and s["delivered"] + s["failed"] == s["recipients"]
                               and s["recipients"] > 0, "every delivery report", deadline_s=DEADLINE_S)
        self.assertEqual(s["failed"], 0, s)
        self.assertEqual(s["delivered"], s["recipients"], s)
        return s

    def test_broadcast_inbound_balance_and_unplug(self):
        self.assertTrue(self.modem_health()["up"])

        # 1. A broadcast through AT+CMGS, each message delivered by its status report (+CDS).
        text = "Rapat desa Kamis pukul 19.00 di balai desa."
        s = self.broadcast_all_delivered("warga-dusun-1", text)
        got = [to for to, t in self.sim.all_sent() if t == text]
        self.assertEqual(len(got), s["recipients"], "one SMS per recipient")
        self.assertEqual(len(set(got)), len(got), "nobody got it twice")

        # 2. A resident texts LAPOR: stored on the SIM, announced by +CMTI, read, stored, deleted;
        # it becomes an aspiration and the acknowledgement with the ticket goes out by the modem.
        self.sim.command("deliver %s LAPOR lampu jalan di dusun 1 mati sejak minggu lalu" % RESIDENT)
        acks = wait_for(lambda: [t for t in self.sim.sent_to(RESIDENT) if TICKET.search(t)],
                        "ticket acknowledgement through the modem", self.d)
        ticket = TICKET.search(acks[0]).group(1)
        a = self.d.cli_json("aspirations", "show", ticket, "--json")
        self.assertEqual(a["phone"], RESIDENT)
        self.assertIn("lampu jalan", a["text"])
        self.assertEqual(a["channel"], MODEM)

        # 3. The prepaid balance by USSD, from the CLI; below balance_warn_below it warns.
        p = self.d.cli("modem", "balance", MODEM)
        self.assertIn("Rp 12.500", p.stdout)
        self.assertIn("amount: 12500", p.stdout)
        self.assertIn("warning", p.stdout)
        j = self.d.cli_json("modem", "balance", MODEM, "--json")
        self.assertEqual(j["balance_amount"], 12500)
        self.assertTrue(j["balance_low"])
        self.assertIn("modem balance low channel=%s" % MODEM, self.d.log_text(tail=None))
        health = self.modem_health()["modem"]
        self.assertEqual(health["balance_amount"], 12500)
        self.assertEqual(health["operator"], "TELKOMSEL")
        _, metrics = self.metrics()
        self.assertIn('kentongan_modem_balance{channel="%s"} 12500' % MODEM, metrics)
        self.assertIn('kentongan_modem_balance_low{channel="%s"} 1' % MODEM, metrics)
        bad = self.d.cli("modem", "balance", "nope", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("no modem channel named 'nope'", bad.stderr)

        # 4. The modem pulled out while a broadcast is queued: the channel goes down, the messages
        # wait, and after replugging every one goes out once.
        self.sim.command("unplug")
        wait_for(lambda: not self.modem_health()["up"], "channel down after the unplug", self.d)
        text2 = "Kerja bakti Minggu pagi, bawa cangkul."
        bid = self.d.broadcast("--group", "petani-kakao", "--text", text2)
        self.sim.command("replug")
        wait_for(lambda: self.modem_health()["up"], "channel up after the replug", self.d)
        s2 = self.d.wait_status(bid, lambda s: s["state"] == "done" and s["delivered"] + s["failed"] == s["recipients"]
                                and s["recipients"] > 0, "every delivery report after the replug",
                                deadline_s=DEADLINE_S)
        self.assertEqual(s2["failed"], 0, s2)
        got2 = [to for to, t in self.sim.all_sent() if t == text2]
        self.assertEqual(len(set(got2)), s2["recipients"], "every recipient got it after the replug")

    def metrics(self):
        with urllib.request.urlopen("http://%s/metrics" % self.d.listen, timeout=30) as r:
            return r.status, r.read().decode()


if __name__ == "__main__":
    harness.parse_args_and_run()
