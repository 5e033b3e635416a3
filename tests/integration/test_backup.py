"""`kentongan backup FILE` (issue 8): a consistent copy of the live database through the running
daemon while a broadcast is being sent, and straight from the file when the daemon is stopped."""

import os
import sqlite3
import stat

from harness import DaemonTest, parse_args_and_run, sim_channel, test_config


def check_copy(test, path):
    """The copy is a finished, checked, private, self-contained SQLite file."""
    test.assertTrue(os.path.exists(path), path)
    test.assertFalse(os.path.exists(path + ".tmp"), "the .tmp file is renamed, not left behind")
    test.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        test.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        test.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "delete")
        return con.execute("SELECT count(*) FROM outbox").fetchone()[0], \
            con.execute("SELECT count(*) FROM subscribers").fetchone()[0]
    finally:
        con.close()


class BackupTest(DaemonTest):
    extra_csv_rows = 3000

    def config(self):
        # Slow enough that the broadcast is still going while the backup runs.
        return test_config(channel=sim_channel(tps=300, window=50), extra_csv_rows=self.extra_csv_rows)

    def test_backup_through_the_daemon_while_it_sends(self):
        bid = self.d.broadcast("--all", "--text", "Kerja bakti Minggu pagi")
        self.d.wait_status(bid, lambda s: s["recipients"] > 0 and s["submitted"] + s["delivered"] > 0,
                           "first messages sent")
        target = os.path.join(self.d.dir, "copy.db")
        out = self.d.cli_json("backup", target, "--json")
        self.assertEqual(out["file"], target)
        self.assertEqual(out["integrity"], "ok")
        self.assertGreater(out["pages"], 0)
        self.assertEqual(out["bytes"], os.path.getsize(target))
        outbox, subscribers = check_copy(self, target)
        self.assertGreater(subscribers, 3000)
        self.assertGreater(outbox, 0)
        self.assertIn("backup written file=%s" % target, self.d.log_text())

        # The daemon kept working: the broadcast finishes, and a second backup replaces the first.
        s = self.d.wait_done(bid)
        self.assertEqual(s["delivered"], s["recipients"])
        p = self.d.cli("backup", target)
        self.assertIn("backup written to %s" % target, p.stdout)
        self.assertIn("integrity ok", p.stdout)
        outbox2, _ = check_copy(self, target)
        self.assertEqual(outbox2, s["recipients"])
        con = sqlite3.connect("file:%s?mode=ro" % target, uri=True)
        delivered = con.execute("SELECT count(*) FROM outbox WHERE state = 3").fetchone()[0]
        con.close()
        self.assertEqual(delivered, s["recipients"])

    def test_refusals(self):
        # A relative file is made absolute by the CLI; a folder that does not exist is an error.
        p = self.d.cli("backup", os.path.join(self.d.dir, "nowhere", "copy.db"), check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("does not exist", p.stderr)
        p = self.d.cli("backup", self.d.db_file, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("is the live database itself", p.stderr)
        code, body = self.d.http("POST", "/api/backup", {"file": "relative.db"})
        self.assertEqual(code, 400, body)

    def test_backup_without_a_daemon_and_restore(self):
        bid = self.d.broadcast("--group", "petani-kakao", "--text", "Penyuluhan hama kakao")
        s = self.d.wait_done(bid)
        self.assertEqual(self.d.stop(), 0)
        target = os.path.join(self.d.dir, "offline.db")
        p = self.d.cli("backup", target)
        self.assertIn("no running daemon answered", p.stderr)
        self.assertIn("backup written to %s" % target, p.stdout)
        outbox, _ = check_copy(self, target)
        self.assertEqual(outbox, s["recipients"])

        # Restore: the copy replaces the database; the daemon starts on it and knows the broadcast.
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.d.db_file + suffix):
                os.remove(self.d.db_file + suffix)
        os.rename(target, self.d.db_file)
        self.d.start()
        self.assertEqual(self.d.status(bid)["delivered"], s["recipients"])


if __name__ == "__main__":
    parse_args_and_run()
