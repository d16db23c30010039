"""One exception hierarchy for the whole of nengli.

Every layer raises a subclass of :class:`NengliError`; the HTTP edge maps each subclass to an
RFC 9457 ``application/problem+json`` response in one place (``service/api/problems.py``) and the
CLI prints the message and exits non-zero. Messages name the offending value and say what would
fix it, because the people reading them are school administrators and platform integrators, not
the authors of this code.

Hierarchy::

    NengliError
    ├── FrameworkError        bad competency framework / overlay / graph data
    ├── PolicyError           bad or unknown regional policy
    ├── CatalogError          bad course / practice-task catalog row
    ├── ImportRowError        a row of a platform export fails validation
    ├── DatasetError          external dataset missing or checksum mismatch
    ├── ModelError            model artifact missing, tampered or incompatible
    │   └── NotFittedError    estimator used before ``fit``
    ├── InfeasibleError       a plan/selection request cannot be satisfied
    ├── NotFoundError         unknown teacher / school / course / point
    ├── ConflictError         request conflicts with stored state
    └── AuthError             missing or invalid credentials
        └── PermissionDenied  valid key, resource outside its scope
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "AuthError",
    "CatalogError",
    "ConflictError",
    "DatasetError",
    "FrameworkError",
    "ImportRowError",
    "InfeasibleError",
    "ModelError",
    "NengliError",
    "NotFittedError",
    "NotFoundError",
    "PermissionDenied",
    "PolicyError",
    "first_validation_problem",
]


class NengliError(Exception):
    """Base class of every error nengli raises on purpose.

    Parameters
    ----------
    message
        Human-readable explanation naming the offending value and the fix.
    details
        Optional structured data (row numbers, field names, violations) that the HTTP layer
        copies into the problem document as extension members.
    """

    #: Short stable identifier used in the problem+json ``type`` URI.
    slug = "nengli-error"
    #: Default HTTP status when this error reaches the service edge.
    http_status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class FrameworkError(NengliError):
    """The competency framework, an overlay or the graph data is invalid."""

    slug = "invalid-framework"
    http_status = 422


class PolicyError(NengliError):
    """A regional policy file is invalid or the named policy does not exist."""

    slug = "invalid-policy"
    http_status = 422


class CatalogError(NengliError):
    """A course or practice-task catalog row is invalid."""

    slug = "invalid-catalog"
    http_status = 422


class ImportRowError(NengliError):
    """A platform export could not be imported; ``details['rejected']`` lists the bad rows."""

    slug = "invalid-import"
    http_status = 422


class DatasetError(NengliError):
    """An external dataset is missing, malformed or fails its checksum."""

    slug = "dataset-error"
    http_status = 500


class ModelError(NengliError):
    """A model artifact is missing, tampered with or incompatible."""

    slug = "model-error"
    http_status = 503


class NotFittedError(ModelError):
    """An estimator was used before ``fit``."""

    slug = "not-fitted"


class InfeasibleError(NengliError):
    """A request (plan, selection) cannot be satisfied; ``details['violations']`` says why."""

    slug = "infeasible"
    http_status = 422


class NotFoundError(NengliError):
    """The named resource does not exist (or is outside the caller's scope)."""

    slug = "not-found"
    http_status = 404


class ConflictError(NengliError):
    """The request conflicts with stored state (e.g. an event id reused with other content)."""

    slug = "conflict"
    http_status = 409


class AuthError(NengliError):
    """Credentials are missing or invalid."""

    slug = "unauthorized"
    http_status = 401


class PermissionDenied(AuthError):
    """A valid key asked for something outside its role."""

    slug = "forbidden"
    http_status = 403


def first_validation_problem(error: ValidationError) -> tuple[str, str, Any]:
    """The first problem pydantic found: (dotted field path, its message, the offending input).

    Loaders report one field at a time, so a person fixing a file sees where to look first;
    the path is ``""`` when the whole document is wrong (callers substitute their own label).
    """
    first = error.errors()[0]
    return ".".join(str(part) for part in first["loc"]), first["msg"], first.get("input")
