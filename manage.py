#!/usr/bin/env python
"""Django's command-line utility for iaxadmin."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iaxadmin.settings")
    os.environ.setdefault("LOG_STREAM", "stderr")  # a command's log lines never mix with its output
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except Exception as exc:  # a missing or bad encryption key is one line, not a traceback
        from peers.security.crypto import EncryptionKeyError

        if not isinstance(exc, EncryptionKeyError):
            raise
        sys.stderr.write(f"manage.py: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
