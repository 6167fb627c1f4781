"""Docs that must stay true to the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_semantics_choices_page_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "gen", ROOT / "scripts" / "make_semantics_choices.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (ROOT / "docs" / "semantics-choices.md").read_text(encoding="utf-8")
    assert current == module.render(), "run scripts/make_semantics_choices.py"


def test_every_eval_function_is_documented() -> None:
    from stagehunt.compile.functions import FUNCTIONS

    page = (ROOT / "docs" / "spl-support.md").read_text(encoding="utf-8")
    missing = [name for name in FUNCTIONS if f"`{name}`" not in page]
    assert not missing
