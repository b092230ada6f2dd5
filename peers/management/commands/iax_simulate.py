"""iax_simulate: what chan_iax2 would do with a call or a registration, and why."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from peers.iaxconf.simulate import ACCEPTED, Call, Registration, Result, SimulationError
from peers.simulation import simulate_call, simulate_registration

from ._common import add_host_argument, get_host

EXIT_USAGE = 2  # 0: accepted, 1: rejected or ambiguous


def _words(value: str | None) -> tuple[str, ...] | None:
    return tuple(w.strip() for w in value.split(",") if w.strip()) if value else None


class Command(BaseCommand):
    help = (
        "Predict what the host's Asterisk (chan_iax2, 22.10.1) does with an incoming call or a "
        "registration, and explain it. Exit 0 when it is accepted, 1 when it is rejected or the answer "
        "is ambiguous, 2 for bad parameters. Nothing is written."
    )

    def add_arguments(self, parser):
        what = parser.add_subparsers(dest="what", required=True, metavar="{call,register}")
        call = what.add_parser("call", help="an incoming call")
        add_host_argument(call)
        self._address(call, "the caller's address: ip, ip:port or [ipv6]:port (port 4569 if not given)")
        call.add_argument("--username", help="the username it sends (none: no username)")
        self._credentials(call)
        call.add_argument("--context", help="the context it asks for (none: the user's first)")
        call.add_argument("--exten", help="the extension it calls (default s)")
        call.add_argument(
            "--no-calltoken", action="store_true", help="the caller does not support call tokens"
        )
        call.add_argument("--codecs", help="the codecs it offers, preferred first (ulaw,gsm); default any")
        call.add_argument("--encryption", action="store_true", help="the caller offers AES-128 encryption")
        call.add_argument("--json", action="store_true", help="print one JSON object")
        register = what.add_parser("register", help="a registration (register => peer:secret@this host)")
        add_host_argument(register)
        register.add_argument("--peer", required=True, help="the peer name it registers as")
        self._address(register, "the registering box's address: ip, ip:port or [ipv6]:port")
        self._credentials(register)
        register.add_argument("--no-calltoken", action="store_true", help="it does not support call tokens")
        register.add_argument("--json", action="store_true", help="print one JSON object")

    def _address(self, parser, help: str) -> None:
        parser.add_argument("--from", dest="address", required=True, metavar="ADDR", help=help)

    def _credentials(self, parser) -> None:
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--secret", help="the secret it uses (never printed)")
        secret.add_argument("--key", help="the RSA key it signs with (the name of a key pair)")
        parser.add_argument(
            "--auth", help="the methods it implements, e.g. md5,plaintext (default: all it can use)"
        )

    def handle(self, *args, **options):
        try:
            host = get_host(options["host"])
        except CommandError as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None
        try:
            if options["what"] == "call":
                request = Call(
                    options["address"],
                    username=options["username"],
                    secret=options["secret"],
                    key=options["key"],
                    auth=_words(options["auth"]),
                    context=options["context"],
                    exten=options["exten"],
                    calltoken=not options["no_calltoken"],
                    codecs=_words(options["codecs"]),
                    encryption=options["encryption"],
                )
                result = simulate_call(host, request)
            else:
                request = Registration(
                    options["peer"],
                    options["address"],
                    secret=options["secret"],
                    key=options["key"],
                    auth=_words(options["auth"]),
                    calltoken=not options["no_calltoken"],
                )
                result = simulate_registration(host, request)
        except SimulationError as exc:
            flag = {"address": "from"}.get(exc.field, exc.field)
            raise CommandError(f"--{flag} {exc.value!r}: {exc.message}", returncode=EXIT_USAGE) from None
        if options["json"]:
            data = {"host": host.name, **result.to_dict()}
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self.stdout.write("\n".join(describe(host.name, request, result)))
        if result.outcome != ACCEPTED:
            raise SystemExit(1)


def describe(host: str, request: Call | Registration, result: Result) -> list[str]:
    """The plain-text answer: what was asked, the outcome, the walk in sentences, the log, the fix."""
    if isinstance(request, Call):
        who = f"as {request.username}" if request.username else "without a username"
        asked = f"Call from {request.address} {who} to {request.exten or 's'}"
        asked += f"@{request.context}" if request.context else ""
    else:
        asked = f"Registration of peer {request.peer} from {request.address}"
    outcome = result.outcome.upper()
    if result.cause:
        outcome += f" (cause: {result.cause})"
    if result.outcome == "ambiguous":
        outcome += (
            f": {', '.join(f'[{t}]' for t in result.tied)} tie; Asterisk 22.10.1 picks [{result.pick}] today"
        )
    elif result.section:
        outcome += f" by [{result.section}]"
    lines = [f"{asked} on host {host}: {outcome}", ""]
    lines += [
        f"{n}. {step.text}." if not step.text.endswith(".") else f"{n}. {step.text}"
        for n, step in enumerate(result.steps, 1)
    ]
    if result.candidates:
        lines += ["", "Candidates:"]
        for candidate in result.candidates:
            mark = "chosen" if candidate.chosen else "in" if candidate.included else "out"
            score = f", score {candidate.score}" if candidate.score is not None else ""
            lines.append(
                f"  [{candidate.section}] ({candidate.kind}) {mark}{score}: {'; '.join(candidate.reasons)}"
            )
    if result.logged:
        note = (
            ""
            if result.authdebug
            else " (lines marked * only with authdebug=yes, which this host does not set)"
        )
        lines += ["", f"What Asterisk logs{note}:"]
        for line in result.logged:
            star = "*" if line.authdebug and not result.authdebug else " "
            where = "  (on the calling side)" if line.side == "caller" else ""
            lines.append(f" {star}{line}{where}")
    if result.conditions:
        lines += ["", "It also depends on:"] + [f"  - {c}" for c in result.conditions]
    if result.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in result.warnings]
    if result.fix:
        where = f" ([{result.fix.section}]" if result.fix.section else ""
        if where:
            where += f" {result.fix.directive}" if result.fix.directive else ""
            where += f"={result.fix.value}" if result.fix.directive and result.fix.value else ""
            where += ")"
        lines += ["", f"Fix: {result.fix.text}{where}"]
    return lines
