"""Benchmark of a whole import: parse a generated 10,000-peer iax.conf (about 2 MB) and write it
into a database, side by side with lark's own lexer pass over the same text (the floor of any lark
parser) in one run.

    .venv/bin/python bench/import.py --peers 10000 [--database-url URL]

Targets: parse <= 2x the lexer floor; whole import (parse + normalise + validate + write) <= 4x
the parse. Default database: a temporary SQLite file (migrated here); with --database-url (or
$DATABASE_URL) the schema must exist (run `manage.py migrate` against it first).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    tmp = None
    if not args.database_url:
        tmp = tempfile.NamedTemporaryFile(suffix=".sqlite3", delete=False)
        args.database_url = f"sqlite:///{tmp.name}"
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iaxadmin.test_settings")
    import django

    django.setup()
    import import_parse  # the generator and the lexer floor of the parser benchmark
    from django.core.management import call_command

    from peers.iaxconf.parse import parse
    from peers.services import import_document

    if tmp is not None:
        call_command("migrate", verbosity=0)

    text = import_parse.generate(args.peers)
    lark = import_parse.floor_parser()
    states = import_parse.lexer_floor_setup(lark, text)
    floor, _ = import_parse.best_of(args.repeat, import_parse.lex_floor, lark, text, states)
    parse_time, _ = import_parse.best_of(args.repeat, parse, text)

    best_import = None
    for _run in range(args.repeat):
        start = time.perf_counter()
        parsed = parse(text)
        report = import_document(parsed.document, host_name="bench-import", replace=True, actor="bench")
        elapsed = time.perf_counter() - start
        best_import = elapsed if best_import is None else min(best_import, elapsed)
    size = len(text.encode()) / 1e6
    print(f"text: {args.peers} peers, {size:.2f} MB; database {args.database_url.split('@')[-1]}")
    print(f"lexer floor            {floor:8.3f} s")
    print(f"parse                  {parse_time:8.3f} s   {parse_time / floor:5.2f}x floor  (target <= 2)")
    print(
        f"whole import           {best_import:8.3f} s   {best_import / parse_time:5.2f}x parse  (target <= 4)"
    )
    print(f"findings: {len(report.errors)} errors, {len(report.warnings)} warnings")
    ok = parse_time / floor <= 2 and best_import / parse_time <= 4
    print("PASS" if ok else "FAIL")
    if tmp is not None:
        os.unlink(tmp.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
