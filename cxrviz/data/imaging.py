"""Decoding X-ray files into grayscale arrays, and the on-disk thumbnail cache.

Every loader returns a 2-D float32 array in [0, 1] so display, CAM and the models agree on one
representation: 8-bit divides by 255, 16-bit stretches its own range (12-bit data stored in
16 bits is common), RGB/RGBA (some NIH originals) becomes luminance.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cxrviz.errors import CxrvizError, ImageLoadError

MAX_PIXELS = 50_000_000  # larger images are refused as likely decompression bombs
THUMB_SIZE = 192


def to_unit_gray(image: Image.Image) -> np.ndarray:
    """A PIL image of any mode as float32 grayscale in [0, 1]."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA" if image.mode in ("P", "PA") else image.mode)
        background = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    if image.mode in ("RGB", "RGBA", "CMYK", "YCbCr"):
        image = image.convert("L")
    array = np.asarray(image)
    if array.ndim == 3:
        array = array[..., 0]
    return normalise_intensity(array)


def normalise_intensity(array: np.ndarray) -> np.ndarray:
    """uint8 -> /255; wider integer or float data -> its own min..max; result float32 [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    data = array.astype(np.float32)
    low, high = float(np.nanmin(data)), float(np.nanmax(data))
    if high <= low:
        return np.zeros_like(data, dtype=np.float32)
    return (data - low) / (high - low)


@contextmanager
def pil_errors(name: str, error: type[CxrvizError] = ImageLoadError) -> Iterator[None]:
    """PIL's ways of failing on a file (a bomb, not an image, truncated), as `error` naming it."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise error(f"{name} is too large to open safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise error(f"{name} is not an image file PIL can read.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise error(f"{name} is corrupt or truncated: {exc}") from exc


def open_checked(source: Path | io.BytesIO, name: str) -> Image.Image:
    """Open with PIL, refusing non-images, truncated files and decompression bombs."""
    with pil_errors(name), warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(source)
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageLoadError(
                f"{name} is {width}×{height} ({width * height / 1e6:.0f} megapixels); "
                f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
            )
        image.load()
    if image.format == "JPEG":
        fmt, image = image.format, ImageOps.exif_transpose(image)
        image.format = fmt  # exif_transpose returns a copy without it
    return image


def load_gray(path: Path) -> np.ndarray:
    """Read an image file as float32 grayscale [0, 1]; raises `ImageLoadError`."""
    if not Path(path).is_file():
        raise ImageLoadError(f"{path} does not exist.")
    return to_unit_gray(open_checked(Path(path), Path(path).name))


def to_uint8(gray: np.ndarray) -> np.ndarray:
    return np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8)


def thumbnail_path(cache_dir: Path, source: Path, size: int = THUMB_SIZE) -> Path:
    """Where the thumbnail of `source` lives; the key changes when the source file changes."""
    stat = source.stat()
    key = hashlib.sha1(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{size}".encode()).hexdigest()[:16]
    return cache_dir / "thumbs" / f"{source.stem}-{key}.jpg"


def thumbnail(cache_dir: Path, source: Path, size: int = THUMB_SIZE) -> Path:
    """A JPEG thumbnail of `source`, made once and then read from the cache folder."""
    target = thumbnail_path(cache_dir, source, size)
    if target.exists():
        return target
    return write_thumbnail(load_gray(source), target, size)


def write_thumbnail(gray: np.ndarray, target: Path, size: int = THUMB_SIZE) -> Path:
    """`gray` as a JPEG thumbnail at `target` (written beside it, then moved into place, so a reader
    never sees half a file); the one writer of the NIH and the PACS thumbnails."""
    image = Image.fromarray(to_uint8(gray))
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    image.save(partial, format="JPEG", quality=85)
    partial.replace(target)
    return target
