"""Soak: mixed normal load and abuse against the test server on loopback for
a bounded time, reporting the server's memory at start and end and any
error. Not part of CI (it runs for ten minutes by default).

    /usr/bin/python3 tests/soak/soak.py build/release/tests/switchboard-test-server [--seconds 600]
"""

import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import peer  # noqa: E402


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.errors = []

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def error(self, text):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(text)


def rest_worker(port, until, tally):
    while time.monotonic() < until:
        try:
            r = peer.post(port, "/echo", json.dumps({"name": "soak", "count": 1}))
            if r.status != 200:
                tally.error(f"echo answered {r.status}")
            r = peer.get(port, f"/jobs/{random.randint(1, 1000)}")
            if r.status != 200:
                tally.error(f"job answered {r.status}")
            tally.add("rest", 2)
        except OSError as e:
            tally.error(f"rest: {e}")


def subscriber_worker(port, until, tally, job):
    while time.monotonic() < until:
        try:
            ws = peer.RawSocket(port, f"/jobs/{job}/subscribe")
            ws.read_frame()
            stop_at = min(until, time.monotonic() + random.uniform(1, 5))
            last = -1
            ws.sock.settimeout(2)
            while time.monotonic() < stop_at:
                try:
                    _, op, payload = ws.read_frame()
                except socket.timeout:
                    continue
                n = json.loads(payload)["n"]
                if last >= 0 and n != last + 1:
                    tally.error(f"subscriber saw {n} after {last}")
                last = n
                tally.add("delivered")
            ws.send(8, struct.pack("!H", 1000))
            ws.close()
        except (OSError, EOFError, ValueError) as e:
            tally.error(f"subscriber: {e}")


def publisher_worker(port, until, tally, job):
    n = 0
    with peer.connect(port) as s:
        reader = peer.Reader(s)
        while time.monotonic() < until:
            body = json.dumps({"n": n}).encode()
            s.sendall(b"POST /jobs/%d/publish HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                      % (job, len(body)) + body)
            if reader.read_response().status != 202:
                tally.error("publish refused")
            n += 1
            tally.add("published")
            time.sleep(0.002)


def abuse_worker(port, until, tally):
    attacks = [
        lambda: peer.exchange(port, b"GET /" + b"A" * 20000),
        lambda: peer.exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        lambda: peer.post(port, "/json/any", "[" * 5000),
        lambda: peer.exchange(port, peer.upgrade_request("/ws/echo", {"Sec-WebSocket-Version": "8"})),
    ]

    def ws_abuse():
        ws = peer.RawSocket(port, "/ws/echo")
        ws.send(1, b"\xc3\x28")
        ws.read_until_close()
        ws.close()

    attacks.append(ws_abuse)
    while time.monotonic() < until:
        try:
            random.choice(attacks)()
            tally.add("abuse")
        except (OSError, EOFError, ValueError):
            tally.add("abuse")  # the server may reset an abuser: that is the point
        time.sleep(0.01)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--seconds", type=int, default=600)
    args = parser.parse_args()
    seconds = max(10, min(args.seconds, 3600))

    server = peer.Server(args.binary, "--threads", 2)
    pid = server.proc.pid
    time.sleep(0.5)
    start_rss, start_fds = peer.rss_kib(pid), fd_count(pid)
    until = time.monotonic() + seconds
    tally = Tally()
    workers = [threading.Thread(target=rest_worker, args=(server.port, until, tally))
               for _ in range(4)]
    workers += [threading.Thread(target=subscriber_worker, args=(server.port, until, tally, 5))
                for _ in range(8)]
    workers += [threading.Thread(target=publisher_worker, args=(server.port, until, tally, 5))]
    workers += [threading.Thread(target=abuse_worker, args=(server.port, until, tally))
                for _ in range(2)]
    for w in workers:
        w.start()
    samples = []
    while time.monotonic() < until:
        time.sleep(min(30, max(1, until - time.monotonic())))
        samples.append(peer.rss_kib(pid))
    for w in workers:
        w.join(60)
    time.sleep(1)
    end_rss, end_fds = peer.rss_kib(pid), fd_count(pid)
    healthy = peer.get(server.port, "/health").status == 200
    code = server.stop()

    print(f"seconds={seconds} counts={tally.counts}")
    print(f"rss_kib start={start_rss} end={end_rss} max={max(samples + [end_rss])}")
    print(f"fds start={start_fds} end={end_fds} healthy={healthy} exit={code}")
    for e in tally.errors:
        print(f"error: {e}")
    ok = healthy and code == 0 and not tally.errors
    print("soak: ok" if ok else "soak: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
