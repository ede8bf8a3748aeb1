"""The radiologist's report on one image: versions of a text, drafted from what the reader saved,
edited, then signed. A signed version is read-only; a later change is a new version, and every
version is kept (append-only). A version that is not signed is "unverified" wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

REPORT_SECTIONS = (
    "Lines and tubes",
    "Lungs and pleura",
    "Heart, mediastinum and hila",
    "Bones and soft tissues",
    "Impression",
)


@dataclass(frozen=True)
class ReportVersion:
    image: str
    reviewer: str
    version: int  # 1, 2, … per (image, reviewer)
    text: str
    findings: tuple[str, ...]  # the reader's confirmed findings this version reports
    signed_by: str | None = None
    signed_at: str | None = None  # ISO 8601, UTC
    created_at: str | None = None
    id: int | None = None

    @property
    def signed(self) -> bool:
        return self.signed_at is not None
