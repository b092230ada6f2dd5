from django.core.management.base import BaseCommand, CommandError

from peers import services
from peers.exporter import export_host, write_export
from peers.revisions import write_revision

from ._common import add_host_argument, cli_actor, get_host, get_revision


class Command(BaseCommand):
    help = (
        "Write a host's iax.conf and the key files it refers to into DIR (DIR/iax.conf, DIR/keys/). "
        "Refuses when the configuration has error findings, unless --allow-errors. With --revision N, "
        "write that published revision exactly as it was published."
    )

    def add_arguments(self, parser):
        add_host_argument(parser)
        parser.add_argument("--out", required=True, help="directory to write into")
        parser.add_argument(
            "--allow-errors",
            action="store_true",
            help="write even with error findings (each is listed in a comment at the top)",
        )
        parser.add_argument("--revision", type=int, help="write this published revision instead")

    def handle(self, *args, **options):
        host = get_host(options["host"])
        if options["revision"] is not None:
            return self._write_revision(host, options["revision"], options["out"])
        export = export_host(host)
        if export.errors and not options["allow_errors"]:
            for finding in export.errors:
                self.stderr.write(str(finding))
            raise CommandError(
                f"{len(export.errors)} error finding(s); nothing was written. Fix them, or pass --allow-errors."
            )
        # the secrets leave the database: recorded in the host's history
        services.export_with_secrets(
            host, actor=cli_actor(), export=export, message=f"iax.conf written to {options['out']}"
        )
        written = write_export(export, options["out"], allow_errors=options["allow_errors"])
        for path in written:
            self.stdout.write(str(path))
        self.stdout.write(f"sha256 {export.checksum}")

    def _write_revision(self, host, number, out):
        revision = get_revision(host, number)
        for path in write_revision(revision, out):
            self.stdout.write(str(path))
        self.stdout.write(f"revision {revision.number} sha256 {revision.sha256}")
