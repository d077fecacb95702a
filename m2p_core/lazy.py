"""Lazy re-exports for the subpackages' ``__init__`` index modules.

Each subpackage lists its public API in ``__all__`` and maps every name to the module that
defines it; the module is imported only when the name is first used. So ``import
m2p_core.colour.space`` does not pull in torch through ``m2p_core.colour``'s differentiable
half, and the index can never create an import cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose attribute ``name`` lives in the
    submodule ``names[name]`` (relative, e.g. ``"space"``)."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
