"""Errors a user can cause, each with a message written for the page that shows it."""

from __future__ import annotations


class CxrvizError(Exception):
    """Base for errors whose message is meant for the user, not a traceback."""


class ConfigError(CxrvizError):
    """A CXRVIZ_* variable holds a value cxrviz cannot use."""


class MetadataError(CxrvizError):
    """A metadata or box CSV is missing, unreadable or wrongly shaped."""


class ImageLoadError(CxrvizError):
    """An image file could not be decoded."""


class UploadError(CxrvizError):
    """An uploaded file was rejected (not an image, corrupt, too large, no pixels)."""


class WeightsError(CxrvizError):
    """A weight file is missing, truncated, tampered with or of the wrong shape."""


class ModelUnavailableError(CxrvizError):
    """A registered model cannot be loaded here (weights absent and no network)."""


class StoreError(CxrvizError):
    """The review database is locked, read-only, corrupt or unreachable."""


class StoreBusyError(StoreError):
    """Another program holds the database (a SQLite lock, a PostgreSQL lock or statement timeout); try again."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached, opened or written (server down, read-only, corrupt, disk full)."""


class StaleReviewError(StoreError):
    """Someone saved this image (as this reviewer) since the form was opened; `theirs` holds that
    review, so the page can offer theirs / yours / merge instead of overwriting it silently."""

    def __init__(self, message: str, theirs=None) -> None:
        super().__init__(message)
        self.theirs = theirs
