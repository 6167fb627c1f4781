"""Regenerate the T1074 pack's shipped Sigma rules and their conversions.

``content/T1074/sigma/*.yml`` come from ``stagehunt to-sigma --pack T1074`` and
``content/T1074/converted/<target>/`` from ``stagehunt convert T1074 --to <target>``;
``tests/test_sigma_translate.py`` fails when the shipped files differ from a fresh run
(after a change to the corrected SPL, its lookups or the translator), and this script
brings them back in step.

Usage: python scripts/make_pack_sigma.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from stagehunt import cli
from stagehunt.sigma.export import targets

PACK = Path(__file__).resolve().parents[1] / "src" / "stagehunt" / "content" / "T1074"
SHIPPED_TARGETS = ("splunk", "kusto", "kusto-sentinel", "lucene", "eql", "esql")


def main() -> int:
    for folder in (PACK / "sigma", PACK / "converted"):
        shutil.rmtree(folder, ignore_errors=True)
    if cli.main(["to-sigma", "--pack", "T1074", "--out", str(PACK / "sigma")]) != 0:
        return 1
    known = targets()
    for name in SHIPPED_TARGETS:
        if name not in known:
            print(f"target {name} is not installed", file=sys.stderr)
            return 1
        if cli.main(["convert", "T1074", "--to", name, "--out", str(PACK / "converted")]) != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
