"""A hand-written WebSocket and HTTP server on plain sockets, for what the client must survive
and what polite servers never send (../../../shared/cases/client.md, case-39 and case-40).

The request path picks the scenario (see SCENARIOS). Every connection gets its own thread and
ends within --hold seconds at most. Prints "port=N" once it listens on 127.0.0.1, then serves
until SIGTERM or until its stdin closes, and never longer than --lifetime seconds.
"""

import argparse
import base64
import hashlib
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HOLD = 30.0


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def frame(opcode, payload=b"", mask=None, fin=True, rsv=0, length_bytes=None):
    """One frame as a server would send it, or as a broken one might: `rsv` sets RSV1-3 (4, 2,
    1), and `length_bytes` (0, 2 or 8) forces the length encoding, minimal or not."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    if length_bytes is None:
        length_bytes = 0 if n < 126 else 2 if n < 65536 else 8
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask is not None else 0
    if length_bytes == 0:
        head = struct.pack("!BB", first, mbit | n)
    elif length_bytes == 2:
        head = struct.pack("!BBH", first, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mbit | 127, n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_frame(code, reason=""):
    return frame(8, struct.pack("!H", code) + reason.encode())


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None, None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    path = lines[0].split(" ")[1]
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    return path, headers


def switching(headers, accept=None, extra=""):
    accept = accept or accept_for(headers.get("sec-websocket-key", ""))
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n").encode()


class ClientFrames:
    """Reads the client's frames from one connection, keeping what a recv brought beyond the
    frame it was asked for."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def next(self, timeout=5.0):
        """(opcode, masked, mask, payload) of the next frame, or None at EOF or timeout."""
        self.conn.settimeout(timeout)
        try:
            self._need(2)
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7F
            offset = 2
            if n == 126:
                self._need(4)
                n = struct.unpack("!H", self.buf[2:4])[0]
                offset = 4
            elif n == 127:
                self._need(10)
                n = struct.unpack("!Q", self.buf[2:10])[0]
                offset = 10
            masked = bool(b1 & 0x80)
            mask = b""
            if masked:
                self._need(offset + 4)
                mask = self.buf[offset:offset + 4]
                offset += 4
            self._need(offset + n)
            payload = self.buf[offset:offset + n]
            self.buf = self.buf[offset + n:]
            if masked:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            return b0 & 0x0F, masked, mask, payload
        except (EOFError, socket.timeout, OSError):
            return None


def finish_close(frames):
    """Waits for the client's close frame (answering it if needed), then closes TCP first, as a
    server does."""
    for _ in range(16):
        got = frames.next()
        if got is None or got[0] == 8:
            break


def hello_ping(conn, headers):
    # case-39: the 101, a text frame and a ping in one send; then check the pong.
    conn.sendall(switching(headers) + bytes.fromhex("81 05 48 65 6C 6C 6F") + bytes.fromhex("89 00"))
    frames = ClientFrames(conn)
    got = frames.next()
    if got is not None and got[0] == 10 and got[1] and got[3] == b"":
        conn.sendall(frame(1, "pong ok"))
    else:
        conn.sendall(frame(1, f"pong bad: {got!r}"))
    conn.sendall(close_frame(1000, "scenario done"))
    finish_close(frames)


def dribble(conn, headers):
    # case-39 variant: the same bytes one per send.
    data = switching(headers) + bytes.fromhex("81 05 48 65 6C 6C 6F") + bytes.fromhex("89 00")
    for i in range(len(data)):
        conn.sendall(data[i:i + 1])
        time.sleep(0.001)
    frames = ClientFrames(conn)
    got = frames.next()
    ok = got is not None and got[0] == 10 and got[1] and got[3] == b""
    conn.sendall(frame(1, "pong ok" if ok else f"pong bad: {got!r}"))
    conn.sendall(close_frame(1000, "scenario done"))
    finish_close(frames)


def masked(conn, headers):
    # case-39 variant: a server must not mask; the client must close with 1002.
    conn.sendall(switching(headers) + frame(1, "masked", mask=b"\x01\x02\x03\x04"))
    got = ClientFrames(conn).next()
    if got is not None and got[0] == 8:
        code = struct.unpack("!H", got[3][:2])[0] if len(got[3]) >= 2 else 1005
        print(f"masked: client closed with {code}", file=sys.stderr, flush=True)


