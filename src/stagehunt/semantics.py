"""Every UNCONFIRMED point of ``shared/spl-semantics.md`` the engine had to decide, in one place.

Each constant names the rule it settles and holds the spec's "best current belief" (or,
where the spec gives none, the choice a detection engineer would least be surprised by).
``docs/semantics-choices.md`` lists the same choices for users. Constants the compiler
reads as switches (sort limits, breakers, the number pattern, LIKE case, ...) take effect
when changed; the others record a behaviour implemented in exactly one compiler function,
and the tests that cite the rule pin it down.
"""

from __future__ import annotations

# 2.1.2 / T1: in `search`, OR binds tighter than AND (`A B OR C` = `A AND (B OR C)`).
SEARCH_OR_BINDS_TIGHTER_THAN_AND = True

# 2.2.3: events lacking the field never satisfy `< > <= >=` in search.
SEARCH_RANGE_REQUIRES_FIELD = True

# 2.2.10 / 3.14 / T2: a multivalue field matches (search and eval comparisons) when ANY value does.
MULTIVALUE_ANY_MATCH = True

# 2.2.6 on a multivalue field: `mv!=v` holds when the field exists and NO value matches v.
MULTIVALUE_NOT_EQUAL_MEANS_NONE_MATCH = True

# 3.6 / T8: a string that parses as a number compares numerically with a number
# ("011" = 11 is true). The pattern below decides what "parses as a number" means:
# optional sign, digits with optional fraction, optional exponent; no surrounding spaces.
NUMBER_PATTERN = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"

# 3.7 / T7: like() and the LIKE operator are case-sensitive.
LIKE_CASE_SENSITIVE = True

# 3.11 / T5: arithmetic and concatenation with a null operand give null.
NULL_PROPAGATES = True

# 3.12 / T6: comparisons with null are null (three-valued), so `where NOT x=1` drops
# events without x. (The two-valued alternative would keep them.)
THREE_VALUED_NOT = True

# 4 round() / T12: halves round away from zero (round(2.5)=3, round(-2.5)=-3).
ROUND_HALF_AWAY_FROM_ZERO = True

# 4 max()/min() (eval): strings are greater than numbers.
EVAL_STRINGS_GREATER_THAN_NUMBERS = True

# 6.3 / T3: stats ... by drops events whose by-field is null (any of them).
STATS_DROPS_NULL_BY = True

# 6.5 / T9: stats output rows come in ascending order of the by-fields, compared like
# `sort` compares (numbers numerically, before strings; strings in byte order).
STATS_OUTPUT_SORTED_BY_GROUP = True

# 6.7 / T10: dc() of a field absent from a group is 0.
DC_EMPTY_IS_ZERO = True

# 6.9: list() keeps at most this many values.
LIST_MAX_VALUES = 100

# 7.2: sort's default limit.
SORT_DEFAULT_LIMIT = 10_000

# 7.3: in `sort - a b` a sign followed by a space applies to every following key
# (community claim); `sort -a b` applies to `a` only.
SORT_SPACED_SIGN_APPLIES_TO_ALL = True

# 7.4: with auto ordering, numeric values sort before (ascending) / after (descending)
# non-numeric ones; numbers compare numerically, strings in byte order.
SORT_NUMBERS_BEFORE_STRINGS = True

# 7.6 / T9: ties keep their input order (stable sort).
SORT_STABLE = True

# 8 table / T4: `table` of a field no result has shows an empty (all-null) column.
TABLE_SHOWS_ABSENT_FIELDS = True

# 8 head / tail: default count.
HEAD_DEFAULT_COUNT = 10

# 1.4: search order is newest first; events with equal _time keep the order they were
# stored in (file order).
SEARCH_ORDER_NEWEST_FIRST = True

# 2.4.3: breakers used to match bare terms against _raw (approximation of segmenters.conf).
MAJOR_BREAKERS = " \t\r\n[](){}<>|!;,'\"&?"
MINOR_BREAKERS = "/:=@.-$#%\\_"

# 1.3 / 4 strftime: times are rendered in UTC (the search head's time zone is unknown).
DISPLAY_TIMEZONE = "UTC"

# 3.14 / scalar use of a multivalue field (e.g. `len(mv)`, `mv . "x"`): the first value is used.
MULTIVALUE_SCALAR_USES_FIRST = True

# 8 regex (no spec rule; decided): `regex f!="re"` keeps events that lack f (a missing value
# does not match, so it passes the "does not match" filter); `regex f="re"` drops them.
REGEX_NOT_EQUAL_KEEPS_ABSENT = True

# ---- tstats, data models, add-on knowledge (docs/cim.md) ----

# cim.md T9 (UNCONFIRMED): summariesonly= and allow_old_summaries= change nothing. The
# emulated data model is built from every stored event at search time, so it is always
# "complete": summariesonly=true returns what a fully accelerated model would return.
TSTATS_SUMMARIES_ARE_COMPLETE = True

# cim.md T6 (UNCONFIRMED): with `by _time span=S`, _time is floored to the span for the
# grouping only; min(_time)/max(_time) still see each event's own time (the earliest and
# latest event of the bucket, not the bucket start). `by _time` without span groups by
# the exact time (Splunk would pick an automatic span).
TSTATS_SPAN_KEEPS_EVENT_TIME_FOR_AGGREGATES = True

# cim.md D5 (UNCONFIRMED): data model field types (number, boolean, ipv4, timestamp) are
# recorded but not enforced: a non-numeric Processes.process_id (4688's "0x17c8") stays.
DATAMODEL_FIELD_TYPES_ENFORCED = False

# cim.md D7 (UNCONFIRMED): `| from datamodel:M.D` returns what `| datamodel M D search`
# returns (the dataset's fields as D.field, strict_fields=true).
FROM_DATAMODEL_IS_DATAMODEL_SEARCH = True

# cim.md K6 (UNCONFIRMED as to precedence): when several add-on stanzas define the same
# field for one event, the first stanza in load order (file name, then file order) wins;
# Splunk ranks source:: over host:: over sourcetype stanzas.
KNOWLEDGE_FIRST_STANZA_WINS = True

# --- comments, lookups (issue 12: ESCU content) ---

# Comments (Search Manual, "Add comments to searches"; UNCONFIRMED inside quotes): three
# backticks inside a double-quoted string are text, not a comment, as a macro call inside
# quotes is not expanded (same manual, "Use search macros in searches").
COMMENT_INSIDE_QUOTES_IS_TEXT = True

# lookup min_matches/default_match (transforms.conf; UNCONFIRMED for a missing input): an
# event that lacks a match field is not looked up at all, so it gets no default_match.
LOOKUP_DEFAULT_NEEDS_INPUT = True

# lookup default_match (transforms.conf default: empty string; UNCONFIRMED): an empty
# default_match writes nothing, as an empty lookup cell gives no value.
LOOKUP_EMPTY_DEFAULT_WRITES_NOTHING = True

# lookup CSV header (UNCONFIRMED): names are trimmed. ESCU ships headers such as
# "EventCode, Description" and its detections read `OUTPUT Description`, which Splunk's
# lookup refuses for a field the table does not have; values are kept as they are.
LOOKUP_HEADER_NAMES_TRIMMED = True

# lookup match_type (UNCONFIRMED): WILDCARD(f)/CIDR(f) naming no column of the table is
# ignored (with a note), not an error: ESCU's char_conversion_matrix declares WILDCARD(data).
LOOKUP_MATCH_TYPE_OF_NO_COLUMN_IGNORED = True
