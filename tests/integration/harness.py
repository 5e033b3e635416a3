"""Shared pieces of the integration tests: start the real `kentongan serve` on a temporary state
directory and a free port, drive it through the real CLI, and read what the simulated phones got.

Standard library only. Every test file runs as `python3 test_x.py --kentongan PATH [--keep]`
(`--keep` leaves the temporary directories behind for a post-mortem). Deadlines are generous and
exist only so that a broken daemon fails a test instead of hanging it: no test measures speed.
"""

import csv
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXAMPLE_DIR = os.path.join(REPO, "examples", "desa-ekasari")
EXAMPLE_CONFIG = os.path.join(EXAMPLE_DIR, "kentongan.json")

KENTONGAN = os.environ.get("KENTONGAN_BIN", "")
KEEP = False

# Generous limits against hanging, never assertions about speed.
START_DEADLINE_S = 60
FINISH_DEADLINE_S = 180
CLI_TIMEOUT_S = 60
STALL_S = 30

COUNT_KEYS = ("queued", "sending", "submitted", "delivered", "failed", "expired", "cancelled")

FINAL_STATES = ("delivered", "failed", "expired", "cancelled")


FAKE_BINARIES = {}  # "fake-graph-api" / "modem-sim" / "fake-aggregator" -> path, when the build has them


def fake_binary(name):
    """The path of a fake built with the daemon (`fake-graph-api`, `modem-sim`, `fake-aggregator`), or None."""
    return FAKE_BINARIES.get(name)


def parse_args_and_run():
    """Takes `--kentongan PATH`, `--fake-graph-api PATH`, `--modem-sim PATH` and `--keep` off argv,
    then runs unittest.main on the caller's module."""
    global KENTONGAN, KEEP
    argv = [sys.argv[0]]
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        if args[i] == "--kentongan" and i + 1 < len(args):
            KENTONGAN = args[i + 1]
            i += 2
            continue
        if args[i] in ("--fake-graph-api", "--modem-sim", "--fake-aggregator") and i + 1 < len(args):
            FAKE_BINARIES[args[i][2:]] = args[i + 1]
            i += 2
            continue
        if args[i].startswith("--kentongan="):
            KENTONGAN = args[i].split("=", 1)[1]
        elif args[i] == "--keep":
            KEEP = True
        else:
            argv.append(args[i])
        i += 1
    if not KENTONGAN or not os.access(KENTONGAN, os.X_OK):
        sys.exit("give the daemon binary: --kentongan PATH (or KENTONGAN_BIN); got %r" % KENTONGAN)
    unittest.main(module="__main__", argv=argv, verbosity=2)


# ---------------------------------------------------------------------------------------------
# Config


