"""Issue 4: the real daemon (`kentongan serve` with an smpp channel) against `kentongan smsc-sim`
over 127.0.0.1. A broadcast delivered with receipts; long texts as concatenated parts; a multipart
MO report stored as one aspiration and answered; throttling honoured; the simulator killed and
restarted mid-broadcast with nothing lost; a malformed PDU answered as SMPP 3.4 says; an MO
delivered again after a lost deliver_sm_resp stored once."""
# ctest-timeout: 300

import os

import harness
from faultproxy import SmscSim
from harness import Daemon, DaemonTest, test_config, unfinished

DEADLINE_S = 120
RESIDENT = "6281200000101"        # Rosmaniar in anggota.csv, as an SMSC writes her number (TON 1)

GSM_LONG = ("Pengumuman desa: kerja bakti membersihkan saluran irigasi subak timur hari Minggu pukul 07.00, "
            "bawa cangkul & karung. Iuran Rp 5.000 @ rumah Kadus; tanya_jawab di balai $ £ selesai jam 11.")
UCS2_LONG = ("Selamat Hari Kemerdekaan \U0001F1EE\U0001F1E9! Lomba panjat pinang \U0001F333 dan tarik tambang "
             "di lapangan desa, hadiah menarik \U0001F381. Ayo ramaikan!")
LAPOR_LONG = ("LAPOR jembatan bambu di jalan menuju kebun kakao dusun dua sudah lapuk dan hampir roboh setelah "
              "hujan deras minggu lalu, anak sekolah dan petani yang membawa hasil panen terpaksa memutar jauh "
              "lewat jalan desa tetangga, mohon segera diperbaiki sebelum ada yang celaka")


def smpp_channel(port, password_file, **extra):
    ch = {"name": "operator", "type": "smpp", "host": "127.0.0.1", "port": port, "system_id": "kimekasari",
          "password_file": password_file, "source_addr": "KIM EKASARI", "tps": 500, "window": 32,
          "price_per_part": 350, "enquire_link_s": 5, "response_timeout_s": 5, "reconnect_max_s": 1}
    ch.update(extra)
    return ch


class SmppTest(DaemonTest):
    """self.sim (started first) and self.d (the daemon bound to it)."""

    sim_args = ()  # besides --dlr-delay 20
    channel_extra = {}

    def setUp(self):
        self.d = Daemon(test_config(), extra_csv_rows=self.extra_csv_rows)
        self.addCleanup(self.d.cleanup)
        self.sim = SmscSim(self.d.dir, password="", dlr_delay_ms=20, args=self.sim_args)
        self.addCleanup(self.sim.stop)
        self.sim.start()
        password = os.path.join(self.d.dir, "smpp.pass")
        with open(password, "w") as f:
            f.write("rahasia\n")
        cfg = test_config(channel=smpp_channel(self.sim.port, password, **self.channel_extra),
                          extra_csv_rows=self.extra_csv_rows)
        self.d.write_config(cfg)
        self.d.start()
        self.sim.wait_events(lambda ev: any(e["event"] == "bind" for e in ev), "a bind", self.d)

    def all_phones(self):
        return self.d.subscriber_phones()

    def assert_all_delivered(self, bid):
        s = self.d.wait_done(bid, deadline_s=DEADLINE_S)
        self.assertEqual(unfinished(s), 0, s)
        self.assertEqual(s["failed"], 0, s)
        self.assertGreater(s["recipients"], 0, s)
        self.assertEqual(s["delivered"], s["recipients"], s)
        return s


def digits(phone):
    return phone.lstrip("+")


def reassemble(submits):
    """(dest, udh_ref) → text for every concatenated message, after checking its parts are complete."""
    groups = {}
    for e in submits:
        if e["udh_ref"] is None:
            continue
        groups.setdefault((e["dest"], e["udh_ref"]), []).append(e)
    out = {}
    for key, parts in groups.items():
        parts.sort(key=lambda e: e["part"])
        n = parts[0]["parts"]
        assert all(e["parts"] == n for e in parts), parts
        assert [e["part"] for e in parts] == list(range(1, n + 1)), (key, [e["part"] for e in parts])
        out[key] = "".join(e["text"] for e in parts)
    return out


