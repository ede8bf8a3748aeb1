"""The dataset's label vocabulary, in one place so no caller hard-codes it."""

from __future__ import annotations

FINDINGS: tuple[str, ...] = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
)
NO_FINDING = "No Finding"
ALL_LABELS: tuple[str, ...] = FINDINGS + (NO_FINDING,)

# Spellings seen in the NIH files and in other tools, mapped to the vocabulary above.
_ALIASES = {
    "infiltrate": "Infiltration",
    "pleural thickening": "Pleural_Thickening",
    "pleural_thickening": "Pleural_Thickening",
    "no finding": NO_FINDING,
    "no_finding": NO_FINDING,
}


def normalise_label(raw: str) -> str:
    """Map a label as written in any NIH file to the dataset's own vocabulary."""
    text = raw.strip()
    key = text.lower()
    if key in _ALIASES:
        return _ALIASES[key]
    for label in ALL_LABELS:
        if label.lower() == key:
            return label
    raise ValueError(f"unknown finding label {raw!r}")


def split_labels(cell: str) -> list[str]:
    """Split the pipe-separated `Finding Labels` cell into normalised labels."""
    return [normalise_label(part) for part in str(cell).split("|") if part.strip()]


def join_labels(labels: list[str] | tuple[str, ...]) -> str:
    """The inverse of `split_labels`, in the vocabulary's order; empty means "No Finding"."""
    chosen = [label for label in ALL_LABELS if label in set(labels) and label != NO_FINDING]
    return "|".join(chosen) if chosen else NO_FINDING
