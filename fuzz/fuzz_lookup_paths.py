"""Fuzz lookup names and transforms.conf ``filename``s: ``../``, absolute paths,
backslashes, NUL bytes, and symlinks inside the folder that point out of it.

Property: a lookup that loads was read from a file inside the lookups folder (a CSV
outside it, with a column named `SECRET`, is never read); ``outputlookup``'s path is
inside the folder or refused; anything else is a `LookupError_`, never another
exception.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

from stagehunt.lookups.library import LookupError_, LookupLibrary

SECRET = "ZQXSECRETCOLUMN"
_part = st.sampled_from(["..", ".", "inside.csv", "outside.csv", "link.csv", "linkdir", "sub",
                         "", "/", "\\", "..\\", "%2e%2e", "\x00", "~", "C:", "inside"])  # fmt: skip
_name = st.one_of(
    st.lists(_part, min_size=1, max_size=5).map("/".join),
    st.sampled_from(["/{outside}", "{outside}", "../outside.csv", "linkdir/outside.csv"]),
)


@st.composite
def _case(draw: st.DrawFn) -> tuple[str, str | None]:
    """A lookup name, and the ``filename`` its stanza gives (None: no stanza)."""
    name = draw(st.one_of(_name, st.sampled_from(["inside", "link", "t"])))
    filename = draw(st.one_of(st.none(), _name))
    return name, filename


STRATEGY = _case()


def _world(tmp: Path, name: str, filename: str | None) -> Path:
    folder = tmp / "lookups"
    folder.mkdir()
    (tmp / "outside.csv").write_text(f"{SECRET}\nx\n", encoding="utf-8")
    (folder / "inside.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / "sub").mkdir()
    os.symlink(tmp / "outside.csv", folder / "link.csv")
    os.symlink(tmp, folder / "linkdir")
    if filename is not None and "\n" not in name + filename and "]" not in name:
        conf = f"[{name}]\nfilename = {filename.replace('{outside}', str(tmp / 'outside.csv'))}\n"
        (folder / "transforms.conf").write_text(conf, encoding="utf-8", errors="surrogatepass")
    return folder


def check(case: tuple[str, str | None]) -> None:
    name, filename = case
    with tempfile.TemporaryDirectory(prefix="stagehunt-fuzz-lookup-") as tmp_name:
        tmp = Path(tmp_name)
        folder = _world(tmp, name, filename)
        name = name.replace("{outside}", str(tmp / "outside.csv"))
        try:
            library = LookupLibrary(folder)
        except LookupError_:
            return
        with contextlib.suppress(LookupError_):
            table = library.get(name)
            assert SECRET not in table.columns, ("read outside the folder", name, filename)
        with contextlib.suppress(LookupError_):
            path = library.output_path(name)
            assert path.is_relative_to(folder.resolve()), ("writes outside", name, path)


if __name__ == "__main__":
    sys.exit(harness.main("lookup_paths", STRATEGY, check))
