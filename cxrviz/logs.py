"""Logging set-up for the app and the CLI; library modules only ever call `logging.getLogger(__name__)`."""

from __future__ import annotations

import logging
import os

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str | None = None) -> None:
    """Send cxrviz's log records to stderr at `CXRVIZ_LOG_LEVEL` (default INFO); safe to call twice."""
    logger = logging.getLogger("cxrviz")
    logger.setLevel((level or os.environ.get("CXRVIZ_LOG_LEVEL") or "INFO").upper())
    if not any(getattr(h, "_cxrviz", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._cxrviz = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
