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
        # The port comes on a "port=N" line, after any lines meant for people.
        line = ""
        for _ in range(5):
            line = self.proc.stdout.readline()
            if not line or line.startswith("port="):
                break
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
        self.proc.stdout.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
        return self.proc.returncode


# The server binary under test, for ServerTest; a test module sets it from
# its command line before unittest.main().
BINARY = None


class ServerTest(unittest.TestCase):
    """One server per test class, started from BINARY with the class's
    server_args (logging at debug level with verbose); the class fails if the
    server does not exit cleanly."""

    server_args = ()
    verbose = False

    @classmethod
    def setUpClass(cls):
        cls.server = Server(BINARY, *cls.server_args, verbose=cls.verbose)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            raise AssertionError(f"server exited with {code}")


def rss_kib(pid):
    """Resident memory of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def assert_growth_below(test, before_kib, after_kib, limit_kib, note=""):
    """Memory bounds hold for a plain build; under a sanitizer the allocator
    keeps freed memory in quarantine, so RSS says nothing there."""
    if os.environ.get("SWITCHBOARD_SANITIZED"):
        return
    test.assertLess(after_kib - before_kib, limit_kib, f"{before_kib} -> {after_kib} KiB {note}")


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


def status_once_free(port, target="/health", timeout=5):
    """GETs `target` until it is not refused for want of a connection slot (503) or the
    timeout passes, and gives the last status. The server frees a slot when it reads the
    client's FIN, which takes a moment (longer under sanitizers); each probe holds a slot until
    its own FIN is read, so the probe that gets through is the answer, not a request after it."""
    status = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = get(port, target).status
        if status != 503:
            break
        time.sleep(0.05)
    return status


def post(port, target, body, headers=""):
    if isinstance(body, str):
        body = body.encode()
    head = (f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{headers}\r\n").encode()
    return exchange(port, head + body)


def main():
    """Runs the tests of the calling module; the server binary is argv[1]."""
    unittest.main(argv=[sys.argv[0], "-v"], exit=True)


# --- a raw WebSocket peer, for what well-behaved clients refuse to send ---

import base64
import hashlib
import os as _os
import struct

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def upgrade_request(path, headers=None, method="GET", version="1.1", key=SAMPLE_KEY):
    fields = {"Host": "127.0.0.1", "Upgrade": "websocket", "Connection": "Upgrade",
              "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    if headers:
        fields.update(headers)
    lines = [f"{method} {path} HTTP/{version}"]
    lines += [f"{k}: {v}" for k, v in fields.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None):
    if isinstance(payload, str):
        payload = payload.encode()
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", first, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mbit | 127, n)
    if not mask:
        return head + payload
    key = mask_key if mask_key is not None else _os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


class RawSocket:
    """A WebSocket client that does exactly what it is told: no automatic
    pongs, no validation, masks with random keys unless asked otherwise."""

    def __init__(self, port, path, headers=None, timeout=10, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            # Before connecting, so the window the server sees is small.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, port))
        self.sock.sendall(upgrade_request(path, headers))
        self.reader = Reader(self.sock)
        self.response = self.reader.read_response(head_only=True)
        if self.response.status != 101:
            length = int(self.response.header("content-length") or 0)
            while len(self.reader.buf) < length:
                self.reader._fill()
            self.response.body = self.reader.buf[:length]

    def send(self, opcode, payload=b"", **kw):
        self.sock.sendall(encode_frame(opcode, payload, **kw))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _need(self, n):
        while len(self.reader.buf) < n:
            self.reader._fill()

    def read_frame(self):
        """(fin, opcode, payload) of the next frame; raises EOFError on close."""
        self._need(2)
        b0, b1 = self.reader.buf[0], self.reader.buf[1]
        n = b1 & 0x7F
        offset = 2
        if n == 126:
            self._need(4)
            n = struct.unpack("!H", self.reader.buf[2:4])[0]
            offset = 4
        elif n == 127:
            self._need(10)
            n = struct.unpack("!Q", self.reader.buf[2:10])[0]
            offset = 10
        if b1 & 0x80:
            raise AssertionError("the server sent a masked frame")
        self._need(offset + n)
        payload = self.reader.buf[offset:offset + n]
        self.reader.buf = self.reader.buf[offset + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def read_until_close(self, limit=100000):
        """Messages (opcode, payload) before the close frame, and (code, reason)."""
        seen = []
        for _ in range(limit):
            fin, op, payload = self.read_frame()
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return seen, (code, payload[2:].decode("utf-8"))
            seen.append((op, payload))
        raise AssertionError("no close frame")

    def close(self):
        self.sock.close()
