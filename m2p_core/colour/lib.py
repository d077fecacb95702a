"""colour-science, imported without its plotting package.

``import colour`` (0.4.x) always imports ``colour.plotting`` and with it matplotlib: about a
second per process on the 2-core machine, for a package this project never uses. Here a
placeholder module stands in for ``colour.plotting`` while colour-science imports; the first
time anything reads an attribute of it (``colour.plotting.plot_…``, ``from colour.plotting
import …``, a submodule import), the real package is imported, replaces the placeholder in
``sys.modules`` and on ``colour``, and answers. Everything else in colour-science imports and
behaves as usual. Modules of this package import it through here:
``from m2p_core.colour.lib import colour``.
"""

from __future__ import annotations

import importlib
import sys
import types

_PLOTTING = "colour.plotting"


def _real_plotting() -> types.ModuleType:
    """Import the real ``colour.plotting`` in place of the placeholder (once)."""
    current = sys.modules.get(_PLOTTING)
    if isinstance(current, _PlottingPlaceholder):
        del sys.modules[_PLOTTING]
    real = importlib.import_module(_PLOTTING)
    parent = sys.modules.get("colour")
    if parent is not None and isinstance(getattr(parent, "plotting", None),
                                         _PlottingPlaceholder):
        parent.plotting = real
    return real


#: dunder names that do import the real package: a submodule import reads the parent's
#: ``__path__``, ``from colour.plotting import *`` its ``__all__``
_IMPORTING_DUNDERS = frozenset({"__path__", "__all__"})


class _PlottingPlaceholder(types.ModuleType):
    """Stands in for ``colour.plotting`` until one of its attributes is read.

    Other dunder lookups (``__file__``, ``__wrapped__``, ...) answer "absent" without
    importing: :func:`inspect.getmodule` asks every module in ``sys.modules`` for its
    ``__file__``, and torch calls it while it imports (``torch.library``'s fake-kernel
    registration), which would otherwise import matplotlib in every process that imports
    colour-science before torch."""

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__") and name not in _IMPORTING_DUNDERS:
            raise AttributeError(name)
        return getattr(_real_plotting(), name)


def _import_colour() -> types.ModuleType:
    if "colour" not in sys.modules and _PLOTTING not in sys.modules:
        sys.modules[_PLOTTING] = _PlottingPlaceholder(_PLOTTING)
    try:
        import colour
    finally:
        # import errors included: never leave the placeholder where nothing refers to it
        if isinstance(sys.modules.get(_PLOTTING), _PlottingPlaceholder) \
                and "colour" not in sys.modules:
            del sys.modules[_PLOTTING]
    return colour


colour = _import_colour()

__all__ = ["colour"]
