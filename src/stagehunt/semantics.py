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

# ---------------------------------------------------------------- commands (docs/commands.md)

# 2.2 (ESCU: `source=PINGID "result.message"="*Paired*"`): in a search, a double-quoted string
# right before a comparison operator or `IN (` is a field name, not a phrase; Splunk's docs
# do not say so, ESCU's detections rely on it.
SEARCH_QUOTED_FIELD_NAME = True

# C-convert-4..12: a value a convert function cannot convert (ctime of "abc", dur2sec of
# "soon") stays as it was; the Search Reference says so only for auto(). num() removes it.
CONVERT_KEEPS_UNCONVERTIBLE = True

# C-convert-14: convert on a multivalue field converts each value.
CONVERT_MULTIVALUE_EACH_VALUE = True

# C-convert-3: the forms auto() and num() know: a number (NUMBER_PATTERN, spaces trimmed) or
# a number with thousands commas ("1,500"). Units, durations and sizes are left to rmunit,
# dur2sec and memk (the Reference does not list what "the best conversion" tries).
CONVERT_AUTO_FORMS = ("number", "thousands-commas")

# C-rex-3: rex on a multivalue field matches each value in turn (matches counted over all
# values for max_match); the Reference says nothing of multivalue input.
REX_MULTIVALUE_EACH_VALUE = True

# C-top-5: top/rare's percent is rounded to 6 decimals (the Reference's example shows
# 33.333333).
TOP_PERCENT_DECIMALS = 6

# C-mvexpand-3: mvexpand drops a result that lacks the field (the Reference says nothing;
# community answers report it, and recommend fillnull first).
MVEXPAND_DROPS_MISSING = True

# C-replace-1..3: replace matches whole values case-sensitively (the Reference is silent);
# among wildcard values the "fuller match" is the one with the most literal characters.
REPLACE_CASE_SENSITIVE = True

# C-top-3/4: top and rare count only results that have every field of the list (and the
# by-fields); percent is count over the group's counted total; ties are ordered by value,
# descending for top (the Reference's "last lexicographical value" example) and ascending
# for rare.
TOP_TIES_BY_VALUE = True

# C-addtotals-2: a value that is not a number adds nothing, a result with no numeric value
# gets a total of 0; each numeric value of a multivalue field is added.
ADDTOTALS_EMPTY_IS_ZERO = True

# C-foreach-1/3: `foreach *` skips internal fields (`_time`, `_raw`, ...); <<MATCHSTR>> is
# what every wildcard matched, joined (the Reference shows one wildcard only).
FOREACH_SKIPS_INTERNAL = True

# C-spath-3: a JSON null leaf extracts as the text "null", true/false as "true"/"false", a
# number as written; object and array values (a path ending on one) as compact JSON text.
SPATH_JSON_NULL_TEXT = "null"

# C-spath-2: a path the document lacks leaves the output field as it was (as rex does where
# it does not match); the Reference is silent.
SPATH_MISSING_PATH_KEEPS = True

# C-spath-6: fields named at run time do not replace fields the results already have; they
# fill them only where they are null (the store's fields came from the same JSON at ingest,
# and keep their kind). A name only the data holds is a multivalue field.
RUNTIME_FIELDS_FILL_ONLY = True

# C-xmlkv-1: a tag that appears more than once gives a multivalue field (every value, in
# order); the Reference shows one value per tag.
XMLKV_REPEATS_MULTIVALUE = True

# C-extract-1: keys are cleaned as CLEAN_KEYS does (characters other than letters, digits
# and "_" become "_", "_" trimmed at both ends); repeated keys give every value.
EXTRACT_CLEAN_KEYS = True
