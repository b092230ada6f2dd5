from django.core.management.base import BaseCommand, CommandError

from peers import services
from peers.models import Change, Revision

from ._common import cli_actor, get_host


class Command(BaseCommand):
    help = (
        "Restore a host's configuration to a published revision (one audited change batch). "
        "Publish afterwards to make it the current revision."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", required=True, help="name of the host")
        parser.add_argument("--revision", required=True, type=int, help="revision number")
        parser.add_argument("-m", "--message", default="", help="message for the audit trail")

    def handle(self, *args, **options):
        host = get_host(options["host"])
        try:
            revision = Revision.objects.get(host=host, number=options["revision"])
        except Revision.DoesNotExist:
            raise CommandError(f"host {host.name!r} has no revision {options['revision']}") from None
        batch = services.revert_host(host, revision, actor=cli_actor(), message=options["message"])
        count = Change.objects.filter(batch=batch).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"reverted {host.name} to revision {revision.number}: {count} change(s), batch {batch}"
            )
        )
