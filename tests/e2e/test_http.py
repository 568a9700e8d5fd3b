"""End-to-end HTTP tests of the server with peers we did not write: curl,
Python's http.client, and raw sockets for what those clients refuse to send."""

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import unittest

import peer

BINARY = None


class HttpBasics(peer.ServerTest):
    server_args = ("--header-limit", 2048, "--body-limit", 4096, "--head-timeout-ms", 1000)
    verbose = True

    def assert_json_error(self, response, status, fragment=None):
        self.assertEqual(response.status, status, response.body)
        self.assertEqual(response.header("content-type"), "application/json")
        errors = response.json()["errors"]
        self.assertIsInstance(errors, list)
        self.assertTrue(errors)
        if fragment is not None:
            self.assertIn(fragment, " ".join(errors))

    def test_curl_gets_health(self):
        out = subprocess.run(["curl", "-sS", "-i", f"http://127.0.0.1:{self.port}/health"],
                             capture_output=True, timeout=20, check=True).stdout
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out)
        self.assertTrue(out.endswith(b"\r\n\r\nok"), out)

    def test_curl_posts_typed_body_and_gets_it_back(self):
        body = json.dumps({"name": "build", "count": 3, "tags": ["a", "b"]})
        out = subprocess.run(["curl", "-sS", "-H", "Content-Type: application/json",
                              "--data-binary", body, f"http://127.0.0.1:{self.port}/echo"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
        self.assertEqual(json.loads(out), {"name": "build", "count": 3, "tags": ["a", "b"]})

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        conn = http.client.HTTPConnection(peer.HOST, self.port, timeout=10)
        conn.request("GET", "/health")
        first = conn.getresponse()
        self.assertEqual(first.read(), b"ok")
        sock = conn.sock
        for _ in range(5):
            conn.request("GET", "/jobs/7")
            r = conn.getresponse()
            self.assertEqual(json.loads(r.read()), {"route": "job", "jobid": 7})
        self.assertIs(conn.sock, sock, "http.client had to reconnect")
        conn.close()

    def test_pipelined_requests_are_answered_in_order(self):
        with peer.connect(self.port) as s:
            s.sendall(b"GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /jobs/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /jobs/2 HTTP/1.1\r\nHost: x\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            reader = peer.Reader(s)
            self.assertEqual(reader.read_response().json()["value"], "slow")
            self.assertEqual(reader.read_response().json()["jobid"], 1)
            self.assertEqual(reader.read_response().json()["jobid"], 2)

    def test_slow_handler_does_not_block_another_connection(self):
        order = []

        def slow():
            r = peer.get(self.port, "/slow?ms=1500")
            order.append(("slow", r.status))

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.2)
        started = time.monotonic()
        r = peer.get(self.port, "/health")
        order.append(("fast", r.status))
        self.assertLess(time.monotonic() - started, 1.0)
        t.join(10)
        self.assertEqual(order, [("fast", 200), ("slow", 200)])

    def test_head_has_length_but_no_body(self):
        with peer.connect(self.port) as s:
            s.sendall(b"HEAD /jobs/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /jobs/6 HTTP/1.1\r\nHost: x\r\n\r\n")
            reader = peer.Reader(s)
            head = reader.read_response(head_only=True)
            self.assertEqual(head.status, 200)
            self.assertEqual(head.header("content-length"),
                             str(len(b'{"route":"job","jobid":5}')))
            # If HEAD had sent a body, it would be read here as the next response.
            self.assertEqual(reader.read_response().json()["jobid"], 6)

    def test_unknown_path_is_404_json(self):
        self.assert_json_error(peer.get(self.port, "/nope"), 404)

    def test_wrong_method_is_405_with_allow(self):
        r = peer.post(self.port, "/health", "{}")
        self.assert_json_error(r, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD")

    def test_literal_segment_beats_parameter(self):
        self.assertEqual(peer.get(self.port, "/jobs/overview").json()["route"], "overview")

    def test_typed_parameter_that_does_not_parse_is_400(self):
        self.assert_json_error(peer.get(self.port, "/jobs/abc"), 400, "jobid")

    def test_encoded_slash_stays_in_one_parameter(self):
        self.assertEqual(peer.get(self.port, "/files/a%2Fb").json()["value"], "a/b")
        self.assertEqual(peer.get(self.port, "/files/..%252f..%252fetc").json()["value"],
                         "..%2f..%2fetc")
        self.assert_json_error(peer.get(self.port, "/files/a/b"), 404)

    # case-24: every traversal spelling reaches the handler as one parameter,
    # decoded exactly once, or matches no route at all.
    def test_traversal_spellings_stay_one_parameter_decoded_once(self):
        for target, value in (("/files/..%2f..%2fetc%2fpasswd", "../../etc/passwd"),
                              ("/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "../../etc/passwd"),
                              ("/files/..%5c..%5cetc%5cpasswd", "..\\..\\etc\\passwd"),
                              ("/files/..%252f..%252f..%252fetc%252fpasswd",
                               "..%2f..%2f..%2fetc%2fpasswd"),
                              ("/files/a%2fb", "a/b"),
                              ("/files/%2e%2e", "..")):
            with self.subTest(target=target):
                r = peer.get(self.port, target)
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.json()["value"], value)

    def test_raw_dot_segments_and_empty_segments_match_no_route(self):
        for target in ("/files/../../etc/passwd", "/files//etc/passwd", "/files/./a",
                       "/files/../health"):
            with self.subTest(target=target):
                out = subprocess.run(["curl", "-sS", "--path-as-is", "-i",
                                      f"http://127.0.0.1:{self.port}{target}"],
                                     capture_output=True, timeout=20, check=True).stdout
                self.assertTrue(out.startswith(b"HTTP/1.1 404") or out.startswith(b"HTTP/1.1 400"),
                                out[:60])
                self.assertNotIn(b"root:", out)
                self.assertIn(b'{"errors":', out)

    def test_traversal_in_a_channel_name_is_400_json(self):
        for target in ("/channels/..%2fadmin/publish", "/channels/a%2f..%2fb/publish",
                       "/channels/%252e%252e/publish", "/channels/%2e%2e/publish",
                       "/channels/..%5cadmin/publish"):
            with self.subTest(target=target):
                self.assert_json_error(peer.post(self.port, target, "{}"), 400, "channel names")
        self.assertEqual(peer.post(self.port, "/channels/a%2fb/publish", "{}").status, 202)

    def test_repeated_query_keys_give_a_list(self):
        r = peer.get(self.port, "/query?tag=a&tag=b%20c&tag=d+e&other=1")
        self.assertEqual(r.json()["values"], ["a", "b c", "d e"])

    def test_malformed_json_is_400_saying_why(self):
        self.assert_json_error(peer.post(self.port, "/echo", '{"name": '), 400, "invalid JSON")

    def test_wrong_field_type_is_400_naming_the_field(self):
        r = peer.post(self.port, "/echo", '{"name": 5, "count": 1}')
        self.assert_json_error(r, 400, "name")

    def test_unknown_field_is_rejected_unless_route_allows_it(self):
        body = '{"name": "a", "count": 1, "colour": "red"}'
        self.assert_json_error(peer.post(self.port, "/echo", body), 400, "colour")
        self.assertEqual(peer.post(self.port, "/echo/lenient", body).status, 200)

    def test_too_deep_json_is_400(self):
        self.assert_json_error(peer.post(self.port, "/echo", "[" * 100 + "]" * 100), 400)

    def test_empty_body_where_json_expected_is_400(self):
        self.assert_json_error(peer.post(self.port, "/echo", ""), 400, "empty")

    def test_body_over_limit_is_413(self):
        r = peer.post(self.port, "/echo", '{"name":"' + "x" * 5000 + '","count":1}')
        self.assert_json_error(r, 413)

    def test_route_body_limit_is_413(self):
        self.assert_json_error(peer.post(self.port, "/echo/small", '{"name":"abcdefghijk"}'), 413)

    def test_chunked_body_over_limit_is_413(self):
        chunk = b"x" * 3000
        raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
               b"%x\r\n" % len(chunk) + chunk + b"\r\n" + b"%x\r\n" % len(chunk) + chunk +
               b"\r\n0\r\n\r\n")
        self.assert_json_error(peer.exchange(self.port, raw), 413)

    def test_head_over_limit_is_431(self):
        r = peer.get(self.port, "/health", "X-Filler: " + "a" * 4000 + "\r\n")
        self.assert_json_error(r, 431)

    def test_garbage_is_400_and_closes(self):
        with peer.connect(self.port) as s:
            s.sendall(b"HELLO\x01 WORLD\r\n\r\n")
            reader = peer.Reader(s)
            self.assert_json_error(reader.read_response(), 400)
            self.assertTrue(reader.closed())

    def test_slow_client_is_cut_off_by_head_timeout(self):
        with peer.connect(self.port) as s:
            started = time.monotonic()
            request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
            try:
                for byte in request:
                    s.sendall(bytes([byte]))
                    time.sleep(0.1)
                    if time.monotonic() - started > 5:
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            s.settimeout(5)
            data = s.recv(65536)
            elapsed = time.monotonic() - started
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data)
            self.assertIn(b'{"errors":', data)
            self.assertLess(elapsed, 3.0)

    def test_handler_exception_is_generic_500_and_logged(self):
        r = peer.get(self.port, "/boom")
        self.assert_json_error(r, 500)
        self.assertNotIn(b"secret", r.body)
        deadline = time.monotonic() + 5
        while "handler_failed" not in self.server.logged() and time.monotonic() < deadline:
            time.sleep(0.05)
        line = next(l for l in self.server.logged().splitlines() if "handler_failed" in l)
        self.assertIn("method=GET target=/boom", line)
        self.assertIn("secret detail", line)

    def test_http_error_keeps_status_and_messages(self):
        r = peer.get(self.port, "/teapot")
        self.assertEqual(r.status, 418)
        self.assertEqual(r.json(), {"errors": ["short and stout", "tip me over"]})

    def test_expect_100_continue_sends_one_interim_response(self):
        with peer.connect(self.port) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 24\r\nExpect: 100-continue\r\n\r\n")
            s.settimeout(2)
            interim = s.recv(4096)
            self.assertEqual(interim, b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(b'{"name":"a","count":1}  ')
            r = peer.Reader(s).read_response()
            self.assertEqual(r.status, 200)

    def test_unknown_expectation_is_417(self):
        r = peer.exchange(self.port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                     b"Expect: something-else\r\n\r\n{}")
        self.assert_json_error(r, 417)

    def test_missing_or_repeated_host_is_400(self):
        self.assert_json_error(peer.exchange(self.port, b"GET /health HTTP/1.1\r\n\r\n"), 400,
                               "Host")
        self.assert_json_error(peer.exchange(
            self.port, b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400, "Host")

    def test_ambiguous_framing_is_400_and_never_smuggles(self):
        cases = [
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
            b"Transfer-Encoding: chunked, something\r\n\r\n0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /jobs/66 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length:\r\n 6\r\n\r\n"
            b"0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n1\r\nZ\r\n"
            b"0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n1\r\nZ\r\n0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
            b"1\r\nZ\r\n0\r\n\r\n",
            b"POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nZ\r\n"
            b"0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        ]
        for raw in cases:
            with self.subTest(raw=raw[:70]):
                with peer.connect(self.port) as s:
                    s.sendall(raw)
                    reader = peer.Reader(s)
                    self.assert_json_error(reader.read_response(), 400)
                    self.assertTrue(reader.closed(), "a second response followed the 400")

    def test_unsupported_transfer_coding_is_501(self):
        r = peer.exchange(self.port, b"POST /echo HTTP/1.1\r\nHost: x\r\n"
                                     b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        self.assert_json_error(r, 501)

    def test_header_names_are_case_insensitive(self):
        raw = (b'POST /echo HTTP/1.1\r\nHost: x\r\ntRANSFER-ENCODING: chunked\r\n\r\n'
               b'16\r\n{"name":"Z","count":1}\r\n0\r\n\r\n')
        self.assertEqual(peer.exchange(self.port, raw).json()["name"], "Z")

    def test_options_lists_allowed_methods(self):
        r = peer.exchange(self.port, b"OPTIONS /jobs/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("allow"), "GET, HEAD")

    def test_server_stays_healthy_after_abuse(self):
        self.assertEqual(peer.get(self.port, "/health").status, 200)


class Origin(peer.ServerTest):
    """case-31, REST: a state-changing request from a page on another site is
    refused with 403 before anything runs (docs/http.md, "Origin")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.host = f"127.0.0.1:{cls.port}"

    def send(self, method, target, origin=None, host=None, body=b'{"name":"a","count":1}'):
        head = f"{method} {target} HTTP/1.1\r\nHost: {host or self.host}\r\n"
        if origin is not None:
            head += f"Origin: {origin}\r\n"
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return peer.exchange(self.port, head.encode() + body, head_only=method == "HEAD")

    def assert_forbidden(self, r):
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(r.json(), {"errors": ["origin not allowed"]})

    def test_foreign_null_and_look_alike_origins_are_403(self):
        for origin in ("http://evil.example", "null", f"http://127.0.0.1.evil.example:{self.port}",
                       f"http://127.0.0.1:{self.port}.evil.example", "http://127.0.0.1",
                       f"http://127.0.0.1:{self.port + 1}", f"http://evil.example/{self.host}",
                       "garbage", ""):
            with self.subTest(origin=origin):
                self.assert_forbidden(self.send("POST", "/echo", origin))

    def test_same_origin_in_any_case_and_no_origin_are_allowed(self):
        for origin in (f"http://{self.host}", f"HTTP://{self.host}", f"http://{self.host}/", None):
            with self.subTest(origin=origin):
                self.assertEqual(self.send("POST", "/echo", origin).status, 200)
        r = self.send("POST", "/echo", f"http://LOCALHOST:{self.port}",
                      host=f"localhost:{self.port}")
        self.assertEqual(r.status, 200)

    def test_every_unsafe_method_is_checked_and_safe_ones_are_not(self):
        evil = "http://evil.example"
        self.assert_forbidden(self.send("DELETE", "/jobs/5/subscribers", evil))
        self.assert_forbidden(self.send("PUT", "/echo/partner", evil))
        self.assertEqual(self.send("GET", "/health", evil, body=b"").status, 200)
        self.assertEqual(self.send("HEAD", "/health", evil, body=b"").status, 200)
        self.assertEqual(self.send("OPTIONS", "/echo", evil, body=b"").status, 204)

    def test_a_refused_publish_changes_nothing(self):
        ws = peer.RawSocket(self.port, "/channels/origin-check/subscribe",
                            {"Host": self.host, "Origin": f"http://{self.host}"})
        self.addCleanup(ws.close)
        self.assertEqual(ws.response.status, 101)
        ws.read_frame()
        r = self.send("POST", "/channels/origin-check/publish", "http://evil.example",
                      body=b'{"from":"evil"}')
        self.assert_forbidden(r)
        r = self.send("POST", "/channels/origin-check/publish", f"http://{self.host}",
                      body=b'{"from":"us"}')
        self.assertEqual(r.status, 202)
        self.assertEqual(ws.read_frame()[2], b'{"from":"us"}')

    def test_two_origin_headers_are_403(self):
        raw = (f"POST /echo HTTP/1.1\r\nHost: {self.host}\r\nOrigin: http://{self.host}\r\n"
               f"Origin: http://evil.example\r\nContent-Length: 2\r\n\r\n{{}}").encode()
        self.assert_forbidden(peer.exchange(self.port, raw))

    def test_a_route_list_and_the_public_opt_out(self):
        for origin, status in (("https://partner.example", 200),
                               ("https://PARTNER.example:443", 200),
                               ("http://partner.example", 403),
                               ("https://partner.example.evil", 403),
                               (f"http://{self.host}", 403)):
            with self.subTest(origin=origin):
                self.assertEqual(self.send("PUT", "/echo/partner", origin).status, status)
        for origin in ("http://evil.example", "null"):
            with self.subTest(origin=origin):
                self.assertEqual(self.send("POST", "/echo/public", origin).status, 200)

    def test_curl_post_with_a_foreign_origin(self):
        out = subprocess.run(["curl", "-sS", "-i", "-H", "Origin: http://evil.example",
                              "-H", "Content-Type: application/json",
                              "--data-binary", '{"name":"a","count":1}',
                              f"http://{self.host}/echo"],
                             capture_output=True, timeout=20, check=True).stdout
        self.assertTrue(out.startswith(b"HTTP/1.1 403"), out[:60])
        self.assertTrue(out.endswith(b'{"errors":["origin not allowed"]}'), out)


class ConnectionLimits(unittest.TestCase):
    def test_connections_past_the_limit_get_503(self):
        server = peer.Server(BINARY, "--max-connections", 2)
        try:
            held = [peer.connect(server.port) for _ in range(2)]
            time.sleep(0.2)
            r = peer.get(server.port, "/health")
            self.assertEqual(r.status, 503)
            self.assertIn("too many connections", r.json()["errors"][0])
            for s in held:
                s.close()
            self.assertEqual(peer.status_once_free(server.port), 200)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_idle_keep_alive_connection_is_closed(self):
        server = peer.Server(BINARY, "--idle-timeout-ms", 300)
        try:
            with peer.connect(server.port) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                reader = peer.Reader(s)
                self.assertEqual(reader.read_response().status, 200)
                self.assertTrue(reader.closed(timeout=3))
        finally:
            self.assertEqual(server.stop(), 0)

    def test_stop_finishes_requests_in_flight(self):
        server = peer.Server(BINARY)
        results = []

        def slow():
            results.append(peer.get(server.port, "/slow?ms=800").status)

        t = threading.Thread(target=slow)
        t.start()
        idle = peer.connect(server.port)
        time.sleep(0.3)
        started = time.monotonic()
        self.assertEqual(server.stop(), 0)
        t.join(10)
        self.assertEqual(results, [200])
        self.assertTrue(peer.Reader(idle).closed(timeout=2))
        self.assertLess(time.monotonic() - started, 5)
        idle.close()


if __name__ == "__main__":
    BINARY = peer.BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
