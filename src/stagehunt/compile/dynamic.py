"""Fields named at run time: spath's auto-extract, fromjson, xmlkv, extract.

The compiler knows every field's name and kind before the query runs; these commands make
fields whose names are in the data. Each builds, per result, a ``MAP(VARCHAR, VARCHAR[])``
(field name → values) in a hidden column and records it on the relation
(:class:`~stagehunt.compile.relation.Dynamic`); a later command that names a field the
results lack looks it up in the map (docs/commands.md, "Fields named at run time").
"""

from __future__ import annotations

from dataclasses import replace

import sqlglot
from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.relation import Dynamic, QueryBuilder, Relation

#: placeholder for the text a template reads (replaced by the real expression)
_INPUT = "__dyn_input"


def _template(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def _fill(template: exp.Expression, text: exp.Expression) -> exp.Expression:
    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name == _INPUT:
            return text.copy()
        return node

    return exp.paren(template.copy().transform(put), copy=False)


# C-spath-3: every leaf of a JSON document under its Splunk path (``a.b{}.c``: array
# elements as {}), values in document order; strings without quotes, null as "null"
_JSON_PATHS = _template(
    f"""
    (SELECT map_from_entries(list((k, v))) FROM (
        SELECT regexp_replace(
                   regexp_replace(
                       regexp_replace(__jt.fullkey, '\\[[0-9]+\\]', '{{}}', 'g'),
                       '"((?:[^"\\\\]|\\\\.)*)"', '\\1', 'g'),
                   '^\\$\\.?', '') AS k,
               list(CASE WHEN __jt.type = 'VARCHAR' THEN json_extract_string(__jt.value, '$')
                         ELSE CAST(__jt.value AS VARCHAR) END ORDER BY __jt.id) AS v
        FROM json_tree(CASE WHEN json_valid({_INPUT}) THEN {_INPUT} ELSE '{{}}' END) AS __jt
        WHERE __jt.type NOT IN ('OBJECT', 'ARRAY')
        GROUP BY k))
    """
)

_XML_TAG = r"<(/?)([A-Za-z_][A-Za-z0-9_.:-]*)((?:\s[^<>]*?)?)(/?)>([^<]*)"

# C-spath-4: every element of an XML document that holds only text, under the path of
# element names from the root (``RuleAndFileData.PolicyName``); repeats in document order
_XML_PATHS = _template(
    f"""
    (SELECT map_from_entries(list((k, v))) FROM (
        SELECT __x.k AS k, list(__x.v ORDER BY __x.i) AS v FROM (
            SELECT unnest(list_reduce(
                range(1, len(__c) + 1),
                (acc, i) -> CASE
                    WHEN __c[i] = '/' THEN
                        {{'stack': list_slice(acc.stack, 1, len(acc.stack) - 1), 'out': acc.out}}
                    WHEN __s[i] = '/' THEN acc
                    ELSE {{'stack': list_append(acc.stack, __n[i]),
                          'out': CASE WHEN i < len(__c) AND __c[i + 1] = '/' AND __n[i + 1] = __n[i]
                                 THEN list_append(acc.out, {{
                                     'k': array_to_string(list_append(acc.stack, __n[i]), '.'),
                                     'v': __t[i], 'i': i}})
                                 ELSE acc.out END}} END,
                {{'stack': CAST([] AS VARCHAR[]),
                  'out': CAST([] AS STRUCT(k VARCHAR, v VARCHAR, i BIGINT)[])}}).out) AS __x
            FROM (SELECT regexp_extract_all({_INPUT}, '{_XML_TAG}', 1) AS __c,
                         regexp_extract_all({_INPUT}, '{_XML_TAG}', 2) AS __n,
                         regexp_extract_all({_INPUT}, '{_XML_TAG}', 4) AS __s,
                         regexp_extract_all({_INPUT}, '{_XML_TAG}', 5) AS __t))
        GROUP BY __x.k))
    """
)

# C-fromjson-1: the top-level keys of a JSON object; an array's elements are the values
_JSON_TOP = _template(
    f"""
    (SELECT map_from_entries(list((__je.key, CASE
            WHEN __je.type = 'ARRAY' THEN (
                SELECT list(CASE WHEN __ja.type = 'VARCHAR'
                                 THEN json_extract_string(__ja.value, '$')
                                 ELSE CAST(__ja.value AS VARCHAR) END ORDER BY __ja.id)
                FROM json_each(__je.value) AS __ja WHERE __ja.type <> 'NULL')
            WHEN __je.type = 'VARCHAR' THEN [json_extract_string(__je.value, '$')]
            ELSE [CAST(__je.value AS VARCHAR)] END)))
     FROM json_each(CASE WHEN json_valid({_INPUT}) AND json_type({_INPUT}) = 'OBJECT'
                         THEN {_INPUT} ELSE '{{}}' END) AS __je
     WHERE __je.type <> 'NULL')
    """
)

_XML_ELEMENT = r"<([A-Za-z_][A-Za-z0-9_.:-]*)(?:\s[^<>]*)?>([^<]*)</([A-Za-z_][A-Za-z0-9_.:-]*)>"

# C-xmlkv-1: <tag ...>text</tag> with no element inside: tag → text, repeats in order
_XML_KV = _template(
    f"""
    (SELECT map_from_entries(list((k, v))) FROM (
        SELECT k, list(v ORDER BY i) AS v FROM (
            SELECT unnest(regexp_extract_all({_INPUT},
                       '{_XML_ELEMENT}', 1)) AS k,
                   unnest(regexp_extract_all({_INPUT},
                       '{_XML_ELEMENT}', 2)) AS v,
                   unnest(regexp_extract_all({_INPUT},
                       '{_XML_ELEMENT}', 3)) AS e,
                   unnest(range(len(regexp_extract_all({_INPUT},
                       '{_XML_ELEMENT}')))) AS i)
        WHERE k = e
        GROUP BY k))
    """
)

# C-extract-1: key/value pairs split at pair delimiters, then at the first key delimiter;
# keys cleaned as Splunk's CLEAN_KEYS cleans them (other characters become "_")
_KV_TEMPLATE = """
    (SELECT map_from_entries(list((k, v))) FROM (
        SELECT k, list(v ORDER BY i) AS v FROM (
            SELECT trim(regexp_replace(trim(regexp_extract(p, '^([^{kv}]*)[{kv}]', 1)),
                                       '[^A-Za-z0-9_]', '_', 'g'), '_') AS k,
                   trim(regexp_extract(p, '^[^{kv}]*[{kv}](.*)$', 1)) AS v, i
            FROM (SELECT unnest(regexp_split_to_array({input}, '[{pair}]')) AS p,
                         unnest(range(len(regexp_split_to_array({input}, '[{pair}]')))) AS i))
        WHERE k <> '' GROUP BY k))
"""

# C-extract-2: without delimiters, key=value pairs (a value quoted or up to a space , ;)
_AUTO_KV = _template(
    f"""
    (SELECT map_from_entries(list((k, v))) FROM (
        SELECT k, list(v ORDER BY i) AS v FROM (
            SELECT unnest(regexp_extract_all({_INPUT},
                       '([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|[^\\s,;"]*)', 1)) AS k,
                   trim(unnest(regexp_extract_all({_INPUT},
                       '([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|[^\\s,;"]*)', 2)), '"') AS v,
                   unnest(range(len(regexp_extract_all({_INPUT},
                       '([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|[^\\s,;"]*)')))) AS i)
        WHERE v <> '' GROUP BY k))
    """
)


def json_paths(text: exp.Expression) -> exp.Expression:
    return _fill(_JSON_PATHS, text)


def xml_paths(text: exp.Expression) -> exp.Expression:
    return _fill(_XML_PATHS, text)


def structured_paths(text: exp.Expression) -> exp.Expression:
    """C-spath-3/4: XML when the text starts with '<', JSON otherwise."""
    is_xml = q.fn("starts_with", q.fn("ltrim", text), q.string("<"))
    return q.case((is_xml, xml_paths(text)), default=json_paths(text))


def json_top(text: exp.Expression) -> exp.Expression:
    return _fill(_JSON_TOP, text)


def xml_kv(text: exp.Expression) -> exp.Expression:
    return _fill(_XML_KV, text)


def auto_kv(text: exp.Expression) -> exp.Expression:
    return _fill(_AUTO_KV, text)


def _class(chars: str) -> str:
    """Characters for a ``[...]`` class in RE2 (escaped), as SQL string content."""
    escaped = "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)
    return escaped.replace("'", "''")


def delimited_kv(text: exp.Expression, pairdelim: str, kvdelim: str) -> exp.Expression:
    sql = _KV_TEMPLATE.format(kv=_class(kvdelim), pair=_class(pairdelim), input=_INPUT)
    return _fill(_template(sql), text)


def prefixed(mapping: exp.Expression, prefix: str) -> exp.Expression:
    """The map with every key prefixed (fromjson prefix=)."""
    if not prefix:
        return mapping
    entry = q.element()
    renamed = exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=exp.to_identifier("key"),
                expression=exp.DPipe(
                    this=q.string(prefix),
                    expression=exp.Dot(this=entry, expression=exp.to_identifier("key")),
                ),
            ),
            exp.PropertyEQ(
                this=exp.to_identifier("value"),
                expression=exp.Dot(this=entry, expression=exp.to_identifier("value")),
            ),
        ]
    )
    entries = q.fn("list_transform", q.fn("map_entries", mapping), q.lam(renamed))
    return q.fn("map_from_entries", entries)


def add_map(b: QueryBuilder, rel: Relation, mapping: exp.Expression) -> Relation:
    """The relation with ``mapping`` as a new run-time map of fields (newest wins)."""
    column = f"__dyn{len(b.ctes)}"
    out = b.project(rel, [], extra_hidden=[(column, mapping)])
    entry = Dynamic(column, frozenset(rel.names()))
    return replace(out, dynamic=(*rel.dynamic, entry))
