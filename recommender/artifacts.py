"""Model directories: arrays in ``.npz`` files plus a ``metadata.json`` that vouches for them.

A trained recommender is a directory, not a pickle, because a pickle executes code on load and a
model directory travels between machines (trained on a workstation, served in a container). Every
array file is a plain ``.npz`` read with ``allow_pickle=False``; ``metadata.json`` records the
package versions that wrote it, a hash of the training data, the evaluation metrics and the
sha256, dtype and shape of every array, and :func:`load_model_dir` refuses a directory whose
files do not match, whose metadata is not a JSON object, or whose archives cannot be read. Writing goes to a sibling temporary directory that is renamed into place, so a crash never
leaves half a model where the service expects a whole one.

Example
-------
>>> save_model_dir("model", {"cf.npz": {"item_factors": factors}}, {"data_hash": "…"})  # doctest: +SKIP
>>> arrays, metadata = load_model_dir("model")                                         # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from competency_model.errors import ModelError

__all__ = [
    "FORMAT_VERSION",
    "METADATA_NAME",
    "file_sha256",
    "hash_frames",
    "load_model_dir",
    "package_versions",
    "save_model_dir",
]

METADATA_NAME = "metadata.json"
#: Bumped when the layout changes incompatibly; loaders refuse other versions. Version 2 adds
#: the ``arrays`` table (dtype and shape of every array).
FORMAT_VERSION = 2
_VERSIONED_PACKAGES = ("nengli", "numpy", "scipy", "pandas", "scikit-learn", "implicit", "pydantic")


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks so large factor files stay cheap."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of the packages whose behaviour a model depends on (missing ones are skipped)."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def hash_frames(frames: Mapping[str, Any]) -> str:
    """A stable sha256 over named pandas DataFrames, used as the training-data fingerprint.

    Row order matters on purpose: the same rows in another order can give another model
    (stochastic solvers see them in another order), so they count as other data.
    """
    import pandas as pd

    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        digest.update(name.encode())
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _check_file_name(name: str) -> None:
    if "/" in name or "\\" in name or not name.endswith(".npz") or name.startswith("."):
        raise ModelError(
            f"array file name {name!r} must be a plain '<name>.npz' inside the model directory"
        )


def save_model_dir(
    directory: str | Path,
    arrays_by_file: Mapping[str, Mapping[str, NDArray[Any]]],
    metadata: Mapping[str, Any],
) -> Path:
    """Write a model directory atomically.

    Parameters
    ----------
    directory
        Target directory; an existing one is replaced only after the new one is complete.
    arrays_by_file
        ``{"cf.npz": {"user_factors": array, ...}, ...}``. Arrays must not be object arrays,
        because those would need pickle to load.
    metadata
        JSON-serialisable dictionary (data hash, metrics, hyperparameters, …). The keys
        ``files``, ``arrays``, ``versions``, ``format_version`` and ``created_at`` are filled
        in here.

    Returns
    -------
    Path
        The written directory.
    """
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        files: dict[str, str] = {}
        described: dict[str, dict[str, dict[str, Any]]] = {}
        for name, arrays in arrays_by_file.items():
            _check_file_name(name)
            for key, array in arrays.items():
                if np.asarray(array).dtype == object:
                    raise ModelError(
                        f"array {name}:{key} has dtype object; convert it to str or numbers "
                        "so it can be loaded without pickle"
                    )
            payload = {key: np.asarray(value) for key, value in arrays.items()}
            cast(Any, np.savez)(staging / name, **payload)
            files[name] = file_sha256(staging / name)
            described[name] = {key: _describe(value) for key, value in payload.items()}
        document = dict(metadata)
        document.update(
            files=files,
            arrays=described,
            versions=package_versions(),
            format_version=FORMAT_VERSION,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        (staging / METADATA_NAME).write_text(
            json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True, default=_jsonable),
            encoding="utf-8",
        )
        backup = None
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, backup)
        os.replace(staging, target)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _describe(array: NDArray[Any]) -> dict[str, Any]:
    return {"dtype": array.dtype.str, "shape": list(array.shape)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"metadata value {value!r} of type {type(value).__name__} is not JSON")


def load_model_dir(
    directory: str | Path,
) -> tuple[dict[str, dict[str, NDArray[Any]]], dict[str, Any]]:
    """Read a model directory, verifying every file against ``metadata.json``.

    Returns
    -------
    arrays_by_file, metadata
        Arrays keyed by file then array name, and the parsed metadata.

    Raises
    ------
    ModelError
        If the directory or a listed file is missing, a hash does not match, an unlisted
        ``.npz`` is present, or the format version is unknown.
    """
    root = Path(directory)
    meta_path = root / METADATA_NAME
    if not meta_path.is_file():
        raise ModelError(
            f"{meta_path} not found; train a model with `nengli train --data DIR --out {root}`"
        )
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{meta_path} is not valid JSON ({error}); retrain the model") from error
    if not isinstance(metadata, dict):
        raise ModelError(
            f"{meta_path} holds a JSON {type(metadata).__name__}, not an object with 'files' "
            "and 'arrays'; retrain or restore the model"
        )
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{root} has format_version {metadata.get('format_version')!r}, this nengli reads "
            f"{FORMAT_VERSION}; retrain the model with this version"
        )
    files, described = metadata.get("files"), metadata.get("arrays")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ModelError(f"{meta_path} has no 'files' table of sha256 strings; retrain the model")
    if not isinstance(described, dict) or set(described) != set(files):
        raise ModelError(
            f"{meta_path} has no 'arrays' table describing every file in 'files'; retrain the model"
        )
    unlisted = sorted(p.name for p in root.glob("*.npz") if p.name not in files)
    if unlisted:
        raise ModelError(f"{root} contains files not listed in metadata.json: {unlisted}")
    arrays_by_file: dict[str, dict[str, NDArray[Any]]] = {}
    for name, expected in files.items():
        _check_file_name(name)
        path = root / name
        if not path.is_file():
            raise ModelError(f"model file {path} is missing; the model directory is incomplete")
        actual = file_sha256(path)
        if actual != expected:
            raise ModelError(
                f"model file {path} has sha256 {actual[:12]}…, metadata.json expects "
                f"{expected[:12]}…; the file was modified, retrain or restore the model"
            )
        arrays_by_file[name] = _read_archive(path)
        _check_described(path, arrays_by_file[name], described[name])
    return arrays_by_file, metadata


#: Arrays at least this large are memory-mapped from the archive instead of read.
MMAP_MIN_BYTES = 1 << 20


def _read_archive(path: Path) -> dict[str, NDArray[Any]]:
    """Every array of one ``.npz``; a damaged archive is a :class:`ModelError`, not a crash.

    ``save_model_dir`` writes uncompressed archives, so each large member's bytes lie in the
    file as one ``.npy`` image: those are memory-mapped copy-on-write (:func:`_mapped_members`)
    and API workers serving the same model share its pages through the page cache instead of
    holding a private copy each (a write, e.g. fold-in, copies only the touched page). Small or
    compressed members are read as usual.
    """
    try:
        mapped = _mapped_members(path)
        with np.load(path, allow_pickle=False) as archive:
            return {key: mapped[key] if key in mapped else archive[key] for key in archive.files}
    except ValueError as error:
        raise ModelError(f"model file {path} cannot be read without pickle: {error}") from error
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as error:
        raise ModelError(
            f"model file {path} is not a readable .npz archive ({type(error).__name__}: "
            f"{error}); it is truncated or damaged, retrain or restore the model"
        ) from error


def _mapped_members(path: Path) -> dict[str, NDArray[Any]]:
    """Copy-on-write memory maps of the stored (uncompressed) ``.npy`` members ≥ 1 MiB."""
    mapped: dict[str, NDArray[Any]] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as handle:
        for info in archive.infolist():
            if (
                info.compress_type != zipfile.ZIP_STORED
                or info.file_size < MMAP_MIN_BYTES
                or not info.filename.endswith(".npy")
            ):
                continue
            # Local file header: 30 fixed bytes, then the name and the extra field.
            handle.seek(info.header_offset)
            local = handle.read(30)
            if local[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile(f"bad local header for {info.filename}")
            name_len = int.from_bytes(local[26:28], "little")
            extra_len = int.from_bytes(local[28:30], "little")
            handle.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            if dtype.hasobject:
                raise ValueError(f"{info.filename} holds objects")
            mapped[info.filename[: -len(".npy")]] = np.memmap(
                path,
                dtype=dtype,
                mode="c",
                offset=handle.tell(),
                shape=shape,
                order="F" if fortran else "C",
            )
    return mapped


def _check_described(path: Path, arrays: Mapping[str, NDArray[Any]], described: Any) -> None:
    """The archive holds exactly the arrays ``metadata.json`` lists, with their dtype and shape."""
    if not isinstance(described, dict) or set(described) != set(arrays):
        listed = sorted(described) if isinstance(described, dict) else described
        raise ModelError(
            f"model file {path} holds arrays {sorted(arrays)}, metadata.json lists {listed}; "
            "retrain or restore the model"
        )
    for key, array in arrays.items():
        if described[key] != _describe(array):
            raise ModelError(
                f"model file {path} array {key!r} has dtype {array.dtype.str} and shape "
                f"{list(array.shape)}, metadata.json expects {described[key]}; "
                "retrain or restore the model"
            )
