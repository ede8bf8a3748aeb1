
import numpy as np
import pytest
from PIL import Image

from cxrviz.app.gallery import page_count, page_tiles
from cxrviz.data.image_index import scan_images
from cxrviz.data.imaging import load_gray, thumbnail
from cxrviz.errors import ImageLoadError
from tests.conftest import RGBA_1024, SMALL_512


def test_real_grayscale_and_rgba(nih_images):
    small = load_gray(nih_images / SMALL_512)
    assert small.shape == (512, 512) and small.dtype == np.float32
    rgba = load_gray(nih_images / RGBA_1024)
    assert rgba.shape == (1024, 1024)
    assert 0.0 <= rgba.min() and rgba.max() <= 1.0 and rgba.std() > 0.05  # real anatomy, not a flat alpha


def test_16_bit_png_uses_its_range(tmp_path, nih_images):
    eight = np.asarray(Image.open(nih_images / SMALL_512))
    wide = (eight.astype(np.uint16) * 16)  # 12-bit data stored in 16 bits
    path = tmp_path / "wide.png"
    Image.fromarray(wide).save(path)
    gray = load_gray(path)
    assert gray.max() == pytest.approx(1.0) and gray.min() == pytest.approx(0.0)
    assert np.corrcoef(gray.ravel(), eight.ravel())[0, 1] > 0.999


def test_corrupt_and_missing_files(tmp_path, nih_images):
    truncated = tmp_path / "00000001_000.png"
    truncated.write_bytes((nih_images / SMALL_512).read_bytes()[:2000])
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        load_gray(truncated)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_gray(text)
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_gray(tmp_path / "absent.png")


def test_thumbnail_is_made_once(tmp_path, nih_images):
    source = nih_images / RGBA_1024
    first = thumbnail(tmp_path, source)
    stamp = first.stat().st_mtime_ns
    again = thumbnail(tmp_path, source)
    assert again == first and again.stat().st_mtime_ns == stamp
    with Image.open(first) as image:
        assert max(image.size) == 192


def test_gallery_page_with_a_corrupt_file(tmp_path, nih_images, metadata):
    folder = tmp_path / "imgs"
    folder.mkdir()
    good = sorted(nih_images.iterdir())[:3]
    for f in good:
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / good[0].name).write_bytes(b"\x89PNG broken")
    index = scan_images(folder)
    rows = np.flatnonzero(metadata.table["image"].isin(list(index.paths)).to_numpy())
    tiles = page_tiles(metadata, rows, index, tmp_path / "cache", page=1)
    assert len(tiles) == 3 and page_count(3) == 1
    broken = [t for t in tiles if t.problem]
    assert len(broken) == 1 and broken[0].image == good[0].name and "not an image" in broken[0].problem
    assert all(t.thumbnail.exists() for t in tiles if not t.problem)
