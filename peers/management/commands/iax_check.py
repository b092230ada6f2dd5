from django.core.management.base import BaseCommand

from peers.asterisk.hostcheck import check_host

from ._common import add_host_argument, get_host, get_revision


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
        add_host_argument(parser)
        parser.add_argument("--revision", type=int, help="check this published revision instead")
        parser.add_argument("--asterisk", help="path of the asterisk binary to run")

    def handle(self, *args, **options):
        host = get_host(options["host"])
        revision = None
        if options["revision"] is not None:
            revision = get_revision(host, options["revision"])
        what = f"revision {revision.number}" if revision else "current configuration"
        result = check_host(host, revision=revision, asterisk=options["asterisk"])
        self.stdout.write(result.report(f"iax_check {host.name} ({what})"), ending="")
        if result.exit_code:
            raise SystemExit(result.exit_code)
