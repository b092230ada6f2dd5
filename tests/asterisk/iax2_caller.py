"""A minimal IAX2 caller (RFC 5456 full frames, standard library only) for the callers a real
Asterisk cannot play: one without call-token support, one that implements fewer auth methods,
one calling from an address of our choosing. It places one call and prints what happened as
JSON: every frame it received, the auth methods an AUTHREQ asked for, the REJECT's cause and the
format of an ACCEPT. It hangs up as soon as the answer is known.

Run it inside the sandbox's network namespace (``sandbox.run([python, this file, json])``); the
argument is a JSON object: bind ("127.0.0.5" or "127.0.0.5:4590"), to ("127.0.0.1:4569"), username, secret,
methods (["md5", "plaintext"]), exten, context, calltoken (true/false), codecs (["ulaw"]). Without a
secret it gives up at an AUTHREQ; with the empty secret it sends MD5(challenge), which a stock
Asterisk never does (it skips md5 when it has no secret) and tests/asterisk/test_disagreements.py
needs.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import sys
import time

FRAME_IAX = 6
NEW, ACK, HANGUP, REJECT, ACCEPT, AUTHREQ, AUTHREP, CALLTOKEN = 1, 4, 5, 6, 7, 8, 9, 40
IE_CALLED_NUMBER, IE_CALLED_CONTEXT, IE_USERNAME, IE_PASSWORD = 1, 5, 6, 7
IE_CAPABILITY, IE_FORMAT, IE_VERSION, IE_AUTHMETHODS, IE_CHALLENGE, IE_MD5_RESULT = 8, 9, 11, 14, 15, 16
IE_CAUSE, IE_CAUSECODE, IE_CALLTOKEN = 22, 42, 54
BITS = {"g723": 0, "gsm": 1, "ulaw": 2, "alaw": 3, "g726aal2": 4, "adpcm": 5, "slin": 6, "g722": 12}
NAMES = {v: k for k, v in BITS.items()}
SOURCE_CALL = 0x1234


def ie(kind: int, data: bytes = b"") -> bytes:
    return bytes([kind, len(data)]) + data


def parse_ies(data: bytes) -> dict[int, bytes]:
    found, at = {}, 0
    while at + 2 <= len(data):
        kind, size = data[at], data[at + 1]
        found[kind] = data[at + 2 : at + 2 + size]
        at += 2 + size
    return found


class Call:
    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        address, _, port = spec.get("bind", "127.0.0.1").partition(":")
        self.sock.bind((address, int(port or 0)))
        host, port = spec["to"].rsplit(":", 1)
        self.peer = (host, int(port))
        self.start = time.monotonic()
        self.oseq = 0
        self.iseq = 0
        self.dcall = 0
        self.received: list[dict] = []

    def ts(self) -> int:
        return int((time.monotonic() - self.start) * 1000) + 1

    def send(self, subclass: int, ies: bytes = b"", *, ts: int | None = None, counts: bool = True) -> None:
        header = struct.pack(
            "!HHIBBBB",
            0x8000 | SOURCE_CALL,
            self.dcall,
            self.ts() if ts is None else ts,
            self.oseq,
            self.iseq,
            FRAME_IAX,
            subclass,
        )
        self.sock.sendto(header + ies, self.peer)
        if counts:
            self.oseq = (self.oseq + 1) % 256

    def receive(self, timeout: float) -> tuple[int, dict[int, bytes], int] | None:
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(4096)
        except TimeoutError:
            return None
        source, _, ts, oseq, _, kind, subclass = struct.unpack("!HHIBBBB", data[:12])
        if not source & 0x8000 or kind != FRAME_IAX:
            return -1, {}, ts
        if subclass != ACK:
            self.iseq = (oseq + 1) % 256
        self.dcall = source & 0x7FFF
        ies = parse_ies(data[12:])
        self.received.append({"subclass": subclass, "ies": sorted(ies)})
        return subclass, ies, ts

    def new(self, token: bytes | None) -> None:
        spec = self.spec
        codecs = spec.get("codecs") or ["ulaw"]
        capability = sum(1 << BITS[c] for c in codecs)
        body = ie(IE_VERSION, struct.pack("!H", 2)) + ie(IE_CALLED_NUMBER, spec.get("exten", "100").encode())
        if spec.get("context"):
            body += ie(IE_CALLED_CONTEXT, spec["context"].encode())
        if spec.get("username"):
            body += ie(IE_USERNAME, spec["username"].encode())
        body += ie(IE_CAPABILITY, struct.pack("!I", capability)) + ie(
            IE_FORMAT, struct.pack("!I", 1 << BITS[codecs[0]])
        )
        if token is not None:
            body += ie(IE_CALLTOKEN, token)
        self.oseq, self.iseq, self.dcall = 0, 0, 0
        self.send(NEW, body)

    def run(self) -> dict:
        result: dict = {"outcome": "timeout"}
        self.new(b"" if self.spec.get("calltoken", True) else None)
        deadline = time.monotonic() + float(self.spec.get("timeout", 5))
        while time.monotonic() < deadline:
            got = self.receive(max(deadline - time.monotonic(), 0.01))
            if got is None:
                break
            subclass, ies, ts = got
            if subclass == CALLTOKEN:
                self.new(ies.get(IE_CALLTOKEN, b""))
            elif subclass == AUTHREQ:
                self.send(ACK, ts=ts, counts=False)
                methods = struct.unpack("!H", ies.get(IE_AUTHMETHODS, b"\0\0"))[0]
                result["authmethods"] = [
                    m for m, bit in (("plaintext", 1), ("md5", 2), ("rsa", 4)) if methods & bit
                ]
                can = self.spec.get("methods", ["md5", "plaintext"])
                secret = self.spec.get("secret")  # "" is a secret too: its MD5 answer is sent
                if secret is not None and "md5" in can and "md5" in result["authmethods"]:
                    digest = hashlib.md5(ies.get(IE_CHALLENGE, b"") + secret.encode()).hexdigest()
                    self.send(AUTHREP, ie(IE_MD5_RESULT, digest.encode()))
                elif secret is not None and "plaintext" in can and "plaintext" in result["authmethods"]:
                    self.send(AUTHREP, ie(IE_PASSWORD, secret.encode()))
                else:
                    result["outcome"] = "gave up"
                    self.send(HANGUP, ie(IE_CAUSE, b"No way to authenticate"))
                    break
            elif subclass == ACCEPT:
                self.send(ACK, ts=ts, counts=False)
                fmt = struct.unpack("!I", ies[IE_FORMAT])[0] if IE_FORMAT in ies else 0
                result.update(outcome="accepted", format=NAMES.get(fmt.bit_length() - 1, str(fmt)))
                self.send(HANGUP, ie(IE_CAUSE, b"Done"))
                break
            elif subclass == REJECT:
                self.send(ACK, ts=ts, counts=False)
                result.update(outcome="rejected", cause=ies.get(IE_CAUSE, b"").decode() or None)
                if IE_CAUSECODE in ies:
                    result["cause_code"] = ies[IE_CAUSECODE][0]
                break
        result["frames"] = self.received
        return result


if __name__ == "__main__":
    print(json.dumps(Call(json.loads(sys.argv[1])).run()))
