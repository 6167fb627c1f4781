"""Reading a .conf file (macros.conf, transforms.conf) as UTF-8 text, with the one-line
reason when it is not: Splunk's .conf files are UTF-8."""

from __future__ import annotations

from pathlib import Path


def read_conf_text(path: Path, error: type[Exception]) -> str:
    """The file's text; ``error`` naming the file and the first bad byte otherwise."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
