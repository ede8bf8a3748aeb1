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
