from django.core.management.base import BaseCommand, CommandError

from peers.asterisk.hostcheck import check_host
from peers.models import Revision

from ._common import get_host


class Command(BaseCommand):
    help = (
        "Load a host's configuration (the current export, or a published revision) into a locally "
        "installed Asterisk, in a throwaway private loopback-only network namespace, and print side by "
        "side what iaxadmin's validator predicted and what Asterisk loaded and logged: peers, users, "
        "registrations, keys, warnings. Exit 0 clean, 1 Asterisk complained, 2 no Asterisk. Asterisk is "
        "--asterisk PATH, else ASTERISK_BIN, else the shared build script beside a checkout, else "
        "'asterisk' on PATH."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", required=True, help="name of the host")
        parser.add_argument("--revision", type=int, help="check this published revision instead")
        parser.add_argument("--asterisk", help="path of the asterisk binary to run")

    def handle(self, *args, **options):
        host = get_host(options["host"])
        revision = None
        if options["revision"] is not None:
            try:
                revision = Revision.objects.get(host=host, number=options["revision"])
            except Revision.DoesNotExist:
                raise CommandError(f"host {host.name!r} has no revision {options['revision']}") from None
        what = f"revision {revision.number}" if revision else "current configuration"
        result = check_host(host, revision=revision, asterisk=options["asterisk"])
        self.stdout.write(result.report(f"iax_check {host.name} ({what})"), ending="")
        if result.exit_code:
            raise SystemExit(result.exit_code)
