from django.core.management.base import BaseCommand, CommandError

from peers.exporter import export_host, write_export

from ._common import get_host


class Command(BaseCommand):
    help = (
        "Write a host's iax.conf and the key files it refers to into DIR (DIR/iax.conf, DIR/keys/). "
        "Refuses when the configuration has error findings, unless --allow-errors."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", required=True, help="name of the host")
        parser.add_argument("--out", required=True, help="directory to write into")
        parser.add_argument(
            "--allow-errors",
            action="store_true",
            help="write even with error findings (each is listed in a comment at the top)",
        )

    def handle(self, *args, **options):
        export = export_host(get_host(options["host"]))
        if export.errors and not options["allow_errors"]:
            for finding in export.errors:
                self.stderr.write(str(finding))
            raise CommandError(
                f"{len(export.errors)} error finding(s); nothing was written. Fix them, or pass --allow-errors."
            )
        written = write_export(export, options["out"], allow_errors=options["allow_errors"])
        for path in written:
            self.stdout.write(str(path))
        self.stdout.write(f"sha256 {export.checksum}")
