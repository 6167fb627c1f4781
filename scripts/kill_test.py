"""The kill campaign of issue 13 part 4: SIGKILL `stagehunt ingest` and `stagehunt
watch` at seeded random points while files arrive, restart them, and check that no
record or alert is lost or repeated (tests/killharness.py says how).

    python scripts/kill_test.py --kills 500 --seed 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from killharness import campaign  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=500, help="kills in all (half to ingest)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="folder to work in (default: a temporary one)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stagehunt-kill-") as tmp:
        work = args.work or Path(tmp)
        figures = campaign(work, args.kills, args.seed)
    report = asdict(figures) | {
        "seed": args.seed,
        "seconds": round(time.monotonic() - started),
        "ok": figures.ok(),
    }
    print(json.dumps(report, indent=2))
    return 0 if figures.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
