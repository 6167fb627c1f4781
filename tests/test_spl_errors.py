"""Broken and unsupported SPL: one located message, exit code 2, never a traceback.

Each case runs ``stagehunt search QUERY`` in-process and checks that stderr starts with
``<kind> at line L, column C: <message>`` and that (L, C) points at the offending place.
Expected places were worked out by hand; they are written as *anchors* into the query
(``"frob"`` = the column of the first ``frob``; ``"|#2"`` = the second ``|``; ``"$"`` = just
past the end of the query) because that is how a person reads the query. Where two
places are equally defensible (the opening ``(`` of an unclosed group or the end of the
query) both are accepted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

import pytest

from stagehunt import cli
from stagehunt.api import compile_query

HEADER = re.compile(
    r"^(?P<kind>syntax error|not supported|error) at line (?P<line>\d+), "
    r"column (?P<col>\d+): (?P<msg>.+)"
)
ANY_KIND = ("syntax error", "not supported", "error")


def column_of(query: str, anchor: str | int) -> int:
    """1-based column on line 1 named by an anchor (see module docstring)."""
    if isinstance(anchor, int):
        return anchor
    if anchor == "$":
        return len(query) + 1
    needle, _, nth = anchor.partition("#")
    pos = -1
    for _ in range(int(nth or 1)):
        pos = query.index(needle, pos + 1)
    return pos + 1


@dataclass(frozen=True)
class Case:
    name: str
    query: str
    anchors: tuple[str | int, ...]  # acceptable positions, () = not checked
    kinds: tuple[str, ...] = ANY_KIND
    # expected kind(s) and line for the located header
    line: int = 1


UNSUPPORTED = ("not supported",)

CASES: list[Case] = [
    # -- unbalanced parentheses / quotes / brackets
    Case("unbalanced_close_paren", "host=a)", (")",)),
    Case("unbalanced_open_paren", "(host=a", ("(", "$")),
    Case("unclosed_nested_paren", "index=main (host=a (user=b)", ("(", "$")),
    Case("empty_parens", "()", ("(", ")")),
    Case("unterminated_double_quote_in_search", 'host="abc', ('"',)),
    Case("unterminated_double_quote_in_eval", 'host=a | eval x="abc', ('"',)),
    Case("unterminated_single_quote_field_in_eval", "host=a | eval 'x=1", ("'",)),
    Case("unterminated_subsearch_bracket", "[search x", ("[", "$")),
    Case("stray_close_bracket", "host=a ]", ("]",)),
    Case("unclosed_function_call", "host=a | eval x=if(y>1, 1", ("if", "(", "$")),
    Case("unclosed_where_paren", "host=a | where (x=1", ("(", "$")),
    # -- missing values
    Case("missing_value_at_end", "host=", ("=", "$")),
    Case("missing_value_before_pipe", "host= | stats count", ("=", 6, "|")),
    Case("eval_missing_expression", "host=a | eval x=", ("=#2", "$")),
    Case("eval_missing_operand", "host=a | eval x=1+", ("+", "$")),
    Case("eval_trailing_comma", "host=a | eval x=1,", (",", "$")),
    Case("where_missing_expression", "host=a | where", ("where", "$")),
    Case("where_missing_value", "host=a | where x=", ("=#2", "$")),
    Case("where_missing_operand_after_gt", "host=a | where count >", (">", "$")),
    Case("and_without_right_operand", "host=a AND", ("AND", "$")),
    Case("or_without_left_operand", "OR host=a", ("OR",)),
    Case("not_without_operand", "host=a NOT", ("NOT", "$")),
    # -- pipes and commands
    Case("double_pipe_at_start", "| | stats count", ("|#2",)),
    Case("double_pipe_in_middle", "host=a | | stats count", ("|#2",)),
    Case("trailing_pipe", "host=a |", ("|", "$")),
    Case("trailing_pipe_after_eval", "host=a | eval x=1 |", ("|#2", "$")),
    Case("unknown_command", "host=a | frobnicate x", ("frobnicate",)),
    Case("unsupported_geostats", "host=a | geostats count", ("geostats",), UNSUPPORTED),
    Case("makeresults_not_first", "host=a | makeresults", ("makeresults",)),
    Case(
        "subsearch_search_field_not_supported",
        'host=a [| makeresults | eval search="x"]',
        ("[",),
        UNSUPPORTED,
    ),
    # -- eval functions and expressions
    Case("unknown_eval_function", "host=a | eval x=frob(y)", ("frob",)),
    Case("wrong_arg_count_len", "host=a | eval x=len(y, z)", ("len",)),
    Case("wrong_arg_count_len_zero", "host=a | eval x=len()", ("len",)),
    Case("wrong_arg_count_substr", 'host=a | eval x=substr("abc")', ("substr",)),
    Case("case_with_odd_arguments", "host=a | eval x=case(y>1)", ("case",)),
    Case("boolean_eval_result", "host=a | eval x=(a>1)", ("x", "(", "a>1", ">")),
    Case("eval_missing_comma", "host=a | eval x=1 y=2", ("y",)),
    Case("where_two_expressions", "host=a | where x=1 y=2", ("y",)),
    Case("tonumber_unparsable_literal", 'host=a | eval x=tonumber("abc")', ("tonumber", '"abc"')),
    # -- stats
    Case("stats_without_function", "host=a | stats", ("stats", "$")),
    Case("stats_by_without_field", "host=a | stats count by", ("by", "$")),
    Case("stats_unclosed_paren", "host=a | stats count(", ("(", "$")),
    Case("stats_unknown_function", "host=a | stats frob(x)", ("frob",)),
    Case("stats_as_without_name", "host=a | stats count as", ("as", "$")),
    Case("stats_eval_without_as", "host=a | stats count(eval(x>1))", ("count", "eval")),
    # -- other commands
    Case("rename_without_as", "host=a | rename foo", ("foo", "$")),
    Case("rename_as_without_name", "host=a | rename foo as", ("as", "$")),
    Case("sort_without_field", "host=a | sort", ("sort", "$")),
    Case("sort_sign_without_field", "host=a | sort -", ("-", "$")),
    Case("sort_bad_limit", "host=a | sort limit=abc x", ("abc",)),
    Case("head_not_a_number", "host=a | head abc", ("abc",)),
    Case("head_negative", "host=a | head -5", ("-5",)),
    Case("head_extra_argument", "host=a | head 5 10", ("10",)),
    Case("tail_not_a_number", "host=a | tail xyz", ("xyz",)),
    Case("dedup_without_field", "host=a | dedup", ("dedup", "$")),
    Case("dedup_bad_bool_option", "host=a | dedup keepempty=maybe x", ("maybe",)),
    Case("table_without_field", "host=a | table", ("table", "$")),
    Case("fields_without_field", "host=a | fields", ("fields", "$")),
    Case("makeresults_bad_count", "| makeresults count=abc", ("abc",)),
    # -- limits (semantics.MAKERESULTS_MAX_COUNT, WHOLE_NUMBER_MAX): at the number
    Case("makeresults_count_past_cap", "| makeresults count=10000001", ("10000001",), ("error",)),
    Case("makeresults_count_5000_digits", "| makeresults count=" + "9" * 5000, ("9",), ("error",)),
    Case("head_past_bigint", "host=a | head 9223372036854775808", ("922",), ("error",)),
    Case("sort_limit_5000_digits", "host=a | sort " + "9" * 5000 + " x", ("9",), ("error",)),
    # -- macros (no macro library given)
    Case("unterminated_macro_backtick", "host=a `mymacro", ("`",)),
    Case("unknown_macro", "host=a `nosuch`", ("`",)),
]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_there_are_at_least_40_cases_and_15_with_an_exact_column() -> None:
    assert len(CASES) >= 40
    exact = [c for c in CASES if len(c.anchors) == 1]
    assert len(exact) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_query_gives_one_located_error(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(capsys, "search", case.query)
    assert "Traceback" not in err
    assert code == 2, f"exit code {code}, stderr: {err!r}"
    first = err.splitlines()[0] if err else ""
    m = HEADER.match(first)
    assert m, f"first stderr line is not a located error: {first!r}"
    assert m.group("kind") in case.kinds, first
    assert int(m.group("line")) == case.line, first
    if case.anchors:
        allowed = {column_of(case.query, a) for a in case.anchors}
        assert int(m.group("col")) in allowed, f"{first!r}: expected column in {sorted(allowed)}"


# ----------------------------------------------------------------------- multi-line queries


@pytest.mark.parametrize(
    ("query", "line", "columns"),
    [
        # "| eval x=" is 9 characters, so frob starts at column 10 of line 2
        ("host=a\n| eval x=frob(y)", 2, {10}),
        # line 3 is "| stats count by": 'by' at column 15, end of query at 17
        ("index=main\n  host=a\n| stats count by", 3, {15, 17}),
        # unknown command on line 2, after two spaces of indentation
        ("host=a\n  | frobnicate", 2, {5}),
    ],
)
def test_multiline_query_reports_line_and_column(
    query: str, line: int, columns: set[int], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_cli(capsys, "search", query)
    assert code == 2
    assert "Traceback" not in err
    m = HEADER.match(err.splitlines()[0])
    assert m, err
    assert int(m.group("line")) == line
    assert int(m.group("col")) in columns


def test_error_shows_query_line_and_caret_under_column(capsys: pytest.CaptureFixture[str]) -> None:
    query = "host=a | eval x=frob(y)"
    code, _out, err = run_cli(capsys, "search", query)
    assert code == 2
    lines = err.splitlines()
    m = HEADER.match(lines[0])
    assert m
    col = int(m.group("col"))
    assert col == query.index("frob") + 1
    # the offending line is shown, and a caret sits under the reported column
    text_line = next(i for i, line in enumerate(lines) if line.strip() == query)
    caret_line = lines[text_line + 1]
    offset = lines[text_line].index(query)
    assert caret_line.rstrip().endswith("^")
    assert caret_line.index("^") == offset + col - 1


def test_valid_query_still_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """Control: the harness does not turn every query into an error."""
    code, _out, err = run_cli(capsys, "search", "host=a | eval x=len(host) | table x")
    assert code == 0, err


# ----------------------------------------------------------------------- real processes


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("host=a | eval x=frob(y)", "error"),
        ("host=a | geostats count", "not supported"),
    ],
)
def test_subprocess_exit_code_2_and_no_traceback(query: str, kind: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stagehunt.cli", "search", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    m = HEADER.match(first)
    assert m, first
    assert m.group("kind") == kind
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("query", "column", "refusal"),
    [
        # the pattern's first character is column 39 (the quote is at 38)
        ('| makeresults | eval x=if(match("a", "(a|b"), 1, 0)', 39, "missing ): (a|b"),
        # RE2 repeats at most 1000 times; PCRE would take it
        (
            '| makeresults | eval x="ab" | where match(x, "a{2000}")',
            47,
            "invalid repetition size: {2000}",
        ),
        (
            '| makeresults | eval x="ab" | rex field=x "\\p{Foo}(?<y>.)"',
            44,
            "invalid character class range: \\p{Foo}",
        ),
    ],
)
def test_regex_re2_refuses_is_located_at_compile_time(
    query: str, column: int, refusal: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A literal pattern RE2 refuses is an error where the pattern starts, before anything
    runs (asked of RE2 itself): one line of message, exit 2, no traceback."""
    code, out, err = run_cli(capsys, "search", query)
    assert code == 2
    assert out == ""
    m = HEADER.match(err.splitlines()[0])
    assert m, err
    assert m.group("msg") == f"RE2 refuses the regular expression: {refusal}"
    assert err.splitlines()[0].startswith(f"error at line 1, column {column}:")
    assert "Traceback" not in err


