from django.core.management.base import BaseCommand, CommandError

from peers.history import AuditFilterError, audit_changes, write_audit

from ._common import get_host


class Command(BaseCommand):
    help = "Write the audit log (secrets masked) as CSV or JSON to stdout, optionally for one host and a date range."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="only this host's changes")
        parser.add_argument("--since", help="from this date or time (YYYY-MM-DD or ISO 8601, inclusive)")
        parser.add_argument("--until", help="up to this date or time (a date includes the whole day)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, **options):
        host = get_host(options["host"]) if options["host"] else None
        try:
            changes = audit_changes(host=host, since=options["since"], until=options["until"])
        except AuditFilterError as exc:
            raise CommandError(str(exc)) from None
        write_audit(changes, options["format"], self.stdout)
