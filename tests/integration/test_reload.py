"""Reload (issue 8): `kentongan reload` adds, removes and rebuilds channels without a restart, and a
broadcast being sent across the reload still reaches everyone."""

import copy
import signal
import time

from harness import DaemonTest, parse_args_and_run, sim_channel, test_config


def wait_log(d, text, deadline_s=60):
    deadline = time.monotonic() + deadline_s
    while text not in d.log_text(tail=None):
        if time.monotonic() > deadline:
            raise AssertionError("the log never said %r:\n%s" % (text, d.log_text()))
        time.sleep(0.1)


def channels_of(d):
    code, body = d.http("GET", "/readyz", token=None)
    return {c["name"]: c for c in body["channels"]}


def wait_channels(test, names):
    """Until /readyz lists exactly `names`, all up."""
    deadline = time.monotonic() + 60
    while True:
        chans = channels_of(test.d)
        if set(chans) == set(names) and all(c["up"] for c in chans.values()):
            return chans
        if time.monotonic() > deadline:
            raise AssertionError("channels %r, wanted %r up\n%s" % (chans, names, test.d.log_text()))
        time.sleep(0.1)


class ReloadChannelsTest(DaemonTest):
    def config(self):
        return test_config(channel=sim_channel(tps=100, window=20))

    def reload_with(self, channels):
        cfg = copy.deepcopy(self.base)
        cfg["channels"] = channels
        self.d.write_config(cfg)
        p = self.d.cli("reload")
        self.assertIn("reloaded", p.stdout)

    def channels_used(self, bid):
        return {r[0]: r[1] for r in self.d.db_query(
            "SELECT channel, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY channel", (bid,))}

    def setUp(self):
        super().setUp()
        self.base = self.config()

    def test_add_remove_and_rebuild_channels_by_reload(self):
        first = self.d.broadcast("--group", "petani-kakao", "--text", "Satu")
        s = self.d.wait_done(first)
        self.assertEqual(set(self.channels_used(first)), {"sim"})

        # A second channel is added: it starts and is up, the first keeps running.
        sim2 = sim_channel(tps=100, window=20)
        sim2["name"] = "sim2"
        self.reload_with([sim_channel(tps=100, window=20), sim2])
        wait_channels(self, {"sim", "sim2"})
        wait_log(self.d, "channel added name=sim2 type=sim")

        # The first is removed: messages now go by the second.
        self.reload_with([sim2])
        wait_channels(self, {"sim2"})
        wait_log(self.d, 'channel stopping name=sim reason="removed from the config"')
        second = self.d.broadcast("--group", "petani-kakao", "--text", "Dua")
        s2 = self.d.wait_done(second)
        self.assertEqual(s2["delivered"], s["recipients"])
        self.assertEqual(set(self.channels_used(second)), {"sim2"})

        # Changed settings rebuild the channel; a rate change alone does not.
        self.reload_with([dict(sim2, tps=50)])
        third = self.d.broadcast("--group", "petani-kakao", "--text", "Tiga")
        self.d.wait_done(third)
        self.assertNotIn("channel rebuilt name=sim2", self.d.log_text(tail=None))
        self.reload_with([dict(sim2, tps=50, dlr_delay_ms=10)])
        wait_log(self.d, 'channel rebuilt name=sim2 reason="settings changed"')
        wait_channels(self, {"sim2"})
        fourth = self.d.broadcast("--group", "petani-kakao", "--text", "Empat")
        s4 = self.d.wait_done(fourth)
        self.assertEqual(s4["delivered"], s["recipients"])
        self.assertEqual(set(self.channels_used(fourth)), {"sim2"})


class ReloadDuringBroadcastTest(DaemonTest):
    extra_csv_rows = 1500

    def config(self):
        return test_config(channel=sim_channel(tps=150, window=20), extra_csv_rows=self.extra_csv_rows,
                           limits={"retry_base_s": 1, "retry_max_s": 2})

    def test_channel_replaced_mid_broadcast_reaches_everyone(self):
        bid = self.d.broadcast("--all", "--text", "Gotong royong")
        self.d.wait_status(bid, lambda st: st["submitted"] + st["delivered"] > 200, "sending under way")
        cfg = self.config()
        sim2 = sim_channel(tps=300, window=20)
        sim2["name"] = "sim2"
        cfg["channels"] = [sim2]
        self.d.write_config(cfg)
        self.d.cli("reload")
        # The removed simulator takes its pending delivery reports with it (a real SMSC sends them on
        # the next bind), so rows it had submitted may stay "submitted": wait for nothing left to send.
        s = self.d.wait_status(bid, lambda st: st["state"] == "done" and st["queued"] + st["sending"] == 0,
                               "everything sent")
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["delivered"] + s["submitted"], s["recipients"], s)
        self.assertEqual(s["failed"], 0, s)
        used = {r[0]: r[1] for r in self.d.db_query(
            "SELECT channel, count(*) FROM outbox WHERE broadcast_id = ? GROUP BY channel", (bid,))}
        self.assertEqual(set(used), {"sim", "sim2"})
        self.assertEqual(self.d.duplicate_provider_ids(), [])
        # Every recipient got the message (a row in flight at the switch may arrive twice, never zero times).
        got = self.d.received("Gotong royong")
        self.assertEqual(len(got), s["recipients"])


