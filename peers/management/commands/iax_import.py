import sys

from django.core.management.base import BaseCommand, CommandError

from peers.iaxconf.parse import ConfigSyntaxError, parse_file
from peers.importer import ImportError_
from peers.services import import_document

from ._common import add_host_argument, cli_actor


class Command(BaseCommand):
    help = (
        "Import an existing iax.conf (with its #include files) into a host. All or nothing: one "
        "transaction, nothing written on error. --dry-run reports and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the iax.conf to read")
        add_host_argument(parser, "name of the host to import into")
        parser.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
        parser.add_argument(
            "--replace", action="store_true", help="replace the configuration of an existing host"
        )
        parser.add_argument("-m", "--message", default="", help="message for the audit trail")
        parser.add_argument(
            "--include-dir", action="append", default=[], help="where to look for #include files (repeatable)"
        )

    def _progress(self, stage, done, total):
        self.stderr.write(f"  {stage}" + (f": {done} of {total}" if total else ""))

    def handle(self, *args, **options):
        try:
            parsed = parse_file(options["file"], include_dirs=options["include_dir"])
        except ConfigSyntaxError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from None
        self.stderr.write(f"parsed {len(parsed.document.sections)} sections from {options['file']}")
        try:
            report = import_document(
                parsed.document,
                host_name=options["host"],
                replace=options["replace"],
                dry_run=options["dry_run"],
                notes=parsed.notes,
                progress=self._progress,
                actor=cli_actor(),
                message=options["message"],
            )
        except ImportError_ as exc:
            for file, line, message in exc.problems:
                self.stderr.write(f"{file or options['file']}:{line}: {message}")
            raise CommandError(f"{exc.message}; nothing was written") from None
        self._print(report)

    def _print(self, report):
        out = self.stdout
        for note in report.notes:
            out.write(f"note: {note}")
        for name in report.placeholder_keys:
            out.write(
                self.style.WARNING(
                    f"key {name!r} is not in the database: created a placeholder; upload {name}.pub"
                    f" (and {name}.key if this host signs with it)"
                )
            )
        for finding in report.findings:
            style = self.style.ERROR if finding.is_error else self.style.WARNING
            out.write(style(str(finding)))
        out.write("")
        out.write(f"{'object':<16}{'created':>9}{'changed':>9}{'unchanged':>11}{'deleted':>9}")
        for kind, created, changed, unchanged, deleted in report.summary_rows():
            out.write(f"{kind:<16}{created:>9}{changed:>9}{unchanged:>11}{deleted:>9}")
        moved = sum(report.moved.values())
        if moved:
            out.write(f"{moved} unchanged object(s) move to another place in the file (counted as unchanged)")
        out.write(f"findings: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
        if report.dry_run:
            out.write("dry run: nothing was written")
        else:
            out.write(f"imported into host {report.host!r}")
        sys.stdout.flush()
