"""The commands as a user runs them, beside the reader a Python user would otherwise pick: pyst2's
``asterisk.config.Config`` reading the same file, in one run.

    .venv/bin/pip install -e '.[bench]'        # pyst2, for this benchmark only
    .venv/bin/python bench/commands.py --peers 10000 [--repeat 3] [--database-url URL]
    .venv/bin/python bench/commands.py --peers 10000 --memory-peers 100000   # also peak memory

A flat iax.conf of N sections is generated (``import_parse.generate_flat``: 13 lines each, no
templates, because pyst2 has none; ~2.2 MB for 10,000), then, ``--repeat`` times in turn, each as
its own process:

* start-up: ``manage.py check`` (Python, Django, the app and its system checks: what every
  command pays before its own work);
* pyst2: ``Config(FILE)`` in a Python process, minus the same process without the read;
* ``iax_import FILE --host H --dry-run`` (H does not exist);
* ``iax_import FILE --host H`` into an empty host (a new H each run);
* ``iax_export --host H --out DIR`` of that host;
* and, without a target, the dry run against the host just imported (``--replace``: every object
  read and compared, all unchanged).

A command's work is its wall time minus the start-up's, best of the runs (the range over the runs
is printed too); its ratio is that over pyst2's read, best of the runs. Both in CPU time (user +
system of the process, from os.wait4: what the process itself did, which other load on a shared
machine barely moves; the PASS/FAIL lines) and in wall time. Targets: dry run <= 3x, import
<= 6x, export <= 1x. (CPU time counts SQLite's work, which runs in the process; a PostgreSQL
server's is not counted: compare wall times there.) ``--gc-off`` runs every process, pyst2's
too, with the cyclic garbage collector switched off: the difference is what the collector costs
(what the removed gc_paused used to save); the app itself never switches it off. With ``--memory-peers N`` the peak RSS (``os.wait4``) of ``iax_import``
of an N-section file into a new host and of ``iax_export`` of it; target < 500 MB each.

Database: --database-url (or $DATABASE_URL), else a temporary SQLite file; a PostgreSQL URL names
a server on which a throw-away database is made and dropped (bench/export.py's BenchDatabase).
Commands run with iaxadmin.test_settings (its fixed encryption key) and their log lines on.
Exits 0 whatever the numbers; without pyst2 it says so and stops (SKIP).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from export import BenchDatabase  # noqa: E402  (no Django: the parent stays small for wait4)

TARGETS = {"dry run": 3.0, "import": 6.0, "export": 1.0}
MEMORY_TARGET_MB = 500
PYST2_READ = "import sys, asterisk.config; asterisk.config.Config(sys.argv[1])"
PYST2_START = "import sys, asterisk.config"


def run(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds (user + system), peak RSS in MB) of one process; raises when it
    fails."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a command's log lines never block it
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            text = errors.read().decode(errors="replace")
            raise RuntimeError(f"{' '.join(cmd[1:4])} failed ({proc.returncode}):\n{text[-3000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


GC_OFF = False  # --gc-off: every Python process of the run without the cyclic collector


def python(*args: str) -> list[str]:
    """A Python command line; with --gc-off the collector is switched off before anything runs."""
    if not GC_OFF:
        return [sys.executable, *args]
    if args[0] == "-c":
        return [sys.executable, "-c", "import gc; gc.disable()\n" + args[1], *args[2:]]
    code = "import gc, runpy, sys; gc.disable(); sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    return [sys.executable, "-c", code, *args]


def manage(*args: str) -> list[str]:
    return python(str(ROOT / "manage.py"), *args)


def generate(peers: int, path: Path, env: dict) -> None:
    """The file, written by a child process (the parent's peak RSS stays small for wait4)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import import_parse;"
        "open(sys.argv[3], 'w').write(import_parse.generate_flat(int(sys.argv[2])))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "bench"), str(peers), str(path)], env=env, check=True
    )


