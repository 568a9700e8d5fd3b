"""A TLS server for the client's certificate and SNI checks (../../../shared/cases/client.md,
case-36), and a witness of what reached it.

Serves --cert/--key on 127.0.0.1 (or ::1 with --ipv6) and prints "port=N" once it listens. An
HTTP request gets 200 with {"sni": ..., "path": ...}, on a kept-alive connection; a WebSocket
upgrade gets a 101, then each text message is echoed and a close frame answered. /cut answers
with a body that runs to the end of the connection and closes without close_notify.

When a connection ends it prints one line, which the tests read:
    conn handshake=ok sni=good.test request_bytes=97 requests=1
    conn handshake=failed sni=- request_bytes=0 error=[SSL: TLSV1_ALERT_UNKNOWN_CA] ...
"sni=-" means the client sent no server name. request_bytes counts what arrived after the
handshake, so a handshake the client refused must show 0.

Every connection gets its own thread and at most --hold seconds. Serves until SIGTERM or until
its stdin closes, and never longer than --lifetime seconds.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from raw_ws_peer import close_frame, frame, serve_until_stopped, switching  # noqa: E402

HOLD = 10.0
print_lock = threading.Lock()
seen = threading.local()


def report(line):
    with print_lock:
        print(line, flush=True)


def remember_sni(ssl_socket, server_name, context):
    seen.sni = server_name


def read_request(conn):
    """(raw bytes, method, path, headers) of the next request, or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path = lines[0].split(" ")[:2]
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    need = int(headers.get("content-length", "0"))
    while len(rest) < need:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        rest += chunk
    return data, method, path, headers


class FrameReader:
    """Client frames from a connection, keeping what arrived beyond the current frame: a client
    may send a message and its close frame in one TLS record."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def need(self, n):
        while len(self.buf) < n:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def next(self):
        """(opcode, unmasked payload) of the next frame."""
        self.need(2)
        n = self.buf[1] & 0x7F
        offset = 2
        if n >= 126:
            size = 2 if n == 126 else 8
            self.need(2 + size)
            n = int.from_bytes(self.buf[2:2 + size], "big")
            offset += size
        self.need(offset + 4 + n)
        mask = self.buf[offset:offset + 4]
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.buf[offset + 4:offset + 4 + n]))
        opcode = self.buf[0] & 0x0F
        self.buf = self.buf[offset + 4 + n:]
        return opcode, payload


def echo_websocket(conn, headers):
    conn.sendall(switching(headers))
    frames = FrameReader(conn)
    for _ in range(64):
        try:
            opcode, payload = frames.next()
        except EOFError:
            return
        if opcode == 1:
            conn.sendall(frame(1, payload))
        elif opcode == 8:
            conn.sendall(close_frame(1000))
            return


def serve(raw, context):
    seen.sni = None
    received = 0
    requests = 0
    with raw:
        raw.settimeout(HOLD)
        try:
            conn = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            conn.do_handshake()
        except (ssl.SSLError, OSError) as e:
            report(f"conn handshake=failed sni={seen.sni or '-'} request_bytes=0 error={e}")
            return
        try:
            while True:
                got = read_request(conn)
                if got is None:
                    break
                data, method, path, headers = got
                received += len(data)
                requests += 1
                if headers.get("upgrade", "").lower() == "websocket":
                    echo_websocket(conn, headers)
                    break
                if path == "/cut":
                    # A body that runs to the end of the connection, ended without
                    # close_notify (closing an SSLSocket does not send one): truncated, as far
                    # as the client can tell.
                    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"partial\": ")
                    break
                body = json.dumps({"sni": seen.sni or "", "path": path}).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                if headers.get("connection", "").lower() == "close":
                    break
        except (ssl.SSLError, OSError):
            pass
        report(f"conn handshake=ok sni={seen.sni or '-'} request_bytes={received} "
               f"requests={requests}")
        try:
            conn.close()
        except OSError:
            pass


def main():
    global HOLD
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ipv6", action="store_true")
    parser.add_argument("--lifetime", type=float, default=120.0)
    parser.add_argument("--hold", type=float, default=10.0)
    args = parser.parse_args()
    HOLD = args.hold

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.sni_callback = remember_sni

    family, host = (socket.AF_INET6, "::1") if args.ipv6 else (socket.AF_INET, "127.0.0.1")
    serve_until_stopped(lambda conn: serve(conn, context), args.lifetime, family, host)


if __name__ == "__main__":
    main()
