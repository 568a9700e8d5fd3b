"""The demo service (examples/job_events) end to end, through its REST API
and its WebSocket, with Python's websockets library as the client."""

import asyncio
import json
import re
import subprocess
import sys
import time
import unittest

import websockets

import peer

BINARY = None


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = peer.Server(BINARY, "--port", 0, "--threads", 2)
        cls.port = cls.server.port
        cls.ws = f"ws://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            raise AssertionError(f"demo exited with {code}")

    def create(self, name):
        r = peer.post(self.port, "/jobs", json.dumps({"name": name}))
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def event(self, job, body):
        return peer.post(self.port, f"/jobs/{job}/events", json.dumps(body))

    def test_health(self):
        self.assertEqual(peer.get(self.port, "/health").status, 200)

    def test_create_list_get(self):
        job = self.create("build")
        self.assertEqual(set(job), {"id", "name", "state"})
        self.assertEqual(job["name"], "build")
        listed = peer.get(self.port, "/jobs").json()["jobs"]
        self.assertIn(job, listed)
        self.assertEqual(peer.get(self.port, f"/jobs/{job['id']}").json(), job)

    def test_unknown_job_is_404_everywhere(self):
        for r in (peer.get(self.port, "/jobs/999999"), self.event(999999, {"a": 1}),
                  peer.exchange(self.port, b"DELETE /jobs/999999 HTTP/1.1\r\nHost: x\r\n\r\n"),
                  peer.exchange(self.port, peer.upgrade_request("/jobs/999999/subscribe"))):
            self.assertEqual(r.status, 404)
            self.assertTrue(r.json()["errors"])

    def test_bad_bodies_are_400(self):
        self.assertEqual(peer.post(self.port, "/jobs", "{}").status, 400)
        self.assertEqual(peer.post(self.port, "/jobs", '{"name": ""}').status, 400)
        job = self.create("x")
        self.assertEqual(self.event(job["id"], [1, 2]).status, 400)

    def test_subscriber_gets_every_event_in_order_without_gaps(self):
        job = self.create("ordered")["id"]

        async def scenario():
            async with websockets.connect(f"{self.ws}/jobs/{job}/subscribe") as ws:
                self.assertEqual(json.loads(await ws.recv()), {"type": "subscribed", "job": job})
                for n in range(1, 51):
                    r = self.event(job, {"n": n})
                    self.assertEqual(r.status, 202)
                    self.assertEqual(r.json(), {"seq": n, "subscribers": 1})
                for n in range(1, 51):
                    self.assertEqual(json.loads(await ws.recv()),
                                     {"job": job, "seq": n, "event": {"n": n}})
        run(scenario())

    def test_ping_gets_pong_plus_one(self):
        job = self.create("pinger")["id"]

        async def scenario():
            async with websockets.connect(f"{self.ws}/jobs/{job}/subscribe") as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "ping", "n": 41}))
                self.assertEqual(json.loads(await ws.recv()), {"type": "pong", "n": 42})
        run(scenario())

    def test_ping_at_the_largest_n_closes_with_1008_instead_of_overflowing(self):
        job = self.create("edge")["id"]

        async def scenario():
            async with websockets.connect(f"{self.ws}/jobs/{job}/subscribe") as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "ping", "n": 2**63 - 1}))
                with self.assertRaises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
                self.assertEqual(closed.exception.rcvd.code, 1008)
                self.assertEqual(closed.exception.rcvd.reason, "n is out of range")
        run(scenario())
        self.assertEqual(peer.get(self.server.port, "/health").status, 200)

    def test_delete_closes_subscribers_with_1000(self):
        job = self.create("doomed")["id"]

        async def scenario():
            sockets = [await websockets.connect(f"{self.ws}/jobs/{job}/subscribe")
                       for _ in range(3)]
            for ws in sockets:
                await ws.recv()
            r = peer.exchange(self.port, f"DELETE /jobs/{job} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            self.assertEqual(r.status, 204)
            for ws in sockets:
                with self.assertRaises(websockets.ConnectionClosedOK):
                    await ws.recv()
                self.assertEqual((ws.close_code, ws.close_reason), (1000, "job removed"))
        run(scenario())
        self.assertEqual(peer.get(self.port, f"/jobs/{job}").status, 404)

    def test_page_is_self_contained(self):
        r = peer.get(self.port, "/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        page = r.body.decode()
        self.assertIn("<title>Switchboard job events</title>", page)
        self.assertIsNone(re.search(r"(src|href)=\"(https?:)?//", page), "external resource")


class CommandLine(unittest.TestCase):
    def test_numbers_out_of_range_are_refused_not_wrapped(self):
        for option, value in [("--port", "70000"), ("--port", "-1"), ("--body-limit", "-5"),
                              ("--threads", "0"), ("--max-connections", "0"),
                              ("--port", "80x")]:
            done = subprocess.run([BINARY, option, value], capture_output=True, text=True,
                                  timeout=10)
            self.assertEqual(done.returncode, 2, (option, value, done.stderr))
            self.assertIn(f"{option} takes a whole number", done.stderr)


class Simulation(unittest.TestCase):
    def test_simulate_makes_jobs_that_report_progress(self):
        server = peer.Server(BINARY, "--port", 0, "--simulate")
        try:
            jobs = peer.get(server.port, "/jobs").json()["jobs"]
            self.assertEqual(len(jobs), 3)

            async def scenario():
                url = f"ws://127.0.0.1:{server.port}/jobs/{jobs[0]['id']}/subscribe"
                async with websockets.connect(url) as ws:
                    await ws.recv()
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    self.assertIn("progress", message["event"])
            run(scenario())
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
