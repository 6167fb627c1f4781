"""``spath``, ``fromjson``, ``xmlkv`` and ``extract``: fields from structured text
(docs/commands.md, C-spath, C-fromjson, C-xmlkv, C-extract; Search Reference pages of the
same names). Fields whose names are in the data become a run-time map
(:mod:`stagehunt.compile.dynamic`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import dynamic
from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.relation import as_list
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation

_STEP = re.compile(r"([^.{}]*)((?:\{[^}]*\})*)")
_INDEX = re.compile(r"\{([^}]*)\}")


def _text(c: Compiler, rel: Relation, name: str) -> exp.Expression | None:
    value = rel.typed(name)
    if value.is_null:
        return None
    return ExprCompiler(rel, c.query, c.now).string(value)  # a multivalue input: its first value


@transforms(ast.SpathCmd, streaming=True)
def spath(c: Compiler, rel: Relation, cmd: ast.SpathCmd) -> Relation:
    text = _text(c, rel, cmd.input)
    if cmd.path is None:  # C-spath-3/4: auto-extract
        if text is None:
            return rel
        return dynamic.add_map(c.b, rel, dynamic.structured_paths(text))
    output = cmd.output or cmd.path
    if text is None:
        return rel
    json_path, wildcard = _json_path(cmd.path)
    xml = _xml_values(text, cmd.path)
    is_xml = q.fn("starts_with", q.fn("ltrim", text), q.string("<"))
    before = rel.typed(output)
    ec = ExprCompiler(rel, c.query, c.now)
    if json_path is None:
        json_values: exp.Expression = q.cast(exp.Null(), "VARCHAR[]")
    elif wildcard:
        json_values = q.fn("json_extract_string", text, q.string(json_path))
    else:
        one = q.fn("json_extract_string", text, q.string(json_path))
        json_values = q.case((q.not_null(one), exp.Array(expressions=[one])))
    valid = q.fn("json_valid", text)
    values = q.case((is_xml, xml), (valid, json_values))
    nonempty = exp.GT(this=q.coalesce(q.list_len(values), q.number(0)), expression=q.number(0))
    # C-spath-2: a path the document lacks leaves the output field as it was
    if wildcard:
        keep = as_list(before) if not before.is_null else q.cast(exp.Null(), "VARCHAR[]")
        value = Typed(q.case((nonempty, values), default=keep), Kind.MV)
    else:
        keep = ec.string(before) if not before.is_null else q.null_str()
        value = Typed(q.case((nonempty, q.item(values, 1)), default=keep), Kind.STR)
    return c.b.project(rel, [(output, value)])


def _json_path(path: str) -> tuple[str | None, bool]:
    """C-spath-1: a Splunk location path as a JSON path (``a.b{}.c`` → ``$.a.b[*].c``,
    ``{N}`` zero-based); whether it selects many values. None: not a JSON path."""
    out = "$"
    wildcard = False
    for step in path.split("."):
        m = _STEP.fullmatch(step)
        if m is None:
            return None, False
        name, indices = m.groups()
        if name:
            out += '."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for index in _INDEX.findall(indices):
            if index == "":
                out += "[*]"
                wildcard = True
            elif index.isdigit():
                out += f"[{index}]"
            else:
                return None, wildcard  # {@attr}: XML only
    return out, wildcard


def _xml_values(text: exp.Expression, path: str) -> exp.Expression:
    """C-spath-5 (approximation): the text of every element named by the path's last step,
    or its ``{@attr}`` attribute; ancestors are not checked."""
    last = path.split(".")[-1]
    m = _STEP.fullmatch(last)
    name = m.group(1) if m else last
    attrs = _INDEX.findall(m.group(2)) if m else []
    tag = re.escape(name) if name else r"[A-Za-z_][A-Za-z0-9_.:-]*"
    attr = next((a[1:] for a in attrs if a.startswith("@")), None)
    if attr is not None:
        regex = rf"<{tag}\s[^<>]*?\b{re.escape(attr)}\s*=\s*\"([^\"]*)\""
    else:
        regex = rf"<{tag}(?:\s[^<>]*)?>([^<]*)</{tag}>"
    regex = regex.replace("\\-", "-")
    found = q.fn("regexp_extract_all", text, q.string(regex), q.number(1))
    index = next((int(a) for a in attrs if a.isdigit()), None)
    if index is not None:  # C-spath-1: XML indices count from 1
        found = q.fn("list_slice", found, q.number(index), q.number(index))
    return found


@transforms(ast.FromjsonCmd, streaming=True)
def fromjson(c: Compiler, rel: Relation, cmd: ast.FromjsonCmd) -> Relation:
    text = _text(c, rel, cmd.field)
    if text is None:
        return rel
    return dynamic.add_map(c.b, rel, dynamic.prefixed(dynamic.json_top(text), cmd.prefix))


@transforms(ast.XmlkvCmd, streaming=True)
def xmlkv(c: Compiler, rel: Relation, cmd: ast.XmlkvCmd) -> Relation:
    text = _text(c, rel, cmd.field)
    if text is None:
        return rel
    return dynamic.add_map(c.b, rel, dynamic.xml_kv(text))


@transforms(ast.ExtractCmd, streaming=True)
def extract(c: Compiler, rel: Relation, cmd: ast.ExtractCmd) -> Relation:
    text = _text(c, rel, "_raw")
    if text is None:
        return rel
    if cmd.pairdelim is not None and cmd.kvdelim is not None:
        mapping = dynamic.delimited_kv(text, cmd.pairdelim, cmd.kvdelim)
    else:
        mapping = dynamic.auto_kv(text)
    return dynamic.add_map(c.b, rel, mapping)
