"""The benchmarks under bench/ still run: each is started on a tiny input and must finish, print
its measurements and its PASS/FAIL line. (What they measure is not asserted: times belong to the
benchmarks, not to the suite.)"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run(script: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        env=env,
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def verdict(output: str) -> str:
    found = re.findall(r"^\s*(PASS|FAIL)\b.*$", output, flags=re.MULTILINE)
    assert found, output
    return found[-1]


def test_export_bench_measures_the_export_against_the_floor():
    output = run("export.py", "--peers", "40", "--memory-peers", "0")
    assert re.search(r"ratio \(a\)/\(b\)\s+\d+\.\d\d", output), output
    assert re.search(r"queries in \(a\)\s+10$", output, flags=re.MULTILINE), output
    verdict(output)


def test_import_parse_bench_measures_the_parser_against_the_lexer():
    output = run("import_parse.py", "--peers", "40", "--repeat", "1")
    assert "ratio parse / lexer floor" in output
    verdict(output)


def test_import_bench_measures_a_whole_import():
    output = run("import.py", "--peers", "40", "--repeat", "1")
    assert re.search(r"whole import\s+\d+\.\d+ s", output), output
    verdict(output)


def test_export_http_bench_serves_and_measures_the_export():
    output = run("export_http.py", "--seconds", "0.3")
    assert re.search(r"\(a\) 304 If-None-Match\s+\d+ req/s", output), output
    assert re.search(r"trivial / 304 = \d+\.\d\d \(target <= 1\.5\): (PASS|FAIL)", output), output


def test_metrics_bench_measures_a_cold_and_a_warm_scrape():
    output = run("metrics.py", "--peers", "40", "--hosts", "2")
    assert re.search(r"\(b\) warm scrape\s+\d+\.\d ms\s+\d+ queries", output), output
    assert re.search(r"cold / warm = \d+\.\d \(target >= 10\): (PASS|FAIL)", output), output


def test_endpoint_list_bench_measures_the_list_with_effective_values():
    output = run("endpoint_list.py", "--peers", "60")
    assert re.search(r"\(b\) address=dynamic\s+\d+\.\d ms\s+\d+ queries\s+\d+ sections", output), output
    verdict(output)


@pytest.mark.skipif(
    importlib.util.find_spec("asterisk") is None, reason="pyst2 is not installed (pip install -e '.[bench]')"
)
def test_commands_bench_times_the_three_commands_beside_pyst2():
    output = run("commands.py", "--peers", "30", "--repeat", "1")
    assert re.search(r"pyst2 Config\(\) read\s+-?\d+\.\d+ s", output), output
    assert "\nCPU:\n" in output and "\nwall:\n" in output
    for name, target in (("dry run", "3"), ("import", "6"), ("export", "1")):
        assert re.search(
            rf"^  {name}\s+-?\d+\.\d+ s .* target <= {target}: (PASS|FAIL)$", output, re.MULTILINE
        ), output
    verdict(output)


def test_reads_bench_measures_the_pages_of_a_big_host():
    output = run("reads.py", "--peers", "40", "--repeat", "1")
    assert re.search(r"\(a\) API, one page \(100\)\s+\d+\.\d ms", output), output
    assert re.search(r"every page of 100\s+\d+\.\d\dx the export", output), output
    verdict(output)


def test_fixes_bench_measures_preview_apply_links_and_the_banner():
    output = run("fixes.py", "--peers", "40")
    assert re.search(r"\(c\) apply\s+\d+\.\d ms\s+\d+ queries, 40 history rows", output), output
    assert re.search(r"publish banner, clean\s+\d+\.\d ms\s+3 queries", output), output
    verdict(output)
