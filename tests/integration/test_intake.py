"""Issue 5, the officials' side: a resident reports by SMS, an officer answers by SMS and an official
from the desk CLI, the answers reach the resident's phone, CEK shows the latest, the export holds it;
a poll goes out, residents vote by reply, the tally counts the latest vote per person."""

import csv
import datetime
import io
import json
import os
import re
import sqlite3
import time

import harness
from harness import DaemonTest

RESIDENT = "+6281200000101"        # Rosmaniar, warga-dusun-1 and petani-kakao (anggota.csv)
NEIGHBOUR = "+6281200000102"       # Efendi, the same groups
OFFICER = "0812-0000-0001"         # Syafrizal, Kepala Desa, handles every tag
OFFICER_E164 = "+6281200000001"
TICKET = re.compile(r"\b(A\d{4,})\b")


def wib_now():
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=7)


class IntakeHelpers:

    def texts_to(self, phone):
        return [t for ph, _, t in self.d.phone_messages() if ph == phone]

    def wait_text(self, phone, needle, what):
        self.d.wait_phones(lambda m: any(ph == phone and needle in t for ph, _, t in m), what, deadline_s=60)
        return [t for t in self.texts_to(phone) if needle in t]

    def report(self, phone, text):
        """The resident texts `text`; returns the ticket from the acknowledgement."""
        before = len([t for t in self.texts_to(phone) if TICKET.search(t)])
        self.d.cli("sim", "send", "--from", phone, text)
        got = self.d.wait_phones(lambda m: len([1 for ph, _, t in m if ph == phone and TICKET.search(t)]) > before,
                                 "the ticket acknowledgement", deadline_s=60)
        acks = [t for ph, _, t in got if ph == phone and TICKET.search(t)]
        return TICKET.search(acks[-1]).group(1)

    def show(self, ticket):
        return self.d.cli_json("aspirations", "show", ticket, "--json")


