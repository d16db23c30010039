"""Framework files: a full replacement of the national framework, or an overlay on a base.

:func:`load_framework` reads either kind; an overlay's ``base`` may itself be an overlay, so
loading and applying overlay files recurse through one module. The framework model
(:mod:`competency_model.framework`) and the pure overlay operations
(:mod:`competency_model.overlay`) stay free of file dispatch, which keeps the imports one way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from competency_model.errors import FrameworkError
from competency_model.framework import Framework, default_framework, parse_framework, read_json
from competency_model.overlay import apply_overlay

__all__ = ["active_framework", "apply_overlay_file", "load_framework"]


def load_framework(path: Path | str | None = None) -> Framework:
    """Load the shipped national framework, a replacement framework file, or an overlay.

    Parameters
    ----------
    path
        ``None`` for the shipped national framework. Otherwise a JSON file whose ``kind`` is
        ``"framework"`` (a full replacement; the default when ``kind`` is absent) or
        ``"overlay"`` (changes applied to its ``base``, see :mod:`competency_model.overlay`).

    Raises
    ------
    FrameworkError
        Naming the offending point, edge or overlay operation.
    """
    if path is None:
        return default_framework()
    return _load_path(Path(path), frozenset())


def _load_path(path: Path, seen: frozenset[Path]) -> Framework:
    key = path.resolve()
    if key in seen:
        raise FrameworkError(f"overlay base chain loops back to {str(path)!r}; break the loop")
    data = read_json(path)
    kind = data.get("kind", "framework") if isinstance(data, Mapping) else "framework"
    if kind == "overlay":
        return apply_overlay_file(path, data, _seen=seen | {key})
    if kind != "framework":
        raise FrameworkError(
            f"framework file {str(path)!r} has kind {kind!r}; use 'framework' or 'overlay'"
        )
    return parse_framework(data, origin=str(path))


def active_framework(framework_file: Path | str | None = None) -> Framework:
    """The framework a deployment uses: ``framework_file`` if given, else the national one.

    ``competency_model`` never reads service settings itself (lower layers do not import the
    service); the service passes ``get_settings().framework_file`` here.
    """
    return load_framework(framework_file) if framework_file else default_framework()


def apply_overlay_file(
    path: Path, data: Mapping[str, Any] | None = None, *, _seen: frozenset[Path] = frozenset()
) -> Framework:
    """Load an overlay file and apply it to its ``base`` (``national`` or a path relative to it)."""
    path = Path(path)
    raw = dict(data) if data is not None else read_json(path)
    base_ref = str(raw.get("base", "national"))
    if base_ref == "national":
        base = default_framework()
    else:
        base_path = Path(base_ref)
        if not base_path.is_absolute():
            base_path = path.parent / base_path
        base = _load_path(base_path, _seen | {path.resolve()})
    return apply_overlay(base, raw)
