"""Write docs/semantics-choices.md from the comments in src/stagehunt/semantics.py."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "stagehunt" / "semantics.py"
TARGET = ROOT / "docs" / "semantics-choices.md"

HEADER = """# Semantic choices

Where `shared/spl-semantics.md` marks a rule UNCONFIRMED (or leaves a detail open), the
engine follows the choice below. All of them live in `src/stagehunt/semantics.py`; change
one there and the compiler follows. This page is generated from that file by
`scripts/make_semantics_choices.py` (a test checks it is current).

| constant | value | rule and choice |
|---|---|---|
"""


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    text = SOURCE.read_text(encoding="utf-8")
    lines = text.splitlines()
    rows = []
    for node in ast.parse(text).body:
        if not isinstance(node, ast.Assign) or not isinstance(node.targets[0], ast.Name):
            continue
        value = lines[node.lineno - 1].split("=", 1)[1].strip()
        comments: list[str] = []
        i = node.lineno - 2
        while i >= 0 and lines[i].startswith("#"):
            comments.insert(0, lines[i].lstrip("#").strip())
            i -= 1
        rows.append(
            f"| `{node.targets[0].id}` | `{escape(value)}` | {escape(' '.join(comments))} |"
        )
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
