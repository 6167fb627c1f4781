"""Syntax that Splunk's ESCU detections use and the parser once refused.

Each case is the shape of a real detection (named in the test), parsed and run on
hand-made events; expected rows are worked out by hand from the rule cited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stagehunt.api import search_records
from stagehunt.result import Value
from stagehunt.spl import ast
from stagehunt.spl.macros import Macro, MacroLibrary
from stagehunt.spl.parser import parse


def rows(spl: str, records: Sequence[Mapping[str, object]] = ()) -> list[tuple[Value, ...]]:
    return search_records(spl, list(records)).rows


PING = [
    {"_time": 3, "source": "PINGID", "result.message": "Device Paired ok", "result.status": "x"},
    {"_time": 2, "source": "PINGID", "result.message": "nothing", "result.status": "SUCCESS 1"},
    {"_time": 1, "source": "PINGID", "result.message": "pair me", "result.status": "FAIL 2"},
]


def test_quoted_field_name_before_equals_is_a_field() -> None:
    # pingid_new_mfa_method_after_credential_reset: `"result.message" = "*Device Paired*"`
    # is the field result.message (semantics.SEARCH_QUOTED_FIELD_NAME), matched as a glob
    # (rule 2.2.4): only the first event's message contains "Device Paired".
    pipeline = parse('source=PINGID "result.message" = "*Device Paired*"')
    expr = pipeline.commands[0]
    assert isinstance(expr, ast.SearchCmd) and isinstance(expr.expr, ast.SearchAnd)
    match = expr.expr.items[1]
    assert isinstance(match, ast.FieldMatch) and match.field == "result.message"
    spl = 'source=PINGID "result.message" = "*Device Paired*" | table result.status'
    assert rows(spl, PING) == [("x",)]


def test_quoted_field_name_before_in() -> None:
    # pingid_mismatch_auth_source_and_verification_response: `"f" IN (...)` and
    # `NOT "f" IN (...)` (rule 2.2.7, case-insensitive globs): statuses SUCCESS*/FAIL* keep
    # events 2 and 1; NOT message *pair* drops event 1 ("pair me").
    spl = (
        'source=PINGID ("result.status" IN ("SUCCESS*","FAIL*") NOT "result.message" IN '
        '("*pair*")) | table result.message'
    )
    assert rows(spl, PING) == [("nothing",)]


def test_quoted_phrase_alone_is_still_a_term() -> None:
    # rule 2.4.1: a quoted string not followed by an operator is a phrase against _raw
    pipeline = parse('"Device Paired" x=1')
    cmd = pipeline.commands[0]
    assert isinstance(cmd, ast.SearchCmd) and isinstance(cmd.expr, ast.SearchAnd)
    assert isinstance(cmd.expr.items[0], ast.TermMatch)


def test_function_call_with_space_before_parenthesis() -> None:
    # crowdstrike_medium_severity_alert: `where LIKE (severity, "%MEDIUM%")` is like();
    # o365_advanced_audit_disabled: `mvindex ('ExtendedProperties{}.Name', 1)`.
    events = [{"_time": 2, "severity": "SEV_MEDIUM"}, {"_time": 1, "severity": "LOW"}]
    assert rows('severity=* | where LIKE (severity, "%MEDIUM%") | table severity', events) == [
        ("SEV_MEDIUM",)
    ]
    spl = '| makeresults | eval v=split("a,b,c", ",") | eval x = mvindex (v, 1) | table x'
    assert rows(spl) == [("b",)]


def test_not_before_parenthesis_is_still_the_operator() -> None:
    # rule 3.3: NOT (a=1) negates; with a=2 the condition is true
    assert rows("| makeresults | eval a=2 | where NOT (a=1) | eval r=1 | table r") == [(1,)]


def test_in_operator_in_where() -> None:
    # o365_high_privilege_role_granted: `where role_id IN ("...", "...")` is in(role_id, ...)
    # (rule 4, in(): true when the value equals any listed value)
    events = [{"_time": 3, "role_id": "a"}, {"_time": 2, "role_id": "b"}, {"_time": 1}]
    assert rows('role_id=* | where role_id IN ("b", "c") | table role_id', events) == [("b",)]


def test_not_in_operator_inside_case() -> None:
    # windows_known_abused_dll_loaded_suspiciously: `case(NOT user IN ("-"), ...)`: NOT binds
    # the whole `user IN (...)` test (rule 3.3); "-" fails it so case() gives null.
    events = [{"_time": 2, "user": "-"}, {"_time": 1, "user": "bob"}]
    spl = 'user=* | eval u=case(NOT user IN ("-"), upper(user)) | table user u'
    assert rows(spl, events) == [("-", None), ("bob", "BOB")]


def test_escaped_quote_in_a_search_word_does_not_hide_a_macro() -> None:
    # kubernetes_create_or_update_privileged_pod: `...=*\"privileged\":true* | `x_filter``
    # the escaped quotes open no string, so the filter macro after them expands.
    library = MacroLibrary({"x_filter": Macro("x_filter", (), "search *")})
    text = library.expand('a=*\\"privileged\\":true* | `x_filter`')
    assert text == 'a=*\\"privileged\\":true* | search *'


def test_stats_alias_with_parentheses() -> None:
    # windows_ad_dcshadow_privileges_acl_addition: `values(aceFlags) as aceFlags(inheritance)`
    # names the field "aceFlags(inheritance)"
    events = [{"_time": 1, "aceFlags": "CI"}]
    result = search_records("aceFlags=* | stats values(aceFlags) as aceFlags(inheritance)", events)
    assert result.columns == ["aceFlags(inheritance)"] and result.rows == [(["CI"],)]


def test_quoted_part_glued_to_a_wildcard_is_one_field_pattern() -> None:
    # cloud_provisioning_activity_from_previously_unseen_city: `drop_dm_object_name(
    # "All_Changes")` expands to `rename "All_Changes".* AS *`; the quoted part and the `.*`
    # written against it are one argument, All_Changes.* (rule 8, rename wildcards).
    spl = (
        '| makeresults | eval All_Changes.user="bob", All_Changes.src="10.0.0.1" '
        '| rename "All_Changes".* AS * | table user src'
    )
    assert rows(spl) == [("bob", "10.0.0.1")]