class IntakeTest(IntakeHelpers, DaemonTest):

    def test_answer_round_trip_and_export(self):
        ticket = self.report(RESIDENT, "LAPOR irigasi di subak timur tersumbat #air")
        a = self.show(ticket)
        self.assertEqual(a["status"], "baru")
        self.assertIn("air", a["tags"])
        self.assertEqual(a["phone"], RESIDENT)
        # New aspirations reach the officers who handle their tags ("*": all of them).
        self.wait_text(OFFICER_E164, ticket, "the officer's copy of the new aspiration")

        # 1. The officer answers from his phone.
        self.d.cli("sim", "send", "--from", OFFICER, "BALAS %s Besok pagi petugas irigasi datang." % ticket)
        self.wait_text(RESIDENT, "Besok pagi petugas irigasi datang.", "the officer's SMS answer")
        self.assertEqual(self.show(ticket)["status"], "diproses")

        # 2. An official answers from the desk.
        out = self.d.cli_json("aspirations", "reply", ticket, "Saluran sudah dibersihkan.", "--as", "Pak Kadus", "--json")
        self.assertEqual(out["status"], "diproses")
        self.assertEqual(out["last_answer"], "Saluran sudah dibersihkan.")
        got = self.wait_text(RESIDENT, "Saluran sudah dibersihkan.", "the desk answer")
        self.assertIn(ticket, got[0])
        self.assertIn("Pak Kadus", got[0])

        # 3. CEK shows the latest answer (ticket typed lower-case, as on a keypad).
        self.d.cli("sim", "send", "--from", RESIDENT, "cek " + ticket.lower())
        got = self.d.wait_phones(lambda m: len([t for ph, _, t in m if ph == RESIDENT and ticket in t
                                                and "Saluran sudah dibersihkan." in t]) >= 2,
                                 "the CEK answer", deadline_s=60)
        cek = [t for ph, _, t in got if ph == RESIDENT and "Saluran sudah dibersihkan." in t][-1]
        self.assertIn("diproses", cek)
        # A bare CEK answers about the sender's latest aspiration (store::latest_aspiration_of).
        self.d.cli("sim", "send", "--from", RESIDENT, "CEK")
        self.d.wait_phones(lambda m: len([t for ph, _, t in m if ph == RESIDENT and ticket in t
                                          and "Saluran sudah dibersihkan." in t]) >= 3,
                           "the answer to a bare CEK", deadline_s=60)
        # Someone who never reported anything is told so, not shown another person's ticket.
        stranger = "+6281299887766"
        before = len(self.texts_to(stranger))
        self.d.cli("sim", "send", "--from", stranger, "CEK")
        got = self.d.wait_phones(lambda m: len([1 for ph, _, t in m if ph == stranger]) > before,
                                 "the answer to a stranger's bare CEK", deadline_s=60)
        self.assertNotIn(ticket, [t for ph, _, t in got if ph == stranger][-1])

        # History: created, two answers, the status change they caused.
        a = self.show(ticket)
        actions = [(e["action"], e["actor"]) for e in a["history"]]
        self.assertIn(("answer", "Syafrizal"), actions)
        self.assertIn(("answer", "Pak Kadus"), actions)
        text = self.d.cli("aspirations", "show", ticket).stdout
        self.assertIn("Saluran sudah dibersihkan.", text)
        self.assertIn("history", text)

        # Tags from the desk.
        out = self.d.cli_json("aspirations", "tag", ticket, "pertanian", "#Subak-Timur", "--json")
        self.assertIn("pertanian", out["tags"])
        self.assertIn("subak-timur", out["tags"])

        # Lists and filters.
        listed = self.d.cli_json("aspirations", "list", "--json")["aspirations"]
        self.assertEqual([x["ticket"] for x in listed], [ticket])
        self.assertEqual(self.d.cli_json("aspirations", "list", "--status", "baru", "--json")["aspirations"], [])
        self.assertEqual(len(self.d.cli_json("aspirations", "list", "--tag", "pertanian", "--json")["aspirations"]), 1)
        self.assertEqual(self.d.cli_json("aspirations", "list", "--overdue", "--json")["aspirations"], [])
        today = wib_now().strftime("%Y-%m-%d")
        self.assertEqual(len(self.d.cli_json("aspirations", "list", "--since", today, "--json")["aspirations"]), 1)
        self.assertIn(ticket, self.d.cli("aspirations", "list").stdout)

        # 4. The export holds it: CSV through a file, masked; with phones on request; JSON Lines on stdout.
        path = os.path.join(self.d.dir, "aspirasi.csv")
        self.d.cli("export", "aspirations", "--format", "csv", "--output", path, "--bom")
        with open(path, "rb") as f:
            raw = f.read()
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), raw[:10])
        self.assertIn(b"\r\n", raw)
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        self.assertEqual(len(rows), 1, rows)
        row = rows[0]
        self.assertEqual(row["ticket"], ticket)
        self.assertEqual(row["text"], "irigasi di subak timur tersumbat #air")
        self.assertEqual(row["status"], "diproses")
        self.assertEqual(row["last_answer"], "Saluran sudah dibersihkan.")
        self.assertEqual(row["phone"], "'+62812*****101")
        self.assertEqual(row["overdue"], "no")
        self.assertRegex(row["received_at"], r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
        self.assertIn("air", row["tags"].split("|"))
        self.assertFalse(os.path.exists(path + ".part"))
        p = self.d.cli("export", "aspirations", "--format", "csv", "--with-phone", "--status", "diproses")
        self.assertIn("'" + RESIDENT, p.stdout)
        p = self.d.cli("export", "aspirations", "--format", "jsonl", "--tag", "air", "--since", today, "--until", today)
        lines = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual([x["ticket"] for x in lines], [ticket])
        self.assertEqual(lines[0]["phone"], "+62812*****101")
        self.assertTrue(lines[0]["received_at"].endswith("+07:00"), lines[0])
        self.assertEqual(self.d.cli("export", "aspirations", "--format", "jsonl", "--status", "selesai").stdout, "")

        # 5. Closing and rejecting are pushed to the resident too; a closed aspiration stays closed.
        out = self.d.cli_json("aspirations", "reply", ticket, "Selesai, terima kasih.", "--close", "--json")
        self.assertEqual(out["status"], "selesai")
        self.wait_text(RESIDENT, "Selesai, terima kasih.", "the closing message")
        p = self.d.cli("aspirations", "reject", ticket, "terlambat", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("selesai", p.stderr)

        second = self.report(NEIGHBOUR, "LAPOR minta lampu jalan di depan surau")
        out = self.d.cli_json("aspirations", "reject", second, "Bukan wewenang desa, sudah diteruskan ke PLN.", "--json")
        self.assertEqual(out["status"], "ditolak")
        got = self.wait_text(NEIGHBOUR, "Bukan wewenang desa", "the rejection")
        self.assertIn("ditolak", got[0])
        p = self.d.cli("aspirations", "show", "A9999", check=False)
        self.assertNotEqual(p.returncode, 0)

        # 6. The monthly report.
        month = wib_now().strftime("%Y-%m")
        text = self.d.cli("report", "--month", month).stdout
        self.assertIn("Laporan bulan " + month, text)
        self.assertRegex(text, r"aspirasi diterima\s+2")
        rep = self.d.cli_json("report", "--month", month, "--json")
        self.assertEqual(rep["aspirations"], 2)
        self.assertEqual(rep["by_status"], {"selesai": 1, "ditolak": 1})
        self.assertIsNotNone(rep["median_first_answer_s"])
        self.assertEqual(self.d.cli("report", "--month", "2026-13", check=False).returncode, 2)

    def test_poll_round_trip(self):
        until = (wib_now() + datetime.timedelta(days=7)).strftime("%Y-%m-%d")
        out = self.d.cli_json("poll", "create", "--question", "Jadwal gotong royong?", "--option", "Sabtu",
                              "--option", "Minggu", "--group", "warga-dusun-1", "--until", until, "--json")
        pid = out["id"]
        self.assertIn("1. Sabtu\n2. Minggu", out["text"])
        s = self.d.wait_done(pid)
        self.assertGreater(s["delivered"], 2)
        got = self.texts_to(RESIDENT)
        self.assertTrue(any(t.startswith("Jadwal gotong royong?") and "2. Minggu" in t for t in got), got)

        # Bad polls are refused with a reason.
        for args, needle in ((["--option", "Sabtu"], "2 to 9"),
                             (["--option", "A", "--option", "B", "--until", "2020-01-01"], "past")):
            cmd = ["poll", "create", "--question", "X?", "--group", "warga-dusun-1"] + args
            if "--until" not in args:
                cmd += ["--until", until]
            p = self.d.cli(*cmd, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(needle, p.stderr)

        with open(os.path.join(harness.REPO, "daemon", "inbound.cpp"), encoding="utf-8") as f:
            wired = "try_poll_vote" in f.read()
        if not wired:
            r = self.d.cli_json("poll", "results", str(pid), "--json")
            self.assertEqual(r["votes"], 0)
            self.skipTest("daemon/inbound.cpp does not call try_poll_vote yet: votes are not counted")

        self.d.cli("sim", "send", "--from", RESIDENT, "2")
        self.wait_text(RESIDENT, "(Minggu)", "the vote acknowledgement")
        self.d.cli("sim", "send", "--from", NEIGHBOUR, "sabtu")
        self.wait_text(NEIGHBOUR, "(Sabtu)", "the neighbour's vote acknowledgement")
        self.d.cli("sim", "send", "--from", RESIDENT, "pilih 1")  # changes her mind: the latest counts
        self.d.wait_phones(lambda m: len([t for ph, _, t in m if ph == RESIDENT and "(Sabtu)" in t]) >= 1,
                           "the changed vote's acknowledgement", deadline_s=60)
        r = self.d.cli_json("poll", "results", str(pid), "--json", "--by", "dusun")
        self.assertEqual([(o["text"], o["votes"]) for o in r["options"]], [("Sabtu", 2), ("Minggu", 0)])
        self.assertEqual(r["votes"], 2)
        self.assertTrue(r["open"])
        self.assertEqual(r["by"], {"Dusun 1": {"1": 2}})
        text = self.d.cli("poll", "results", str(pid)).stdout
        self.assertIn("Sabtu", text)
        self.assertIn("100.0%", text)

        # Not a vote: goes on to the normal intake.
        self.report(RESIDENT, "lampu jalan di simpang tiga mati")
        # Someone who did not get the poll: "1" is not a vote.
        stranger = "+6281299990001"
        self.d.cli("sim", "send", "--from", stranger, "1")
        self.d.wait_phones(lambda m: any(ph == stranger for ph, _, _ in m), "an answer to the stranger", deadline_s=60)
        self.assertEqual(self.d.cli_json("poll", "results", str(pid), "--json")["votes"], 2)

    def outbox_to(self, phone):
        return [r[0] for r in self.d.db_query("SELECT text FROM outbox WHERE phone = ? AND broadcast_id IS NULL "
                                              "ORDER BY id", (phone,))]

    def wait_inbox(self, phone, count):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = self.d.db_query("SELECT id, COALESCE(outcome, '') FROM inbox WHERE phone = ? ORDER BY id", (phone,))
            if len(rows) >= count:
                return rows
            time.sleep(0.1)
        self.fail("the inbox never held %d messages from %s:\n%s" % (count, phone, self.d.log_text()))

    def test_repeat_within_window_is_stored_but_not_answered_twice(self):
        text = "LAPOR lampu jalan di RT 02 mati sejak kemarin"
        ticket = self.report(RESIDENT, text)
        self.d.cli("sim", "send", "--from", RESIDENT, text)  # the phone resends: no network ack
        rows = self.wait_inbox(RESIDENT, 2)
        # Stored (nothing lost), marked, and nothing else: one aspiration, one acknowledgement.
        self.assertEqual(rows[1][1], "duplicate", rows)
        self.assertEqual(self.d.db_query("SELECT count(*) FROM aspirations")[0][0], 1)
        acks = [t for t in self.outbox_to(RESIDENT) if ticket in t]
        self.assertEqual(len(acks), 1, acks)
        # The same words from a neighbour are a new aspiration, and so is a different text from her.
        other = self.report(NEIGHBOUR, text)
        self.assertNotEqual(other, ticket)
        third = self.report(RESIDENT, "LAPOR lampu jalan di RT 03 juga mati")
        self.assertNotIn(third, (ticket, other))
        events = self.d.db_query("SELECT detail FROM events WHERE kind = 'duplicate'")
        self.assertEqual(len(events), 1, events)

    def test_kind_by_keyword_and_by_officer_and_every_status_change_pushed(self):
        question = self.report(RESIDENT, "TANYA kapan pupuk subsidi datang?")
        self.assertEqual(self.show(question)["kind"], "permintaan-informasi")
        complaint = self.report(NEIGHBOUR, "LAPOR jembatan di dusun 1 retak")
        self.assertEqual(self.show(complaint)["kind"], "pengaduan")

        # An officer reclassifies it from the desk; the history records who and what.
        out = self.d.cli_json("aspirations", "kind", question, "aspirasi", "--as", "Yusniar", "--json")
        self.assertEqual(out["kind"], "aspirasi")
        kinds = [(e["action"], e["actor"], e["text"]) for e in self.show(question)["history"] if e["action"] == "kind"]
        self.assertEqual(kinds, [("kind", "Yusniar", "permintaan-informasi -> aspirasi")])
        self.assertIn("(aspirasi)", self.d.cli("aspirations", "show", question).stdout)
        p = self.d.cli("aspirations", "kind", question, "keluhan", check=False)
        self.assertNotEqual(p.returncode, 0)
        status, body = self.d.http("POST", "/api/aspirations/%s/kind" % question, {"kind": "keluhan"})
        self.assertEqual(status, 400, body)
        self.assertIn("permintaan-informasi", body["error"])
        status, body = self.d.http("POST", "/api/aspirations/A9999/kind", {"kind": "aspirasi"})
        self.assertEqual(status, 404, body)

        # baru -> diproses (an answer) and diproses -> selesai (the officer's SELESAI) both reach the resident.
        self.d.cli("sim", "send", "--from", OFFICER, "BALAS %s Pupuk datang hari Kamis." % complaint)
        got = self.wait_text(NEIGHBOUR, "Pupuk datang hari Kamis.", "the answer")
        self.assertIn("diproses", got[0])
        self.d.cli("sim", "send", "--from", OFFICER, "SELESAI %s Jembatan sudah diperbaiki." % complaint)
        got = self.wait_text(NEIGHBOUR, "Jembatan sudah diperbaiki.", "the closing message")
        self.assertIn("selesai", got[0])
        history = self.show(complaint)["history"]
        self.assertEqual([(e["action"], e["status"]) for e in history],
                         [("created", "baru"), ("answer", "diproses"), ("answer", "diproses"), ("status", "selesai")])
        # baru -> ditolak from the desk.
        self.d.cli_json("aspirations", "reject", question, "Sudah dijawab di rapat desa.", "--json")
        got = self.wait_text(RESIDENT, "Sudah dijawab di rapat desa.", "the rejection")
        self.assertIn("ditolak", got[0])


class OverdueReminderTest(IntakeHelpers, DaemonTest):
    """Overdue aspirations: flagged in lists, exports and the report; reminded to their officers, one
    SMS each, at most once a day. No fake clock: the aspirations are made old in the database while
    the daemon is stopped, and the scheduled run is switched off so that only the explicit trigger runs."""

    def config(self):
        return harness.test_config(limits={"reminder_time": ""})

    def test_overdue_reminded_once_a_day(self):
        irrigation = self.report(RESIDENT, "LAPOR irigasi di subak timur tersumbat #air")
        fever = self.report(NEIGHBOUR, "LAPOR posyandu tutup, anak demam tidak bisa periksa #kesehatan")
        answered = self.report("+6281200000103", "LAPOR jalan berlubang di dekat surau")
        self.d.cli_json("aspirations", "reply", answered, "Sudah diperbaiki.", "--close", "--json")
        status, body = self.d.http("POST", "/api/aspirations/remind", {})
        self.assertEqual(status, 200, body)
        self.assertEqual((body["overdue"], body["reminded"], body["officers"]), (0, 0, []))

        # Received 30 days ago: long past 3 + 5 working days.
        self.assertEqual(self.d.stop(), 0)
        con = sqlite3.connect(self.d.db_file, timeout=30)
        with con:
            con.execute("UPDATE aspirations SET received_at = received_at - ?", (30 * 86400 * 1000,))
        con.close()
        self.d.start()
        old_month = (wib_now() - datetime.timedelta(days=30)).strftime("%Y-%m")

        overdue = self.d.cli_json("aspirations", "list", "--overdue", "--json")["aspirations"]
        self.assertEqual(sorted(a["ticket"] for a in overdue), sorted([irrigation, fever]))
        self.assertIn("!", [line for line in self.d.cli("aspirations", "list").stdout.splitlines()
                            if line.startswith(irrigation)][0])
        rows = {r["ticket"]: r for r in csv.DictReader(io.StringIO(
            self.d.cli("export", "aspirations", "--format", "csv").stdout, newline=""))}
        self.assertEqual((rows[irrigation]["overdue"], rows[fever]["overdue"], rows[answered]["overdue"]),
                         ("yes", "yes", "no"))
        self.assertEqual(self.d.cli_json("report", "--month", old_month, "--json")["overdue"], 2)

        out = self.d.cli_json("aspirations", "remind", "--json")
        self.assertEqual((out["overdue"], out["reminded"], out["already_today"]), (2, 2, 0))
        by_officer = {o["phone"]: sorted(o["tickets"]) for o in out["officers"]}
        # Each officer is reminded of the tickets whose tags they handle ("*": all of them), as forwarded.
        tags = {t: set(self.show(t)["tags"]) for t in (irrigation, fever)}
        expected = {}
        for o in harness.load_example_config()["officers"]:
            phone = "+62" + re.sub(r"\D", "", o["phone"])[1:]
            mine = sorted(t for t in tags if "*" in o["tags"] or tags[t] & set(o["tags"]))
            if mine:
                expected[phone] = mine
        self.assertEqual(by_officer, expected)
        self.assertEqual(by_officer[OFFICER_E164], sorted([irrigation, fever]))
        self.assertEqual(by_officer["+6281200000002"], [fever])  # Yusniar: kesehatan
        got = self.d.wait_phones(lambda m: any(ph == OFFICER_E164 and t.startswith("Pengingat") for ph, _, t in m),
                                 "the reminder to the village head", deadline_s=60)
        reminder = [t for ph, _, t in got if ph == OFFICER_E164 and t.startswith("Pengingat")]
        self.assertEqual(len(reminder), 1, reminder)
        self.assertIn("2 aspirasi lewat batas waktu", reminder[0])
        self.assertIn(irrigation, reminder[0])
        self.assertIn(fever, reminder[0])
        self.assertLessEqual(len(reminder[0]), 160)
        self.assertIsNotNone(self.d.cli_json("aspirations", "show", fever, "--json")["reminded_at"])

        # Never twice a day: a second trigger sends nothing (the scheduled run checks the same marks).
        out = self.d.cli_json("aspirations", "remind", "--json")
        self.assertEqual((out["overdue"], out["reminded"], out["already_today"], out["officers"]), (2, 0, 2, []))
        text = self.d.cli("aspirations", "remind").stdout
        self.assertIn("2 already reminded today", text)
        reminders = self.d.db_query("SELECT phone FROM outbox WHERE text LIKE 'Pengingat%' ORDER BY phone")
        self.assertEqual([r[0] for r in reminders], sorted(expected))


if __name__ == "__main__":
    harness.parse_args_and_run()
