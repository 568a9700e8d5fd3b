"""WebSocket conformance of the server, in the spirit of the Autobahn
testsuite's groups 1-7 and 9 (that suite needs Python 2, so these cases are
written from RFC 6455 instead), through a raw-socket peer that masks with
random keys and sends exactly the bytes each case needs."""

import os
import struct
import sys
import time
import unittest

import peer

BINARY = None
MAX_MESSAGE = 4 * 1024 * 1024


class Conformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = peer.Server(BINARY, "--ws-max-message", MAX_MESSAGE,
                                 "--ws-max-outbound", 16 * 1024 * 1024)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            raise AssertionError(f"server exited with {code}")

    def raw(self):
        ws = peer.RawSocket(self.port, "/ws/echo", timeout=20)
        self.addCleanup(ws.close)
        self.assertEqual(ws.response.status, 101)
        return ws

    def expect_close(self, ws, code):
        seen, (got, reason) = ws.read_until_close()
        self.assertEqual(got, code, reason)
        self.assertEqual(seen, [])

    # Group 1: framing of text and binary messages at every length boundary.
    def test_1_payload_lengths_echo_exactly(self):
        ws = self.raw()
        for n in (0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 1 << 20):
            for opcode, payload in ((1, b"*" * n), (2, os.urandom(n))):
                with self.subTest(opcode=opcode, n=n):
                    ws.send(opcode, payload)
                    self.assertEqual(ws.read_frame(), (True, opcode, payload))

    def test_1_payload_sent_in_small_chunks(self):
        ws = self.raw()
        frame = peer.encode_frame(1, b"x" * 65536)
        for i in range(0, len(frame), 997):
            ws.send_raw(frame[i:i + 997])
        self.assertEqual(ws.read_frame(), (True, 1, b"x" * 65536))

    # Group 2: pings and pongs.
    def test_2_pings(self):
        ws = self.raw()
        for payload in (b"", b"hello", bytes(range(125)), b"\xff\xfe"):
            with self.subTest(n=len(payload)):
                ws.send(9, payload)
                self.assertEqual(ws.read_frame(), (True, 10, payload))
        ws.send(9, b"a" * 126)
        self.expect_close(ws, 1002)

    def test_2_unsolicited_pongs_are_ignored(self):
        ws = self.raw()
        ws.send(10, b"")
        ws.send(10, b"unsolicited")
        ws.send(1, "after")
        self.assertEqual(ws.read_frame(), (True, 1, b"after"))

    def test_2_ping_answered_before_later_data(self):
        ws = self.raw()
        ws.send_raw(peer.encode_frame(9, b"p") + peer.encode_frame(1, "d"))
        self.assertEqual(ws.read_frame(), (True, 10, b"p"))
        self.assertEqual(ws.read_frame(), (True, 1, b"d"))

    def test_2_many_pings_get_at_least_the_last_answered(self):
        ws = self.raw()
        ws.send_raw(b"".join(peer.encode_frame(9, b"%d" % i) for i in range(10)))
        ws.send(1, "end")
        pongs = []
        while True:
            fin, op, payload = ws.read_frame()
            if op == 1:
                break
            pongs.append(payload)
        # RFC 6455 5.5.3: pings received before a pong could be sent may be
        # answered by one pong, for the most recent.
        self.assertTrue(pongs)
        self.assertEqual(pongs[-1], b"9")

    # Group 3 and 4 live in test_websocket.py (reserved bits and opcodes).

    # Group 5: fragmentation.
    def test_5_fragmented_text_and_binary(self):
        ws = self.raw()
        for opcode in (1, 2):
            ws.send(opcode, "frag", fin=False)
            ws.send(0, "men", fin=False)
            ws.send(0, "ted")
            self.assertEqual(ws.read_frame(), (True, opcode, b"fragmented"))

    def test_5_one_byte_fragments(self):
        ws = self.raw()
        text = "fragments, one byte each".encode()
        ws.send(1, text[:1], fin=False)
        for i in range(1, len(text) - 1):
            ws.send(0, text[i:i + 1], fin=False)
        ws.send(0, text[-1:])
        self.assertEqual(ws.read_frame(), (True, 1, text))

    def test_5_pong_between_fragments(self):
        ws = self.raw()
        ws.send(1, "a", fin=False)
        ws.send(10, "")
        ws.send(0, "b")
        self.assertEqual(ws.read_frame(), (True, 1, b"ab"))

    def test_5_fragmented_control_frames_fail(self):
        for opcode in (9, 10, 8):
            with self.subTest(opcode=opcode):
                ws = self.raw()
                ws.send(opcode, b"", fin=False)
                self.expect_close(ws, 1002)

    def test_5_continuation_without_start_fails(self):
        for fin in (True, False):
            with self.subTest(fin=fin):
                ws = self.raw()
                ws.send(0, "x", fin=fin)
                self.expect_close(ws, 1002)

    # Group 6: UTF-8.
    def test_6_valid_utf8_in_every_width(self):
        ws = self.raw()
        for text in ("", "κόσμε", "\u0080", "\u07ff", "\u0800", "\uffff", "\U00010000",
                     "\U0010ffff", "\ufeff", "\ufffd"):
            with self.subTest(text=text):
                ws.send(1, text.encode())
                self.assertEqual(ws.read_frame(), (True, 1, text.encode()))

    def test_6_invalid_utf8_fails_with_1007(self):
        for payload in (b"\x80", b"\xbf", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
                        b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",
                        b"\xfe", b"\xff", b"\xce\xba\xe1\xbd", b"\xc2"):
            with self.subTest(payload=payload):
                ws = self.raw()
                ws.send(1, payload)
                self.expect_close(ws, 1007)

    def test_6_invalid_utf8_fails_fast_inside_a_fragmented_message(self):
        ws = self.raw()
        ws.send(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80", fin=False)
        # No FIN yet: the server must not wait for the rest.
        self.expect_close(ws, 1007)

    def test_6_code_point_split_across_fragments_at_every_byte(self):
        ws = self.raw()
        text = "κόσμε€𝄞".encode()
        for cut in range(1, len(text)):
            ws.send(1, text[:cut], fin=False)
            ws.send(0, text[cut:])
            self.assertEqual(ws.read_frame(), (True, 1, text))

    # Group 7: the closing handshake.
    def test_7_valid_close_codes_are_echoed(self):
        for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
            with self.subTest(code=code):
                ws = self.raw()
                ws.send(8, struct.pack("!H", code) + b"why")
                self.assertEqual(ws.read_until_close()[1][0], code)
                self.assertTrue(ws.reader.closed(timeout=3))

    def test_7_invalid_close_codes_fail_with_1002(self):
        for code in (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535):
            with self.subTest(code=code):
                ws = self.raw()
                ws.send(8, struct.pack("!H", code))
                self.expect_close(ws, 1002)

    def test_7_close_with_max_reason(self):
        ws = self.raw()
        ws.send(8, struct.pack("!H", 1000) + b"r" * 123)
        self.assertEqual(ws.read_until_close()[1][0], 1000)

    def test_7_nothing_is_sent_after_the_close_frame(self):
        ws = self.raw()
        ws.send_raw(peer.encode_frame(8, struct.pack("!H", 1000)) + peer.encode_frame(1, "late")
                    + peer.encode_frame(9, "late"))
        seen, (code, _) = ws.read_until_close()
        self.assertEqual((seen, code), ([], 1000))
        self.assertTrue(ws.reader.closed(timeout=3))

    def test_7_data_after_close_is_ignored(self):
        ws = self.raw()
        ws.send(1, "close:1000:bye")
        self.assertEqual(ws.read_until_close()[1], (1000, "bye"))
        ws.send(1, "ignored")
        ws.send(8, struct.pack("!H", 1000))
        self.assertTrue(ws.reader.closed(timeout=3))

    # Group 9: large messages and many small ones.
    def test_9_large_messages(self):
        ws = self.raw()
        for n in (1 << 16, 1 << 18, 1 << 20, 4 << 20):
            payload = os.urandom(n)
            ws.send(2, payload)
            self.assertEqual(ws.read_frame(), (True, 2, payload))

    def test_9_message_one_byte_over_the_limit_fails_with_1009(self):
        ws = self.raw()
        ws.send(2, b"x" * (MAX_MESSAGE + 1))
        self.expect_close(ws, 1009)

    def test_9_many_small_messages_in_one_write(self):
        ws = self.raw()
        count = 5000
        ws.send_raw(b"".join(peer.encode_frame(1, b"%d" % i) for i in range(count)))
        started = time.monotonic()
        for i in range(count):
            self.assertEqual(ws.read_frame(), (True, 1, b"%d" % i))
        self.assertLess(time.monotonic() - started, 30)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
