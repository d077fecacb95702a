"""Lazy re-exports for the subpackages' ``__init__`` index modules.

A subpackage's docstring is its index: a line ``:mod:`.name` — what it is`` for each module,
followed by indented lines listing that module's public names, comma-separated.
:func:`lazy_exports` reads that index, so ``__all__`` and the documentation can never disagree,
and imports a module only when one of its names is first used. So ``import
m2p_core.colour.space`` does not pull in torch through the differentiable half of
``m2p_core.colour``, and an index can never create an import cycle.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

_MODULE_LINE = re.compile(r"^:mod:`\.(\w+)`")
_NAMES_LINE = re.compile(r"^\s+[A-Za-z_]\w*(?:,\s*[A-Za-z_]\w*)*,?\s*$")


def index_of(doc: str) -> dict[str, str]:
    """``{public name: module}`` from an index docstring (see the module doc)."""
    names: dict[str, str] = {}
    module = None
    for line in doc.splitlines():
        m = _MODULE_LINE.match(line)
        if m:
            module = m.group(1)
        elif module and _NAMES_LINE.match(line):
            for name in (n.strip() for n in line.split(",")):
                if name:
                    names[name] = module
        elif not line.strip() or not line.startswith(" "):
            module = None
    return names


def lazy_exports(package: str, doc: str
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` from its index docstring ``doc``."""
    names = index_of(doc)

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__, sorted(names)
