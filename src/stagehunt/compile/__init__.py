"""SPL AST → SQL (sqlglot expressions), with Splunk's semantics."""

from stagehunt.compile.compiler import CompiledQuery, Compiler, OutputColumn
from stagehunt.compile.outputs import DeferredTable, LookupOutput

__all__ = ["CompiledQuery", "Compiler", "DeferredTable", "LookupOutput", "OutputColumn"]
