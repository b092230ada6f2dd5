"""A minimal IAX2 caller (RFC 5456) for tests: places one call and says whether Asterisk accepted it.

A stock Asterisk never sends the MD5 answer of an empty secret (it skips md5 when it has no
secret), so the test that shows chan_iax2 accepting ``MD5(challenge)`` for a user whose secrets
end in an empty one needs a caller that does. This one sends NEW (with a call token), answers
the AUTHREQ with ``MD5(challenge + secret)`` (any secret, the empty one included), and reports
ACCEPT or REJECT with its cause. It runs inside the sandbox's namespace (``sandbox.run``), since
that is the only place the Asterisk under test can be reached.

    python iax2call.py PORT USERNAME SECRET EXTEN   ->  prints "ACCEPT" or "REJECT <cause>"
"""

from __future__ import annotations

import hashlib
import socket
import struct
import sys
import time

FULL = 0x8000
IAX = 6
NEW, ACK, HANGUP, REJECT, ACCEPT, AUTHREQ, AUTHREP, CALLTOKEN = 0x01, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x28
IE_CALLED_NUMBER, IE_USERNAME, IE_CAPABILITY, IE_FORMAT, IE_VERSION = 0x01, 0x06, 0x08, 0x09, 0x0B
IE_CHALLENGE, IE_MD5_RESULT, IE_CAUSE, IE_CALLTOKEN = 0x0F, 0x10, 0x16, 0x36
ULAW = 0x04


def ie(kind: int, data: bytes) -> bytes:
    return bytes([kind, len(data)]) + data


def parse_ies(data: bytes) -> dict[int, bytes]:
    found, at = {}, 0
    while at + 2 <= len(data):
        kind, length = data[at], data[at + 1]
        found[kind] = data[at + 2 : at + 2 + length]
        at += 2 + length
    return found


class Call:
    def __init__(self, port: int, *, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.server = ("127.0.0.1", port)
        self.source = 0x1234
        self.dest = 0
        self.out_seq = 0
        self.in_seq = 0
        self.started = time.monotonic()

    def send(self, subclass: int, payload: bytes = b"", *, counted: bool = True) -> None:
        stamp = int((time.monotonic() - self.started) * 1000) + 3
        header = struct.pack(
            "!HHIBBBB", FULL | self.source, self.dest, stamp, self.out_seq, self.in_seq, IAX, subclass
        )
        self.sock.sendto(header + payload, self.server)
        if counted:
            self.out_seq = (self.out_seq + 1) % 256

    def receive(self) -> tuple[int, dict[int, bytes]]:
        while True:
            data, _ = self.sock.recvfrom(4096)
            first, second, _, oseq, _, kind, subclass = struct.unpack("!HHIBBBB", data[:12])
            if not first & FULL:
                continue  # a mini frame (media): not what we wait for
            if kind != IAX:
                continue
            self.dest = first & 0x7FFF
            if subclass == ACK:  # Asterisk acknowledging one of ours: not an answer
                continue
            self.in_seq = (oseq + 1) % 256
            self.send(ACK, counted=False)
            return subclass, parse_ies(data[12:])

    def call(self, username: str, secret: str, exten: str) -> str:
        ies = (
            ie(IE_VERSION, struct.pack("!H", 2))
            + ie(IE_USERNAME, username.encode())
            + ie(IE_CALLED_NUMBER, exten.encode())
            + ie(IE_FORMAT, struct.pack("!I", ULAW))
            + ie(IE_CAPABILITY, struct.pack("!I", ULAW))
        )
        self.send(NEW, ies + ie(IE_CALLTOKEN, b""), counted=False)
        subclass, got = self.receive()
        if subclass == CALLTOKEN:  # resend NEW with the token
            self.dest = 0
            self.send(NEW, ies + ie(IE_CALLTOKEN, got[IE_CALLTOKEN]))
            subclass, got = self.receive()
        else:
            self.out_seq = 1
        if subclass == AUTHREQ:
            challenge = got.get(IE_CHALLENGE, b"")
            answer = hashlib.md5(challenge + secret.encode(), usedforsecurity=False).hexdigest()
            self.send(AUTHREP, ie(IE_MD5_RESULT, answer.encode()))
            subclass, got = self.receive()
        if subclass == ACCEPT:
            self.send(HANGUP)
            return "ACCEPT"
        if subclass == REJECT:
            return "REJECT " + got.get(IE_CAUSE, b"").decode(errors="replace")
        return f"UNEXPECTED {subclass:#x}"


if __name__ == "__main__":
    port, username, secret, exten = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    try:
        print(Call(port).call(username, secret, exten))
    except TimeoutError:
        print("TIMEOUT")
