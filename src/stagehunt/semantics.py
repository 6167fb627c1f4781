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

# ---- limits (docs/reliability.md) ----

# Nesting (UNCONFIRMED: Splunk documents no limit on how deep parentheses, subsearches,
# function calls or operators may nest): the parser refuses a query nested deeper than
# this, at the token that goes past it. Each parenthesised group, `[subsearch]`, function
# call, NOT, sign and each operator of a chain (`a+b+c` nests the first `+` in the second,
# as eval reads left to right) is one level. 256 keeps the SQL DuckDB parses within its
# own default `max_expression_depth` of 1,000 and Python's stack bounded (recursion.py).
SPL_MAX_NESTING = 256

# Subsearches inside subsearches (UNCONFIRMED: Splunk documents no limit): at most this
# many `[...]` open at once; each also counts toward SPL_MAX_NESTING. A subsearch compiles
# to a chain of CTEs in the same statement, and DuckDB's binder refuses ~100 nested ones
# (its `max_expression_depth`); 32 is far beyond what a search needs.
SPL_MAX_SUBSEARCH_NESTING = 32

# Macros calling macros (UNCONFIRMED: the Knowledge Manager Manual, "Use search macros in
# searches", allows nesting and documents no depth): a chain deeper than this is refused,
# naming its calls; a macro that calls itself through others is refused at once, naming
# the cycle (`a` → `b` → `a`).
MACRO_MAX_DEPTH = 20

# Macro expansion output (no Splunk limit known): macros that call others several times
# grow exponentially with depth (`a` = `b` `b`, `b` = `c` `c`, ...); past this many
# characters of expanded text the query is refused instead of filling memory.
MACRO_MAX_EXPANDED_CHARS = 1_000_000

# makeresults count= (UNCONFIRMED: the Search Reference, makeresults, says only "The number
# of results to generate. Default: 1" and that they are generated "in temporary memory";
# no maximum is documented): at most this many. Results stream to the writer in bounded
# memory (backends/stream.py), so the cap bounds time and output size, not memory:
# 10,000,000 results are ~350 MB of JSON lines.
MAKERESULTS_MAX_COUNT = 10_000_000

# Whole-number arguments (head/tail N, sort limit, dedup N, max_match, window, ...): at
# most the largest BIGINT, the type both engines count in; a larger one is refused at its
# position instead of failing in the engine or in Python's int conversion.
WHOLE_NUMBER_MAX = 2**63 - 1

# 3.8 (Search Reference, "Numeric calculations": NaN shows as `nan`, infinity as
# `inf`/`-inf`): a number JSON cannot hold is written as that text in every output format;
# in json/jsonl as a JSON string ("inf"), since JSON has no Infinity or NaN and jq or a
# forwarder would reject the line. (The API's ResultTable keeps the float.)
NON_FINITE_AS_TEXT = True

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
# J2 join (Search Reference, join: "A maximum of 50,000 rows in the right-side dataset"):
# the subsearch's first rows, in its result order, take part; the rest are ignored.
JOIN_SUBSEARCH_MAXOUT = 50_000

# J3 join max=1 (UNCONFIRMED which row is "first"): the first matching row in the
# subsearch's result order (its search order or the order its last command produced).
JOIN_FIRST_IS_SUBSEARCH_ORDER = True

# J4 join (UNCONFIRMED): values match when equal as strings, case-sensitively (numbers
# rendered as Splunk shows them, a multivalue value as its values joined by newlines);
# a result lacking a join field matches nothing.
JOIN_MATCH_EXACT_STRINGS = True

# J5 join overwrite=true (UNCONFIRMED for null values): a field the matched subsearch row
# lacks keeps the main result's value; only values the row has overwrite.
JOIN_OVERWRITE_KEEPS_WHEN_SUB_NULL = True

# A1 append (Search Reference, append: the maxout option, default 50000 as for appendcols;
# UNCONFIRMED: the page's description also cites the general 10,000-result subsearch limit):
# at most this many subsearch results are appended.
APPEND_SUBSEARCH_MAXOUT = 50_000

# S1 subsearch in a search (Search Manual, "About subsearches": 10,000 results by
# default): the subsearch's first rows, in its result order, become the filter.
SUBSEARCH_MAXOUT = 10_000

