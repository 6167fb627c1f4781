"""One module per command: the SQL its node becomes, with the semantics rules it follows.

Importing the package imports every module in it, which registers each (see
:mod:`.registry`); the command's arguments are parsed by the module of the same name in
:mod:`stagehunt.spl.commands`.
"""

import importlib
import pkgutil

from stagehunt.compile.commands.registry import (
    GENERATORS,
    TRANSFORMS,
    generates,
    is_streaming,
    transforms,
)

__all__ = ["GENERATORS", "TRANSFORMS", "generates", "is_streaming", "transforms"]

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")