class BroadcastTest(SmppTest):

    def test_broadcast_delivered_with_receipts_and_long_texts_concatenated(self):
        text = "Posyandu balita Selasa 08.00 di balai desa."
        bid = self.d.broadcast("--all", "--text", text)
        self.assert_all_delivered(bid)
        phones = self.all_phones()
        submits = [e for e in self.sim.events("submit") if e["text"] == text]
        self.assertEqual(sorted(digits(p) for p in phones), sorted(e["dest"] for e in submits))
        self.assertTrue(all(e["udh_ref"] is None and e["parts"] == 1 for e in submits), submits[:3])

        # Long texts: GSM-7 with @ £ $ _ (data_coding 0), and UCS-2 with emoji (data_coding 8).
        for long_text, coding in ((GSM_LONG, 0), (UCS2_LONG, 8)):
            before = len(self.sim.events("submit"))
            bid = self.d.broadcast("--group", "perangkat-desa", "--text", long_text)
            self.assert_all_delivered(bid)
            submits = self.sim.events("submit")[before:]
            self.assertTrue(submits)
            self.assertTrue(all(e["data_coding"] == coding for e in submits), (coding, submits[:2]))
            whole = reassemble(submits)
            dests = {e["dest"] for e in submits}
            self.assertEqual({d for d, _ in whole}, dests, "every recipient got a concatenated message")
            self.assertEqual(len(whole), len(dests), "one reference per recipient")
            for key, t in whole.items():
                self.assertEqual(t, long_text, key)
            self.assertTrue(all(e["parts"] >= 2 for e in submits))


class ThrottleTest(SmppTest):
    extra_csv_rows = 150
    sim_args = ("--throttle-after", "40")

    def test_throttling_honoured_nothing_failed(self):
        bid = self.d.broadcast("--all", "--text", "Rapat warga Kamis malam.")
        s = self.assert_all_delivered(bid)
        self.assertGreater(s["delivered"], 150)
        out = self.sim.stop()
        throttled = int(out.rsplit("throttled ", 1)[1].split(",")[0])
        self.assertGreater(throttled, 0, "the simulator never throttled, the test proves nothing:\n" + out)


