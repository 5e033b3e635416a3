"""Issue 5, deadlines in working days: configured holidays (village.holidays and a holidays_file)
move an aspiration's deadlines in `aspirations show --json`, and the daemon's lists, the export and
the report agree on what is overdue. No fake clock: the holidays are chosen around today (village
time), and an old aspiration is made old in the database while the daemon is stopped."""

import csv
import datetime
import io
import os
import re
import sqlite3
import time
import unittest

import harness
from harness import DaemonTest

RESIDENT = "+6281200000101"
NEIGHBOUR = "+6281200000102"
TICKET = re.compile(r"\b(A\d{4,})\b")
WIB = datetime.timezone(datetime.timedelta(hours=7))  # the example village's Asia/Jakarta


def village_today():
    return datetime.datetime.now(WIB).date()


def is_working_day(d, holidays):
    return d.weekday() < 5 and d not in holidays


def add_working_days(d, n, holidays):
    """intake/calendar.hpp's add_working_days for n >= 0."""
    while n > 0:
        d += datetime.timedelta(days=1)
        if is_working_day(d, holidays):
            n -= 1
    return d


def deadlines(received, holidays, first=3, resolution=5):
    f = add_working_days(received, first, holidays)
    return f, add_working_days(f, resolution, holidays)


def weekdays_after(d, n):
    out = []
    while len(out) < n:
        d += datetime.timedelta(days=1)
        if d.weekday() < 5:
            out.append(d)
    return out


class HolidaysTest(DaemonTest):
    """The example village with holidays: the next three weekdays (in a holidays_file), and every
    weekday of the past week (inline in the config)."""

    def setUp(self):
        self.today = village_today()
        self.week_ago = self.today - datetime.timedelta(days=7)
        self.coming = weekdays_after(self.today, 3)
        self.past = [d for d in weekdays_after(self.week_ago, 7) if d < self.today]
        self.holidays = set(self.coming) | set(self.past)
        cfg = harness.test_config(limits={"reminder_time": ""})
        cfg["village"]["holidays"] = [d.isoformat() for d in self.past]
        cfg["village"]["holidays_file"] = "libur.txt"
        self.d = harness.Daemon(cfg)
        self.addCleanup(self.d.cleanup)
        self.write_holidays(self.coming)  # before the start: the config names the file
        self.d.start()

    def write_holidays(self, days):
        with open(os.path.join(self.d.dir, "libur.txt"), "w", encoding="utf-8") as f:
            f.write("# Libur nasional dan cuti bersama (test)\n")
            for d in days:
                f.write("%s  # libur\n" % d.isoformat())

    def report(self, phone, text):
        self.d.cli("sim", "send", "--from", phone, text)
        got = self.d.wait_phones(lambda m: any(ph == phone and TICKET.search(t) for ph, _, t in m),
                                 "the ticket acknowledgement", deadline_s=60)
        return TICKET.search([t for ph, _, t in got if ph == phone and TICKET.search(t)][-1]).group(1)

    def show(self, ticket):
        return self.d.cli_json("aspirations", "show", ticket, "--json")

    def test_holidays_move_deadlines_and_overdue(self):
        fresh = self.report(RESIDENT, "LAPOR lampu jalan di simpang tiga mati #infrastruktur")
        old = self.report(NEIGHBOUR, "LAPOR air PDAM keruh sejak kemarin")

        # 1. A new aspiration: its deadlines skip the weekend and the three coming holidays.
        a = self.show(fresh)
        first, resolution = deadlines(self.today, self.holidays)
        self.assertNotEqual(first, deadlines(self.today, set())[0], "the holidays should move the deadline")
        self.assertEqual((a["first_answer_due"], a["resolution_due"]), (first.isoformat(), resolution.isoformat()), a)
        self.assertFalse(a["overdue"])

        # 2. One received a week ago: without the past week's holidays its first answer would be
        # overdue by now; with them it is not, in the list, the export and the report alike.
        self.assertEqual(self.d.stop(), 0)
        con = sqlite3.connect(self.d.db_file, timeout=30)
        with con:
            con.execute("UPDATE aspirations SET received_at = received_at - ? WHERE phone = ?",
                        (7 * 86400 * 1000, NEIGHBOUR))
        con.close()
        self.d.start()
        self.assertLess(deadlines(self.week_ago, set())[0], self.today, "overdue without holidays")
        first, resolution = deadlines(self.week_ago, self.holidays)
        self.assertGreaterEqual(first, self.today)
        b = self.show(old)
        self.assertEqual((b["first_answer_due"], b["resolution_due"], b["overdue"]),
                         (first.isoformat(), resolution.isoformat(), False), b)
        self.assertEqual(self.d.cli_json("aspirations", "list", "--overdue", "--json")["aspirations"], [])
        rows = {r["ticket"]: r for r in csv.DictReader(io.StringIO(
            self.d.cli("export", "aspirations", "--format", "csv").stdout, newline=""))}
        self.assertEqual((rows[fresh]["overdue"], rows[old]["overdue"]), ("no", "no"))
        month = self.week_ago.strftime("%Y-%m")
        self.assertEqual(self.d.cli_json("report", "--month", month, "--json")["overdue"], 0)
        out = self.d.cli_json("aspirations", "remind", "--json")
        self.assertEqual((out["overdue"], out["reminded"]), (0, 0), out)

    def test_reload_picks_up_changed_holidays(self):
        ticket = self.report(RESIDENT, "LAPOR jembatan kayu di dusun 2 lapuk")
        self.assertEqual(self.show(ticket)["first_answer_due"], deadlines(self.today, self.holidays)[0].isoformat())
        self.write_holidays([])  # the coming days are working days after all
        self.d.cli("reload")
        want = deadlines(self.today, set(self.past))[0].isoformat()
        deadline = time.monotonic() + 60
        while self.show(ticket)["first_answer_due"] != want:
            self.assertLess(time.monotonic(), deadline, "the deadline was not recomputed after the reload")
            time.sleep(0.2)


if __name__ == "__main__":
    harness.parse_args_and_run()
