"""Issue 3: opting out during a broadcast cancels what was not yet sent to that person; an
opted-out number gets nothing afterwards but the opt-out confirmation (DESIGN "Opt-out is absolute")."""

import harness
from harness import DaemonTest

MANY = 300


class OptOutTest(DaemonTest):
    extra_csv_rows = MANY

    def config(self):
        return harness.test_config(channel=harness.sim_channel(tps=20, window=5, dlr_delay_ms=50),
                                   extra_csv_rows=self.extra_csv_rows)

    def last_subscriber(self):
        # Broadcasts expand in subscriber order: the last one is reached last.
        return self.d.db_query("SELECT phone FROM subscribers ORDER BY id DESC LIMIT 1")[0][0]

    def rt_of(self, phone):
        return self.d.db_query("SELECT a.value FROM subscriber_attributes a JOIN subscribers s ON s.id = a.subscriber_id "
                               "WHERE s.phone = ? AND a.key = 'rt'", (phone,))[0][0]

    def test_opt_out_mid_broadcast(self):
        text = "Harga kakao naik: Rp 95.000/kg di Payakumbuh."
        phone = self.last_subscriber()
        before = self.d.cli_json("broadcast", "--all", "--text", text, "--dry-run", "--json")["recipients"]
        bid = self.d.broadcast("--all", "--text", text)
        self.d.wait_status(bid, lambda s: s["delivered"] >= 10, "first deliveries")

        p = self.d.cli("sim", "send", "--from", phone, "BERHENTI")
        self.assertIn(phone, p.stdout)
        s = self.d.wait_done(bid)
        self.assertStatusCountsConsistent(s)
        self.assertEqual(s["state"], "done")
        self.assertEqual(s["cancelled"], 1, s)
        self.assertEqual(s["delivered"], s["recipients"] - 1, s)

        received = self.d.received(text)
        self.assertNotIn(phone, received)
        self.assertEqual(len(received), s["recipients"] - 1)
        self.assertEqual(set(received.values()), {1})
        # The one thing the number gets is the confirmation of its opt-out.
        got = self.d.wait_phones(lambda m: any(ph == phone for ph, _, _ in m), "the opt-out confirmation")
        to_phone = [t for ph, _, t in got if ph == phone]
        self.assertEqual(len(to_phone), 1, to_phone)
        self.assertEqual(self.d.db_query("SELECT group_slug FROM opt_outs WHERE phone = ?", (phone,)), [("*",)])

        # Later broadcasts leave the number out from the start.
        after = self.d.cli_json("broadcast", "--all", "--text", text, "--dry-run", "--json")["recipients"]
        self.assertEqual(after, before - 1)
        # (narrowed to the person's RT, so the test does not wait for hundreds of messages again)
        text2 = "Posyandu Melati Rabu 08.00."
        where = "rt=" + self.rt_of(phone)
        expected = self.d.cli_json("broadcast", "--all", "--where", where, "--text", text2, "--dry-run", "--json")
        b2 = self.d.broadcast("--all", "--where", where, "--text", text2)
        s2 = self.d.wait_done(b2)
        self.assertEqual(s2["recipients"], expected["recipients"])
        self.assertEqual(len(self.d.received(text2)), s2["recipients"])
        self.assertNotIn(phone, self.d.received(text2))
        self.assertEqual(len([t for ph, _, t in self.d.phone_messages() if ph == phone]), 1)

    def test_opt_out_of_one_group(self):
        text = "Jadwal penyemprotan hama kakao minggu depan."
        phone = self.last_subscriber()  # a generated subscriber: in petani-kakao and warga-dusun-2
        bid = self.d.broadcast("--group", "petani-kakao", "--text", text)
        self.d.wait_status(bid, lambda s: s["delivered"] >= 10, "first deliveries")
        self.d.cli("sim", "send", "--from", phone, "berhenti petani-kakao")  # any case
        s = self.d.wait_done(bid)
        self.assertEqual(s["cancelled"], 1, s)
        self.assertNotIn(phone, self.d.received(text))
        # Still in the other group.
        dusun2 = "Air PDAM mati Sabtu di Dusun 2."
        b2 = self.d.broadcast("--group", "warga-dusun-2", "--where", "rt=" + self.rt_of(phone), "--text", dusun2)
        self.d.wait_done(b2)
        self.assertEqual(self.d.received(dusun2).get(phone), 1)

if __name__ == "__main__":
    harness.parse_args_and_run()
