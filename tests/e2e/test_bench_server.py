"""The bench server takes channel keys from clients (case-24): a key that
fails valid_channel_name is refused with 400 before the upgrade, or closes
the publisher with 1008, and good keys keep working."""

import subprocess
import sys
import unittest
from urllib.parse import quote

import peer


class BenchServerKeys(peer.ServerTest):
    server_args = ("--port", 0)

    def raw(self, path):
        ws = peer.RawSocket(self.port, path)
        self.addCleanup(ws.close)
        return ws

    def test_bad_keys_in_the_subscribe_path_are_400_json(self):
        for key in ("../admin", "a/../b", "%2e%2e", "x" * 129, "a\x01b"):
            with self.subTest(key=key):
                ws = self.raw(f"/topics/{quote(key, safe='')}/subscribe")
                self.assertEqual(ws.response.status, 400, ws.response.body)
                self.assertIn("channel names are", ws.response.json()["errors"][0])

    def test_bad_keys_from_a_publisher_close_it_with_1008(self):
        for key in ("../admin", "a/../b", "%2e%2e", "x" * 129, "a\x01b"):
            with self.subTest(key=key):
                ws = self.raw("/publish")
                self.assertEqual(ws.response.status, 101)
                ws.send(1, f"{key} payload")
                seen, (code, reason) = ws.read_until_close()
                self.assertEqual((seen, code), ([], 1008))
                self.assertIn("channel names are", reason)

    def test_good_keys_still_fan_out(self):
        sub = self.raw("/topics/room.lobby/subscribe")
        self.assertEqual(sub.response.status, 101)
        pub = self.raw("/publish")
        # The subscriber joined before its 101, so the publish cannot miss it.
        pub.send(1, "room.lobby hello")
        self.assertEqual(sub.read_frame(), (True, 1, b"hello"))
        self.assertEqual(peer.get(self.port, "/health").status, 200)


class BenchServerOptions(unittest.TestCase):
    def test_numbers_out_of_range_are_refused_not_wrapped(self):
        for args in (("--port", "70000"), ("--port", "-1"), ("--port", "80x"),
                     ("--port", "0", "--threads", "0"), ("--port", "0", "--threads", "5000")):
            with self.subTest(args=args):
                run = subprocess.run([peer.BINARY, *args], capture_output=True, text=True,
                                     timeout=10)
                self.assertEqual(run.returncode, 2, run.stderr)
                self.assertIn("takes", run.stderr)
                self.assertNotIn("port=", run.stdout)


if __name__ == "__main__":
    peer.BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
