import getpass

from django.core.management.base import BaseCommand, CommandError

from peers.revisions import PublishRefused, mask_line, preview_publish, publish

from ._common import get_host


class Command(BaseCommand):
    help = (
        "Publish a host's current configuration as its next immutable revision (refused while there "
        "are error findings). Prints the diff against the previous revision first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", required=True, help="name of the host")
        parser.add_argument("-m", "--message", required=True, help="what changed and why")
        parser.add_argument("--quiet", action="store_true", help="do not print the diff")

    def handle(self, *args, **options):
        host = get_host(options["host"])
        if not options["quiet"]:
            for line in preview_publish(host).diff.splitlines():
                self.stdout.write(mask_line(line))  # secrets never reach a terminal or a CI log
        try:
            revision = publish(host, actor=f"cli:{getpass.getuser()}", message=options["message"])
        except PublishRefused as exc:
            for finding in exc.findings:
                self.stderr.write(str(finding))
            raise CommandError(f"{exc}; nothing was published") from None
        self.stdout.write(
            self.style.SUCCESS(f"published {host.name} revision {revision.number} (sha256 {revision.sha256})")
        )
