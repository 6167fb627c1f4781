"""Runs a hypothesis property as a fuzzer: an example budget, a time budget and a seed.

Every ``fuzz_<target>.py`` script defines a strategy and a property and hands them to
`main`; `tests/test_fuzz.py` calls `run` with a small fixed budget so that CI reruns
exactly the same inputs. With ``--atheris`` (when installed) libFuzzer drives the same
property through hypothesis' ``fuzz_one_input``: coverage-guided, for long campaigns.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

# recursion.ensure_room raises Python's limit for deep queries; hypothesis warns each time
warnings.filterwarnings("ignore", message="The recursion limit will not be reset")

#: Examples per hypothesis run; a longer campaign is several runs with the next seeds,
#: so that a time budget can stop it between runs.
ROUND = 1000


@dataclass
class Figures:
    """What a campaign did: inputs the property ran on, and in how many runs."""

    inputs: int = 0
    runs: int = 0


def _test(
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    figures: Figures,
    examples: int,
    shrink: bool,
) -> Callable[[], None]:
    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(strategy)
    def test(value: Any) -> None:
        figures.inputs += 1
        check(value)

    return test


def run(
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    *,
    examples: int,
    seconds: float | None = None,
    start_seed: int = 0,
    shrink: bool = True,
) -> Figures:
    """Run ``check`` on up to ``examples`` inputs (and at most ``seconds``, checked
    between rounds of `ROUND`); a failure raises with hypothesis' smallest input."""
    figures = Figures()
    started = time.monotonic()
    left = examples
    k = start_seed
    while left > 0:
        if seconds is not None and time.monotonic() - started > seconds:
            break
        n = min(left, ROUND)
        seed(k)(_test(strategy, check, figures, n, shrink))()
        figures.runs += 1
        left -= n
        k += 1
    return figures


def main(
    name: str,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    argv: Sequence[str] | None = None,
) -> int:
    """The command line of one fuzz script."""
    parser = argparse.ArgumentParser(prog=f"fuzz_{name}.py", description=f"fuzz {name}")
    parser.add_argument("--examples", type=int, default=10_000, help="inputs to try")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--seed", type=int, default=0, help="first seed (one per round)")
    parser.add_argument(
        "--atheris", action="store_true", help="libFuzzer-driven (extra args go to libFuzzer)"
    )
    args, rest = parser.parse_known_args(argv)
    if args.atheris:
        import atheris  # type: ignore[import-not-found]

        atheris.instrument_all()  # coverage of every module loaded so far: stagehunt's too
        test = _test(strategy, check, Figures(), 1, shrink=False)
        atheris.Setup([sys.argv[0], *rest], test.hypothesis.fuzz_one_input)  # type: ignore[attr-defined]
        atheris.Fuzz()
        return 0
    started = time.monotonic()
    figures = run(
        strategy, check, examples=args.examples, seconds=args.seconds, start_seed=args.seed
    )
    took = time.monotonic() - started
    print(f"{name}: {figures.inputs} inputs in {figures.runs} runs, {took:.0f} s, no failure")
    return 0


def shared_data() -> Path | None:
    """The project's shared data folder (real logs, ESCU) when this checkout has one."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def maybe_spliced(draw: Any, data: bytes, start: int = 0, most: int = 4) -> bytes:
    """``data``, or (one time in two) with up to ``most`` random bytes put in at a drawn
    place from ``start`` on: a line or cell torn by a stray byte."""
    if not draw(st.booleans()):
        return data
    at = draw(st.integers(min(start, len(data)), len(data)))
    return data[:at] + draw(st.binary(max_size=most)) + data[at:]
