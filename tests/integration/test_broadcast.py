"""Issue 3, broadcasts end to end on the example village: every subscriber gets the announcement
once; a dry run counts and sends nothing; --where narrows; status --by breaks down; --at waits."""

import collections
import os
import time
import json
import unittest

import harness
from harness import DaemonTest


class BroadcastTest(DaemonTest):
    def test_all_subscribers_get_it_exactly_once(self):
        text = "Penyuluhan hama kakao di balai desa, Sabtu 08.00"
        people = harness.example_subscribers()
        bid = self.d.broadcast("--all", "--text", text)

        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["state"], "done")
        self.assertEqual(s["recipients"], len(people))
        self.assertEqual(s["delivered"], len(people), s)
        self.assertEqual(s["in_doubt"], 0)

        received = self.d.received(text)
        self.assertEqual(set(received), self.d.subscriber_phones(), "every subscriber, nobody else")
        self.assertEqual(len(received), len(people))
        twice = {p: n for p, n in received.items() if n != 1}
        self.assertEqual(twice, {}, "phones that got it more than once")
        # The CLI's status of the same broadcast agrees with the API.
        cli = self.d.status(bid)
        self.assertEqual((cli["state"], cli["delivered"]), ("done", len(people)))

    def test_one_group_gets_it_and_nobody_else(self):
        text = "Pembagian pupuk Sabtu 08.00 di gudang Poktan."
        members = {r[0] for r in self.d.db_query(
            "SELECT s.phone FROM subscribers s JOIN memberships m ON m.subscriber_id = s.id "
            "JOIN groups g ON g.id = m.group_id WHERE g.slug = 'petani-kakao'")}
        self.assertGreater(len(members), 0)
        bid = self.d.broadcast("--group", "petani-kakao", "--text", text)
        s = self.d.wait_done(bid)
        self.assertEqual((s["recipients"], s["delivered"]), (len(members), len(members)), s)
        self.assertEqual(self.d.received(text), {p: 1 for p in members})

    def test_name_template_is_filled_per_recipient(self):
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", "Yth. {name}, rapat desa Senin 09.00.")
        self.d.wait_done(bid)
        names = dict(self.d.db_query("SELECT phone, name FROM subscribers"))
        got = [(p, t) for p, _, t in self.d.phone_messages()]
        self.assertGreater(len(got), 0)
        for phone, text in got:
            self.assertEqual(text, "Yth. %s, rapat desa Senin 09.00." % names[phone])

    def test_dry_run_json_counts_and_sends_nothing(self):
        people = harness.example_subscribers()
        out = self.d.cli_json("broadcast", "--all", "--text", "Rapat warga malam ini", "--dry-run", "--json")
        for key in ("recipients", "encoding", "parts_per_message", "total_parts", "estimated_cost"):
            self.assertIn(key, out)
        self.assertNotIn("id", out)
        self.assertEqual(out["recipients"], len(people))
        self.assertEqual(out["encoding"], "gsm7")
        self.assertEqual(out["parts_per_message"], 1)
        self.assertEqual(out["total_parts"], len(people))
        self.assertAlmostEqual(out["estimated_cost"], 350.0 * len(people))

        # A long text with a character outside GSM 03.38 is UCS-2 and needs several 67-unit parts.
        long_ucs2 = "Waspada banjir \u2013 " + "hujan deras di hulu sungai, " * 6
        out = self.d.cli_json("broadcast", "--all", "--text", long_ucs2, "--dry-run", "--json")
        self.assertEqual(out["encoding"], "ucs2")
        self.assertGreater(out["parts_per_message"], 1)
        self.assertEqual(out["total_parts"], out["parts_per_message"] * len(people))
        self.assertAlmostEqual(out["estimated_cost"], 350.0 * out["total_parts"])

        # The plain dry run says the same in words.
        p = self.d.cli("broadcast", "--all", "--text", "Rapat warga malam ini", "--dry-run")
        self.assertIn("nothing sent", p.stdout)
        self.assertIn(str(len(people)), p.stdout)

        time.sleep(1.0)  # what a bug would have sent has had time to arrive
        self.assertEqual(self.d.phone_messages(), [])
        self.assertEqual(self.d.db_query("SELECT count(*) FROM broadcasts"), [(0,)])
        self.assertEqual(self.d.db_query("SELECT count(*) FROM outbox"), [(0,)])
        listing = self.d.cli_json("status", "--json")
        self.assertEqual(listing["broadcasts"], [])

    def test_where_narrows_to_matching_subscribers(self):
        text = "Gotong royong Dusun 1, Minggu 07.00"
        dusun1 = [p for p in harness.example_subscribers() if p.get("dusun") == "Dusun 1"]
        self.assertGreater(len(dusun1), 0)
        dry = self.d.cli_json("broadcast", "--all", "--where", "dusun=Dusun 1", "--text", text, "--dry-run", "--json")
        self.assertEqual(dry["recipients"], len(dusun1))

        bid = self.d.broadcast("--all", "--where", "dusun=Dusun 1", "--text", text)
        s = self.d.wait_done(bid)
        self.assertEqual((s["recipients"], s["delivered"]), (len(dusun1), len(dusun1)), s)
        expected = self.d.subscriber_phones(("dusun", "Dusun 1"))
        self.assertEqual(len(expected), len(dusun1))
        self.assertEqual(self.d.received(text), {p: 1 for p in expected})

        # Two conditions are both required.
        both = [p for p in dusun1 if p.get("rt") == "01"]
        dry = self.d.cli_json("broadcast", "--all", "--where", "dusun=Dusun 1", "--where", "rt=01",
                              "--text", text, "--dry-run", "--json")
        self.assertEqual(dry["recipients"], len(both))
        # And a value nobody has reaches nobody.
        dry = self.d.cli_json("broadcast", "--all", "--where", "dusun=Kaja", "--text", text, "--dry-run", "--json")
        self.assertEqual(dry["recipients"], 0)

    def test_status_by_dusun_breaks_the_counts_down(self):
        people = harness.example_subscribers()
        per_dusun = collections.Counter(p.get("dusun") or "(none)" for p in people)
        bid = self.d.broadcast("--all", "--text", "Posyandu Selasa 08.00")
        self.d.wait_done(bid)

        s = self.d.status(bid, "--by", "dusun")
        self.assertEqual(s["by_attribute"], "dusun")
        self.assertEqual({k: v["recipients"] for k, v in s["by"].items()}, dict(per_dusun))
        self.assertEqual({k: v["delivered"] for k, v in s["by"].items()}, dict(per_dusun))
        self.assertEqual(sum(v["recipients"] for v in s["by"].values()), s["recipients"])

        text = self.d.cli("status", str(bid), "--by", "dusun").stdout
        for dusun, n in per_dusun.items():
            self.assertIn("%s: %d/%d delivered" % (dusun, n, n), text)

    def test_scheduled_broadcast_waits_for_its_time(self):
        text = "Kerja bakti jalan desa, Jumat 07.00"
        bid = self.d.broadcast("--all", "--text", text, "--at", "+3s")
        s = self.d.status(bid)
        self.assertEqual(s["state"], "scheduled")
        self.assertIn("send_at", s)
        self.assertEqual(s["delivered"], 0)
        # Well before its time nothing has gone out (the daemon would have sent 46 messages in
        # well under a second had it ignored --at: see test_all_subscribers_get_it_exactly_once).
        time.sleep(1.0)
        self.assertEqual(self.d.status(bid)["state"], "scheduled")
        self.assertEqual(self.d.received(text), {})
        s = self.d.wait_done(bid)
        self.assertEqual((s["state"], s["delivered"]), ("done", s["recipients"]), s)
        self.assertEqual(len(self.d.received(text)), s["recipients"])

    def test_text_from_a_file_and_the_status_views(self):
        text = "Penyuluhan kakao: Kamis 09.00 di Kantor Desa.\nBawa contoh buah yang terserang hama."
        path = os.path.join(self.d.dir, "pengumuman.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")  # the trailing line break of a saved file is not part of the message
        p = self.d.cli("broadcast", "--group", "petani-kakao", "--file", path)
        bid = int(p.stdout.strip())
        # --watch keeps printing until the broadcast is done, then ends by itself.
        watch = self.d.cli("status", str(bid), "--watch")
        self.assertIn("(done, normal)", watch.stdout.splitlines()[-2])
        s = self.d.wait_done(bid)
        self.assertEqual(s["text"], text)
        # phones.txt writes a line break inside a message as a space.
        self.assertEqual(len(self.d.received(text.replace("\n", " "))), s["recipients"])

        listing = self.d.cli_json("status", "--json")["broadcasts"]
        self.assertEqual([b["id"] for b in listing], [bid])
        self.assertEqual((listing[0]["state"], listing[0]["delivered"]), ("done", s["recipients"]))
        line = self.d.cli("status").stdout
        self.assertIn("%d/%d" % (s["recipients"], s["recipients"]), line)

    def test_bad_requests_are_refused_and_change_nothing(self):
        cases = [
            ("unknown group", ["--group", "petani-kako", "--text", "x"], "petani-kakao"),
            ("no target", ["--text", "x"], "--group"),
            ("bad --where", ["--all", "--where", "dusun", "--text", "x"], "ATTRIBUTE=VALUE"),
            ("bad --at", ["--all", "--at", "besok pagi", "--text", "x"], "send time"),
        ]
        for label, args, hint in cases:
            with self.subTest(label):
                p = self.d.cli("broadcast", *args, check=False)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn(hint, p.stderr)
        self.assertEqual(self.d.db_query("SELECT count(*) FROM broadcasts"), [(0,)])


class SlowReportsTest(DaemonTest):
    def config(self):
        # Delivery reports come two seconds after the network accepts a message.
        return harness.test_config(channel=harness.sim_channel(dlr_delay_ms=2000))

    # A broadcast is `done` once nothing is left to send (no row queued or sending); delivery reports
    # may still be on their way, and some networks never send them. `status --watch` therefore keeps
    # watching past `done` until every message has its outcome (or a minute without reports).
    def test_watch_waits_for_every_outcome(self):
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", "Rapat Senin 09.00.")
        p = self.d.cli("status", str(bid), "--watch", "--json")
        last = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(last["state"], "done")
        self.assertEqual(harness.unfinished(last), 0, "watch stopped before every outcome was known: %s" % last)
        self.assertEqual(last["delivered"], last["recipients"])
        self.assertGreater(last["recipients"], 0)

    def test_delivered_once_the_reports_arrive(self):
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", "Rapat Senin 09.00.")
        s = self.d.wait_done(bid)
        self.assertEqual(s["delivered"], s["recipients"])


if __name__ == "__main__":
    harness.parse_args_and_run()
