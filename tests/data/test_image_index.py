import shutil

import numpy as np

from cxrviz.data.image_index import folder_signature, scan_images
from cxrviz.data.labelled import labelled_set


def _some(nih_images, n=6):
    return sorted(nih_images.iterdir())[:n]


def test_flat_shared_folder(nih_images, metadata):
    index = scan_images(nih_images)
    assert len(index) == 452 and index.layout == "flat"
    present = metadata.table["image"].isin(list(index.paths)).to_numpy()
    assert present.sum() == 452  # every shared image has its metadata row


def test_full_download_layout(tmp_path, nih_images):
    files = _some(nih_images)
    for i, source in enumerate(files):
        folder = tmp_path / f"images_{i % 3 + 1:03d}" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / source.name)
    (tmp_path / "README_CHESTXRAY.pdf").write_text("not an image")
    index = scan_images(tmp_path)
    assert index.layout == "nih-full"
    assert set(index.paths) == {f.name for f in files}
    assert index.path_of(files[4].name).parent.parent.name == "images_002"


def test_kaggle_sample_layout(tmp_path, nih_images):
    files = _some(nih_images, 4)
    folder = tmp_path / "sample" / "images"
    folder.mkdir(parents=True)
    for source in files:
        shutil.copy(source, folder / source.name)
    (tmp_path / "sample" / "sample_labels.csv").write_text("Image Index,Finding Labels\n")
    for root in (tmp_path, tmp_path / "sample"):
        index = scan_images(root)
        assert index.layout == "kaggle-sample" and len(index) == 4
    assert index.sample_labels == tmp_path / "sample" / "sample_labels.csv"


def test_missing_folder_gives_empty_index(tmp_path):
    assert len(scan_images(tmp_path / "nope")) == 0
    assert len(scan_images(None)) == 0


def test_signature_changes_when_a_file_arrives(tmp_path, nih_images):
    before = folder_signature(tmp_path)
    import time

    time.sleep(0.01)
    shutil.copy(_some(nih_images, 1)[0], tmp_path)
    assert folder_signature(tmp_path) != before


def test_signature_rewalks_only_when_a_folder_changed(tmp_path, monkeypatch):
    import os
    import time

    from cxrviz.data import image_index

    inner = tmp_path / "images_001" / "images"
    inner.mkdir(parents=True)
    (inner / "00000001_000.png").write_bytes(b"x")
    for folder in (tmp_path, tmp_path / "images_001", inner):  # settled: changed a minute ago
        os.utime(folder, ns=(time.time_ns() - 60 * 10**9,) * 2)
    first = folder_signature(tmp_path)
    listed = []
    real_scandir = os.scandir
    monkeypatch.setattr(image_index.os, "scandir", lambda path: listed.append(path) or real_scandir(path))
    assert folder_signature(tmp_path) == first and listed == []  # nothing changed: stats only, no listing
    time.sleep(0.01)
    (inner / "later").mkdir()  # a new folder deep inside: its parent's mtime moves
    (inner / "later" / "00000002_000.png").write_bytes(b"x")
    second = folder_signature(tmp_path)
    assert listed and str(inner / "later") in dict(second) and second != first
    assert "00000002_000.png" in image_index.scan_images(tmp_path).paths


def test_a_folder_made_during_the_walk_is_found_on_the_next_call(tmp_path, monkeypatch):
    """The walk lists folders, then reads mtimes: a folder created in between must not be missed
    for good (mtimes are read before each listing, and fresh ones are not trusted)."""
    from cxrviz.data import image_index

    (tmp_path / "images_001" / "images").mkdir(parents=True)
    real = image_index._image_dirs
    made = []

    def walk_then_extract(root, mtimes=None):
        found = real(root, mtimes)
        if not made:  # the next tarball lands right after the listing
            (root / "images_002" / "images").mkdir(parents=True)
            made.append(True)
        return found

    monkeypatch.setattr(image_index, "_image_dirs", walk_then_extract)
    assert str(tmp_path / "images_002" / "images") not in dict(folder_signature(tmp_path))
    assert str(tmp_path / "images_002" / "images") in dict(folder_signature(tmp_path))


def test_labels_csv_overrides_metadata(tmp_path, nih_images, metadata):
    index = scan_images(nih_images)
    data = labelled_set(metadata, index)
    name = data.names[0]
    override = tmp_path / "labels.csv"
    override.write_text(f"Image Index,Corrected Labels\n{name},Hernia|Mass\n")
    changed = labelled_set(metadata, index, override)
    assert changed.targets[0].sum() == 2
    assert np.array_equal(changed.targets[1:], data.targets[1:])


def test_symlinks_back_into_the_tree_are_not_walked_again(tmp_path):
    import os

    from cxrviz.data.image_index import _image_dirs, scan_images

    inner = tmp_path / "images_001" / "images"
    inner.mkdir(parents=True)
    (inner / "00000001_000.png").write_bytes(b"x")
    for i in range(30):
        os.symlink(".", tmp_path / f"loop{i}")  # 30 links to the root itself
    os.symlink(tmp_path, inner / "up")  # and one from deep inside back to the top
    dirs = _image_dirs(tmp_path)
    assert len(dirs) == len({os.stat(d).st_ino for d in dirs}) == 3  # root, images_001, images
    assert list(scan_images(tmp_path).paths) == ["00000001_000.png"]