def strip_json_comments(text):
    """Removes // and /* */ comments outside strings, keeping line breaks so positions stay put."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def load_example_config():
    with open(EXAMPLE_CONFIG, encoding="utf-8-sig") as f:
        return json.loads(strip_json_comments(f.read()))


def read_csv_rows(path):
    """Rows of a subscriber CSV as dicts with lower-case headers (the example uses ';' and a BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        sample = f.readline()
        f.seek(0)
        delimiter = max([";", ",", "\t"], key=sample.count)
        reader = csv.DictReader(f, delimiter=delimiter)
        return [{k.strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]


def example_subscribers():
    """The example village's subscribers as dicts (inline ones and the CSV rows), attributes included."""
    cfg = load_example_config()
    people = [dict(s) for s in cfg.get("subscribers", [])]
    csv_files = cfg.get("subscribers_csv", [])
    if isinstance(csv_files, str):
        csv_files = [csv_files]
    for name in csv_files:
        people.extend(read_csv_rows(os.path.join(EXAMPLE_DIR, name)))
    return people


def sim_channel(tps=200, window=50, dlr_delay_ms=50, fail_rate=0.0, transient_fail_rate=0.0, **extra):
    ch = {"name": "sim", "type": "sim", "tps": tps, "window": window, "price_per_part": 350,
          "dlr_delay_ms": dlr_delay_ms, "fail_rate": fail_rate, "transient_fail_rate": transient_fail_rate}
    ch.update(extra)
    return ch


def test_config(channel=None, limits=None, extra_csv_rows=0):
    """The example village, with a given sim channel, no quiet hours (tests run at any hour) and
    optionally `extra_csv_rows` generated subscribers in groups petani-kakao and warga-dusun-2."""
    cfg = load_example_config()
    cfg["channels"] = [channel or sim_channel()]
    lim = dict(cfg.get("limits", {}))
    # Equal start and end: no quiet hours, so a normal broadcast goes out whatever the time of day.
    lim["quiet_hours_start"] = "00:00"
    lim["quiet_hours_end"] = "00:00"
    lim.update(limits or {})
    cfg["limits"] = lim
    if extra_csv_rows:
        csv_files = cfg.get("subscribers_csv", [])
        if isinstance(csv_files, str):
            csv_files = [csv_files]
        cfg["subscribers_csv"] = list(csv_files) + ["banyak.csv"]
    return cfg


def generated_phone(i):
    """A made-up Indonesian mobile number, distinct from the example's 0812-0000-…"""
    return "0812%08d" % (50000000 + i)


def generated_e164(i):
    return "+62812%08d" % (50000000 + i)


def write_generated_csv(path, count):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("phone;name;groups;dusun;rt\n")
        for i in range(count):
            dusun = "Dusun 1" if i % 2 == 0 else "Dusun 2"
            f.write("%s;Warga %d;petani-kakao|warga-dusun-2;%s;%02d\n" % (generated_phone(i), i, dusun, i % 7 + 1))


# ---------------------------------------------------------------------------------------------
# The daemon


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One `kentongan serve` in its own temporary directory, with the example village's files."""

    def __init__(self, config, extra_csv_rows=0):
        self.dir = tempfile.mkdtemp(prefix="kentongan-integ-")
        self.state_dir = os.path.join(self.dir, "state")
        os.makedirs(self.state_dir)
        for name in os.listdir(EXAMPLE_DIR):
            if name.endswith(".csv"):
                shutil.copy(os.path.join(EXAMPLE_DIR, name), self.dir)
        if extra_csv_rows:
            write_generated_csv(os.path.join(self.dir, "banyak.csv"), extra_csv_rows)
        self.config_file = os.path.join(self.dir, "kentongan.json")
        self.write_config(config)
        self.phones_file = os.path.join(self.dir, "phones.txt")
        self.db_file = os.path.join(self.state_dir, "kentongan.db")
        self.port = None
        self.proc = None
        self.runs = 0
        self.log_files = []

    def write_config(self, config):
        with open(self.config_file, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2, ensure_ascii=False)

    @property
    def listen(self):
        return "127.0.0.1:%d" % self.port

    def global_args(self):
        return ["--config", self.config_file, "--state-dir", self.state_dir, "--listen", self.listen]

    def start(self):
        """Starts `serve` (on a fresh free port each time) and waits until /readyz says ready."""
        assert self.proc is None, "already running"
        self.port = free_port()
        self.runs += 1
        log = os.path.join(self.dir, "serve-%d.log" % self.runs)
        self.log_files.append(log)
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            [KENTONGAN] + self.global_args() + ["serve", "--sim-record", self.phones_file],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + START_DEADLINE_S
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("kentongan serve exited with %s before it was ready:\n%s"
                                     % (self.proc.returncode, self.log_text()))
            try:
                status, body = self.http("GET", "/readyz", token=None)
                if status == 200 and body.get("status") == "ready":
                    return body
                last = (status, body)
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise AssertionError("kentongan serve not ready after %ds (last answer %r):\n%s"
                             % (START_DEADLINE_S, last, self.log_text()))

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL if it does not stop in time. Returns the exit code."""
        if self.proc is None:
            return None
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                code = "killed after SIGTERM timeout"
        else:
            code = self.proc.returncode
        self._finish()
        return code

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._finish()

    def _finish(self):
        self.proc = None
        self._log.close()

    def cleanup(self):
        self.stop()
        if KEEP:
            sys.stderr.write("kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self, tail=8000):
        """The daemon's output of every run so far (the last `tail` characters of each; None: all)."""
        parts = []
        for path in self.log_files:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                    parts.append("--- %s ---\n%s" % (os.path.basename(path), text if tail is None else text[-tail:]))
            except OSError:
                pass
        return "\n".join(parts)

    # -- admin API and CLI

    def token(self):
        with open(os.path.join(self.state_dir, "admin.token")) as f:
            return f.readline().strip()

    def http(self, method, path, body=None, token=True):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://%s%s" % (self.listen, path), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + self.token())
        try:
            with urllib.request.urlopen(req, timeout=CLI_TIMEOUT_S) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def cli(self, *args, check=True):
        """Runs `kentongan GLOBAL… ARGS…`; returns CompletedProcess (text)."""
        p = subprocess.run([KENTONGAN] + self.global_args() + list(args), capture_output=True, text=True,
                           timeout=CLI_TIMEOUT_S, cwd=self.dir)
        if check and p.returncode != 0:
            raise AssertionError("kentongan %s exited %d\nstdout: %s\nstderr: %s\n%s"
                                 % (" ".join(args), p.returncode, p.stdout, p.stderr, self.log_text()))
        return p

    def cli_json(self, *args):
        p = self.cli(*args)
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise AssertionError("kentongan %s did not print JSON: %r" % (" ".join(args), p.stdout))

    def broadcast(self, *args):
        """`kentongan broadcast ARGS --json` → the new broadcast's id."""
        out = self.cli_json("broadcast", *args, "--json")
        assert isinstance(out.get("id"), int), out
        return out["id"]

    def status(self, bid, *extra):
        return self.cli_json("status", str(bid), "--json", *extra)

    def wait_status(self, bid, predicate, what, deadline_s=FINISH_DEADLINE_S, stall_s=STALL_S, interval=0.2):
        """Polls the admin API (not the CLI: cheaper) until predicate(status) holds. Gives up at the
        deadline, or sooner when no count has moved for `stall_s` seconds while rows are unfinished
        and none is waiting for a later time (a stuck broadcast fails fast instead of at the deadline)."""
        start = time.monotonic()
        deadline = start + deadline_s
        s = None
        last_change, last_counts = start, None
        while time.monotonic() < deadline:
            code, s = self.http("GET", "/api/broadcasts/%d" % bid)
            if code == 200 and predicate(s):
                return s
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("the daemon died while waiting for %s:\n%s" % (what, self.log_text()))
            if code == 200 and stall_s:
                counts = tuple(s.get(k) for k in ("state",) + COUNT_KEYS)
                now = time.monotonic()
                if counts != last_counts:
                    last_counts, last_change = counts, now
                elif s["state"] != "scheduled" and now - last_change > stall_s:
                    raise AssertionError("broadcast %d: no progress towards %s for %ds; status %s\n%s"
                                         % (bid, what, stall_s, json.dumps(s), self.log_text()))
            time.sleep(interval)
        raise AssertionError("broadcast %d: no %s within %ds; last status %s\n%s"
                             % (bid, what, deadline_s, json.dumps(s), self.log_text()))

    def wait_done(self, bid, deadline_s=FINISH_DEADLINE_S, stall_s=STALL_S):
        """Until the broadcast is done or cancelled and no row is left unfinished."""
        return self.wait_status(
            bid, lambda s: s["state"] in ("done", "cancelled") and unfinished(s) == 0,
            "end", deadline_s, stall_s)

    def wait_phones(self, predicate, what, deadline_s=FINISH_DEADLINE_S):
        """Until predicate(phone_messages()) holds; returns the messages."""
        return poll_until(self.phone_messages, predicate, deadline_s, 0.2,
                          lambda got: "phones never got %s within %ds:\n%s" % (what, deadline_s, self.log_text()))

    def duplicate_provider_ids(self):
        """(channel, provider_id) pairs that name more than one outbox row. A delivery report
        finds its message by that pair, so one pair for two messages lets the report of one
        finish the other."""
        return self.db_query("SELECT channel, provider_id, count(*) FROM outbox WHERE provider_id IS NOT NULL "
                             "GROUP BY channel, provider_id HAVING count(*) > 1 ORDER BY 3 DESC LIMIT 10")

    # -- what the phones got, and the database (read-only)

    def phone_messages(self):
        """[(phone, provider_id, text)] in the order the simulated phones received them."""
        if not os.path.exists(self.phones_file):
            return []
        out = []
        with open(self.phones_file, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                parts = line.split("\t", 2)
                assert len(parts) == 3, "malformed phones.txt line %r" % line
                out.append(tuple(parts))
        return out

    def received(self, text):
        """phone → how many times it got exactly `text`."""
        counts = {}
        for phone, _, t in self.phone_messages():
            if t == text:
                counts[phone] = counts.get(phone, 0) + 1
        return counts

    def db_query(self, sql, params=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.db_file, uri=True, timeout=30)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def subscriber_phones(self, where_attribute=None):
        if where_attribute is None:
            return {r[0] for r in self.db_query("SELECT phone FROM subscribers")}
        key, value = where_attribute
        return {r[0] for r in self.db_query(
            "SELECT s.phone FROM subscribers s JOIN subscriber_attributes a ON a.subscriber_id = s.id "
            "WHERE a.key = ? AND a.value = ?", (key, value))}


def unfinished(s):
    return s["queued"] + s["sending"] + s["submitted"]


class DaemonTest(unittest.TestCase):
    """Each test gets `self.d`, a Daemon made from `self.config()`, started, stopped in tearDown."""

    extra_csv_rows = 0

    def config(self):
        return test_config(extra_csv_rows=self.extra_csv_rows)

    def setUp(self):
        self.d = Daemon(self.config(), extra_csv_rows=self.extra_csv_rows)
        self.addCleanup(self.d.cleanup)
        self.d.start()

    def tearDown(self):
        # Every test ends with a clean stop, and no sanitizer (CI runs these under ASan+UBSan)
        # may have complained in any of the daemon's runs, killed ones included.
        code = self.d.stop()
        self.assertEqual(self.sanitizer_reports(), [], "sanitizer reports in the daemon's log")
        if code is not None:  # None: the test stopped it already
            self.assertEqual(code, 0, "kentongan serve did not exit 0 on SIGTERM:\n" + self.d.log_text())

    def sanitizer_reports(self):
        return [line for line in self.d.log_text(tail=None).splitlines() if SANITIZER_REPORT.search(line)]

    def assertStatusCountsConsistent(self, s):
        keys = COUNT_KEYS
        for k in keys + ("recipients",):
            self.assertIsInstance(s[k], int, k)
        self.assertEqual(sum(s[k] for k in keys), s["recipients"], s)


SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error: |SUMMARY: \w+Sanitizer")

FILE_LINE_COL = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?P<col>\d+): ")


# ---------------------------------------------------------------------------------------------
# WhatsApp: the fake Graph API (tests/fakes/graph_api_main.cpp) as its own process


WA_PHONE_NUMBER_ID = "106540352242922"


def whatsapp_channel(api_base, name="wa", tps=50, window=10, templates=None, **extra):
    """A "whatsapp" channel entry whose secrets are the files wa.token, wa.secret and wa.verify next
    to the config (write them with write_whatsapp_secrets before the daemon starts)."""
    ch = {"name": name, "type": "whatsapp", "api_base": api_base, "api_version": "v21.0",
          "phone_number_id": WA_PHONE_NUMBER_ID, "token_file": "wa.token", "app_secret_file": "wa.secret",
          "verify_token_file": "wa.verify", "tps": tps, "window": window,
          "templates": {"broadcast": "pengumuman_desa"} if templates is None else templates}
    ch.update(extra)
    return ch


def write_whatsapp_secrets(daemon, token="test-token", app_secret="test-app-secret", verify_token="kentongan-verify"):
    for name, value in (("wa.token", token), ("wa.secret", app_secret), ("wa.verify", verify_token)):
        with open(os.path.join(daemon.dir, name), "w") as f:
            f.write(value + "\n")


# The fakes from tests/fakes as their own processes (tests/fakes/fake_main.hpp: the same command line
# and "listening http://…" line for each)


class FakeHttpProcess:
    """A fake HTTP server from tests/fakes (`binary` as given to the harness) on 127.0.0.1 and a free
    port, started with `args`; its control routes (/_fake/…) take and answer JSON."""

    def __init__(self, binary, program, what, args=(), skip_reason=None):
        path = fake_binary(binary)
        if not path:
            raise unittest.SkipTest(skip_reason or "%s is not built" % program)
        self.what = what
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([path, "--port", "0"] + list(args), stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening (http://\S+)", line)
        if not m:
            self.stop()
            raise AssertionError("%s did not start: %r" % (program, line))
        self.base_url = m.group(1)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
        self.proc = None
        self.log.close()

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=CLI_TIMEOUT_S) as r:
            return json.loads(r.read() or b"null")

    def requests(self):
        """Every request the fake recorded so far, in order (answer_status 0 = never answered)."""
        return self.call("GET", "/_fake/requests")

    def wait_requests(self, predicate, what, deadline_s=FINISH_DEADLINE_S, daemon=None):
        """Until predicate(requests()) holds; returns the requests."""
        return poll_until(self.requests, predicate, deadline_s, 0.2,
                          lambda got: "%s never saw %s within %ds; requests %s\n%s"
                          % (self.what, what, deadline_s, json.dumps(got[-20:], indent=1),
                             daemon.log_text() if daemon else ""))


class FakeGraphApi(FakeHttpProcess):
    """`fake_graph_api` (tests/fakes/graph_api_main.cpp): records every request to the Cloud API
    (dicts: to, type, body, authorization, answer_id, answer_status), answers per recipient (or by a
    script), and posts webhooks signed with the app secret."""

    def __init__(self, token="test-token", app_secret="test-app-secret", phone_number_id=WA_PHONE_NUMBER_ID):
        self.token, self.app_secret, self.phone_number_id = token, app_secret, phone_number_id
        super().__init__("fake-graph-api", "fake_graph_api", "the fake Graph API",
                         ["--token", token, "--app-secret", app_secret, "--phone-number-id", phone_number_id],
                         "fake_graph_api is not built (configure with the WhatsApp channel)")

    def set_behaviour(self, to, behaviour):
        self.call("POST", "/_fake/behaviour", {"to": to, "behaviour": behaviour})

    def script(self, *steps):
        """steps: (behaviour, count)…: the next requests, whoever they are for, get these answers."""
        self.call("POST", "/_fake/script", {"sequence": [{"behaviour": b, "count": n} for b, n in steps]})

    def set_token(self, token):
        self.call("POST", "/_fake/token", {"token": token})

    def webhook(self, url, messages=(), statuses=(), body=None, signature=None):
        """Posts one signed webhook to `url` and returns the HTTP status it got. messages: dicts
        {from, name, id, text, timestamp}; statuses: {id, status, recipient, timestamp[, error_code,
        error_title]} — all in ONE notification, as Meta batches them."""
        req = {"url": url, "wait": True}
        if body is not None:
            req["body"] = body
        else:
            req["messages"] = list(messages)
            req["statuses"] = list(statuses)
        if signature is not None:
            req["signature"] = signature
        return self.call("POST", "/_fake/webhook", req)["status"]


class FakeAggregator(FakeHttpProcess):
    """`fake_aggregator` (tests/fakes/aggregator_main.cpp): records every send (dicts: method, path,
    params, to, answer_id, answer_status) and answers per recipient."""

    def __init__(self):
        super().__init__("fake-aggregator", "fake_aggregator", "the fake aggregator", (),
                         "fake_aggregator is not built (the harness got no --fake-aggregator PATH)")

    def set_behaviour(self, to, behaviour, times=-1):
        self.call("POST", "/_fake/behaviour", {"to": to, "behaviour": behaviour, "times": times})

    def wait_requests(self, predicate, what, daemon, deadline_s=90):
        return super().wait_requests(predicate, what, deadline_s, daemon)


def poll_until(fetch, predicate, deadline_s, interval_s, failure):
    """fetch() until predicate(fetch()) holds and return that value; past deadline_s raise
    AssertionError(failure(last value)). A guard against hangs, not a timing assertion."""
    deadline = time.monotonic() + deadline_s
    while True:
        got = fetch()
        if predicate(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(failure(got))
        time.sleep(interval_s)

