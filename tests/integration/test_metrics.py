"""GET /metrics (issue 8): the Prometheus text format, and the figures after a broadcast, an inbound
message and a refused webhook."""

import re
import time
import urllib.request

from harness import DaemonTest, parse_args_and_run, sim_channel, test_config

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>.*)\})? (?P<value>\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)')


def parse_exposition(text):
    """{family: {"type", "help", "samples": [(name, {label: value}, float)]}}; raises on a malformed line."""
    families, current = {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            current = families.setdefault(name, {"samples": []})
            assert help_text, "HELP without text: %r" % line
            current["help"] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name in families, "TYPE before HELP: %r" % line
            families[name]["type"] = kind
        elif line.startswith("#") or not line:
            raise AssertionError("unexpected line %r" % line)
        else:
            m = SAMPLE.match(line)
            assert m, "malformed sample %r" % line
            labels = {}
            raw = m.group("labels") or ""
            pos = 0
            while pos < len(raw):
                lm = LABEL.match(raw, pos)
                assert lm, "malformed labels in %r" % line
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
            name = m.group("name")
            family = next((f for f in (name, re.sub(r"_(bucket|sum|count)$", "", name)) if f in families), None)
            assert family is not None, "sample %r before its family's HELP/TYPE" % line
            value = float("inf") if m.group("value") == "+Inf" else float(m.group("value"))
            families[family]["samples"].append((name, labels, value))
    return families


def value(families, name, **labels):
    family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in families else name
    for n, l, v in families[family]["samples"]:
        if n == name and all(l.get(k) == want for k, want in labels.items()):
            return v
    raise AssertionError("no sample %s%r in %r" % (name, labels, families.get(family)))


class MetricsTest(DaemonTest):
    def config(self):
        return test_config(channel=sim_channel(tps=200, window=50, dlr_delay_ms=20))

    def scrape(self):
        with urllib.request.urlopen("http://%s/metrics" % self.d.listen, timeout=30) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            return r.read().decode()

    def scrape_until(self, predicate, what):
        deadline = time.monotonic() + 60
        while True:
            fams = parse_exposition(self.scrape())
            try:
                if predicate(fams):
                    return fams
            except AssertionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("metrics never showed %s:\n%s" % (what, self.scrape()))
            time.sleep(0.5)

    def test_metrics_after_a_broadcast(self):
        fams = parse_exposition(self.scrape())
        for name in ("kentongan_messages", "kentongan_queue_depth", "kentongan_queue_oldest_age_seconds",
                     "kentongan_submit_latency_seconds", "kentongan_inbound_messages", "kentongan_aspirations",
                     "kentongan_channel_up", "kentongan_channel_reconnects_total", "kentongan_channel_downs_total",
                     "kentongan_webhook_rejects_total", "kentongan_messages_submitted_total"):
            self.assertIn(name, fams)
            self.assertTrue(name.startswith("kentongan_"))
        self.assertEqual(fams["kentongan_submit_latency_seconds"]["type"], "histogram")
        self.assertEqual(fams["kentongan_webhook_rejects_total"]["type"], "counter")
        self.assertEqual(value(fams, "kentongan_channel_up", channel="sim", kind="sim"), 1)
        self.assertEqual(value(fams, "kentongan_aspirations", status="baru"), 0)

        bid = self.d.broadcast("--group", "petani-kakao", "--text", "Penyuluhan hama kakao")
        s = self.d.wait_done(bid)
        n = s["recipients"]
        # Database figures are cached for a few seconds: wait for the scrape that has the broadcast.
        fams = self.scrape_until(lambda f: value(f, "kentongan_messages", channel="sim", state="delivered") >= n,
                                 "the delivered broadcast")
        self.assertEqual(value(fams, "kentongan_queue_depth"), 0)
        self.assertEqual(value(fams, "kentongan_queue_oldest_age_seconds"), 0)
        self.assertEqual(value(fams, "kentongan_messages_submitted_total", channel="sim"), n)
        self.assertEqual(value(fams, "kentongan_submit_latency_seconds_count", channel="sim"), n)
        self.assertEqual(value(fams, "kentongan_submit_latency_seconds_bucket", channel="sim", le="+Inf"), n)
        buckets = [(float(l["le"]), v) for name, l, v in fams["kentongan_submit_latency_seconds"]["samples"]
                   if name.endswith("_bucket")]
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets), "buckets are cumulative")
        self.assertGreaterEqual(value(fams, "kentongan_submit_latency_seconds_sum", channel="sim"), 0)
        self.assertEqual(value(fams, "kentongan_channel_reconnects_total", channel="sim"), 0)

        # An inbound aspiration by the simulated network, and a refused webhook.
        self.d.cli("sim", "send", "--from", "081299990001", "LAPOR jalan rusak di RT 03")
        code, _ = self.d.http("POST", "/webhooks/whatsapp", {"object": "whatsapp_business_account"}, token=None)
        self.assertGreaterEqual(code, 400)
        fams = self.scrape_until(lambda f: value(f, "kentongan_aspirations", status="baru") == 1
                                 and value(f, "kentongan_inbound_messages", channel="sim", keyword="aspiration") == 1,
                                 "the aspiration")
        rejects = sum(v for _, _, v in fams["kentongan_webhook_rejects_total"]["samples"])
        self.assertEqual(rejects, 1)

    def test_exposition_format(self):
        text = self.scrape()
        self.assertTrue(text.endswith("\n"))
        helps = [l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")]
        types = [l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")]
        self.assertEqual(helps, types, "one TYPE right after each HELP")
        self.assertEqual(len(helps), len(set(helps)), "each family once")
        for line in text.splitlines():
            if not line.startswith("#"):
                m = SAMPLE.match(line)
                self.assertIsNotNone(m, line)
                # Label values are quoted; an unescaped quote or a raw newline would break this parse.
                raw = m.group("labels") or ""
                pos = 0
                while pos < len(raw):
                    lm = LABEL.match(raw, pos)
                    self.assertIsNotNone(lm, line)
                    pos = lm.end()


if __name__ == "__main__":
    parse_args_and_run()