def wrong_accept(conn, headers):
    conn.sendall(switching(headers, accept=accept_for("not the key")) +
                 bytes.fromhex("81 05 48 65 6C 6C 6F"))
    time.sleep(0.5)


def content_length_101(conn, headers, extra):
    # case-40: a 101 that declares a body must still switch protocols after its head.
    conn.sendall(switching(headers, extra=extra) + frame(1, "after the 101"))
    conn.sendall(close_frame(1000, "scenario done"))
    finish_close(frames)


def refused(conn, status_line, fields, body):
    head = f"HTTP/1.1 {status_line}\r\n{fields}Content-Length: {len(body)}\r\n\r\n"
    conn.sendall(head.encode() + body)
    time.sleep(0.2)


def close_4000(conn, headers):
    conn.sendall(switching(headers) + frame(1, "one") + close_frame(4000, "scenario over"))
    finish_close(ClientFrames(conn))


def silent(conn, headers):
    # Reads the handshake and never answers; the client's deadline must end it.
    conn.settimeout(HOLD)
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def half_head(conn, headers):
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: webso")
    silent(conn, headers)


def goes_quiet(conn, headers):
    # Upgrades, then never sends anything again and never answers pings.
    conn.sendall(switching(headers))
    silent(conn, headers)


def trickle(conn, headers):
    # Upgrades, then sends a 4 KiB text frame one byte every 100 ms: always busy, never done.
    conn.sendall(switching(headers))
    for byte in frame(1, b"x" * 4096):
        time.sleep(0.1)
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return


def close_early(conn, headers):
    pass  # the connection is closed as soon as the handshake was read


SCENARIOS = {
    "/hello-ping": hello_ping,
    "/dribble": dribble,
    "/masked": masked,
    "/wrong-accept": wrong_accept,
    "/cl-huge": lambda c, h: content_length_101(c, h, "Content-Length: 2147483647\r\n"),
    "/chunked-101": lambda c, h: content_length_101(c, h, "Transfer-Encoding: chunked\r\n"),
    "/cl-zero": lambda c, h: content_length_101(c, h, "Content-Length: 0\r\n"),
    "/json-200": lambda c, h: refused(c, "200 OK", "Content-Type: application/json\r\n",
                                      b'{"hello":"not an upgrade"}'),
    "/unauthorized": lambda c, h: refused(
        c, "401 Unauthorized",
        "WWW-Authenticate: Bearer realm=\"jobs\"\r\nContent-Type: application/json\r\n",
        b'{"errors":["token required"]}'),
    "/big-refusal": lambda c, h: refused(c, "403 Forbidden", "Content-Type: text/plain\r\n",
                                         b"x" * (1 << 20)),
    "/close-4000": close_4000,
    "/silent": silent,
    "/half-head": half_head,
    "/goes-quiet": goes_quiet,
    "/trickle": trickle,
    "/close-early": close_early,
}


def serve(conn, scenarios):
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(HOLD)
        try:
            path, headers = read_head(conn)
            if path is None:
                return
            scenario = scenarios(path.split("?")[0])
            if scenario is None:
                refused(conn, "404 Not Found", "", b"no such scenario\n")
                return
            scenario(conn, headers)
        except OSError:
            pass


def main(scenarios=SCENARIOS.get):
    """Serves until SIGTERM, stdin's end or --lifetime; `scenarios` maps a request path to the
    function that plays it (None for a 404)."""
    global HOLD
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=float, default=120.0)
    parser.add_argument("--hold", type=float, default=30.0)
    args = parser.parse_args()
    HOLD = args.hold

    serve_until_stopped(lambda conn: serve(conn, scenarios), args.lifetime)


def serve_until_stopped(handler, lifetime, family=socket.AF_INET, host="127.0.0.1"):
    """Listens on a free port of `host`, prints "port=N", and runs handler(conn) on a thread of
    its own for each connection, until SIGTERM, the end of stdin, or `lifetime` seconds."""
    listener = socket.socket(family)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(64)
    print(f"port={listener.getsockname()[1]}", flush=True)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    deadline = time.monotonic() + lifetime
    while not stopping.is_set() and time.monotonic() < deadline:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 0.2)
        if sys.stdin in ready:
            break
        if listener in ready:
            conn, _ = listener.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()
    listener.close()


if __name__ == "__main__":
    main()