def spread(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--memory-peers", type=int, default=0, help="sections for the memory test; 0 skips")
    parser.add_argument(
        "--gc-off",
        action="store_true",
        help="run every process without the cyclic GC: what the collector costs",
    )
    args = parser.parse_args()
    global GC_OFF
    GC_OFF = args.gc_off
    if importlib.util.find_spec("asterisk") is None:
        print("pyst2 is not installed: .venv/bin/pip install -e '.[bench]' (benchmark only)")
        print("SKIP: nothing measured")
        return 0
    database = BenchDatabase(args.database_url)
    try:
        return measure(args, database)
    finally:
        database.drop()


def measure(args, database: BenchDatabase) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(DATABASE_URL=database.url, DJANGO_SETTINGS_MODULE="iaxadmin.test_settings")
    work = Path(tempfile.mkdtemp(prefix="iaxadmin-commands-"))
    conf = work / "iax.conf"
    generate(args.peers, conf, env)
    run(manage("migrate", "--noinput"), env)
    size = conf.stat().st_size
    print(
        f"database: {database.label}; Python {sys.version.split()[0]}" + ("; cyclic GC off" if GC_OFF else "")
    )
    print(f"file: {args.peers} flat sections, {size / 1e6:.2f} MB, {conf.read_text().count(chr(10))} lines")

    names = ("check", "pyst2", "pyst2 start", "dry run", "import", "export", "dry run, host imported")
    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}

    def timed(name: str, cmd: list[str]) -> None:
        seconds, used, _ = run(cmd, env)
        wall[name].append(seconds)
        cpu[name].append(used)

    for i in range(args.repeat):
        host = f"bench{i}"
        timed("check", manage("check"))
        timed("pyst2 start", python("-c", PYST2_START))
        timed("pyst2", python("-c", PYST2_READ, str(conf)))
        timed("dry run", manage("iax_import", str(conf), "--host", host, "--dry-run"))
        timed("import", manage("iax_import", str(conf), "--host", host))
        timed("export", manage("iax_export", "--host", host, "--out", str(work / host)))
        timed(
            "dry run, host imported",
            manage("iax_import", str(conf), "--host", host, "--replace", "--dry-run"),
        )

    print()
    print("Each process's time in two measures: CPU (user + system, what the process itself did; other")
    print("load on the machine barely moves it) and wall. Work = the command minus manage.py check's")
    print("start-up (pyst2: minus importing it), best of the runs; the range over the runs in brackets.")
    verdicts = []
    for label, times in (("CPU", cpu), ("wall", wall)):
        check = times["check"]
        pyst = [read - start for read, start in zip(times["pyst2"], times["pyst2 start"], strict=True)]
        pyst_best = max(min(times["pyst2"]) - min(times["pyst2 start"]), 1e-3)
        print(f"\n{label}:")
        print(f"  start-up, manage.py check        {min(check):7.3f} s  (runs {spread(check)})")
        print(f"  pyst2 Config() read              {pyst_best:7.3f} s  (runs {spread(pyst)})")
        for name in ("dry run", "import", "export", "dry run, host imported"):
            works = [t - c for t, c in zip(times[name], check, strict=True)]
            best = min(times[name]) - min(check)
            ratio = best / pyst_best
            ratios = [w / max(p, 1e-3) for w, p in zip(works, pyst, strict=True)]
            line = f"  {name:<32} {best:7.3f} s  (runs {spread(works)})  {ratio:5.2f}x pyst2 (runs {spread(ratios)})"
            if name in TARGETS:
                ok = ratio <= TARGETS[name]
                line += f"  target <= {TARGETS[name]:g}: {'PASS' if ok else 'FAIL'}"
                if label == "CPU":
                    verdicts.append(ok)
            print(line)

    if args.memory_peers:
        big = work / "big.conf"
        generate(args.memory_peers, big, env)
        _, _, imported = run(manage("iax_import", str(big), "--host", "bench-memory"), env)
        _, _, exported = run(
            manage("iax_export", "--host", "bench-memory", "--out", str(work / "memory")), env
        )
        print()
        for name, mb in (("iax_import", imported), ("iax_export", exported)):
            ok = mb < MEMORY_TARGET_MB
            verdicts.append(ok)
            verdict = "PASS" if ok else "FAIL"
            print(
                f"peak RSS, {name} of {args.memory_peers} sections   {mb:7.1f} MB  target < {MEMORY_TARGET_MB}: {verdict}"
            )
    print()
    print("PASS" if all(verdicts) else "FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
