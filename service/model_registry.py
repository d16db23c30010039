"""The model bundle the service answers with, and its atomic replacement.

Models are read only from ``settings.model_dir`` (never from a path in a request), and only
through :func:`recommender.bundle.load_bundle`, which refuses a directory that could go live
broken (changed files, wrong array shapes or dtypes, damaged archives, a failing trial request).
``POST /v1/admin/reload`` loads the new directory *beside* the current bundle and then swaps one
reference: requests that already hold the old bundle finish with it, new requests get the new
one, none is dropped or sees a half-loaded model; a refused directory leaves the old bundle in
place and the request answers 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from competency_model.errors import ModelError
from recommender.bundle import ModelBundle, load_bundle

__all__ = ["ModelRegistry"]

log = logging.getLogger("nengli.service.models")


class ModelRegistry:
    """Holds the current :class:`~recommender.bundle.ModelBundle`; :meth:`reload` swaps it.

    Parameters
    ----------
    model_dir
        The only directory models are read from (``settings.model_dir``).
    loader
        Function turning the directory into a bundle; the app binds its item bank and
        framework, tests may pass a fake.
    """

    def __init__(
        self, model_dir: Path, loader: Callable[[Path], ModelBundle] = load_bundle
    ) -> None:
        self.model_dir = Path(model_dir)
        self._loader = loader
        self._current: ModelBundle | None = None
        self._reload_lock = threading.Lock()
        self.last_error: str | None = None

    def use_loader(self, loader: Callable[[Path], ModelBundle]) -> None:
        """Replace the loader (before the first load; the app binds framework and bank)."""
        self._loader = loader

    @property
    def current(self) -> ModelBundle | None:
        """The bundle in use (None before the first successful load)."""
        return self._current

    def require(self) -> ModelBundle:
        """The bundle in use, or :class:`ModelError` (503) naming what to do."""
        current = self._current
        if current is None:
            reason = f" ({self.last_error})" if self.last_error else ""
            raise ModelError(
                f"no trained model is loaded from {self.model_dir}{reason}; run `nengli train` "
                "and then POST /v1/admin/reload"
            )
        return current

    def reload(self) -> ModelBundle:
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
