"""One module per command: its arguments → its node in :mod:`stagehunt.spl.ast`.

Importing the package registers every module's parse function in
:data:`~stagehunt.spl.commands.registry.PARSERS`; the SQL each node becomes is in the
module of the same name under :mod:`stagehunt.compile.commands`.
"""

from stagehunt.spl.commands import (  # noqa: F401  (imported to register)
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
from stagehunt.spl.commands.registry import PARSERS, SPLUNK_COMMANDS, Syntax, command

__all__ = ["PARSERS", "SPLUNK_COMMANDS", "Syntax", "command"]
