"""Search macros from ``macros.conf`` (stagehunt.spl.macros.MacroLibrary).

Splunk expands `` `name` `` / `` `name(arg, ...)` `` textually before parsing; stanzas are
``[name]`` or ``[name(N)]`` with ``definition = ...`` (continued by a trailing backslash)
and ``args = a, b`` naming ``$a$``/``$b$``. Expected expansions were written by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stagehunt import cli
from stagehunt.api import compile_query, search_files, search_records
from stagehunt.spl.errors import SplError
from stagehunt.spl.macros import MacroLibrary
from stagehunt.store.schema import ColumnKind

HEADER = re.compile(r"^(syntax error|not supported|error) at line (\d+), column (\d+): .+")

CONF = r"""
# comment lines and unrelated keys are ignored
[sysmon]
definition = index=wineventlog sourcetype=sysmon
iseval = 0
description = Sysmon events

[eid(1)]
args = code
definition = EventCode=$code$

[field_is(2)]
args = f, v
definition = $f$=$v$

[compact(2)]
args = f,v
definition = $f$=$v$ OR $f$=$v$x

[both]
definition = no_args=1

[both(1)]
args = a
definition = one_arg=$a$

[staging_paths]
definition = (TargetFilename="*\\Temp\\*" \
    OR TargetFilename="*\\ProgramData\\*" \
    OR TargetFilename="*\\Users\\Public\\*")

[inner]
definition = host=a

[outer]
definition = `inner` user=b

[wrap(1)]
args = h
definition = `field_is(host, $h$)` `eid(11)`

[quoted]
definition = msg="`inner`" `inner`

