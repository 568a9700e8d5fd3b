"""Abuse from shared/cases, end to end: each test sends a case's input (and
its neighbours) and asserts a clear answer, bounded memory and a server that
stays healthy. Every loop here is bounded in count and time."""

import json
import socket
import struct
import sys
import threading
import time
import unittest

import peer

BINARY = None


class Hardening(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = peer.Server(BINARY, "--ws-max-message", 1 << 20, "--ws-close-ms", 1000,
                                 "--head-timeout-ms", 3000)
        cls.port = cls.server.port
        cls.pid = cls.server.proc.pid

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            raise AssertionError(f"server exited with {code}")

    def healthy_quickly(self):
        started = time.monotonic()
        self.assertEqual(peer.get(self.port, "/health").status, 200)
        self.assertLess(time.monotonic() - started, 1.0)

    def raw(self, path="/ws/echo", **kw):
        ws = peer.RawSocket(self.port, path, **kw)
        self.addCleanup(ws.close)
        self.assertEqual(ws.response.status, 101)
        return ws

    # case-19: a head that never ends is refused once the header budget is spent.
    def test_endless_header_line_is_431_and_memory_stays_flat(self):
        before = peer.rss_kib(self.pid)
        results = []

        def flood(prefix):
            with peer.connect(self.port) as s:
                status = None
                try:
                    s.sendall(prefix)
                    chunk = b"A" * 65536
                    for _ in range(64):  # up to 4 MiB, stopped by the server long before
                        s.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                try:
                    s.settimeout(5)
                    data = s.recv(4096)
                    status = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1") else None
                except (ConnectionResetError, socket.timeout):
                    pass
                results.append(status)

        threads = [threading.Thread(target=flood, args=(p,))
                   for p in [b"GET /"] * 5 + [b"GET /health HTTP/1.1\r\nX: "] * 5]
        for t in threads:
            t.start()
        self.healthy_quickly()
        for t in threads:
            t.join(30)
        # A reset may beat the answer to a client still sending; no one gets a 2xx.
        self.assertTrue(all(r in (None, 400, 431) for r in results), results)
        self.assertIn(431, results)
        peer.assert_growth_below(self, before, peer.rss_kib(self.pid), 8 * 1024)
        self.healthy_quickly()

    def test_many_small_header_lines_are_431(self):
        lines = b"".join(b"X-%d: y\r\n" % i for i in range(100000))
        with peer.connect(self.port) as s:
            try:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            data = s.recv(4096)
            self.assertTrue(data.startswith(b"HTTP/1.1 431"), data[:40])

    # case-25: Expect: 100-continue neighbours.
    def test_expect_with_a_huge_length_is_413_without_waiting(self):
        started = time.monotonic()
        r = peer.exchange(self.port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                                     b"Expect: 100-continue\r\n\r\n")
        self.assertEqual(r.status, 413)
        self.assertLess(time.monotonic() - started, 1.0)

    def test_expect_to_an_unknown_route_is_404_at_once(self):
        r = peer.exchange(self.port, b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
                                     b"Expect: 100-continue\r\n\r\n")
        self.assertEqual(r.status, 404)

    def test_body_sent_without_waiting_gets_no_interim_response(self):
        body = b'{"name":"a","count":1}'
        with peer.connect(self.port) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                      b"Expect: 100-continue\r\n\r\n" % len(body) + body)
            r = peer.Reader(s).read_response()
            self.assertEqual(r.status, 200)

    # case-22: pipelined requests with the peer gone early.
    def test_pipelined_requests_then_reset_leave_the_server_healthy(self):
        for i in range(200):
            s = peer.connect(self.port)
            s.sendall(b"GET /slow?ms=5 HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                s.shutdown(socket.SHUT_WR)
            s.close()
        self.healthy_quickly()

    def test_malformed_chunk_sizes_are_400(self):
        for chunk in (b"zz\r\nab\r\n0\r\n\r\n", b"-1\r\nab\r\n0\r\n\r\n",
                      b"ffffffffffffffffff\r\nab\r\n0\r\n\r\n", b"2\r\nabc\r\n0\r\n\r\n"):
            with self.subTest(chunk=chunk):
                r = peer.exchange(self.port, b"POST /echo HTTP/1.1\r\nHost: x\r\n"
                                             b"Transfer-Encoding: chunked\r\n\r\n" + chunk)
                self.assertIn(r.status, (400, 413))

    # case-03: endless continuation frames on several connections.
    def test_endless_continuations_are_1009_with_bounded_memory(self):
        before = peer.rss_kib(self.pid)
        codes = []

        def stream():
            ws = peer.RawSocket(self.port, "/ws/echo")
            frame = peer.encode_frame(0, b"a" * 65535, fin=False)
            try:
                ws.send(1, b"a" * 65535, fin=False)
                for _ in range(64):  # 4 MiB, four times the 1 MiB message limit
                    ws.send_raw(frame)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                codes.append(ws.read_until_close()[1][0])
            except (EOFError, ConnectionResetError):
                codes.append(None)
            ws.close()

        threads = [threading.Thread(target=stream) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(codes, [1009] * 5)
        peer.assert_growth_below(self, before, peer.rss_kib(self.pid), 5 * 2 * 1024 + 4096)
        self.healthy_quickly()

    # case-08: a ping flood from a peer that does not read.
    def test_ping_flood_from_a_non_reader_keeps_memory_bounded(self):
        ws = self.raw(rcvbuf=4096)
        before = peer.rss_kib(self.pid)
        ping = peer.encode_frame(9, b"p" * 125)
        sent = 0
        ws.sock.settimeout(0.5)
        deadline = time.monotonic() + 5
        try:
            while sent < 200000 and time.monotonic() < deadline:
                ws.sock.sendall(ping * 100)
                sent += 100
        except (socket.timeout, BrokenPipeError, ConnectionResetError):
            pass
        peer.assert_growth_below(self, before, peer.rss_kib(self.pid), 4 * 1024, f"after {sent} pings")
        self.healthy_quickly()

    # case-09: the peer's close frame arrives while a big write is in flight.
    def test_close_during_a_large_broadcast(self):
        for i in range(20):
            job = 9000 + i
            ws = self.raw(f"/jobs/{job}/subscribe")
            ws.read_frame()
            body = json.dumps({"blob": "z" * 60000})
            with peer.connect(self.port) as s:
                reader = peer.Reader(s)
                for _ in range(10):
                    s.sendall(b"POST /jobs/%d/publish HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                              % (job, len(body)) + body.encode())
                    reader.read_response()
            time.sleep((i % 5) / 100)
            ws.send(8, struct.pack("!H", 1000))
            closes = 0
            try:
                while True:
                    _, op, payload = ws.read_frame()
                    if op == 8:
                        closes += 1
            except (EOFError, ConnectionResetError):
                pass
            self.assertEqual(closes, 1)
            deadline = time.monotonic() + 5
            while peer.get(self.port, f"/jobs/{job}/subscribers").json()["subscribers"]:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.02)
        self.healthy_quickly()

    # case-35: bad UTF-8 never reaches a subscriber; NUL round-trips escaped.
    def test_publish_bodies_with_bad_utf8_are_400(self):
        for body in (b'{"msg":"\xc3\x28"}', b'{"msg":"\xed\xa0\x80"}', b'{"msg":"\\ud800"}'):
            with self.subTest(body=body):
                self.assertEqual(peer.post(self.port, "/jobs/77/publish", body).status, 400)

    def test_nul_round_trips_escaped_to_a_subscriber(self):
        ws = self.raw("/jobs/78/subscribe")
        ws.read_frame()
        self.assertEqual(peer.post(self.port, "/jobs/78/publish", b'{"msg":"a\\u0000b"}').status,
                         202)
        _, op, payload = ws.read_frame()
        self.assertEqual((op, payload), (1, b'{"msg":"a\\u0000b"}'))

    def test_publisher_frame_with_bad_utf8_is_1007_and_others_carry_on(self):
        other = self.raw("/jobs/79/subscribe")
        other.read_frame()
        bad = self.raw("/jobs/79/subscribe")
        bad.read_frame()
        bad.send(1, b"\xc3\x28")
        self.assertEqual(bad.read_until_close()[1][0], 1007)
        peer.post(self.port, "/jobs/79/publish", b'{"still":"fine"}')
        self.assertEqual(other.read_frame()[2], b'{"still":"fine"}')

    # case-33: deep nesting as a REST body and as a WebSocket message.
    def test_deep_nesting_is_refused_without_crashing(self):
        for body in ("[" * 100000, '{"a":' * 50000, "[" * 33 + "]" * 33):
            with self.subTest(size=len(body)):
                self.assertEqual(peer.post(self.port, "/json/any", body).status, 400)
        self.assertEqual(peer.post(self.port, "/json/any", "[" * 32 + "]" * 32).status, 200)
        ws = self.raw("/jobs/80/subscribe")
        ws.read_frame()
        ws.send(1, "[" * 100000)
        code, reason = ws.read_until_close()[1]
        self.assertEqual(code, 1007)
        self.assertIn("nested deeper", reason)
        self.healthy_quickly()

    # case-24: channel names a client chooses are checked against one strict
    # pattern (valid_channel_name) on every path they come in by.
    BAD_CHANNELS = ("../admin", "a/../b", "%2e%2e", "..", ".", "", "x" * 129, "a\x00b", "a\nb",
                    "a\x7fb", "a b", "/a", "a/", "a//b", "..\\admin", "caf\u00e9")
    GOOD_CHANNELS = ("job/7", "prices/EUR-USD", "room.lobby", "a~b_c", "x" * 128)

    def test_bad_channel_names_in_subscribe_messages_close_with_1008_and_the_rule(self):
        for name in self.BAD_CHANNELS:
            with self.subTest(name=name):
                ws = self.raw("/ws/channels")
                ws.send(1, json.dumps({"subscribe": name}))
                seen, (code, reason) = ws.read_until_close()
                self.assertEqual((seen, code), ([], 1008))
                self.assertIn("channel names are", reason)
        self.healthy_quickly()

    def test_bad_channel_names_in_the_path_are_400_json_without_upgrade(self):
        from urllib.parse import quote
        for name in self.BAD_CHANNELS:
            with self.subTest(name=name):
                segment = quote(name, safe="")
                r = peer.post(self.port, f"/channels/{segment}/publish", "{}")
                ws = peer.RawSocket(self.port, f"/channels/{segment}/subscribe")
                self.addCleanup(ws.close)
                for response in (r, ws.response):
                    # An empty segment matches no route at all.
                    self.assertIn(response.status, (400,) if name else (400, 404), response.body)
                    errors = response.json()["errors"]
                    # The router refuses a NUL in any path before a handler runs.
                    if name and "\x00" not in name:
                        self.assertIn("channel names are", errors[0])
        self.healthy_quickly()

    def test_good_channel_names_subscribe_and_receive(self):
        from urllib.parse import quote
        for name in self.GOOD_CHANNELS:
            with self.subTest(name=name):
                ws = self.raw("/ws/channels")
                ws.send(1, json.dumps({"subscribe": name}))
                _, op, payload = ws.read_frame()
                self.assertEqual(json.loads(payload),
                                 {"type": "subscribed", "channel": "channel:" + name})
                r = peer.post(self.port, f"/channels/{quote(name, safe='')}/publish",
                              '{"n":1}')
                self.assertEqual((r.status, r.json()["subscribers"]), (202, 1))
                self.assertEqual(ws.read_frame()[2], b'{"n":1}')

    # case-20: WebSocket slowloris variants.
    def test_silent_tcp_connection_is_closed_by_the_head_timeout(self):
        with peer.connect(self.port) as s:
            s.sendall(b"G")
            started = time.monotonic()
            s.settimeout(10)
            data = s.recv(4096)
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data)
            self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
