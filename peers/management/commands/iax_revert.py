from django.core.management.base import BaseCommand

from peers import services
from peers.models import Change

from ._common import add_host_argument, cli_actor, get_host, get_revision


class Command(BaseCommand):
    help = (
        "Restore a host's configuration to a published revision (one audited change batch). "
        "Publish afterwards to make it the current revision."
    )

    def add_arguments(self, parser):
        add_host_argument(parser)
        parser.add_argument("--revision", required=True, type=int, help="revision number")
        parser.add_argument("-m", "--message", default="", help="message for the audit trail")

    def handle(self, *args, **options):
        host = get_host(options["host"])
        revision = get_revision(host, options["revision"])
        batch = services.revert_host(host, revision, actor=cli_actor(), message=options["message"])
        count = Change.objects.filter(batch=batch).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"reverted {host.name} to revision {revision.number}: {count} change(s), batch {batch}"
            )
        )