[loop]
definition = x `loop`
"""


@pytest.fixture(scope="module")
def lib() -> MacroLibrary:
    return MacroLibrary.from_text(CONF)


def squash(text: str) -> str:
    return " ".join(text.split())


# ----------------------------------------------------------------------- parsing macros.conf


def test_no_arg_macro_is_parsed(lib: MacroLibrary) -> None:
    macro = lib.macros["sysmon"]
    assert macro.args == ()
    assert macro.definition == "index=wineventlog sourcetype=sysmon"


def test_macro_with_args_is_keyed_by_arity(lib: MacroLibrary) -> None:
    assert lib.macros["eid(1)"].args == ("code",)
    assert lib.macros["field_is(2)"].args == ("f", "v")
    assert lib.macros["compact(2)"].args == ("f", "v")  # "args = f,v" without spaces


def test_continuation_lines_are_joined(lib: MacroLibrary) -> None:
    definition = lib.macros["staging_paths"].definition
    assert "\\\n" not in definition
    assert squash(definition) == (
        r'(TargetFilename="*\\Temp\\*" OR TargetFilename="*\\ProgramData\\*"'
        r' OR TargetFilename="*\\Users\\Public\\*")'
    )


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "macros.conf"
    path.write_text(CONF, encoding="utf-8")
    assert MacroLibrary.from_file(path).expand("`sysmon`") == "index=wineventlog sourcetype=sysmon"


def test_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "macros.conf"
    path.write_bytes(b"[m]\r\ndefinition = a=1 \\\r\n  b=2\r\n")
    assert squash(MacroLibrary.from_file(path).expand("`m`")) == "a=1 b=2"


# ----------------------------------------------------------------------- expansion


def test_expand_no_arg_macro(lib: MacroLibrary) -> None:
    assert (
        lib.expand("`sysmon` | stats count") == "index=wineventlog sourcetype=sysmon | stats count"
    )


def test_expand_one_arg(lib: MacroLibrary) -> None:
    assert lib.expand("`eid(11)`") == "EventCode=11"


def test_expand_two_args_dollar_names(lib: MacroLibrary) -> None:
    assert lib.expand("`field_is(host, web01)`") == "host=web01"


def test_argument_used_twice(lib: MacroLibrary) -> None:
    assert lib.expand("`compact(a, b)`") == "a=b OR a=bx"


def test_quoted_argument_with_comma(lib: MacroLibrary) -> None:
    assert lib.expand('`field_is(msg, "a,b")`') == 'msg="a,b"'


def test_same_name_different_arity(lib: MacroLibrary) -> None:
    assert lib.expand("`both`") == "no_args=1"
    assert lib.expand("`both(7)`") == "one_arg=7"


def test_nested_macro(lib: MacroLibrary) -> None:
    assert lib.expand("`outer` | head 1") == "host=a user=b | head 1"


def test_nested_macro_with_arguments(lib: MacroLibrary) -> None:
    assert squash(lib.expand("`wrap(web01)`")) == "host=web01 EventCode=11"


def test_backticks_inside_quoted_strings_are_left_alone(lib: MacroLibrary) -> None:
    assert lib.expand('msg="`inner`" `inner`') == 'msg="`inner`" host=a'
    assert lib.expand(r'msg="a \" `inner` \"" x') == r'msg="a \" `inner` \"" x'


def test_backticks_in_quoted_string_inside_a_definition(lib: MacroLibrary) -> None:
    assert lib.expand("`quoted`") == 'msg="`inner`" host=a'


def test_query_without_macros_is_unchanged(lib: MacroLibrary) -> None:
    query = 'host=a "quoted text" | stats count by host'
    assert lib.expand(query) == query


# ----------------------------------------------------------------------- errors


def test_unknown_macro_error_has_position(lib: MacroLibrary) -> None:
    query = "host=a `nosuch`"
    with pytest.raises(SplError) as info:
        lib.expand(query)
    err = info.value
    assert (err.line, err.column) == (1, 8)
    assert HEADER.match(err.one_line())
    assert "nosuch" in err.one_line()


def test_unknown_macro_position_is_in_the_original_query(lib: MacroLibrary) -> None:
    """The first macro expands to a longer text; the column still counts in what the user typed."""
    query = "`sysmon` `nosuch`"
    with pytest.raises(SplError) as info:
        lib.expand(query)
    assert (info.value.line, info.value.column) == (1, 10)


def test_unknown_macro_on_second_line(lib: MacroLibrary) -> None:
    query = "host=a\n| search `nosuch`"
    with pytest.raises(SplError) as info:
        lib.expand(query)
    assert (info.value.line, info.value.column) == (2, 10)


def test_wrong_arity_is_an_unknown_macro(lib: MacroLibrary) -> None:
    with pytest.raises(SplError) as info:
        lib.expand("`eid(1, 2)`")
    assert info.value.column == 1
    with pytest.raises(SplError):
        lib.expand("`eid`")


def test_unterminated_backtick(lib: MacroLibrary) -> None:
    with pytest.raises(SplError) as info:
        lib.expand("host=a `sysmon")
    assert (info.value.line, info.value.column) == (1, 8)
    assert HEADER.match(info.value.one_line())


def test_recursive_macro_is_an_error_not_a_hang(lib: MacroLibrary) -> None:
    with pytest.raises(SplError):
        lib.expand("`loop`")


CYCLE = MacroLibrary.from_text(
    "[a]\ndefinition = x=1 `b`\n[b]\ndefinition = `c(1)`\n"
    "[c(1)]\nargs = v\ndefinition = y=$v$ `a`\n"
    "[selfish]\ndefinition = `selfish`\n"
    + "".join(f"[m{i}]\ndefinition = `m{i + 1}`\n" for i in range(40))
    + "[m40]\ndefinition = z=1\n"
    + "".join(f"[bomb{i}]\ndefinition = `bomb{i + 1}` `bomb{i + 1}`\n" for i in range(19))
    + "[bomb19]\ndefinition = "
    + "w" * 100
    + "\n"
)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # a → b → c(1) → a: the cycle named from the macro that comes back, at the call
        # in the query (column 8: after `host=a `)
        ("host=a `a`", "recursive macro: `a` → `b` → `c(1)` → `a`"),
        ("host=a `selfish`", "recursive macro: `selfish` → `selfish`"),
        # m0 → m1 → ... : the 21st call (m20) is one too many (MACRO_MAX_DEPTH = 20)
        (
            "host=a `m0`",
            "macro calls nested deeper than 20 levels: `m0` → `m1` → `m2` → … → `m19` → `m20`",
        ),
        # bomb0 doubles 19 times: 2**19 copies of 100 characters (52 MB) > 1,000,000
        ("host=a `bomb0`", "macros expand to more than 1,000,000 characters"),
    ],
)
def test_macro_cycle_depth_and_size_are_named_at_the_call(query: str, message: str) -> None:
    with pytest.raises(SplError) as info:
        CYCLE.expand(query)
    assert info.value.message == message
    assert (info.value.line, info.value.column) == (1, 8)


def test_macro_chain_at_the_depth_limit_expands() -> None:
    """m20 → ... → m40 is 21 calls deep, one too many; m21 → ... → m40 is 20: allowed."""
    assert CYCLE.expand("`m21`") == "z=1"


# ----------------------------------------------------------------------- running queries


RECORDS: list[dict[str, Any]] = [
    {"_time": 1.0, "id": "1", "host": "a", "user": "b", "EventCode": "11",
     "TargetFilename": "C:\\Users\\x\\AppData\\Local\\Temp\\a.zip"},
    {"_time": 2.0, "id": "2", "host": "A", "user": "b", "EventCode": "1"},
    {"_time": 3.0, "id": "3", "host": "a", "user": "c", "EventCode": "11",
     "TargetFilename": "C:\\ProgramData\\b.7z"},
    {"_time": 4.0, "id": "4", "host": "web01", "EventCode": "11",
     "TargetFilename": "C:\\Windows\\System32\\c.dll"},
]  # fmt: skip


def test_macro_query_through_search_records(lib: MacroLibrary) -> None:
    result = search_records(lib.expand("`outer` | table id"), RECORDS)
    assert result.rows == [("2",), ("1",)]  # host=a is case-insensitive (2.2.1), newest first


def test_continued_macro_query_through_search_records(lib: MacroLibrary) -> None:
    result = search_records(lib.expand("`staging_paths` | stats count"), RECORDS)
    assert result.rows == [(2,)]


def test_macro_query_through_search_files(lib: MacroLibrary, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    result = search_files("`wrap(web01)` | table id", [path], macros=lib)
    assert result.rows == [("4",)]


def test_compile_query_expands_macros(lib: MacroLibrary) -> None:
    schema = {"host": ColumnKind.STRING, "user": ColumnKind.STRING}
    compiled = compile_query("`outer` | stats count", schema, macros=lib)
    assert "SELECT" in compiled.render().upper()


def test_cli_macros_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "macros.conf"
    conf.write_text(CONF, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    code = cli.main(
        ["search", "`eid(11)` | stats count by host", str(events), "--macros", str(conf),
         "--format", "json"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out) == [{"host": "a", "count": 2}, {"host": "web01", "count": 1}]


def test_cli_unknown_macro_with_macros_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "macros.conf"
    conf.write_text(CONF, encoding="utf-8")
    code = cli.main(["search", "host=a `nosuch`", "--macros", str(conf)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    m = HEADER.match(err.splitlines()[0])
    assert m
    assert (m.group(2), m.group(3)) == ("1", "8")


# ----------------------------------------------------------------------- comments
# Search Manual, "Add comments to searches": ```text``` is replaced with a space.


def test_comment_is_blanked_keeping_offsets(lib: MacroLibrary) -> None:
    query = "host=a ```note``` | stats```x```count"
    expanded = lib.expand(query)
    assert len(expanded) == len(query)
    assert squash(expanded) == "host=a | stats count"


def test_comment_may_span_lines_and_hold_quotes_and_backticks(lib: MacroLibrary) -> None:
    query = 'host=a ```the "x" field,\n`sysmon` is off``` | `inner`'
    assert squash(lib.expand(query)) == "host=a | host=a"
    assert lib.expand(query).count("\n") == 1


def test_comment_fence_inside_quotes_is_text(lib: MacroLibrary) -> None:
    # semantics.COMMENT_INSIDE_QUOTES_IS_TEXT
    assert lib.expand('msg="a ```b``` c"') == 'msg="a ```b``` c"'


def test_comment_inside_a_macro_definition() -> None:
    lib = MacroLibrary.from_text("[m]\ndefinition = a=1 ```why``` b=2\n")
    assert squash(lib.expand("`m`")) == "a=1 b=2"


def test_escaped_quote_outside_a_string_opens_no_string(lib: MacroLibrary) -> None:
    # ESCU: value=*\"privileged\":true* | `m_filter`: the \" are escaped quotes, the
    # macro after them still expands
    assert lib.expand(r"x=*\"p\":true* | `inner`") == r"x=*\"p\":true* | host=a"


def test_unterminated_comment_is_a_located_error(lib: MacroLibrary) -> None:
    with pytest.raises(SplError) as info:
        lib.expand("host=a ```open")
    assert (info.value.line, info.value.column) == (1, 8)


def test_unquote_args_takes_a_quoted_argument_without_its_quotes() -> None:
    from stagehunt.spl.macros import Macro

    lib = MacroLibrary({"m(1)": Macro("m(1)", ("x",), 'f="$x$"', unquote_args=True)})
    assert lib.expand('`m("a b")`') == 'f="a b"'
    assert lib.expand("`m(a)`") == 'f="a"'
    assert lib.expand('`m("a" "b")`') == 'f=""a" "b""'  # not one string: as written


def test_macros_conf_that_is_not_utf8_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by fuzz/fuzz_conf.py: a UnicodeDecodeError traceback from `--macros`."""
    conf = tmp_path / "macros.conf"
    conf.write_bytes(b"[m]\ndefinition = \x80\n")
    assert cli.main(["search", "| makeresults", "--macros", str(conf)]) == 2
    assert capsys.readouterr().err == (
        f"error: {conf}: not UTF-8 text (byte 17: invalid start byte)\n"
    )
