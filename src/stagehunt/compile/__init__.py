"""SPL AST → SQL (sqlglot expressions), with Splunk's semantics."""

from stagehunt.compile.compiler import CompiledQuery, Compiler, OutputColumn
from stagehunt.compile.outputs import LookupOutput

__all__ = ["CompiledQuery", "Compiler", "LookupOutput", "OutputColumn"]
