"""SMPP pieces of the crash and fault tests (issue 9): the SMSC simulator (`kentongan smsc-sim`) as
its own process with its `--record` file read back, an smpp channel for the config, and a TCP proxy
that injects network faults between the daemon and the simulator.

Standard library only. The proxy forwards bytes between 127.0.0.1 ports and, on command, drops every
link at once (RST), black-holes traffic in both directions (links stay open, nothing arrives: the
daemon's response timeout and enquire_link must notice) or refuses new links.
"""

import json
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import harness

START_DEADLINE_S = 30


def smpp_channel(name, port, password_file, tps=200, window=20, **extra):
    """An smpp channel for harness.test_config(channel=...) to 127.0.0.1:port."""
    ch = {"name": name, "type": "smpp", "host": "127.0.0.1", "port": port, "system_id": "kentongan",
          "password_file": password_file, "source_addr": "KIM EKASARI", "tps": tps, "window": window,
          "price_per_part": 350, "enquire_link_s": 5, "response_timeout_s": 5, "reconnect_max_s": 2}
    ch.update(extra)
    return ch


def digits(phone):
    """'+6281…' and '6281…' compare equal: the simulator records destination_addr as sent."""
    return phone.lstrip("+")


class SmscSim:
    """`kentongan smsc-sim` on 127.0.0.1: the first start picks a free port, later starts reuse it
    (a restart, as the daemon sees it). Every run appends to the same record file. password "" lets
    any password bind; `args` are more smsc-sim options (--malformed, --mo-file, …)."""

    def __init__(self, workdir, name="smsc", password="rahasia", dlr_delay_ms=0, throttle_after=0, port=0, args=()):
        self.workdir, self.name, self.password = workdir, name, password
        self.dlr_delay_ms, self.throttle_after = dlr_delay_ms, throttle_after
        self.port = port
        self.args = list(args)
        self.record_file = os.path.join(workdir, "%s-record.jsonl" % name)
        self.proc = None
        self.runs = 0
        self.log_files = []
        self._log = None
        self._reader = RecordReader(self.record_file)

    def start(self, mo_lines=(), throttle_after=None):
        """mo_lines: [(from, text)] sent to the first receiver that binds in this run."""
        assert self.proc is None
        self.runs += 1
        args = [harness.KENTONGAN, "smsc-sim", "--listen", "127.0.0.1:%d" % self.port, "--record", self.record_file]
        if self.password:
            args += ["--password", self.password]
        args += ["--dlr-delay", str(self.dlr_delay_ms)] + self.args
        ta = self.throttle_after if throttle_after is None else throttle_after
        if ta:
            args += ["--throttle-after", str(ta)]
        if mo_lines:
            mo_file = os.path.join(self.workdir, "%s-mo-%d.txt" % (self.name, self.runs))
            with open(mo_file, "w", encoding="utf-8") as f:
                for sender, text in mo_lines:
                    f.write("%s %s\n" % (sender, text))
            args += ["--mo-file", mo_file]
        log = os.path.join(self.workdir, "%s-%d.log" % (self.name, self.runs))
        self.log_files.append(log)
        self._log = open(log, "wb")
        # A port that was just closed may still be taken for a moment (TIME_WAIT is fine with
        # SO_REUSEADDR, a slow exit is not): retry the listen a few times.
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir)
            while time.monotonic() < deadline:
                text = self.log_text(last_only=True)
                if "listening on" in text:
                    if not self.port:
                        self.port = int(text.split("listening on", 1)[1].split()[0].rsplit(":", 1)[1])
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            if self.proc.poll() is None or time.monotonic() >= deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("smsc-sim did not start:\n" + self.log_text())
            self.proc = None
            time.sleep(0.2)

    def stop(self):
        """SIGTERM; returns what every run printed (the last one ends with its counters)."""
        if self.proc is None:
            return self.log_text()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._log.close()
        return self.log_text()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self._log.close()

    def log_text(self, last_only=False):
        parts = []
        for path in (self.log_files[-1:] if last_only else self.log_files):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    parts.append(f.read())
            except OSError:
                pass
        return "\n".join(parts)

    def events(self, kind=None):
        """Every event recorded so far (all runs), in order; only those of `kind` when given."""
        events = self._reader.read()
        return events if kind is None else [e for e in events if e["event"] == kind]

    def wait_events(self, predicate, what, daemon=None, deadline_s=120):
        """Until predicate(events()) holds; returns the events."""
        return harness.poll_until(self.events, predicate, deadline_s, 0.1,
                                  lambda ev: "smsc-sim never recorded %s within %ds; last events %s\n%s\n%s"
                                  % (what, deadline_s, ev[-10:], self.log_text(),
                                     daemon.log_text() if daemon else ""))


