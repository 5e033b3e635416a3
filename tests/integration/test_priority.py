"""Issue 3 on a slow simulated network (20 messages/s) with a few hundred subscribers: an urgent
broadcast overtakes a normal one already sending; cancel stops what was not sent; quiet hours hold
normal broadcasts but not urgent ones."""

import datetime
import time

import harness
from harness import DaemonTest

MANY = 300  # generated subscribers on top of the example's: a normal broadcast takes a while


class SlowChannelTest(DaemonTest):
    extra_csv_rows = MANY

    def config(self):
        return harness.test_config(channel=harness.sim_channel(tps=20, window=5, dlr_delay_ms=50),
                                   extra_csv_rows=self.extra_csv_rows)

    def test_urgent_overtakes_normal(self):
        normal_text = "Penyuluhan kakao Kamis 09.00 di Kantor Desa."
        urgent_text = "AWAS GALODO: warga bantaran sungai segera mengungsi ke balai desa."
        normal = self.d.broadcast("--all", "--text", normal_text)
        s = self.d.wait_status(normal, lambda s: s["delivered"] >= 10, "first deliveries")
        total = s["recipients"]
        self.assertEqual(total, len(harness.example_subscribers()) + MANY)

        urgent = self.d.broadcast("--group", "perangkat-desa", "--text", urgent_text, "--priority", "urgent")
        u = self.d.wait_done(urgent)
        n = self.d.status(normal)
        self.assertEqual(u["priority"], "urgent")
        self.assertEqual((u["state"], u["delivered"]), ("done", u["recipients"]), u)
        self.assertGreater(u["recipients"], 0)
        # The normal one is far from done when the urgent one has finished: the urgent messages did
        # not wait behind the hundreds of normal ones queued before them.
        self.assertNotEqual(n["state"], "done")
        self.assertGreater(n["queued"], total // 2, n)

        # On the phones too: every urgent message arrived before most normal ones.
        lines = self.d.phone_messages()
        last_urgent = max(i for i, (_, _, t) in enumerate(lines) if t == urgent_text)
        normal_before = sum(1 for _, _, t in lines[:last_urgent] if t == normal_text)
        self.assertLess(normal_before, total // 2)
        self.assertEqual(set(self.d.received(urgent_text).values()), {1})

        # And the normal one still ends with everyone.
        n = self.d.wait_done(normal)
        self.assertEqual((n["state"], n["delivered"]), ("done", total), n)
        self.assertEqual(len(self.d.received(normal_text)), total)

    def test_cancel_stops_the_rest(self):
        text = "Pembagian pupuk Sabtu 08.00 di gudang Poktan."
        bid = self.d.broadcast("--all", "--text", text)
        self.d.wait_status(bid, lambda s: s["delivered"] >= 10, "first deliveries")

        p = self.d.cli("cancel", str(bid))
        self.assertIn("cancelled", p.stdout)
        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["state"], "cancelled")
        self.assertGreater(s["cancelled"], 0)
        self.assertGreater(s["delivered"], 0)
        self.assertEqual(s["delivered"] + s["cancelled"], s["recipients"], s)

        # Nothing more reaches a phone once the in-flight messages have finished.
        time.sleep(1.5)
        received = self.d.received(text)
        self.assertEqual(sum(received.values()), s["delivered"])
        self.assertEqual(set(received.values()), {1})
        later = self.d.status(bid)
        self.assertEqual((later["delivered"], later["cancelled"]), (s["delivered"], s["cancelled"]))
        self.assertEqual(self.d.db_query("SELECT count(*) FROM outbox WHERE broadcast_id = ? AND state = 6 "
                                         "AND provider_id IS NOT NULL", (bid,)), [(0,)],
                         "a cancelled row that was handed to the network")

    def test_expiry_gives_up_on_what_was_not_sent_in_time(self):
        text = "Pasar murah hari ini sampai pukul 12.00."
        bid = self.d.broadcast("--all", "--text", text, "--expires", "3s")
        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["state"], "done")
        # Hundreds of messages at 20 per second: some went out before the expiry, the rest expired.
        self.assertGreater(s["delivered"], 0, s)
        self.assertGreater(s["expired"], 0, s)
        self.assertEqual(s["failed"], 0, "an expired message is `expired`, not `failed`: %s" % s)
        self.assertEqual(s["delivered"] + s["expired"], s["recipients"], s)
        received = self.d.received(text)
        self.assertEqual(sum(received.values()), s["delivered"])

    def test_cancel_of_an_unknown_broadcast_is_an_error(self):
        p = self.d.cli("cancel", "999", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("999", p.stderr)


def village_clock(offset_minutes):
    """HH:MM in Asia/Jakarta (UTC+7), `offset_minutes` from now."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=7, minutes=offset_minutes)
    return t.strftime("%H:%M")


class QuietHoursTest(DaemonTest):
    def config(self):
        # Quiet hours from an hour ago to an hour ahead, village time: now is quiet whatever the clock says.
        return harness.test_config(limits={"quiet_hours_start": village_clock(-60),
                                           "quiet_hours_end": village_clock(60)})

    def test_quiet_hours_hold_normal_but_not_urgent(self):
        normal_text = "Rapat kelompok tani besok pagi."
        urgent_text = "Peringatan dini: banjir di Dusun 2 malam ini."
        normal = self.d.broadcast("--group", "warga-dusun-1", "--text", normal_text)
        urgent = self.d.broadcast("--group", "warga-dusun-2", "--text", urgent_text, "--priority", "urgent")
        u = self.d.wait_done(urgent)
        self.assertEqual(u["delivered"], u["recipients"])
        self.assertEqual(len(self.d.received(urgent_text)), u["recipients"])
        time.sleep(1.0)
        n = self.d.status(normal)
        self.assertEqual(n["delivered"], 0, n)
        self.assertEqual(n["queued"], n["recipients"], n)
        self.assertEqual(self.d.received(normal_text), {})


if __name__ == "__main__":
    harness.parse_args_and_run()
