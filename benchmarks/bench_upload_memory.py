"""Upload memory: peak RSS of decoding hostile and very large uploads, each in a fresh process.

Makes the files in a temp folder (a 7000x7000 RGBA PNG of ~200 kB, a deflated DICOM whose private
element inflates to 2 GB and one to 3.9 GB, a 500-frame RLE DICOM, five 49-megapixel images decoded
one after another in one session, and two normal 1024-px uploads), then for each runs
`decode_once` in a new Python process and prints ru_maxrss after the imports and after the
decode. Target: no upload within the size limits raises peak RSS by more than 500 MB.

Run: .venv/bin/python benchmarks/bench_upload_memory.py [--compare main]
(--compare REV also runs the decoder of that git revision on the same files, for a before/after.)
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import REPO

TARGET_MB = 500
CHILD = r"""
import importlib.util, json, resource, sys
sys.path.insert(0, {repo!r})
import numpy, PIL.Image, pydicom, pydicom.pixels  # imported before the baseline reading
from cxrviz.errors import UploadError
if {module!r}:
    spec = importlib.util.spec_from_file_location("old_uploads", {module!r})
    uploads = importlib.util.module_from_spec(spec); sys.modules["old_uploads"] = uploads
    spec.loader.exec_module(uploads)
else:
    import cxrviz.data.uploads as uploads
decode = getattr(uploads, "decode_once", None)
store = {{}}
def run(path):
    data = open(path, "rb").read()
    if decode is None:
        return uploads.decode_upload(data, path.rsplit("/", 1)[-1])
    return decode(store, path, data, path.rsplit("/", 1)[-1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
results = []
for path in {paths!r}:
    try:
        decoded = run(path)
        results.append("decoded " + "x".join(map(str, decoded.gray.shape[::-1])) + " " + decoded.details.get("note", "")[:40])
    except UploadError as exc:
        results.append("refused: " + str(exc)[:110])
    except MemoryError:
        results.append("MemoryError (traceback)")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"before": before, "after": after, "results": results}}))
"""


def _png(array, mode: str | None = None) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def make_files(folder: Path) -> dict[str, list[Path]]:
    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(REPO))
    from tests.dicom_factory import make_deflated_dicom, make_dicom, make_rle_dicom

    rng = np.random.default_rng(0)
    files: dict[str, list[Path]] = {}

    def put(label: str, name: str, data: bytes) -> Path:
        path = folder / name
        path.write_bytes(data)
        files.setdefault(label, []).append(path)
        return path

    side = 1024
    chest = (np.add.outer(np.arange(side), np.arange(side)) % 256).astype(np.uint8)
    put("normal 1024x1024 PNG", "normal.png", _png(chest))
    put("normal 1024x1024 DICOM", "normal.dcm", make_dicom(chest.astype(np.uint16) * 16))

    rgba = Image.new("RGBA", (7000, 7000), (40, 40, 40, 255))
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    del rgba
    put("7000x7000 RGBA PNG", "rgba_7000.png", buffer.getvalue())

    put("deflated DICOM, 2 GB private element", "deflate_2g.dcm", make_deflated_dicom(chest.astype(np.uint16), 2 * 2**30))
    put("deflated DICOM, 3.9 GB private element", "deflate_4g.dcm", make_deflated_dicom(chest.astype(np.uint16), 3_900_000_000))

    frame = np.repeat((np.arange(1414) * 2 % 4096)[:, None], 1414, axis=1).astype(np.uint16)
    put("500-frame RLE DICOM (1414x1414)", "frames_500.dcm", make_rle_dicom(frame, 500))

    big = 7000  # 49 megapixels each
    noise = rng.integers(0, 32, (big, big), dtype=np.uint8)
    ramp = (np.arange(big, dtype=np.uint16) * 200 // big).astype(np.uint8)
    gray8 = noise + ramp[None, :]
    label = "five 49-MP images in a row"
    put(label, "big_l.png", _png(gray8))
    buffer = io.BytesIO()
    Image.fromarray(gray8).convert("RGB").save(buffer, format="JPEG", quality=85)
    put(label, "big_rgb.jpg", buffer.getvalue())
    buffer = io.BytesIO()
    Image.fromarray(gray8).convert("RGB").save(buffer, format="JPEG", quality=85, progressive=True)
    put("49-MP progressive RGB JPEG", "big_progressive.jpg", buffer.getvalue())
    smooth16 = (np.add.outer(np.arange(big, dtype=np.uint16), np.arange(big, dtype=np.uint16)) * 4).astype(np.uint16)
    put(label, "big_16.png", _png(smooth16))
    rows = np.repeat((np.arange(big) % 4096)[:, None], big, axis=1).astype(np.uint16)
    put(label, "big_rle.dcm", make_rle_dicom(rows, 1))
    put(label, "big_deflated.dcm", make_deflated_dicom(rows))
    return files


def measure(paths: list[Path], module: str = "") -> dict:
    code = CHILD.format(repo=str(REPO), module=module, paths=[str(p) for p in paths])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return {"before": float("nan"), "after": float("nan"), "results": [f"exit {done.returncode}: {done.stderr.strip()[-160:]}"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="REV", help="also run the decoder of this git revision")
    parser.add_argument("--make", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        print(json.dumps({label: [str(p) for p in paths] for label, paths in make_files(Path(args.make)).items()}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # made in a child process: ru_maxrss is inherited through fork and exec, so a parent that
        # had held the 49-MP arrays would make every measuring child start from its peak
        listing = subprocess.run([sys.executable, __file__, "--make", tmp], capture_output=True, text=True, check=True)
        files = {label: [Path(p) for p in paths] for label, paths in json.loads(listing.stdout).items()}
        decoders = [("this tree", "")]
        if args.compare:
            old = folder / "old_uploads.py"
            old.write_text(subprocess.run(["git", "-C", str(REPO), "show", f"{args.compare}:cxrviz/data/uploads.py"],
                                          capture_output=True, text=True, check=True).stdout)
            decoders.append((args.compare, str(old)))
        for decoder, module in decoders:
            print(f"\n== decoder: {decoder}   (peak RSS in MB; target: rise <= {TARGET_MB} MB)")
            for label, paths in files.items():
                size = sum(p.stat().st_size for p in paths) / 2**20
                got = measure(paths, module)
                rise = got["after"] - got["before"]
                verdict = "met" if rise <= TARGET_MB else "MISSED"
                print(f"{label:<40} file {size:7.1f} MB  before {got['before']:7.0f}  after {got['after']:7.0f}  "
                      f"rise {rise:7.0f}  ({verdict})")
                for path, result in zip(paths, got["results"]):
                    print(f"    {path.name:<18} {result}")


if __name__ == "__main__":
    main()
