from django.core.management.base import BaseCommand

from peers.exporter import export_host

from ._common import add_host_argument, get_host


class Command(BaseCommand):
    help = "Validate a host's IAX2 configuration; print every finding and exit 1 when there are errors."

    def add_arguments(self, parser):
        add_host_argument(parser)

    def handle(self, *args, **options):
        export = export_host(get_host(options["host"]))
        for finding in export.findings:
            style = self.style.ERROR if finding.is_error else self.style.WARNING
            self.stdout.write(style(str(finding)))
        errors = len(export.errors)
        warnings = len(export.findings) - errors
        self.stdout.write(f"{options['host']}: {errors} error(s), {warnings} warning(s)")
        if errors:
            raise SystemExit(1)