def seeded_rng():
    """A random.Random for the fault moments: KENTONGAN_SEED=N replays a run; the seed is printed."""
    seed = int(os.environ.get("KENTONGAN_SEED") or random.SystemRandom().randrange(1 << 30))
    sys.stderr.write("\nKENTONGAN_SEED=%d\n" % seed)
    return random.Random(seed)


def smpp_daemon(test, channels, limits, password, extra_csv_rows):
    """The daemon of the crash and fault suites (not started): harness.test_config with `limits` and
    these channels (their password_file "smsc.pass" holds `password`, 0600), cleaned up after `test`."""
    cfg = harness.test_config(extra_csv_rows=extra_csv_rows, limits=limits)
    cfg["channels"] = channels
    d = harness.Daemon(cfg, extra_csv_rows=extra_csv_rows)
    test.addCleanup(d.cleanup)
    with open(os.path.join(d.dir, "smsc.pass"), "w") as f:
        f.write(password + "\n")
    os.chmod(os.path.join(d.dir, "smsc.pass"), 0o600)
    return d


def smsc_sim(test, workdir, name, port, password, **kwargs):
    """An SmscSim (not started) stopped after `test`."""
    sim = SmscSim(workdir, name, password=password, port=port, **kwargs)
    test.addCleanup(sim.stop)
    return sim


class RecordReader:
    """Reads a JSON-lines file incrementally; a line still being written is left for the next call."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.events = []

    def read(self):
        if not os.path.exists(self.path):
            return self.events
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n")
        if end >= 0:
            for line in data[:end].split(b"\n"):
                if line.strip():
                    self.events.append(json.loads(line))
            self.offset += end + 1
        return self.events


def submits_by_dest(events, text):
    """digits(dest) → [index in events] of each submit of exactly `text` (one-part messages)."""
    out = {}
    for i, e in enumerate(events):
        if e.get("event") == "submit" and e.get("text") == text:
            out.setdefault(digits(e["dest"]), []).append(i)
    return out


def acked_mo_texts(events):
    """Texts of MO messages the daemon acknowledged (deliver_sm_resp OK for every part)."""
    return [e["message"] for e in events if e.get("event") == "mo_acked" and e.get("part", 1) == e.get("parts", 1)]


# ---------------------------------------------------------------------------------------------
# The fault-injecting proxy


class FaultProxy:
    """127.0.0.1:port → 127.0.0.1:upstream_port, one thread per link. Modes: 'pass' forwards,
    'blackhole' reads and discards both ways (links stay open; new links are accepted and never
    connected upstream). drop_links() resets every link now."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.lock = threading.Lock()
        self.links = []
        self.stats = {"links": 0, "drops": 0, "blackholes": 0, "bytes_discarded": 0, "upstream_refused": 0}
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def set_mode(self, mode):
        assert mode in ("pass", "blackhole")
        with self.lock:
            if mode == "blackhole" and self.mode != "blackhole":
                self.stats["blackholes"] += 1
            self.mode = mode

    def drop_links(self):
        """Every link is reset by its own thread within ~0.1 s (closing a socket under another
        thread's select is not safe)."""
        with self.lock:
            self.stats["drops"] += len(self.links)
            self.links = []

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.drop_links()

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                mode = self.mode
                self.stats["links"] += 1
            upstream = None
            if mode == "pass":
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                    upstream.settimeout(None)
                except OSError:
                    with self.lock:
                        self.stats["upstream_refused"] += 1
                    _reset(client)
                    continue
            pair = (client, upstream) if upstream else (client,)
            with self.lock:
                self.links.append(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair):
        client = pair[0]
        upstream = pair[1] if len(pair) > 1 else None
        socks = [s for s in (client, upstream) if s is not None]
        try:
            while True:
                readable, _, _ = select.select(socks, [], [], 0.1)
                with self.lock:
                    alive = any(p is pair for p in self.links)
                    mode = self.mode
                if not alive:
                    return
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    if mode == "blackhole" or upstream is None:
                        with self.lock:
                            self.stats["bytes_discarded"] += len(data)
                        continue
                    (upstream if s is client else client).sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                self.links = [p for p in self.links if p is not pair]
            for s in socks:
                _reset(s)


def _reset(s):
    """Close with RST (SO_LINGER 0), as a cut cable or a crashed peer looks to the other side."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