# ----------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # MAKERESULTS_MAX_COUNT = 10,000,000
        ("| makeresults count=10000001", "count must be at most 10,000,000"),
        ("| makeresults count=100000000000", "count must be at most 10,000,000"),
        # WHOLE_NUMBER_MAX = 2**63 - 1 = 9,223,372,036,854,775,807
        (
            "| makeresults | head 9223372036854775808",
            "the head count must be at most 9,223,372,036,854,775,807",
        ),
        (
            "| makeresults | tail limit=" + "1" * 5000,
            "limit must be at most 9,223,372,036,854,775,807",
        ),
        # a long token is cut at 40 characters in the message
        (
            "| makeresults | head " + "x" * 100,
            "the head count must be a whole number, found '" + "x" * 40 + "…'",
        ),
    ],
)
def test_limit_messages(query: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(capsys, "search", query)
    assert code == 2
    m = HEADER.match(err.splitlines()[0])
    assert m, err
    assert m.group("msg") == message


def test_counts_at_their_limits_compile() -> None:
    """The largest accepted values are accepted (compiled only: 10M rows are the bench's)."""
    compile_query("| makeresults count=10000000 | head 9223372036854775807", {})


@pytest.mark.parametrize(
    ("query", "engine_says"),
    [
        # substr past DuckDB's offset range (2^32)
        ('| makeresults | eval x=substr("abc", 100000000000000, 5)', "Out of Range Error"),
        # mvindex with an index no BIGINT holds: the cast fails
        (
            '| makeresults | eval x=mvindex(split("a,b", ","), 100000000000000000000)',
            "Conversion Error",
        ),
        # replace() with a pattern from the data: RE2 refuses it when the query runs
        ('| makeresults | eval p="(" | eval x=replace("abc", p, "x")', "Invalid Input Error"),
        ('| makeresults | eval p="(" | where match("abc", p)', "Invalid Input Error"),
    ],
)
def test_engine_errors_at_run_time_are_one_line_exit_2(
    query: str, engine_says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "search", query)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: the query failed while running: {engine_says}: ")
    assert len(err.strip().splitlines()) == 1