class RestartTest(SmppTest):
    extra_csv_rows = 300
    channel_extra = {"tps": 150}

    def test_simulator_killed_and_restarted_mid_broadcast(self):
        bid = self.d.broadcast("--all", "--text", "Pemadaman listrik Sabtu 09.00-12.00.")
        self.sim.wait_events(lambda ev: sum(e["event"] == "submit" for e in ev) >= 60, "60 submits", self.d)
        self.sim.kill9()
        self.sim.start()
        s = self.d.wait_status(bid, lambda s: s["state"] == "done" and s["queued"] + s["sending"] == 0,
                               "every row submitted or delivered", deadline_s=DEADLINE_S)
        self.assertEqual(s["failed"], 0, s)
        self.assertEqual(s["delivered"] + s["submitted"], s["recipients"], s)
        # Receipts pending in the killed simulator are lost with it; the rest came.
        self.assertGreater(s["delivered"], s["recipients"] // 2, s)
        phones = {r[0] for r in self.d.db_query("SELECT phone FROM outbox WHERE broadcast_id = ?", (bid,))}
        self.assertEqual(len(phones), s["recipients"])
        submitted_to = {e["dest"] for e in self.sim.events("submit")}
        self.assertEqual({digits(p) for p in phones} - submitted_to, set(), "recipients never submitted")
        self.assertGreaterEqual(sum(e["event"] == "bind" for e in self.sim.events()), 2, "a rebind after the restart")


class MultipartMoTest(SmppTest):

    @property
    def sim_args(self):
        # Written before the simulator starts; the directory is the daemon's, made in setUp.
        path = os.path.join(self.d.dir, "mo.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("%s %s\n" % (RESIDENT, LAPOR_LONG))
        return ("--mo-file", path, "--mo-lose-first-ack")

    def test_multipart_report_is_one_aspiration_stored_once_and_answered(self):
        ev = self.sim.wait_events(lambda ev: sum(e["event"] == "mo_acked" for e in ev) >= 2,
                                  "both MO parts acknowledged", self.d)
        lost = [e for e in ev if e["event"] == "mo_ack_lost"]
        acked = [e for e in ev if e["event"] == "mo_acked"]
        self.assertEqual(len(lost), 2, "the first answers were 'lost' and the parts delivered again")
        self.assertEqual(sorted(e["part"] for e in acked), [1, 2])
        self.assertTrue(all(e["parts"] == 2 and e["message"] == LAPOR_LONG for e in acked), acked)
        self.assertEqual(len({e["udh_ref"] for e in lost + acked}), 1, "redelivery carries the same reference")

        self.assertEqual(self.d.db_query("SELECT count(*) FROM inbox")[0][0], 1, "stored once despite redelivery")
        self.assertEqual(self.d.db_query("SELECT text FROM inbox")[0][0], LAPOR_LONG)
        aspirations = self.d.cli_json("aspirations", "list", "--json")["aspirations"]
        self.assertEqual(len(aspirations), 1, aspirations)
        self.assertIn("jembatan bambu", aspirations[0]["text"])
        self.assertIn("sebelum ada yang celaka", aspirations[0]["text"])
        # The acknowledgement goes back to the resident over SMPP.
        self.sim.wait_events(lambda ev: any(e["event"] == "submit" and e["dest"] == RESIDENT for e in ev),
                             "the reply to the resident", self.d)


class MalformedKeptTest(SmppTest):
    sim_args = ("--malformed", "unknown-command")

    def test_unknown_command_answered_generic_nack_link_kept(self):
        ev = self.sim.wait_events(lambda ev: any(e["event"] == "generic_nack" for e in ev), "a generic_nack", self.d)
        sent = [e for e in ev if e["event"] == "malformed_sent"][0]
        nack = [e for e in ev if e["event"] == "generic_nack"][0]
        self.assertEqual(nack["status"], 3, "ESME_RINVCMDID")           # [SMPP34] §5.1.3
        self.assertEqual(nack["sequence"], sent["sequence"])
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", "Rapat perangkat desa Senin.")
        self.assert_all_delivered(bid)
        ev = self.sim.events()
        self.assertFalse(any(e["event"] == "closed" and e["session"] == sent["session"] for e in ev),
                         "an unknown command_id does not cost the link")
        self.assertTrue(all(e["session"] == sent["session"] for e in ev if e["event"] == "submit"))


class MalformedDroppedTest(SmppTest):
    sim_args = ("--malformed", "bad-length")

    def test_bad_command_length_answered_generic_nack_link_dropped_and_rebound(self):
        ev = self.sim.wait_events(lambda ev: any(e["event"] == "closed" for e in ev), "the link closed", self.d)
        sent = [e for e in ev if e["event"] == "malformed_sent"][0]
        nacks = [e for e in ev if e["event"] == "generic_nack"]
        self.assertEqual([n["status"] for n in nacks], [2], "ESME_RINVCMDLEN")  # §3.2: the stream is lost
        self.assertTrue(any(e["event"] == "closed" and e["session"] == sent["session"] for e in ev))
        self.sim.wait_events(lambda ev: sum(e["event"] == "bind" for e in ev) >= 2, "a rebind", self.d)
        bid = self.d.broadcast("--group", "perangkat-desa", "--text", "Rapat perangkat desa Selasa.")
        self.assert_all_delivered(bid)


if __name__ == "__main__":
    harness.parse_args_and_run()
