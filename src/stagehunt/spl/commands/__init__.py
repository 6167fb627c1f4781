"""One module per command: its arguments → its node in :mod:`stagehunt.spl.ast`.

Importing the package imports every module in it, which registers each parse function in
:data:`~stagehunt.spl.commands.registry.PARSERS`; the SQL each node becomes is in the
module of the same name under :mod:`stagehunt.compile.commands`.
"""

import importlib
import pkgutil

from stagehunt.spl.commands.registry import (
    PARSERS,
    SPLUNK_COMMANDS,
    SPLUNK_GENERATING,
    Syntax,
    command,
)

__all__ = ["PARSERS", "SPLUNK_COMMANDS", "SPLUNK_GENERATING", "Syntax", "command"]

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")
