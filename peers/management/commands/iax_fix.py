from django.core.management.base import BaseCommand, CommandError

from peers import fixes, services
from peers.iaxconf.fixes import FIXABLE

from ._common import add_host_argument, cli_actor, get_host


class Command(BaseCommand):
    help = (
        "Apply the safe one-click fixes to a host's findings (comment out lines chan_iax2 ignores, "
        "notransfer -> transfer) as one recorded change. Prints the diff first (secrets masked), "
        "then what was fixed, left out, and still needs a person."
    )

    def add_arguments(self, parser):
        add_host_argument(parser)
        parser.add_argument(
            "--code", choices=sorted(FIXABLE), help="only findings with this code (default: every code)"
        )
        parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        parser.add_argument(
            "-m", "--message", default="", help="the history message (default: how many fixes)"
        )

    def handle(self, *args, **options):
        host = get_host(options["host"])
        preview = fixes.preview(host, code=options["code"])
        self.stdout.write("".join(f"{text}\n" for _, text in preview.lines), ending="")
        for fix in preview.outcome.applied:
            self.stdout.write(f"fix: {fix.description}")
        for fix, reason in preview.outcome.skipped:
            self.stdout.write(self.style.WARNING(f"left out: {fix.description}: {reason}"))
        alternatives = [
            c for c in preview.plan.choices if c.default is None and options["code"] in (None, c.finding.code)
        ]
        for choice in alternatives:
            offered = "; ".join(f.description for f in choice.fixes)
            self.stdout.write(f"needs a decision (web UI): {choice.finding.location()}: {offered}")
        remaining = [f for f in preview.plan.unfixable if options["code"] in (None, f.code)]
        for finding in remaining:
            self.stdout.write(f"needs a person: {finding}")
        if options["dry_run"]:
            self.stdout.write(
                f"{host.name}: {len(preview.outcome.applied)} fix(es) would be applied (dry run)"
            )
            return
        if not preview.outcome.applied:
            self.stdout.write(f"{host.name}: nothing to fix")
            return
        try:
            result = services.apply_fixes(
                host,
                code=options["code"],
                keys=[f.key for f in preview.outcome.applied],
                expected_version=preview.version,
                actor=cli_actor(),
                message=options["message"],
            )
        except services.Conflict:
            raise CommandError(
                f"{host.name} changed while the fixes were prepared; run iax_fix again"
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{host.name}: applied {len(result.applied)} fix(es), {result.changes} object(s) changed "
                f"(history batch {result.batch})"
            )
        )
