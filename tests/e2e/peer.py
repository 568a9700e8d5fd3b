"""Shared helpers for the end-to-end tests: start a server binary on a free
loopback port, talk raw HTTP to it, and stop it by its own process id."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest

HOST = "127.0.0.1"


class Server:
    """A server process started for one test class; stopped by its pid."""

    def __init__(self, binary, *args, verbose=False):
        cmd = [binary, *map(str, args)]
        if verbose:
            cmd += ["--verbose", "1"]
        self.log_path = f"/tmp/switchboard-e2e-{os.getpid()}-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port="):
            self.stop()
            raise RuntimeError(f"server did not report its port: {line!r}")
        self.port = int(line.strip().split("=", 1)[1])

    def logged(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
        return self.proc.returncode


def connect(port, timeout=10):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)


class Reader:
    """Reads HTTP/1.1 responses (Content-Length framed) from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def read_response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = 0 if head_only else int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(status, headers, body)

    def closed(self, timeout=5):
        """True when the peer closes (EOF or reset) within timeout with no more bytes."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return data == b"" and self.buf == b""


def exchange(port, raw, head_only=False):
    with connect(port) as s:
        s.sendall(raw)
        return Reader(s).read_response(head_only)


def get(port, target, headers=""):
    return exchange(port, f"GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())


def post(port, target, body, headers=""):
    if isinstance(body, str):
        body = body.encode()
    head = (f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{headers}\r\n").encode()
    return exchange(port, head + body)


def main():
    """Runs the tests of the calling module; the server binary is argv[1]."""
    unittest.main(argv=[sys.argv[0], "-v"], exit=True)
