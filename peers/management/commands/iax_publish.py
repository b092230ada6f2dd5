from django.core.management.base import BaseCommand, CommandError

from peers import services
from peers.revisions import preview_publish

from ._common import add_host_argument, cli_actor, get_host


class Command(BaseCommand):
    help = (
        "Publish a host's current configuration as its next immutable revision (refused while there "
        "are error findings). Prints the diff against the previous revision first (secrets masked)."
    )

    def add_arguments(self, parser):
        add_host_argument(parser)
        parser.add_argument("-m", "--message", required=True, help="what changed and why")
        parser.add_argument("--quiet", action="store_true", help="do not print the diff")

    def handle(self, *args, **options):
        host = get_host(options["host"])
        if not options["quiet"]:
            self.stdout.write(preview_publish(host).diff, ending="")  # masked: never a secret in a CI log
        try:
            revision = services.publish(host, actor=cli_actor(), message=options["message"])
        except services.Refused as exc:
            for finding in exc.findings:
                self.stderr.write(str(finding))
            raise CommandError(f"{exc.message}; nothing was published") from None
        self.stdout.write(
            self.style.SUCCESS(f"published {host.name} revision {revision.number} (sha256 {revision.sha256})")
        )
