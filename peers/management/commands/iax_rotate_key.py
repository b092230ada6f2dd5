"""Re-encrypt every value encrypted at rest with the first IAXADMIN_ENCRYPTION_KEY.

Rotation: put the new key first in IAXADMIN_ENCRYPTION_KEY (new,old), restart, run this command,
then drop the old key (``--check`` says when nothing uses it any more).
"""

from django.core.management.base import BaseCommand, CommandError

from peers.security import crypto
from peers.services.encryption import census, rotate

from ._common import cli_actor


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret, private key and revision with the first key of "
        "IAXADMIN_ENCRYPTION_KEY (after prepending a new key); --check only counts the values "
        "that still use an old key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="count values encrypted with an old key (or not at all); exit 1 if there are any",
        )

    def handle(self, *args, **options):
        current = crypto.current_key_id()
        if options["check"]:
            old = 0
            for name, counts in census().items():
                stale = sum(n for kid, n in counts.items() if kid != current)
                old += stale
                detail = ", ".join(f"{kid}: {n}" for kid, n in sorted(counts.items())) or "none"
                self.stdout.write(f"{name}: {sum(counts.values())} value(s) ({detail})")
            self.stdout.write(f"{old} value(s) use an old key or none (current key {current})")
            if old:
                raise CommandError(f"{old} value(s) are not encrypted with the current key {current}")
            return
        total = 0
        for name, count in rotate(actor=cli_actor()).items():
            total += count
            self.stdout.write(f"{name}: {count} value(s) re-encrypted")
        self.stdout.write(f"{total} value(s) re-encrypted with key {current}")
