"""Security summary: every attack payload in tests/security, tried against this checkout.

    .venv/bin/python bench/bench_security.py [--quick]

Each parametrized case in `tests/security/test_<family>.py` is one payload: it passes when the
payload is refused with a clear message and nothing was written, read or reached, and fails when
the payload got through. This runs them all and prints, per family, how many were tried, refused
and bypassed. Baseline: the security audit of the previous main, where every family listed in
issue 10 got through (its payloads are the first cases of each file). `--quick` is accepted for
`make bench` symmetry; the suite is already small.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_suite(report: Path) -> int:
    env = {**os.environ, "TEST_DATABASE_URL": os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/security",
           f"--junitxml={report}"]
    return subprocess.call(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def tally(report: Path) -> dict[str, Counter]:
    families: dict[str, Counter] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")
        family = next((p for p in parts if p.startswith("test_")), parts[-1]).removeprefix("test_")
        outcome = "skipped" if case.find("skipped") is not None else (
            "bypassed" if case.find("failure") is not None or case.find("error") is not None else "refused")
        families.setdefault(family, Counter())[outcome] += 1
    return families


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "security.xml"
        run_suite(report)
        families = tally(report)
    print(f"{'family':28} {'tried':>6} {'refused':>8} {'bypassed':>9} {'skipped':>8}")
    total = Counter()
    for family, counts in sorted(families.items()):
        tried = sum(counts.values())
        total.update(counts)
        print(f"{family:28} {tried:6d} {counts['refused']:8d} {counts['bypassed']:9d} {counts['skipped']:8d}")
    tried = sum(total.values())
    print(f"{'all':28} {tried:6d} {total['refused']:8d} {total['bypassed']:9d} {total['skipped']:8d}")
    print(f"refused {total['refused']}/{tried} = {total['refused'] / max(tried, 1):.1%} "
          "(baseline: the audited main refused none of the issue-10 families)")
    return 1 if total["bypassed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
