"""The trained models the service answers with, and their atomic replacement.

Models are read only from ``settings.model_dir`` (never from a path in a request), and only
after :func:`recommender.artifacts.load_model_dir` has checked every file against the sha256
list in ``metadata.json``. ``POST /v1/admin/reload`` loads the new directory *beside* the
current bundle and then swaps one reference: requests that already hold the old bundle finish
with it, new requests get the new one, none is dropped or sees a half-loaded model.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from competency_model.errors import ModelError

__all__ = ["LoadedModels", "ModelRegistry", "load_models"]

log = logging.getLogger("nengli.service.models")


@dataclass(frozen=True)
class LoadedModels:
    """One consistent set of trained models plus where and when it was loaded."""

    version: str
    model_dir: Path
    metadata: dict[str, Any]
    recommender: Any
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def diagnosis(self) -> Any:
        """The fitted diagnosis model inside the recommender bundle."""
        return self.recommender.diagnosis_


def model_version(model_dir: Path) -> str:
    """A short id of the model: the sha256 of its ``metadata.json`` (which lists every file)."""
    meta = model_dir / "metadata.json"
    if not meta.is_file():
        raise ModelError(
            f"{meta} not found; train a model with `nengli train` into {model_dir} first"
        )
    return hashlib.sha256(meta.read_bytes()).hexdigest()[:16]


def load_models(model_dir: Path) -> LoadedModels:
    """Verify and load the model directory (raises :class:`ModelError` on any mismatch)."""
    from recommender.hybrid import load_recommender

    version = model_version(model_dir)
    recommender = load_recommender(model_dir)
    metadata = dict(getattr(recommender, "metadata_", {}) or {})
    return LoadedModels(
        version=version, model_dir=model_dir, metadata=metadata, recommender=recommender
    )


class ModelRegistry:
    """Holds the current :class:`LoadedModels`; :meth:`reload` swaps it atomically.

    Parameters
    ----------
    model_dir
        The only directory models are read from (``settings.model_dir``).
    loader
        Function turning the directory into a bundle; tests may pass a fake.
    """

    def __init__(
        self, model_dir: Path, loader: Callable[[Path], LoadedModels] = load_models
    ) -> None:
        self.model_dir = Path(model_dir)
        self._loader = loader
        self._current: LoadedModels | None = None
        self._reload_lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def current(self) -> LoadedModels | None:
        """The bundle in use (None before the first successful load)."""
        return self._current

    def require(self) -> LoadedModels:
        """The bundle in use, or :class:`ModelError` (503) naming what to do."""
        current = self._current
        if current is None:
            reason = f" ({self.last_error})" if self.last_error else ""
            raise ModelError(
                f"no trained model is loaded from {self.model_dir}{reason}; run `nengli train` "
                "and then POST /v1/admin/reload"
            )
        return current

    def reload(self) -> LoadedModels:
        """Load the directory again and swap it in; the old bundle stays if loading fails."""
        with self._reload_lock:
            try:
                bundle = self._loader(self.model_dir)
            except ModelError as error:
                self.last_error = error.message
                raise
            self._current = bundle  # a single reference assignment: atomic for readers
            self.last_error = None
            log.info("model %s loaded from %s", bundle.version, self.model_dir)
            return bundle

    def try_initial_load(self) -> None:
        """Load at start-up when a model exists; otherwise serve without one (readyz says so)."""
        try:
            self.reload()
        except ModelError as error:
            log.warning("starting without a model: %s", error.message)
        except ImportError as error:
            self.last_error = f"model code unavailable: {error}"
            log.warning("starting without a model: %s", error)
