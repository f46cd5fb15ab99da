"""Every error a user may see, in one place. Every message names the file and the problem.

Each :class:`StudioError` subclass has a stable ``code``; :func:`by_code` finds the class again, which is how an
error raised in the worker process arrives in the studio as itself (the engine sends ``code``, message and path,
never a pickled object). Codes are registered when a class is defined; a duplicate code fails at import. An error
pickles as ``(problem, path)``, so it survives ``multiprocessing`` and Ray too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

_BY_CODE: dict[str, type[StudioError]] = {}


class StudioError(Exception):
    """Base class of every error a user may see; ``path`` names the file concerned when there is one."""

    code: ClassVar[str] = "studio"

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.problem = message

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:  # a plug-in's own error: named by where it lives, not rebuilt elsewhere
            cls.code = f"{cls.__module__}.{cls.__qualname__}"
            return
        existing = _BY_CODE.get(cls.code)
        if existing is not None:
            raise TypeError(f"error code {cls.code!r} of {cls.__qualname__} is already used by {existing.__qualname__}")
        _BY_CODE[cls.code] = cls

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problem, self.path))


_BY_CODE[StudioError.code] = StudioError


def by_code(code: str) -> type[StudioError] | None:
    """The error class registered under ``code``, or None."""
    return _BY_CODE.get(code)


def error_classes() -> list[type[StudioError]]:
    """Every registered error class (for the round-trip tests)."""
    return list(_BY_CODE.values())


# -- datasets, images and files ---------------------------------------------------------------------------------
class DatasetError(StudioError):
    """A dataset folder that is missing or not laid out as MVTec AD."""

    code = "dataset"


class ImageReadError(StudioError):
    """An image that cannot be read: missing, truncated, corrupt or of an unknown kind."""

    code = "image_read"


class MaskError(StudioError):
    """A mask that cannot be used: unreadable, wrong size, or not binary."""

    code = "mask"


class WriteError(StudioError):
    """A file that cannot be written: the disk is full, the path is a folder, or the system refused the write."""

    code = "write"


class ReadOnlyError(WriteError):
    """A save to a place the user cannot write (read-only disk, no permission, an immutable file)."""

    code = "read_only"


class DiskFullError(WriteError):
    """A save that ran out of disk space (or quota); the old file, if any, is left as it was."""

    code = "disk_full"


class MaskChangedError(StudioError):
    """A save of a mask whose file changed on disk since it was opened (another editor saved it): saving would
    lose that edit. Save again with ``on_conflict="overwrite"`` or ``"keep_both"`` (the other version goes to the
    trash)."""

    code = "mask_changed"


class AnnotationFileError(StudioError):
    """An annotation file (COCO or labelme JSON) that cannot be imported: unreadable, malformed, or for other
    images."""

    code = "annotation_file"


# -- methods ----------------------------------------------------------------------------------------------------
class ParamError(StudioError, ValueError):
    """A method parameter that is unknown, of the wrong type or out of range."""

    code = "param"


class UnknownMethodError(StudioError, KeyError):
    """A method name that is not registered, or a plug-in's ``module:Class`` that cannot be imported."""

    code = "unknown_method"

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0] if self.args else ""


class NotFittedError(StudioError):
    """``predict`` or ``save`` called on a method that has not been fitted (or loaded)."""

    code = "not_fitted"


class ModelFileError(StudioError):
    """A saved model folder or file that cannot be read: missing, corrupt, or from an unknown/newer format."""

    code = "model_file"


class WeightsError(StudioError):
    """Backbone weights that cannot be found or loaded; the message says how to get them."""

    code = "weights"


class BackboneError(StudioError):
    """An unknown backbone name or a weights file that does not fit the backbone."""

    code = "backbone"


class ImageInputError(StudioError, ValueError):
    """An image array that is not uint8 RGB ``HxWx3`` (or grayscale ``HxW``)."""

    code = "image_input"


class SyntheticAnomalyError(StudioError, ValueError):
    """An image a generator cannot work on (wrong dtype/shape, too small), or no pixel could be changed."""

    code = "synthetic_anomaly"


class TrainingDiverged(StudioError, FloatingPointError):
    """A training loss that became NaN or infinite; the message says at which step and what to try."""

    code = "training_diverged"


# -- jobs -------------------------------------------------------------------------------------------------------
class Cancelled(StudioError):
    """A job stopped because the user cancelled it; what it was replacing is left as it was."""

    code = "cancelled"


class WorkerStopped(StudioError):
    """The worker process ended while running a job (killed, crashed, or stopped by the studio)."""

    code = "worker_stopped"


class ProtocolError(StudioError):
    """The worker process answered with something the engine contract does not allow."""

    code = "protocol"


class WorkerError(StudioError):
    """An unexpected error inside the worker process: ``details`` holds its traceback, ``origin`` the class of
    the original exception by name (e.g. ``torch.OutOfMemoryError``), which the studio never imports."""

    code = "worker"

    def __init__(self, message: str, details: str = "", origin: str = "") -> None:
        super().__init__(message)
        self.details = details
        self.origin = origin

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problem, self.details, self.origin))
