"""WebSocket conformance of the server, in the spirit of the Autobahn
testsuite's groups 1-7, 9 and 10 (that suite needs Python 2, so these cases are
written from RFC 6455 instead), through a raw-socket peer that masks with
random keys and sends exactly the bytes each case needs."""

import os
import struct
import sys
import time
import unittest

import peer

MAX_MESSAGE = 4 * 1024 * 1024


class Conformance(peer.ServerTest):
    server_args = ("--ws-max-message", MAX_MESSAGE, "--ws-max-outbound", 16 * 1024 * 1024)

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

    # Group 3: reserved bits. No extension is ever negotiated, so RSV1-3 must
    # be zero on every frame (RFC 6455 5.2); a frame with any of them set
    # fails the connection with 1002, and nothing of it reaches the session.
    def test_3_reserved_bits_on_every_kind_of_frame_fail(self):
        cases = [(1, "Hello", rsv) for rsv in range(1, 8)]
        cases += [(2, b"\x00\xff", 5), (9, "", 6), (10, "", 3), (8, struct.pack("!H", 1000), 7)]
        for opcode, payload, rsv in cases:
            with self.subTest(opcode=opcode, rsv=rsv):
                ws = self.raw()
                ws.send(opcode, payload, rsv=rsv)
                self.expect_close(ws, 1002)

    def assert_read_then_failed(self, bad_frame):
        """A valid message, a bad frame and a ping in one write: the session
        reads the message, the connection fails with 1002, and the ping
        after the bad frame is never answered. The session's reply to the
        message may lose the race with the failure (Autobahn's "non-strict"),
        so /ws/record tells what the session read."""
        marker = f"read-{time.monotonic_ns()}"
        ws = peer.RawSocket(self.port, "/ws/record", timeout=20)
        self.addCleanup(ws.close)
        self.assertEqual(ws.response.status, 101)
        ws.send_raw(peer.encode_frame(1, marker) + bad_frame + peer.encode_frame(9, "unanswered"))
        self.expect_close(ws, 1002)
        deadline = time.monotonic() + 5
        while marker not in peer.get(self.port, "/ws/recorded").json()["values"]:
            self.assertLess(time.monotonic(), deadline, "the session never read the message")
            time.sleep(0.02)

    def test_3_message_before_a_frame_with_reserved_bits_is_read_first(self):
        for rsv in (2, 3, 4):
            with self.subTest(rsv=rsv):
                self.assert_read_then_failed(peer.encode_frame(1, "Hello", rsv=rsv))

    def test_3_reserved_bits_on_a_continuation_fail(self):
        ws = self.raw()
        ws.send(1, "frag", fin=False)
        ws.send(0, "ment", rsv=4)
        self.expect_close(ws, 1002)

    def test_3_a_deflate_offer_is_not_accepted_so_rsv1_still_fails(self):
        ws = peer.RawSocket(self.port, "/ws/echo", {
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"})
        self.addCleanup(ws.close)
        self.assertEqual(ws.response.status, 101)
        self.assertIsNone(ws.response.header("sec-websocket-extensions"))
        ws.send(1, "Hello", rsv=4)
        self.expect_close(ws, 1002)

    # Group 4: reserved opcodes, data (3-7) and control (11-15), fail the
    # connection with 1002 (RFC 6455 5.2), with or without a payload.
    def test_4_reserved_opcodes_fail(self):
        for opcode in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
            for payload in (b"", b"reserved"):
                with self.subTest(opcode=opcode, n=len(payload)):
                    ws = self.raw()
                    ws.send(opcode, payload)
                    self.expect_close(ws, 1002)

    def test_4_message_before_a_reserved_opcode_is_read_first(self):
        for opcode in (5, 6, 7, 13, 14, 15):
            with self.subTest(opcode=opcode):
                self.assert_read_then_failed(peer.encode_frame(opcode, "x"))

    def test_4_reserved_opcode_inside_a_fragmented_message_fails(self):
        for opcode in (3, 11):
            with self.subTest(opcode=opcode):
                ws = self.raw()
                ws.send(1, "frag", fin=False)
                ws.send(opcode, "x")
                self.expect_close(ws, 1002)

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

    # Group 10: miscellaneous. A peer may fragment a message however it
    # likes (RFC 6455 5.4); the server delivers it whole, as one message.
    def test_10_auto_fragmented_message_is_delivered_whole(self):
        ws = self.raw()
        for opcode, payload in ((1, b"*" * 65536), (2, os.urandom(65536))):
            with self.subTest(opcode=opcode):
                chunks = [payload[i:i + 1300] for i in range(0, len(payload), 1300)]
                frames = [peer.encode_frame(opcode, chunks[0], fin=False)]
                frames += [peer.encode_frame(0, c, fin=False) for c in chunks[1:-1]]
                frames.append(peer.encode_frame(0, chunks[-1]))
                ws.send_raw(b"".join(frames))
                self.assertEqual(ws.read_frame(), (True, opcode, payload))

    def test_10_fragmented_message_up_to_the_limit_is_delivered_and_one_byte_more_is_1009(self):
        # Each continuation is charged its payload plus 64 bytes against the
        # limit (case-04): two halves fit when the second leaves room for that.
        half = MAX_MESSAGE // 2
        ws = self.raw()
        payload = os.urandom(MAX_MESSAGE - 64)
        ws.send(2, payload[:half], fin=False)
        ws.send(0, payload[half:])
        self.assertEqual(ws.read_frame(), (True, 2, payload))

        ws = self.raw()
        ws.send(2, b"x" * half, fin=False)
        # The header alone is refused: the server need not wait for the payload.
        ws.send_raw(peer.encode_frame(0, b"x" * (half - 64 + 1))[:14])
        self.expect_close(ws, 1009)

    def test_10_messages_of_every_size_interleaved_with_pings(self):
        ws = self.raw()
        for n in (0, 1, 125, 126, 65535, 65536):
            ws.send_raw(peer.encode_frame(9, b"%d" % n) + peer.encode_frame(1, b"m" * n))
            self.assertEqual(ws.read_frame(), (True, 10, b"%d" % n))
            self.assertEqual(ws.read_frame(), (True, 1, b"m" * n))


if __name__ == "__main__":
    peer.BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
