"""RFC 6455 conformance of the client, in the spirit of the Autobahn testsuite's groups 1-7 and 9
turned around: a raw socket server completes the 101 and then sends the frames a case names,
including the ones a polite server never sends. The request path names the case (see CASES).

After its frames the peer reads what the client sends back until the client's close frame (or
five seconds of silence), and writes one line per connection on stderr:

    case=/rsv/4/1 close=1002 pongs=

close= is the code the client closed with, "empty" for a close frame without a payload, "none"
when no close frame came; pongs= lists the payloads of the client's pongs in hex, comma
separated. The test reads that line beside what the client delivered to the program.
"""

import struct
import sys

import raw_ws_peer as raw

frame = raw.frame


def text_in_fragments(opcode, parts):
    """One message split into the given parts: the first frame carries the opcode, the rest are
    continuations, the last one has FIN."""
    frames = []
    for i, part in enumerate(parts):
        frames.append(frame(opcode if i == 0 else 0, part, fin=i == len(parts) - 1))
    return b"".join(frames)


def lengths():
    sizes = (0, 125, 126, 127, 65535, 65536)
    out = [frame(1, b"a" * n) for n in sizes]
    out += [frame(2, bytes(i % 256 for i in range(n))) for n in sizes]
    return b"".join(out)


def utf8_split():
    # Every cut of a text with 2-, 3- and 4-byte code points, each its own message.
    text = "κόσμε€𝄞".encode()
    return b"".join(text_in_fragments(1, [text[:cut], text[cut:]]) for cut in range(1, len(text)))


GOOD = frame(1, "Hello")
PING = frame(9, "never answered")

# path -> (bytes after the 101, pongs to wait for before closing, whether the peer closes).
# A case the client must fail leaves the close to the client: the peer only waits for it.
FIXED = {
    # Group 1: every length boundary, text and binary, delivered exactly.
    "/lengths": (lengths(), 0, True),
    # RFC 6455 5.2 says a sender must use the minimal length encoding but names no duty for
    # the receiver; the client accepts longer encodings of a length (docs/websocket.md).
    "/length-forms": (frame(1, "short", length_bytes=2) + frame(1, "short", length_bytes=8) +
                      frame(2, b"b" * 200, length_bytes=8), 0, True),
    # Group 2: pings and pongs.
    "/ping-125": (frame(9, b"p" * 125), 1, True),
    "/ping-126": (frame(9, b"p" * 126), 0, False),
    "/ping-between-fragments": (frame(1, "Hel", fin=False) + frame(9, "p1") + frame(0, "lo"), 1,
                                True),
    "/unsolicited-pong": (frame(10, "x") + frame(1, "after"), 0, True),
    # Group 3: the valid message before a frame with reserved bits is delivered, nothing after.
    "/good-then-rsv": (GOOD + frame(1, "Hello", rsv=4) + PING, 0, False),
    "/rsv-on-continuation": (frame(1, "frag", fin=False) + frame(0, "ment", rsv=4), 0, False),
    # Group 4: the same with a reserved opcode.
    "/good-then-opcode": (GOOD + frame(5, "x") + PING, 0, False),
    "/opcode-inside-fragments": (frame(1, "frag", fin=False) + frame(3, "x"), 0, False),
    # Group 5: fragmentation.
    "/fragments": (text_in_fragments(1, ["frag", "men", "ted"]) +
                   text_in_fragments(2, [b"bi", b"na", b"ry"]) + frame(1, "World"), 0, True),
    "/continuation-first": (frame(0, "lo"), 0, False),
    "/data-while-fragmented": (frame(1, "Hel", fin=False) + frame(1, "World"), 0, False),
    # Group 6: UTF-8. The first fragment is already invalid and no FIN follows: the client must
    # fail at once rather than wait for the rest of the message.
    "/utf8-fail-fast": (frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80",
                              fin=False), 0, False),
    "/utf8-invalid-across-fragments": (frame(1, b"\xce\xba\xe1", fin=False) + frame(0, b"(ok"), 0,
                                       False),
    "/utf8-split": (utf8_split(), 0, True),
    # Group 7: after the server's close nothing more is delivered.
    "/close-then-data": (raw.close_frame(1000, "bye") + frame(1, "late"), 0, False),
    # Group 9: many small messages in one write.
    "/many": (b"".join(frame(1, b"%d" % i) for i in range(1000)), 0, True),
    "/too-big-fragmented": (frame(2, b"x" * 600, fin=False) + frame(0, b"x" * 600), 0, False),
}


def parametrised(path):
    """Cases with a number or bytes in the path: (bytes, pongs, peer closes), or None."""
    parts = path.strip("/").split("/")
    try:
        if parts[0] == "rsv" and len(parts) == 3:
            rsv, opcode = int(parts[1]), int(parts[2])
            payload = b"" if opcode >= 8 else b"Hello"
            if opcode == 8:
                payload = struct.pack("!H", 1000)
            return frame(opcode, payload, rsv=rsv), 0, False
        if parts[0] == "opcode" and len(parts) == 2:
            return frame(int(parts[1]), "x"), 0, False
        if parts[0] == "fragmented-control" and len(parts) == 2:
            opcode = int(parts[1])
            payload = struct.pack("!H", 1000) if opcode == 8 else b""
            return frame(opcode, payload, fin=False), 0, False
        if parts[0] == "utf8-invalid" and len(parts) == 2:
            return frame(1, bytes.fromhex(parts[1])), 0, False
        if parts[0] == "close" and len(parts) == 2:
            return frame(8, struct.pack("!H", int(parts[1])) + b"bye"), 0, False
        if parts[0] == "close-payload" and len(parts) <= 2:
            return frame(8, bytes.fromhex(parts[1] if len(parts) == 2 else "")), 0, False
        if parts[0] == "binary" and len(parts) == 2:
            return frame(2, b"x" * int(parts[1])), 0, True
    except ValueError:
        return None
    return None


def report(path, close, pongs):
    if close is None:
        shown = "none"
    elif len(close) < 2:
        shown = "empty"
    else:
        shown = str(struct.unpack("!H", close[:2])[0])
    print(f"case={path} close={shown} pongs={','.join(p.hex() for p in pongs)}", file=sys.stderr,
          flush=True)


def play(path, data, pongs_expected, peer_closes):
    def run(conn, headers):
        conn.sendall(raw.switching(headers) + data)
        frames = raw.ClientFrames(conn)
        pongs = []
        close = None

        # Pongs first, so that the peer's own close cannot overtake what it waits for.
        while len(pongs) < pongs_expected:
            got = frames.next()
            if got is None or got[0] == 8:
                close = got[3] if got is not None else None
                break
            if got[0] == 10:
                pongs.append(got[3])
        if close is None and peer_closes:
            try:
                conn.sendall(raw.close_frame(1000, "case done"))
            except OSError:
                pass
        while close is None:
            got = frames.next()
            if got is None:
                break
            if got[0] == 10:
                pongs.append(got[3])
            elif got[0] == 8:
                close = got[3]
        report(path, close, pongs)

    return run


def scenario(path):
    found = FIXED.get(path) or parametrised(path)
    if found is None:
        return raw.SCENARIOS.get(path)
    return play(path, *found)


if __name__ == "__main__":
    raw.main(scenario)
