"""The CLI without a daemon: `check-config` explains a broken config as FILE:LINE:COL: lines and
exits 1, accepts the example village with exit 0; `--help` works on every (sub)command."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import FILE_LINE_COL


def run(*args, cwd=None):
    return subprocess.run([harness.KENTONGAN] + list(args), capture_output=True, text=True,
                          timeout=harness.CLI_TIMEOUT_S, cwd=cwd)


def subcommands(help_text):
    """Names listed under "Subcommands:" in CLI11's help."""
    names = []
    in_section = False
    for line in help_text.splitlines():
        if line.strip().lower().startswith("subcommands"):
            in_section = True
            continue
        if in_section:
            m = re.match(r"^\s{2}(\S+)", line)
            if not line.strip():
                break
            if m:
                names.append(m.group(1))
    return names


# A config with known mistakes, one per line that we can point at. (line, what the message mentions)
BROKEN_CONFIG = """{
  "village": { "name": "Desa Uji", "timezone": "Asia/Jakarta", "country": "ID" },
  "channels": [ { "name": "sim", "type": "sim", "tps": "cepat" } ],
  "groups": [
    { "id": "petani", "self_subscibe": true }
  ],
  "subscribers": [
    { "phone": "0812-34", "name": "Wayan", "groups": ["petani"] }
  ],
  "subscribers_csv": "warga.csv"
}
"""
BROKEN_CONFIG_ERRORS = [
    ("kentongan.json", 3, "tps"),
    ("kentongan.json", 5, "self_subscribe"),
    ("kentongan.json", 8, "phone"),
]
BROKEN_CSV = "phone;name;groups\n0812-0000-0901;Basril;petani\n0812-0000-0902;Ratna;petani-kako\n"
BROKEN_CSV_ERRORS = [("warga.csv", 3, "petani-kako")]


class CheckConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="kentongan-integ-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_example_village_is_valid(self):
        p = run("--config", harness.EXAMPLE_CONFIG, "check-config")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("config OK", p.stdout)

    def test_derived_test_config_is_valid(self):
        # The config every daemon test starts from must itself be valid, or their failures mislead.
        d = harness.Daemon(harness.test_config(extra_csv_rows=10), extra_csv_rows=10)
        self.addCleanup(d.cleanup)
        p = run("--config", d.config_file, "check-config")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_broken_config_lists_every_error_with_file_line_col(self):
        config = os.path.join(self.dir, "kentongan.json")
        with open(config, "w") as f:
            f.write(BROKEN_CONFIG)
        with open(os.path.join(self.dir, "warga.csv"), "w") as f:
            f.write(BROKEN_CSV)

        p = run("--config", config, "check-config")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        located = []
        for line in p.stdout.splitlines():
            m = FILE_LINE_COL.match(line)
            if m:
                located.append((os.path.basename(m.group("file")), int(m.group("line")), int(m.group("col")), line))
        self.assertTrue(located, "no FILE:LINE:COL: line in:\n" + p.stdout)
        for file, line, col, _ in located:
            self.assertGreaterEqual(col, 1)
            self.assertIn(file, ("kentongan.json", "warga.csv"))
        for file, line, mention in BROKEN_CONFIG_ERRORS + BROKEN_CSV_ERRORS:
            with self.subTest(file=file, line=line):
                hits = [l for f, n, _, l in located if f == file and n == line]
                self.assertTrue(hits, "no error at %s:%d in:\n%s" % (file, line, p.stdout))
                self.assertTrue(any(mention in h for h in hits), hits)
        # The typo gets the nearest known key suggested.
        self.assertIn('did you mean "self_subscribe"', p.stdout)

    def test_syntax_error_points_at_its_position(self):
        config = os.path.join(self.dir, "kentongan.json")
        with open(config, "w") as f:
            f.write('{\n  "village": { "name": "Desa Uji" }\n  "groups": []\n}\n')  # missing comma, line 3
        p = run("--config", config, "check-config")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        lines = [FILE_LINE_COL.match(l) for l in p.stdout.splitlines()]
        self.assertTrue(any(m and int(m.group("line")) == 3 for m in lines), p.stdout)

    def test_missing_file_is_an_error(self):
        p = run("--config", os.path.join(self.dir, "tidak-ada.json"), "check-config")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)

    def test_serve_refuses_a_broken_config(self):
        config = os.path.join(self.dir, "kentongan.json")
        with open(config, "w") as f:
            f.write(BROKEN_CONFIG)
        with open(os.path.join(self.dir, "warga.csv"), "w") as f:
            f.write(BROKEN_CSV)
        p = run("--config", config, "--state-dir", os.path.join(self.dir, "state"),
                "--listen", "127.0.0.1:%d" % harness.free_port(), "serve")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("check-config", p.stderr + p.stdout)


class HelpTest(unittest.TestCase):
    # At least these must exist (issue 3); others found in the help are checked too.
    REQUIRED = {("serve",), ("check-config",), ("broadcast",), ("status",), ("cancel",), ("sim",), ("sim", "send"),
                ("sms-info",), ("demo",)}

    def test_help_on_every_subcommand_exits_0(self):
        top = run("--help")
        self.assertEqual(top.returncode, 0, top.stderr)
        found = set()
        todo = [(name,) for name in subcommands(top.stdout)]
        while todo:
            path = todo.pop()
            found.add(path)
            with self.subTest(command=" ".join(path)):
                p = run(*path, "--help")
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn("Usage:", p.stdout)
                self.assertIn(path[-1], p.stdout)
                todo.extend(path + (name,) for name in subcommands(p.stdout))
        self.assertLessEqual(self.REQUIRED, found, "subcommands missing from --help")

    def test_broadcast_help_documents_its_options(self):
        p = run("broadcast", "--help")
        for option in ("--group", "--all", "--text", "--file", "--at", "--priority", "--expires", "--dry-run",
                       "--json", "--where", "--resend"):
            self.assertIn(option, p.stdout)

    def test_unknown_subcommand_is_a_usage_error(self):
        p = run("kirim-pesan")
        self.assertNotEqual(p.returncode, 0)

    def test_sms_info_json(self):
        p = run("sms-info", "--json", "Harga kakao Rp 95.000/kg")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual((out["encoding"], out["parts"]), ("gsm7", 1))
        self.assertEqual(out["segments"], ["Harga kakao Rp 95.000/kg"])

    def test_commands_need_a_running_daemon(self):
        # No daemon on this port: a clear error, not a hang or a crash.
        d = tempfile.mkdtemp(prefix="kentongan-integ-cli-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "admin.token"), "w") as f:
            f.write("0" * 48 + "\n")
        p = run("--state-dir", d, "--listen", "127.0.0.1:%d" % harness.free_port(), "status")
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(p.stderr.startswith("kentongan: "), p.stderr)


if __name__ == "__main__":
    harness.parse_args_and_run()
