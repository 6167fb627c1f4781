"""``stagehunt completion bash|zsh``: print a shell completion script for the whole CLI.

The script is generated from the argparse parser by shtab, so it names every subcommand
and option as they are, and it is static: pressing TAB runs the shell's own code, never
stagehunt (whose imports, DuckDB and pySigma, take a second). Arguments that name files
or folders (``type=Path``) complete as paths. shtab is imported only here, when asked:
an environment that predates the dependency still runs every other command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

#: the shells offered (shtab also writes tcsh, fish and powershell; these two are tested)
SHELLS = ("bash", "zsh")


def add_parser(sub: Any) -> None:
    """Add ``completion`` to the CLI's subcommands."""
    p = sub.add_parser("completion", help="print a shell completion script (bash or zsh)")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser`` for ``shell``; path arguments complete as paths."""
    import shtab

    _complete_paths(parser, shtab.FILE)
    return shtab.complete(parser, shell=shell)


def run_completion(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Write the script to stdout (the user redirects it where their shell reads it)."""
    try:
        text = script(parser, args.shell)
    except ModuleNotFoundError as missing:
        sys.stderr.write(f"error: completion needs {missing.name}: pip install shtab\n")
        return 1
    sys.stdout.write(text)
    return 0


def _complete_paths(parser: argparse.ArgumentParser, files: dict[str, Any]) -> None:
    """Mark every ``type=Path`` argument, in every subcommand, for file completion."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _complete_paths(subparser, files)
        elif action.type is Path:
            action.complete = files  # type: ignore[attr-defined]
