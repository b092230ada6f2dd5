#!/usr/bin/env python
"""Django's command-line utility for iaxadmin."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iaxadmin.settings")
    os.environ.setdefault("LOG_STREAM", "stderr")  # a command's log lines never mix with its output
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