class ReloadSubscribersTest(DaemonTest):
    """The daemon keeps no copy of the subscriber list after syncing it (a million subscribers would
    hold a gigabyte): each reload syncs the list it has just read, and a reload that changes nothing
    changes nothing."""

    def config(self):
        return test_config()

    def config_phones(self):
        return {r[0] for r in self.d.db_query("SELECT phone FROM subscribers WHERE source = 'config'")}

    def test_reload_adds_and_removes_subscribers(self):
        before = self.config_phones()
        cfg = self.config()
        dropped = cfg["subscribers"].pop()
        cfg["subscribers"].append({"phone": "0812-9999-0001", "name": "Warga Baru", "groups": ["petani-kakao"],
                                   "channel": "sms", "dusun": "Dusun 2"})
        self.d.write_config(cfg)
        # The answer comes once the lists are in the database, and says what changed.
        p = self.d.cli("reload")
        self.assertIn("reloaded: subscribers 1 added, 0 changed, 1 removed; groups 0 added, 0 changed, 0 removed",
                      p.stdout)
        wait_log(self.d, "config reloaded subscribers_added=1 changed=0 removed=1")
        after = self.config_phones()
        self.assertIn("+6281299990001", after)
        self.assertEqual(len(after), len(before))
        self.assertEqual(len(before - after), 1, dropped)

        # The same config again: nothing to change.
        self.assertIn("reloaded: subscribers 0 added, 0 changed, 0 removed", self.d.cli("reload").stdout)
        wait_log(self.d, "config reloaded subscribers_added=0 changed=0 removed=0")
        self.assertEqual(self.config_phones(), after)

        # The new subscriber is a recipient like the others.
        bid = self.d.broadcast("--group", "petani-kakao", "--where", "dusun=Dusun 2", "--text", "Selamat datang")
        self.d.wait_done(bid)
        got = self.d.received("Selamat datang")
        self.assertEqual(got.get("+6281299990001"), 1, got)

    def test_reload_of_a_broken_config_is_refused_with_its_errors(self):
        before = self.config_phones()
        cfg = self.config()
        cfg["subscribers"].append({"phone": "12345", "name": "Salah Nomor", "groups": ["petani-kakao"]})
        cfg["subscribers"].append({"phone": "0812-9999-0002", "name": "Salah Grup", "groups": ["tidak-ada"]})
        self.d.write_config(cfg)
        p = self.d.cli("reload", check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("reload refused: the config has 2 error(s)", p.stderr)
        self.assertIn("12345", p.stderr)
        self.assertIn("tidak-ada", p.stderr)
        self.assertIn("kentongan check-config", p.stderr)
        wait_log(self.d, "reload refused: the config has 2 error(s)")
        self.assertEqual(self.config_phones(), before)
        # Still running on the previous config, and a mended one is taken.
        bid = self.d.broadcast("--group", "petani-kakao", "--text", "Masih jalan")
        self.d.wait_done(bid)
        cfg["subscribers"] = cfg["subscribers"][:-2]
        self.d.write_config(cfg)
        self.assertIn("reloaded", self.d.cli("reload").stdout)

    def test_sighup_reloads_as_systemctl_reload_does(self):
        cfg = self.config()
        cfg["subscribers"].append({"phone": "0812-9999-0003", "name": "Lewat Sinyal", "groups": ["petani-kakao"]})
        self.d.write_config(cfg)
        self.d.proc.send_signal(signal.SIGHUP)
        wait_log(self.d, "config reloaded subscribers_added=1 changed=0 removed=0")
        self.assertIn("+6281299990003", self.config_phones())
        # The daemon still serves after the reload.
        self.assertIn("reloaded", self.d.cli("reload").stdout)


if __name__ == "__main__":
    parse_args_and_run()
