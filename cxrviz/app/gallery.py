"""The paged thumbnail grid's data: which images sit on which page, and their tiles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxrviz.data.image_index import ImageIndex
from cxrviz.data.imaging import thumbnail
from cxrviz.data.metadata import Metadata
from cxrviz.errors import CxrvizError

PAGE_SIZE = 24


@dataclass(frozen=True)
class Tile:
    image: str
    caption: str
    thumbnail: Path | None
    problem: str | None


def page_count(n_items: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(n_items / page_size))


def caption_of(metadata: Metadata, row: int) -> str:
    record = metadata.table.iloc[row]
    labels = ", ".join(metadata.labels_at(row))
    age = "age ?" if np.isnan(record["age"]) else f"{record['age']:.0f} y"
    return f"{record['image']} · {age} {record['gender']} · {labels}"


def problem_text(error: Exception, path: Path | None) -> str:
    """Why a tile has no thumbnail, in words that name the file but no server folder: an
    `OSError` (the cache folder, the disk) by its reason alone, a `CxrvizError` with the image's
    full path cut down to its name."""
    if isinstance(error, OSError):
        return f"the thumbnail could not be made ({error.strerror or type(error).__name__})."
    message = str(error)
    return message.replace(str(path), path.name) if path is not None else message


def page_tiles(metadata: Metadata, rows: np.ndarray, index: ImageIndex, cache_dir: Path, page: int, page_size: int = PAGE_SIZE) -> list[Tile]:
    """Tiles of one page (1-based); a file that cannot be decoded becomes a tile with its reason."""
    chosen = rows[(page - 1) * page_size : page * page_size]
    tiles = []
    for row in chosen:
        name = str(metadata.table["image"].iat[int(row)])
        path = index.path_of(name)
        try:
            thumb = thumbnail(cache_dir, path) if path is not None else None
            problem = None if path is not None else "not present locally"
        except (CxrvizError, OSError) as exc:
            thumb, problem = None, problem_text(exc, path)
        tiles.append(Tile(image=name, caption=caption_of(metadata, int(row)), thumbnail=thumb, problem=problem))
    return tiles


def tile_key(image: str) -> str:
    """The key of a tile's container (Streamlit gives it the class `st-key-<key>`)."""
    return f"tile_{image}"


# A tile is one click target: its Open button is stretched over the thumbnail and caption (a chip in
# the corner shows the word), so clicking the picture opens it, in this session, like the button does.
TILE_CSS = """
div[class*="st-key-tile_"] { position: relative; }
div[class*="st-key-tile_"] div[class*="st-key-open_"] { position: absolute; inset: 0; z-index: 1; width: 100%; height: 100%; }
div[class*="st-key-tile_"] div[class*="st-key-open_"] div { width: 100%; height: 100%; }
div[class*="st-key-tile_"] div[class*="st-key-open_"] button {
  width: 100%; height: 100%; background: transparent; border: 2px solid transparent; border-radius: 6px;
  display: flex; align-items: flex-start; justify-content: flex-end; padding: 4px; cursor: pointer; }
div[class*="st-key-tile_"] div[class*="st-key-open_"] button:hover,
div[class*="st-key-tile_"] div[class*="st-key-open_"] button:focus-visible { border-color: #ff4b4b; background: rgba(255, 75, 75, 0.06); }
div[class*="st-key-tile_"] div[class*="st-key-open_"] button div { width: auto; height: auto; }
div[class*="st-key-tile_"] div[class*="st-key-open_"] button p {
  background: rgba(255, 255, 255, 0.9); color: #31333f; padding: 0 6px; border-radius: 4px; font-size: 0.85rem; }
"""

# The Table tab's column titles: every measure with its unit.
TABLE_TITLES = {"finding_labels": "findings (NIH)", "follow_up": "follow-up", "patient_id": "patient", "age": "age (years)",
                "width": "width (px)", "height": "height (px)", "spacing_x": "pixel spacing x (mm)",
                "spacing_y": "pixel spacing y (mm)"}
