"""SPL AST → SQL (sqlglot expressions), with Splunk's semantics."""

from stagehunt.compile.compiler import CompiledQuery, Compiler, OutputColumn

__all__ = ["CompiledQuery", "Compiler", "OutputColumn"]