# S3 subsearch filter (UNCONFIRMED): Splunk's format writes `NOT ()` for a subsearch
# without results; we read an empty subsearch as matching nothing, so `search [empty]`
# keeps nothing and `search NOT [empty]` keeps every result.
SUBSEARCH_EMPTY_MATCHES_NOTHING = True

# T1 transaction (Search Reference, transaction: maxevents default 1000): at most this
# many events per transaction; the newest ones fill a transaction first.
TRANSACTION_MAXEVENTS = 1000

# T2 transaction with several fields (UNCONFIRMED, approximated): an event joins a
# transaction only when it has every listed field, all equal (Splunk also links events
# sharing only some of the fields, and connected=false loosens that further); events
# lacking a listed field take part in no transaction.
TRANSACTION_NEEDS_EVERY_FIELD = True

# T3 transaction maxspan (approximated): Splunk reads events newest first and starts a new
# transaction at the first event that would make it span maxspan or more; we cut each run
# of events into windows of maxspan counted back from the run's newest event, so a run
# longer than maxspan may be split at a different event than Splunk splits it.
TRANSACTION_MAXSPAN_FIXED_WINDOWS = True

# T4 transaction startswith/endswith (UNCONFIRMED): a transaction is closed when its
# oldest event matches startswith (if given) and its newest matches endswith (if given);
# open ("evicted") ones are dropped unless keepevicted=true, which adds closed_txn=0/1.
TRANSACTION_CLOSED_NEEDS_BOTH_ENDS = True

# R3 streamstats (UNCONFIRMED): a result lacking a by-field belongs to no group and gets no
# statistics (its output fields are null); it still passes through.
STREAMSTATS_NULL_BY_GETS_NOTHING = True

# C2 chart/timechart by (Search Reference, chart/timechart `limit`, `agg=`; ranking by sum):
# series are ranked by the sum over rows of the first function's values; ties in byte order.
CHART_SERIES_RANKED_BY_SUM = True

# C5 chart/timechart by (UNCONFIRMED): series columns come in byte order of their values,
# then NULL (results without the split field), then OTHER.
CHART_SERIES_COLUMNS_SORTED = True

# C6 chart/timechart (UNCONFIRMED for chart): a count (count, dc) of an empty cell or
# bucket is 0; other functions leave it empty.
CHART_EMPTY_COUNT_IS_ZERO = True

# C4 timechart (approximated): empty buckets are filled from the first to the last bucket
# that has events; Splunk fills the whole time range of the search, which a query run here
# does not have.
TIMECHART_FILLS_BETWEEN_DATA = True

# O2 outputlookup (UNCONFIRMED): a multivalue value is written as its values joined by
# newlines in one CSV cell; numbers as Splunk shows them (2.0 is "2"); every field of the
# results is written, internal ones included.
OUTPUTLOOKUP_MV_NEWLINES = True

# G2 iplocation (UNCONFIRMED): a multivalue field is located by its first value.
IPLOCATION_MV_FIRST_VALUE = True

# G3 iplocation (UNCONFIRMED): an address the database does not know (private, reserved,
# not an address) leaves the location fields unset (null), not empty strings.
IPLOCATION_UNKNOWN_LEAVES_FIELDS_UNSET = True

# A2 append/appendpipe/inputlookup append=t: a field numeric on one side and text on the
# other becomes text (numbers as Splunk shows them); multivalue on one side: multivalue.
APPEND_MERGES_KINDS_AS_TEXT = True

# M1 map (Search Reference, map: maxsearches default 10): only the first this many results
# each run the template search; the rest run nothing.
MAP_MAXSEARCHES = 10

# M2 map (UNCONFIRMED): a $field$ token takes the result's value as text (a multivalue
# field's first value); a result lacking the field runs a search that matches nothing.
MAP_MISSING_TOKEN_MATCHES_NOTHING = True
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

# lookup CSV of zero length (UNCONFIRMED): read as a table with no columns and no rows,
# not an error. outputlookup writes such a file when it has no results (O3, create_empty
# and override_if_empty default to true), so the next query that reads the lookup (ESCU's
# baseline searches: `inputlookup NAME append=t ... | outputlookup NAME`) must be able to.
LOOKUP_ZERO_LENGTH_FILE_IS_EMPTY = True
