"""PEP 562 lazy re-exports for the package faces (``competency_model``, ``recommender``, …).

A package ``__init__`` that imported every public name eagerly made ``nengli --help`` load
pandas, scikit-learn and LightGBM before printing a line. With :func:`lazy_exports` the face
keeps its ``__all__`` and its names (``from competency_model import Framework`` still works),
but a name's module is imported the first time the name is asked for. Type checkers read the
same names from an ``if TYPE_CHECKING:`` block of real imports next to the table.

Example
-------
>>> __getattr__, __dir__ = lazy_exports(__name__, {"Catalog": "competency_model.catalog"})
... # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` that import ``exports[name]`` on demand.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Public name → the module that defines it. A name that is not in the table but is a
        submodule of the package (``competency_model.framework``) is imported as one, so
        attribute access on the package works as it did when ``__init__`` imported everything.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)`` to assign at the package's top level.
    """

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is not None:
            value = getattr(importlib.import_module(module_name), name)
            setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
            return value
        if not name.startswith("__"):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as error:
                if error.name != f"{package}.{name}":
                    raise  # the submodule exists but one of its own imports is missing
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
