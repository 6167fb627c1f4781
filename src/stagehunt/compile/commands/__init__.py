"""One module per command: the SQL its node becomes, with the semantics rules it follows.

Importing the package registers every module (see :mod:`.registry`); the command's
arguments are parsed by the module of the same name in :mod:`stagehunt.spl.commands`.
"""

from stagehunt.compile.commands import (  # noqa: F401  (imported to register)
    bin,
    dedup,
    eval,
    fields,
    fillnull,
    head,
    inputlookup,
    lookup,
    makeresults,
    multisearch,
    regex,
    rename,
    rex,
    search,
    sort,
    stats,
    table,
    where,
)
from stagehunt.compile.commands.registry import (
    GENERATORS,
    TRANSFORMS,
    generates,
    is_streaming,
    transforms,
)

__all__ = ["GENERATORS", "TRANSFORMS", "generates", "is_streaming", "transforms"]
