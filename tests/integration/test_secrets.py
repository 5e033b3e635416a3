"""No secret in the logs (issue 8): a daemon at --log-level debug with an SMPP channel (kentongan
smsc-sim as the SMSC, which insists on the password) and a WhatsApp channel (the fake Graph API) runs a
broadcast, a reload, refused webhooks and an inbound message; then none of the configured secrets nor
the admin token appears in its output, the CLI's output or any file of the state directory, and
phone numbers appear only masked."""

# ctest-timeout: 240

import os
import re
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Daemon, DaemonTest

# Distinctive values: any of them in a log is a leak, never a coincidence. SMPP 3.4 passwords are at
# most 8 characters (§5.2.4).
SMPP_PASSWORD = "Qz7Kv2Wx"
WA_TOKEN = "EAAGsecretTOKEN7f3a9c1e5b"
WA_APP_SECRET = "appsecret-5e8d1c7b9a2f"
WA_VERIFY_TOKEN = "verify-9c4e2a7d1f"


class DebugDaemon(Daemon):
    """The daemon and every CLI call at --log-level debug, phones masked (no --log-phones)."""

    def global_args(self):
        return super().global_args() + ["--log-level", "debug"]


class SmscSim:
    """`kentongan smsc-sim` on a free port; its output goes to a file (a pipe nobody reads could fill up)."""

    def __init__(self, password):
        self.out = tempfile.NamedTemporaryFile(prefix="smsc-sim-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([harness.KENTONGAN, "smsc-sim", "--listen", "127.0.0.1:0", "--dlr-delay", "20",
                                      "--password", password], stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            with open(self.out.name, encoding="utf-8", errors="replace") as f:
                m = re.search(r"listening on [\d.]+:(\d+)", f.read())
            if m:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("smsc-sim did not start")
            time.sleep(0.05)
        self.port = int(m.group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        os.unlink(self.out.name)


class SecretsNotLoggedTest(DaemonTest):
    def setUp(self):
        if not harness.fake_binary("fake-graph-api"):
            raise unittest.SkipTest("fake_graph_api is not built")
        self.smsc = SmscSim(SMPP_PASSWORD)
        self.addCleanup(self.smsc.stop)
        self.fake = harness.FakeGraphApi(token=WA_TOKEN, app_secret=WA_APP_SECRET)
        self.addCleanup(self.fake.stop)
        cfg = harness.test_config()
        smpp = {"name": "smsc", "type": "smpp", "host": "127.0.0.1", "port": self.smsc.port, "system_id": "kentongan",
                "password_file": "smpp.pass", "source_addr": "KIM", "tps": 100, "window": 20,
                "enquire_link_s": 5, "price_per_part": 350}
        cfg["channels"] = [smpp, harness.whatsapp_channel(self.fake.base_url)]
        self.d = DebugDaemon(cfg)
        self.addCleanup(self.d.cleanup)
        with open(os.path.join(self.d.dir, "smpp.pass"), "w") as f:
            f.write(SMPP_PASSWORD + "\n")
        harness.write_whatsapp_secrets(self.d, token=WA_TOKEN, app_secret=WA_APP_SECRET, verify_token=WA_VERIFY_TOKEN)
        self.cli_output = []
        self.d.start()

    def cli(self, *args, check=True):
        p = self.d.cli(*args, check=check)
        self.cli_output.append(p.stdout + p.stderr)
        return p

    def test_no_secret_in_logs_and_phones_masked(self):
        out = self.cli("broadcast", "--all", "--text", "Rapat warga Jumat malam", "--json")
        bid = int(re.search(r'"id":\s*(\d+)', out.stdout).group(1))
        self.d.wait_status(bid, lambda s: s["queued"] + s["sending"] == 0, "every message handed to a channel")
        self.cli("status", str(bid))
        self.cli("reload")
        url = "http://%s/webhooks/whatsapp" % self.d.listen
        msg = {"from": "6281200000002", "name": "X", "id": "wamid.IN.forged", "text": "LAPOR palsu",
               "timestamp": int(time.time())}
        self.assertEqual(self.fake.webhook(url, messages=[msg], signature="sha256=" + "0" * 64), 403)
        code, _ = self.d.http("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
                              token=None)
        self.assertEqual(code, 403)
        # A genuine inbound message: its sender is logged (masked) by the intake.
        msg = {"from": "6281200000104", "name": "Yulianti", "id": "wamid.IN.ok", "text": "LAPOR lampu jalan mati",
               "timestamp": int(time.time())}
        self.assertEqual(self.fake.webhook(url, messages=[msg]), 200)
        deadline = time.monotonic() + 60
        while self.d.db_query("SELECT count(*) FROM aspirations")[0][0] == 0:
            self.assertLess(time.monotonic(), deadline, "the aspiration never arrived:\n" + self.d.log_text())
            time.sleep(0.2)
        admin_token = self.d.token()
        self.assertEqual(self.d.stop(), 0)

        logs = self.d.log_text(tail=None) + "\n".join(self.cli_output)
        self.assertIn("webhook rejected", logs)  # the refusals were logged (their details are what could leak)
        secrets = {"SMPP password": SMPP_PASSWORD, "WhatsApp token": WA_TOKEN, "app secret": WA_APP_SECRET,
                   "verify token": WA_VERIFY_TOKEN, "admin token": admin_token}
        for what, secret in secrets.items():
            self.assertNotIn(secret, logs, "the %s is in the logs" % what)

        # Nor in any file the daemon wrote: the database, its WAL, anything else in the state dir.
        for root, _, files in os.walk(self.d.state_dir):
            for name in files:
                if name == "admin.token":
                    continue
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read()
                for what, secret in secrets.items():
                    self.assertNotIn(secret.encode(), data, "the %s is in %s" % (what, name))

        # Phone numbers: never in full, in any spelling.
        phones = {r[0] for r in self.d.db_query("SELECT DISTINCT phone FROM outbox")}
        phones |= {r[0] for r in self.d.db_query("SELECT DISTINCT phone FROM inbox")}
        self.assertGreater(len(phones), 10)
        for phone in phones:
            digits = phone.lstrip("+")
            for spelling in (phone, digits, "0" + digits[2:]):
                self.assertNotIn(spelling, logs, "phone %s logged unmasked" % phone)


if __name__ == "__main__":
    harness.parse_args_and_run()
