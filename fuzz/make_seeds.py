#!/usr/bin/python3
"""Writes the hand-made seed inputs of the fuzz targets into fuzz/corpus/<target>/.

Each seed is named after what it exercises; "case-NN" names the entry of the shared fault
catalogue it comes from. Run it after adding a seed here; files it does not know are left
alone (inputs a fuzzer found go in by hand, named after the bug they found):

    /usr/bin/python3 fuzz/make_seeds.py
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------------------------
# HTTP requests (fuzz_http_request). The target's routes: GET/PUT/PATCH/DELETE /items/:id,
# GET /items/special, POST /items, GET /files/*path, POST /echo, GET /search, GET /boom,
# GET /ws, PURGE /cache/*key. Header limit 2048, body limit 1024, PUT /items/:id 64.

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def req(head, body=b""):
    data = head.replace("\n", "\r\n").encode() + b"\r\n"
    return data + (body if isinstance(body, bytes) else body.encode())


def with_length(head, body):
    """A request whose Content-Length is that of `body`."""
    return req(f"{head}Content-Length: {len(body.encode())}\n", body)


def upgrade(extra="", method="GET", version="1.1", host="Host: x\n"):
    return req(
        f"{method} /ws HTTP/{version}\n{host}Connection: Upgrade\nUpgrade: websocket\n"
        f"Sec-WebSocket-Key: {KEY}\nSec-WebSocket-Version: 13\n{extra}"
    )


def masked(opcode_byte, payload, mask=b"\x12\x34\x56\x78"):
    """A client frame: FIN/opcode byte as given, masked payload (7- or 16-bit length)."""
    size = len(payload)
    if size < 126:
        head = bytes([opcode_byte, 0x80 | size])
    else:
        head = bytes([opcode_byte, 0x80 | 126]) + struct.pack(">H", size)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def unmasked(opcode_byte, payload):
    size = len(payload)
    if size < 126:
        head = bytes([opcode_byte, size])
    else:
        head = bytes([opcode_byte, 126]) + struct.pack(">H", size)
    return head + payload


ITEM = '{"name":"lamp","priority":3,"tags":["a","b"],"shade":"green","size":{"width":1.5,"height":2}}'

http_seeds = {
    "get-item-typed-params": req(
        "GET /items/42?verbose=true&scale=2.5&tag=1&tag=-7 HTTP/1.1\nHost: x\n"
    ),
    "get-item-text-plain": req("GET /items/7 HTTP/1.1\nHost: x\nAccept: text/plain\n"),
    "get-item-bad-param": req("GET /items/-1?verbose=maybe HTTP/1.1\nHost: x\n"),
    "get-special-literal-beats-param": req("GET /items/special HTTP/1.1\nHost: x\n"),
    "head-item": req("HEAD /items/1 HTTP/1.1\nHost: x\n"),
    "options-allow": req("OPTIONS /items/1 HTTP/1.1\nHost: x\n"),
    "method-not-allowed": req("POST /items/1 HTTP/1.1\nHost: x\nContent-Length: 0\n"),
    "not-found": req("GET /nope HTTP/1.1\nHost: x\n"),
    "post-item-content-length": with_length(
        "POST /items HTTP/1.1\nHost: x\nContent-Type: application/json\n", ITEM
    ),
    "post-item-chunked": req(
        "POST /items HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n",
        f"{len(ITEM[:20]):x};ext=1\r\n{ITEM[:20]}\r\n{len(ITEM[20:]):x}\r\n{ITEM[20:]}\r\n"
        "0\r\nTrailer: t\r\n\r\n",
    ),
    "post-item-bad-json": with_length(
        "POST /items HTTP/1.1\nHost: x\n", '{"name":"x","tags":[],"shade":"pink"}'
    ),
    "post-item-empty-body": req("POST /items HTTP/1.1\nHost: x\nContent-Length: 0\n"),
    "put-item-over-route-limit": with_length("PUT /items/5 HTTP/1.1\nHost: x\n", ITEM),
    "put-item-chunked-over-route-limit": req(
        "PUT /items/5 HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n",
        f"{len(ITEM):x}\r\n{ITEM}\r\n0\r\n\r\n",
    ),
    "put-item-within-limit": with_length(
        "PUT /items/5 HTTP/1.1\nHost: x\n", '{"name":"n","tags":[],"shade":"red"}'
    ),
    "patch-item-unknown-fields": with_length(
        "PATCH /items/%C3%A9 HTTP/1.1\nHost: x\n", '{"name":"x","tags":[],"shade":"blue","other":1}'
    ),
    "delete-item": req("DELETE /items/9 HTTP/1.1\nHost: x\n"),
    "delete-item-zero": req("DELETE /items/0 HTTP/1.1\nHost: x\n"),
    "files-catch-all": req("GET /files/a/b%20c/d.txt HTTP/1.1\nHost: x\n"),
    "echo": req(
        "POST /echo HTTP/1.1\nHost: x\nContent-Type: text/plain\nContent-Length: 5\n", "hello"
    ),
    "search-header-injection": req("GET /search?q=a%0D%0AX-Evil:%201&limit=3 HTTP/1.1\nHost: x\n"),
    "search-query-plus-and-repeats": req("GET /search?q=a+b&q=c&&limit=-128 HTTP/1.1\nHost: x\n"),
    "handler-throws": req("GET /boom HTTP/1.1\nHost: x\n"),
    "purge-custom-method": req("PURGE /cache/a/b/c HTTP/1.1\nHost: x\n"),
    "http10-keep-alive-then-next": req("GET /items/1 HTTP/1.0\nConnection: keep-alive\n")
    + req("GET /items/2 HTTP/1.1\nHost: x\nConnection: close\n"),
    "http20-version": req("GET /items/1 HTTP/2.0\nHost: x\n"),
    "absolute-form-target": req("GET http://x/items/1 HTTP/1.1\nHost: x\n"),
    "bad-query-escape": req("GET /items/1?a=%2 HTTP/1.1\nHost: x\n"),
    "bad-path-escape": req("GET /items/%zz HTTP/1.1\nHost: x\n"),
    # case-15: CL + TE smuggling
    "case-15-cl-and-te-chunked-something": req(
        "POST /echo HTTP/1.1\nHost: x\nContent-Length: 1\nTransfer-Encoding: chunked, something\n",
        "0\r\n\r\n",
    ),
    "case-15-cl-and-te-then-smuggled": req(
        "POST /echo HTTP/1.1\nHost: x\nContent-Length: 4\nTransfer-Encoding: chunked\n",
        "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    ),
    "case-15-cl-folded": req(
        "POST /echo HTTP/1.1\nHost: x\nContent-Length: 5\nContent-Length:\n6\n", "0\r\n\r\n"
    ),
    "case-15-space-before-colon": req(
        "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding : chunked\n", "1\r\nZ\r\n0\r\n\r\n"
    ),
    "case-15-lower-case-name": req(
        "POST /echo HTTP/1.1\nHost: x\ntRANSFER-ENCODING: chunked\n", "1\r\nZ\r\n0\r\n\r\n"
    ),
    # case-17: duplicate and unsupported Transfer-Encoding
    "case-17-te-twice": req(
        "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n",
        "1\r\nZ\r\n0\r\n\r\n",
    ),
    "case-17-chunked-chunked": req(
        "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked, chunked\n", "1\r\nZ\r\n0\r\n\r\n"
    ),
    "case-17-gzip-chunked": req(
        "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked\n", "1\r\nZ\r\n0\r\n\r\n"
    ),
    "case-17-te-in-http10": req(
        "POST /echo HTTP/1.0\nTransfer-Encoding: chunked\n", "1\r\nZ\r\n0\r\n\r\n"
    ),
    # case-19: a head that never ends, and many small header lines
    "case-19-no-crlf": b"GET / HTTP/1.1\r\nX: " + b"A" * 2100,
    "case-19-many-header-lines": req(
        "GET /items/1 HTTP/1.1\nHost: x\n" + "".join(f"h{i}: x\n" for i in range(300))
    ),
    # case-22: pipelining, upgrade without Host or with two
    "case-22-pipelined": req("GET /items/1 HTTP/1.1\nHost: x\n")
    + req("GET /items/2 HTTP/1.1\nHost: x\n")
    + req("GET /items/3 HTTP/1.1\nHost: x\n"),
    "case-22-pipelined-then-upgrade": req("GET /items/1 HTTP/1.1\nHost: x\n")
    + req("GET /items/2 HTTP/1.1\nHost: x\n")
    + upgrade(),
    "case-22-upgrade-no-host": upgrade(host=""),
    "case-22-upgrade-two-hosts": upgrade(host="Host: x\nHost: y\n"),
    # case-24: traversal through a parameter
    "case-24-double-encoded": req(
        "GET /files/..%252f..%252f..%252fetc%252fpasswd HTTP/1.1\nHost: x\n"
    ),
    "case-24-encoded-slash": req("GET /items/..%2f..%2fetc%2fpasswd HTTP/1.1\nHost: x\n"),
    "case-24-dot-segments": req("GET /files/../../etc/passwd HTTP/1.1\nHost: x\n"),
    "case-24-overlong-slash": req("GET /files/%C0%AF HTTP/1.1\nHost: x\n"),
    "case-24-empty-segment": req("GET /files//etc/passwd HTTP/1.1\nHost: x\n"),
    # case-25: Expect
    "case-25-expect-continue": req(
        "POST /items HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 7\n"
        "Expect: 100-continue\n",
        '{"a":1}',
    ),
    "case-25-expect-huge-body": req(
        "POST /items HTTP/1.1\nHost: x\nContent-Length: 1000000000\nExpect: 100-continue\n"
    ),
    "case-25-expect-unknown-route": req(
        "POST /nope HTTP/1.1\nHost: x\nContent-Length: 7\nExpect: 100-continue\n"
    ),
    "case-25-expect-other": req(
        "POST /items HTTP/1.1\nHost: x\nContent-Length: 7\nExpect: something-else\n", '{"a":1}'
    ),
    "body-never-arrives": req("POST /items HTTP/1.1\nHost: x\nContent-Length: 100\n", '{"na'),
    "chunked-malformed-size": req(
        "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n", "zz\r\nabc\r\n0\r\n\r\n"
    ),
    # case-27, 28, 30, 31: the upgrade handshake
    "case-27-upgrade-many-headers": req(
        "GET /ws HTTP/1.1\nHost: x\n"
        + "".join(f"a{i}: x\n" for i in range(200))
        + f"Connection: Upgrade\nUpgrade: websocket\nSec-WebSocket-Key: {KEY}\n"
        "Sec-WebSocket-Version: 13\n"
    ),
    "case-28-connection-token-list": upgrade(extra="Connection: keep-alive, Upgrade\n"),
    "case-28-upgrade-websocket-mixed-case": req(
        "GET /ws HTTP/1.1\nHost: x\nConnection: keep-alive\nConnection: upgrade\n"
        f"Upgrade: WebSocket\nSec-WebSocket-Key: {KEY}\nSec-WebSocket-Version: 13\n"
    ),
    "case-28-upgradex": req(
        "GET /ws HTTP/1.1\nHost: x\nConnection: Upgradex\nUpgrade: websocketx\n"
        f"Sec-WebSocket-Key: {KEY}\nSec-WebSocket-Version: 13\n"
    ),
    "case-30-upgrade-post": upgrade(method="POST", extra="Content-Length: 5\n") + b"hello",
    "case-30-upgrade-http10": upgrade(version="1.0"),
    "case-31-foreign-origin": upgrade(extra="Origin: http://evil.example\n"),
    "case-31-null-origin": upgrade(extra="Origin: null\n"),
    "case-31-prefix-origin": upgrade(extra="Origin: https://app.example.evil.example\n"),
    "case-31-allowed-origin-upper-case": upgrade(extra="Origin: HTTPS://APP.EXAMPLE:443\n"),
    "upgrade-same-origin": upgrade(extra="Origin: http://x\n"),
    "upgrade-any-origin-query": req(
        "GET /ws?any_origin=1 HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: websocket\n"
        f"Sec-WebSocket-Key: {KEY}\nSec-WebSocket-Version: 13\nOrigin: https://evil.example\n"
    ),
    "upgrade-bad-key": req(
        "GET /ws HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: websocket\n"
        "Sec-WebSocket-Key: short\nSec-WebSocket-Version: 13\n"
    ),
    "upgrade-version-8": req(
        "GET /ws HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: websocket\n"
        f"Sec-WebSocket-Key: {KEY}\nSec-WebSocket-Version: 8\n"
    ),
    "upgrade-plain-get": req("GET /ws HTTP/1.1\nHost: x\n"),
    "upgrade-subprotocol-then-frames": upgrade(
        extra="Sec-WebSocket-Protocol: x, chat.v2, chat.v1\n"
    )
    + masked(0x01, b"Hel")
    + masked(0x89, b"p1")
    + masked(0x80, b"lo")
    + masked(0x88, b"\x03\xe8bye"),
}

# ---------------------------------------------------------------------------------------------
# WebSocket frames (fuzz_ws_frames: client frames, masked; fuzz_ws_client: server frames,
# unmasked). Four setup bytes first: limits, cut (2 bytes), stride - 1. Limits byte: bits 0-2
# pick max_message from [0, 1, 2, 125, 126, 1000, 65535, 1 MiB], bits 3-4 the fragment overhead
# from [0, 1, 16, 64].


def setup(max_index=5, overhead_index=3, cut=5, stride=1):
    return bytes([max_index | (overhead_index << 3), cut >> 8, cut & 0xFF, stride - 1])


Z = b"\x00\x00\x00\x00"  # the all-zero mask of the catalogue's examples


def zero_masked(opcode_byte, payload):
    return masked(opcode_byte, payload, Z)


frame_seeds = {
    # case-01: control frames and the 125-byte cap
    "case-01-ping-126": setup() + b"\x89\xfe\x00\x7e" + Z + b"a" * 126,
    "case-01-pong-126": setup() + b"\x8a\xfe\x00\x7e" + Z + b"a" * 126,
    "case-01-close-126": setup() + b"\x88\xfe\x00\x7e" + Z + b"\x03\xe8" + b"a" * 124,
    "case-01-ping-125": setup() + b"\x89\xfd" + Z + b"a" * 125,
    "case-01-ping-between-fragments": setup(cut=9, stride=3)
    + zero_masked(0x01, b"Hel")
    + zero_masked(0x89, b"p1")
    + zero_masked(0x80, b"lo"),
    # case-03: a fragmented message past the limit (1000 bytes here)
    "case-03-continuations-past-limit": setup(cut=700)
    + zero_masked(0x01, b"a" * 600)
    + zero_masked(0x00, b"a" * 600),
    "case-03-frame-past-limit": setup(max_index=3) + b"\x02\xfe\x00\xc8" + Z + b"b" * 40,
    # case-04: tiny and empty fragments charged against the budget
    "case-04-tiny-fragments": setup(cut=100)
    + zero_masked(0x01, b"x")
    + zero_masked(0x00, b"x") * 40,
    "case-04-empty-fragments": setup(cut=100) + zero_masked(0x01, b"x") + zero_masked(0x00, b"") * 40,
    "case-04-empty-fragments-overhead-0": setup(overhead_index=0, cut=13)
    + zero_masked(0x01, b"")
    + zero_masked(0x00, b"") * 40
    + zero_masked(0x80, b""),
    # case-05: fragmentation state across messages
    "case-05-fragmented-then-whole": setup(cut=15)
    + zero_masked(0x01, b"Hel")
    + zero_masked(0x80, b"lo")
    + zero_masked(0x81, b"World"),
    "case-05-continuation-first": setup() + zero_masked(0x80, b"lo"),
    "case-05-new-message-inside-fragmented": setup()
    + zero_masked(0x01, b"Hel")
    + zero_masked(0x81, b"World"),
    "case-05-fragmented-ping": setup() + zero_masked(0x09, b""),
    # case-06: reserved bits and opcodes
    "case-06-rsv1-text": setup() + zero_masked(0xC1, b"Hello"),
    "case-06-rsv2-text": setup() + zero_masked(0xA1, b"Hello"),
    "case-06-rsv3-text": setup() + zero_masked(0x91, b"Hello"),
    "case-06-rsv1-ping": setup() + zero_masked(0xC9, b""),
    "case-06-opcode-3": setup() + zero_masked(0x83, b""),
    "case-06-opcode-b": setup() + zero_masked(0x8B, b""),
    "case-06-valid-then-rsv": setup(cut=11) + zero_masked(0x81, b"Hello") + zero_masked(0xF1, b"Hello"),
    # case-08: a run of pings
    "case-08-ping-flood": setup(stride=7) + masked(0x89, b"p" * 125) * 8,
    # case-35: invalid UTF-8
    "case-35-invalid-utf8-text": setup() + zero_masked(0x81, b"\xc3\x28"),
    "case-35-encoded-surrogate": setup() + zero_masked(0x81, b"\xed\xa0\x80"),
    "utf8-split-across-fragments": setup(cut=8)
    + masked(0x01, b"caf\xc3")
    + masked(0x80, b"\xa9!"),
    "utf8-four-byte": setup() + masked(0x81, "🦊 ok".encode()),
    "utf8-ends-inside-sequence": setup() + masked(0x81, b"ab\xe2\x82"),
    # close frames
    "close-normal-with-reason": setup() + masked(0x88, b"\x03\xe8bye"),
    "close-no-payload": setup() + masked(0x88, b""),
    "close-one-byte": setup() + masked(0x88, b"\x03"),
    "close-code-1005": setup() + masked(0x88, b"\x03\xed"),
    "close-code-999": setup() + masked(0x88, b"\x03\xe7"),
    "close-code-4999": setup() + masked(0x88, b"\x13\x87"),
    "close-code-5000": setup() + masked(0x88, b"\x13\x88"),
    "close-invalid-utf8-reason": setup() + masked(0x88, b"\x03\xe8\xff"),
    "close-then-more": setup() + masked(0x88, b"\x03\xe8") + masked(0x81, b"after"),
    # lengths
    "length-16-bit": setup(max_index=6, cut=300, stride=64) + masked(0x82, bytes(range(256)) * 2),
    "length-64-bit-top-bit": setup() + b"\x82\xff\x80" + b"\x00" * 7 + Z,
    "length-64-bit-non-minimal": setup() + b"\x82\xff" + b"\x00" * 7 + b"\x03" + Z + b"abc",
    "length-16-bit-non-minimal": setup() + b"\x82\xfe\x00\x03" + Z + b"abc",
    "max-message-zero-empty": setup(max_index=0) + masked(0x81, b"") + masked(0x82, b"x"),
    "unmasked-from-client": setup() + unmasked(0x81, b"Hello"),
    "binary-pong-text-mix": setup(cut=3, stride=2)
    + masked(0x82, b"\x00\xff\x10")
    + masked(0x8A, b"late")
    + masked(0x81, b"text")
    + masked(0x88, b"\x0f\xa0"),
}

client_seeds = {
    # case-39: frames right behind the 101
    "case-39-hello-then-ping": setup() + unmasked(0x81, b"Hello") + unmasked(0x89, b""),
    "case-39-masked-from-server": setup() + masked(0x81, b"Hello"),
    "case-01-ping-126": setup() + b"\x89\x7e\x00\x7e" + b"a" * 126,
    "case-01-ping-125": setup() + b"\x89\x7d" + b"a" * 125,
    "case-01-ping-between-fragments": setup(cut=5, stride=3)
    + unmasked(0x01, b"Hel")
    + unmasked(0x89, b"p1")
    + unmasked(0x80, b"lo"),
    "case-03-continuations-past-limit": setup(cut=700)
    + unmasked(0x01, b"a" * 600)
    + unmasked(0x00, b"a" * 600),
    "case-04-tiny-fragments": setup(cut=100) + unmasked(0x01, b"x") + unmasked(0x00, b"x") * 40,
    "case-05-fragmented-then-whole": setup(cut=9)
    + unmasked(0x01, b"Hel")
    + unmasked(0x80, b"lo")
    + unmasked(0x81, b"World"),
    "case-06-rsv1-text": setup() + unmasked(0xC1, b"Hello"),
    "case-06-opcode-f": setup() + unmasked(0x8F, b""),
    "case-35-invalid-utf8-text": setup() + unmasked(0x81, b"\xc3\x28"),
    "utf8-split-across-fragments": setup(cut=6) + unmasked(0x01, b"caf\xc3") + unmasked(0x80, b"\xa9!"),
    "close-going-away": setup() + unmasked(0x88, b"\x03\xe9server shutting down"),
    "close-try-again-later": setup() + unmasked(0x88, b"\x03\xf5subscriber too slow"),
    "close-no-payload": setup() + unmasked(0x88, b""),
    "close-code-1006": setup() + unmasked(0x88, b"\x03\xee"),
    "length-16-bit": setup(max_index=6, cut=300, stride=64) + unmasked(0x82, bytes(range(256)) * 2),
    "length-64-bit-top-bit": setup() + b"\x82\x7f\x80" + b"\x00" * 7,
    "gap-notice-then-messages": setup(stride=5)
    + unmasked(0x81, b'{"type":"gap","missed":3}')
    + unmasked(0x81, b'{"n":4}')
    + unmasked(0x8A, b""),
}

# ---------------------------------------------------------------------------------------------
# JSON bodies (fuzz_json_body): decoded as the target's `project` and as a list of `task`.

PROJECT = (
    '{"revision":7,"name":"apollo","status":"active","previous":"draft",'
    '"lead":{"id":"u1","email":"a@example.com"},'
    '"tasks":[{"title":"t","done":false,"weight":255,"estimate":1.25,"ratio":0.1,'
    '"path":[{"x":-1,"y":2147483647}]}],'
    '"counters":{"a":-9223372036854775808,"":0},'
    '"series":{"s":[1.5,-0.0,3.4028234663852886e38]},'
    '"sparse":[1,null,-32768],'
    '"extra":{"any":[true,null,"x",1e300,18446744073709551615]}}'
)
MINIMAL = '{"revision":0,"name":"","status":"draft","lead":{"id":""},"tasks":[],"counters":{},"series":{}}'
TASK = '{"title":"%s","done":true,"weight":%s,"ratio":%s,"path":[]}'


def nested(depth):
    return '{"revision":0,"name":"","status":"draft","lead":{"id":""},"tasks":[],' \
        '"counters":{},"series":{},"extra":' + "[" * depth + "]" * depth + "}"


json_seeds = {
    "project-full": PROJECT,
    "project-minimal": MINIMAL,
    "project-unknown-field": MINIMAL[:-1] + ',"nmae":1}',
    "project-missing-field": '{"revision":0,"name":"","status":"draft"}',
    "project-bad-enum": MINIMAL.replace('"draft"', '"deleted"'),
    "project-duplicate-keys": MINIMAL[:-1] + ',"name":"twice"}',
    "project-nulls-for-optionals": MINIMAL[:-1]
    + ',"previous":null,"sparse":null,"extra":null,"lead":{"id":"x","email":null}}',
    "tasks-array": "[" + TASK % ("a", "3", "0.5") + "," + TASK % ("b", "3.0", "1e2") + "]",
    "tasks-weight-out-of-range": "[" + TASK % ("a", "256", "0") + "]",
    "tasks-weight-fraction": "[" + TASK % ("a", "2.5", "0") + "]",
    "tasks-ratio-float-max": "[" + TASK % ("a", "1", "3.4028235e38") + "]",
    "tasks-ratio-past-float": "[" + TASK % ("a", "1", "3.5e38") + "]",
    "tasks-ratio-infinite": "[" + TASK % ("a", "1", "1e400") + "]",
    "tasks-integer-past-2-53": '[{"title":"a","done":true,"weight":1,"ratio":0,'
    '"path":[{"x":9007199254740993,"y":0}]}]',
    "tasks-exponent-integer": '[{"title":"a","done":true,"weight":1e0,"ratio":0,'
    '"path":[{"x":-2e3,"y":0}]}]',
    # case-33: nesting at and past the default depth
    "case-33-depth-31": nested(30),
    "case-33-depth-33": nested(32),
    "case-33-open-brackets": "[" * 2000,
    "case-33-open-objects": '{"a":' * 500,
    # case-35: invalid UTF-8 and escapes
    "case-35-invalid-utf8": '{"name":"\xc3\x28"}'.encode("latin-1"),
    "case-35-encoded-surrogate": '{"name":"\xed\xa0\x80"}'.encode("latin-1"),
    "case-35-lone-surrogate-escape": MINIMAL.replace('"name":""', '"name":"\\ud800"'),
    "case-35-nul-escape": MINIMAL.replace('"name":""', '"name":"a\\u0000b"'),
    "control-characters-in-key": MINIMAL[:-1] + ',"\\u0001\\n\\"k":1}',
    "long-unknown-key": MINIMAL[:-1] + ',"' + "k" * 100 + '":1}',
    "long-key-multibyte-cut": MINIMAL[:-1] + ',"' + "k" * 63 + 'é":1}',
    "map-keys-odd": MINIMAL.replace('"counters":{}', '"counters":{"a.b":1,"[0]":2,"\\u00e9":3}'),
    "trailing-comma": MINIMAL[:-1] + ",}",
    "comment": "/* c */" + MINIMAL,
    "trailing-garbage": MINIMAL + "x",
    "empty": "",
    "number-forms": '{"x":[-0,0.0,1E+2,1e-400,123456789012345678901234567890,-1.5e-7]}',
}

# ---------------------------------------------------------------------------------------------
# Routes (fuzz_route): first byte picks a built-in set ('0' none, '1' REST API, '2' competing
# patterns, '3' other methods), then lines: "+METHOD /pattern" or "METHOD /target?query".

route_seeds = {
    "api-requests": "1GET /jobs/7\nHEAD /jobs/7\nDELETE /jobs/7\nPOST /jobs/7\n"
    "GET /jobs/7/logs/a/b%2Fc\nGET /jobs/\nGET /jobs\nOPTIONS /jobs\nGET /users/me\n"
    "PUT /users/me/keys/k%20y\nGET /\nGET /files/\nGET /files//x",
    "competing-patterns": "2GET /a/b/c\nGET /a/b/c/\nGET /a/x/c\nGET /a/b/zz\nGET /q/r\n"
    "POST /a/b/c\nPATCH /a/b\nPUT /a\nHEAD /a/b/c\nGET /a/b/c/d\nDELETE /a/b",
    "other-methods": "3HEAD /h\nGET /h\nOPTIONS /\nVERSION-CONTROL /v/1\nM_SEARCH /v/%E2%82%AC\n"
    "PURGE /cache/a/b\nGET /!$&'()*+,;=:@-._~/x\nget /h",
    "case-24-traversal": "1GET /files/..%252f..%252fetc%252fpasswd\n"
    "GET /files/..%2f..%2fetc%2fpasswd\nGET /files/%2e%2e%2f%2e%2e%2fetc%2fpasswd\n"
    "GET /files/..%5c..%5cetc%5cpasswd\nGET /files/../../etc/passwd\nGET /jobs/a%2fb\n"
    "GET /files//etc/passwd\nGET /jobs/%2e%2e",
    "bad-paths": b"1GET /jobs/%C0%AF\nGET /jobs/%00\nGET /jobs/%zz\nGET /jobs/%4\nGET jobs\n"
    b"GET /jobs/a b\nGET /jobs/\x7f\nGET /jobs/\xff\nGET /jobs/%ED%A0%80\nGET /jobs/%F4%90%80%80\n"
    b"GET /jobs/\xe2\x82/x\nGET /jobs/\xe2\x82\xac\nGET ",
    "patterns-from-input": "0+GET /\n+GET /a/:x\n+POST /a/:y\n+GET /a/:x/*rest\n+GET /a/b/\n"
    "GET /a/b\nGET /a/b/\nGET /a/q/r/s\nPOST /a/q\nHEAD /a/q\nDELETE /a/q",
    "bad-patterns": "0+GET a\n+GET /a//b\n+GET /:1x\n+GET /*x/y\n+GET /:x/:x\n+get /x\n"
    "+GET /%41\n+GET /.\n+GET /a/..\n+GET /a\n+GET /a\n+GET /:p\n+GET /:q\n+ /x\n+GET /a b\n"
    "GET /a\nGET /z",
    "many-methods": "0" + "".join(f"+M{chr(65 + i // 26)}{chr(65 + i % 26)} /m\n" for i in range(70))
    + "GET /m\nMAA /m",
    "queries": "1GET /jobs/1?a=1&&b=2&b=3\nGET /jobs/1?q=a+b%20c&=&x\nGET /jobs/1?x=%2\n"
    "GET /jobs/1?%E2%82%AC=%FF\nGET /jobs/1?a=b=c&&&\nGET /jobs/1?",
    "catch-all-edges": "0+GET /s/*rest\n+GET /s/:x/\nGET /s/a\nGET /s/a/\nGET /s/a//b\n"
    "GET /s/\nGET /s//\nGET /s/a/b/\nGET /s/%2F",
    "trailing-slash-and-root": "0+GET /\n+GET /x/\n+PUT /x\nGET /\nGET //\nGET /x\nGET /x/\n"
    "PUT /x/\nHEAD /x/",
}

# ---------------------------------------------------------------------------------------------
# Server answers (fuzz_client_response). Three setup bytes: flags (bit 0 HEAD, bit 1 truncate
# bodies), then the cut (2 bytes). The target's handshake key is KEY, offering chat.v1, chat.v2.

ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def answer(flags=0, cut=20):
    return bytes([flags, cut >> 8, cut & 0xFF])


def res(head, body=b""):
    return req(head, body)


SWITCHING = (
    f"HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n"
    f"Sec-WebSocket-Accept: {ACCEPT}\n"
)

client_response_seeds = {
    "ok-json": answer() + with_length("HTTP/1.1 200 OK\nContent-Type: application/json\n", '{"id":7}'),
    "error-body": answer() + with_length(
        "HTTP/1.1 400 Bad Request\nConnection: close\n", '{"errors":["a","b\\u00e9",3]}'
    ),
    "error-single": answer() + with_length("HTTP/1.1 503 Busy\n", '{"error":"try later"}'),
    "chunked": answer(cut=40)
    + res("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n", "4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n"),
    "body-to-eof": answer() + res("HTTP/1.0 200 OK\n", "until the end"),
    "head-with-length": answer(flags=1) + res("HTTP/1.1 200 OK\nContent-Length: 1000\n"),
    "no-content-with-length": answer() + res("HTTP/1.1 204 No Content\nContent-Length: 5\n", "hello"),
    "interim-then-final": answer(cut=30)
    + res("HTTP/1.1 100 Continue\n")
    + res("HTTP/1.1 103 Early Hints\nLink: </a>\n")
    + with_length("HTTP/1.1 201 Created\n", "{}"),
    "body-too-large": answer() + with_length("HTTP/1.1 200 OK\n", "x" * 1100),
    "body-truncated": answer(flags=2) + with_length("HTTP/1.1 500 Oops\n", "y" * 1100),
    "head-too-large": answer() + b"HTTP/1.1 200 OK\r\nX: " + b"a" * 2100,
    "bad-status-line": answer() + b"HTTP/1.1 2x0 OK\r\n\r\n",
    # Found by this target: a status outside 100-599 was taken, and an error message was cut
    # inside a character at the client's 512-byte limit.
    "status-011": answer() + with_length("HTTP/1.1 011 Odd\n", "hi"),
    "status-600": answer() + with_length("HTTP/1.1 600 Odd\n", ""),
    "error-message-cut-inside-character": answer() + with_length(
        "HTTP/1.1 400 Bad Request\nContent-Type: application/json\n",
        '{"errors":["' + "x" * 511 + '\u00e9\u00e9\u00e9"]}',
    ),
    # Found by this target: bytes after a truncated body that came in a later read were kept
    # as leftover, those in the same read were not.
    "truncated-body-then-more-bytes": answer(flags=2, cut=60)
    + res("HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n", "z" * 1100),
    "closed-early": answer() + b"HTTP/1.1 200 OK\r\nContent-Le",
    "keep-alive-then-next": answer()
    + with_length("HTTP/1.1 200 OK\n", "a")
    + with_length("HTTP/1.1 200 OK\n", "b"),
    # case-39: frames in the same segment as the 101
    "case-39-101-then-frames": answer(cut=60)
    + res(SWITCHING)
    + unmasked(0x81, b"Hello")
    + unmasked(0x89, b""),
    "case-39-101-then-masked-frame": answer() + res(SWITCHING) + masked(0x81, b"Hello"),
    "case-39-wrong-accept": answer()
    + res(SWITCHING.replace(ACCEPT, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    + unmasked(0x81, b"Hello"),
    # case-40: a 101 that declares a body
    "case-40-101-with-length": answer()
    + res(SWITCHING + "Content-Length: 2147483647\n")
    + unmasked(0x81, b"Hello"),
    "case-40-101-chunked": answer() + res(SWITCHING + "Transfer-Encoding: chunked\n") + unmasked(0x81, b"x"),
    "case-40-101-length-zero": answer() + res(SWITCHING + "Content-Length: 0\n"),
    "case-40-200-instead": answer() + with_length("HTTP/1.1 200 OK\n", '{"not":"upgraded"}'),
    "case-40-401": answer() + with_length(
        'HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer realm="x"\n', '{"errors":["token"]}'
    ),
    "101-subprotocol": answer() + res(SWITCHING + "Sec-WebSocket-Protocol: chat.v2\n"),
    "101-subprotocol-not-offered": answer() + res(SWITCHING + "Sec-WebSocket-Protocol: other\n"),
    "101-extension": answer() + res(SWITCHING + "Sec-WebSocket-Extensions: permessage-deflate\n"),
    "101-http10": answer() + res(SWITCHING.replace("HTTP/1.1", "HTTP/1.0")),
    "101-two-accepts": answer() + res(SWITCHING + f"Sec-WebSocket-Accept: {ACCEPT}\n"),
    "101-then-close": answer() + res(SWITCHING) + unmasked(0x88, b"\x03\xe9bye"),
}

# ---------------------------------------------------------------------------------------------


def write(target, seeds):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(directory, name), "wb") as out:
            out.write(data)


def main():
    write("fuzz_http_request", http_seeds)
    write("fuzz_ws_frames", frame_seeds)
    write("fuzz_ws_client", client_seeds)
    write("fuzz_json_body", json_seeds)
    write("fuzz_route", route_seeds)
    write("fuzz_client_response", client_response_seeds)


if __name__ == "__main__":
    main()
