"""Loaders for the public validation datasets kept in ``../shared/datasets`` (read in place).

These are not product data: FrcSub and ECPE validate the cognitive-diagnosis estimators, and
MovieLens 100K sanity-checks the collaborative-filtering engine against published numbers.
Every file is checked against the sha256 recorded in its folder's ``SOURCE.md`` before it is
parsed, because a silently different copy would make a "matches the literature" test
meaningless. MovieLens may not be redistributed, so nothing here copies any file.

Example
-------
>>> responses, q_matrix = load_frcsub()        # doctest: +SKIP
>>> responses.shape, q_matrix.shape             # doctest: +SKIP
((536, 20), (20, 8))
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.errors import DatasetError

__all__ = [
    "DATASETS_ENV_VAR",
    "EXPECTED_SHA256",
    "load_ecpe",
    "load_frcsub",
    "load_movielens_100k",
    "shared_datasets_dir",
    "verify_checksum",
]

DATASETS_ENV_VAR = "NENGLI_SHARED_DATASETS"

#: Expected sha256 per file, copied from the ``sha256(...) =`` lines of each SOURCE.md
#: (frcsub/SOURCE.md, ecpe/SOURCE.md, movielens-100k/SOURCE.md). ecpe_qmatrix.csv has no
#: recorded hash (it was derived from the R file), so :func:`load_ecpe` checks its shape and the
#: per-skill item counts SOURCE.md states instead.
EXPECTED_SHA256: dict[str, str] = {
    "frcsub/data.txt": "dfee50b6a6573ea06f269297618dfff16e84de5e85ab5a15b29929e243915250",
    "frcsub/q.txt": "7d1622ba145b13aa7cf190ae5ad835268eaa0cbf5546a9a23b6625a8b7a764d4",
    "ecpe/ecpe.csv": "df0d5341be5425f953b03ddad2f87609060e0ff2bb1227384a00469537e1ed1c",
    "movielens-100k/u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
}
#: ecpe/SOURCE.md: skill1 13 items, skill2 6 items, skill3 18 items; 9 items measure 2 skills.
_ECPE_SKILL_COUNTS = (13, 6, 18)
_ECPE_TWO_SKILL_ITEMS = 9


def shared_datasets_dir() -> Path:
    """Locate the shared datasets folder.

    ``$NENGLI_SHARED_DATASETS`` wins; otherwise ``../shared/datasets`` next to the repository
    (the layout of the workstation this project is developed on).

    Raises
    ------
    DatasetError
        If the folder does not exist, naming the places looked at.
    """
    configured = os.environ.get(DATASETS_ENV_VAR)
    if configured:
        candidate = Path(configured)
        if candidate.is_dir():
            return candidate
        raise DatasetError(f"${DATASETS_ENV_VAR} points to {candidate}, which is not a folder")
    repo_root = Path(__file__).resolve().parent.parent
    candidate = repo_root.parent / "shared" / "datasets"
    if candidate.is_dir():
        return candidate
    raise DatasetError(
        f"shared datasets folder not found at {candidate}; set ${DATASETS_ENV_VAR} to the folder "
        "holding frcsub/, ecpe/ and movielens-100k/"
    )


def verify_checksum(path: Path, expected: str) -> None:
    """Raise :class:`DatasetError` unless ``path`` exists and its sha256 equals ``expected``."""
    if not path.is_file():
        raise DatasetError(f"dataset file {path} is missing; see the folder's SOURCE.md")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise DatasetError(
            f"checksum mismatch for {path}: sha256 {digest.hexdigest()} but SOURCE.md records "
            f"{expected}; restore the original file",
            details={"path": str(path), "expected": expected, "actual": digest.hexdigest()},
        )


def _checked(relative: str, root: Path | None) -> Path:
    path = (root or shared_datasets_dir()) / relative
    verify_checksum(path, EXPECTED_SHA256[relative])
    return path


def _binary(matrix: NDArray[np.int64], name: str) -> NDArray[np.int8]:
    if not np.isin(matrix, (0, 1)).all():
        raise DatasetError(f"{name} holds values other than 0/1")
    return matrix.astype(np.int8)


def load_frcsub(root: Path | None = None) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
    """Tatsuoka's fraction-subtraction data: responses (536 × 20) and Q-matrix (20 × 8).

    Parameters
    ----------
    root
        The shared datasets folder (default: :func:`shared_datasets_dir`).
    """
    responses = np.loadtxt(_checked("frcsub/data.txt", root), dtype=np.int64, delimiter="\t")
    q_matrix = np.loadtxt(_checked("frcsub/q.txt", root), dtype=np.int64, delimiter="\t")
    return _binary(responses, "frcsub/data.txt"), _binary(q_matrix, "frcsub/q.txt")


def load_ecpe(root: Path | None = None) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
    """ECPE grammar test: responses (2922 × 28) and Q-matrix (28 × 3 skills)."""
    responses = pd.read_csv(_checked("ecpe/ecpe.csv", root)).to_numpy(dtype=np.int64)
    q_path = (root or shared_datasets_dir()) / "ecpe" / "ecpe_qmatrix.csv"
    if not q_path.is_file():
        raise DatasetError(f"dataset file {q_path} is missing; see ecpe/SOURCE.md")
    q_frame = pd.read_csv(q_path)
    skills = [c for c in q_frame.columns if c.startswith("skill")]
    q_matrix = _binary(q_frame[skills].to_numpy(dtype=np.int64), "ecpe/ecpe_qmatrix.csv")
    counts = tuple(int(c) for c in q_matrix.sum(axis=0))
    two_skill = int((q_matrix.sum(axis=1) == 2).sum())
    if (
        q_matrix.shape != (responses.shape[1], 3)
        or counts != _ECPE_SKILL_COUNTS
        or two_skill != _ECPE_TWO_SKILL_ITEMS
    ):
        raise DatasetError(
            f"{q_path} does not match ecpe/SOURCE.md: shape {q_matrix.shape}, items per skill "
            f"{counts} (expected {_ECPE_SKILL_COUNTS}), {two_skill} two-skill items "
            f"(expected {_ECPE_TWO_SKILL_ITEMS})"
        )
    return _binary(responses, "ecpe/ecpe.csv"), q_matrix


def load_movielens_100k(root: Path | None = None) -> pd.DataFrame:
    """MovieLens 100K ratings as generic user–item interactions.

    Returns
    -------
    pandas.DataFrame
        Columns ``user_id`` and ``item_id`` (str, so they never mix with teacher ids by
        accident of dtype), ``rating`` (int 1–5) and ``timestamp`` (``datetime64[us]``, UTC, naive).
    """
    frame = pd.read_csv(
        _checked("movielens-100k/u.data", root),
        sep="\t",
        header=None,
        names=["user_id", "item_id", "rating", "timestamp"],
        dtype={"user_id": str, "item_id": str, "rating": np.int64, "timestamp": np.int64},
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s")
    return frame
