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
from competency_model.framework import Framework, default_framework
from competency_model.item_bank import ItemBank, load_item_bank
from recommender.artifacts import load_model_dir
from recommender.diagnosis.model import DiagnosisModel
from recommender.hybrid import HybridRecommender

__all__ = ["LoadedModels", "ModelRegistry", "load_models"]

log = logging.getLogger("nengli.service.models")


@dataclass(frozen=True)
class LoadedModels:
    """One consistent set of trained models plus where and when it was loaded."""

    version: str
    model_dir: Path
    metadata: dict[str, Any]
    recommender: HybridRecommender
    diagnosis: DiagnosisModel
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def model_version(model_dir: Path) -> str:
    """A short id of the model: the sha256 of its ``metadata.json`` (which lists every file)."""
    meta = model_dir / "metadata.json"
    if not meta.is_file():
        raise ModelError(
            f"{meta} not found; train a model with `nengli train` into {model_dir} first"
        )
    return hashlib.sha256(meta.read_bytes()).hexdigest()[:16]


def load_models(
    model_dir: Path, item_bank: ItemBank | None = None, framework: Framework | None = None
) -> LoadedModels:
    """Verify every file of the model directory, then rebuild the recommender and diagnosis.

    Raises
    ------
    ModelError
        Missing directory, a file whose sha256 differs from ``metadata.json``, or arrays that do
        not fit this item bank / framework.
    """
    framework = framework or default_framework()
    item_bank = item_bank or load_item_bank(framework=framework)
    version = model_version(model_dir)
    arrays, metadata = load_model_dir(model_dir)
    if "diagnosis.npz" not in arrays:
        raise ModelError(f"{model_dir} has no diagnosis.npz; retrain it with `nengli train`")
    recommender = HybridRecommender.from_arrays(
        arrays, metadata.get("params", {}), model_version=version
    )
    diagnosis = DiagnosisModel.from_arrays(arrays["diagnosis.npz"], item_bank, framework)
    return LoadedModels(
        version=version,
        model_dir=model_dir,
        metadata=metadata,
        recommender=recommender,
        diagnosis=diagnosis,
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

    def use_loader(self, loader: Callable[[Path], LoadedModels]) -> None:
        """Replace the loader (before the first load; the app binds framework and bank)."""
        self._loader = loader

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
