"""The PACS, measured: a real Orthanc (DICOMweb plugin) loaded with DICOM files made from the NIH
PNGs, the app in headless Chromium against it, and batch prediction over DICOMweb vs the folder.

    python benchmarks/bench_pacs.py [--images 48] [--repeat 10]

Browse first page: a fresh browser session opens Browse's PACS section, until the 12 thumbnails
are drawn; cold = the thumbnail cache emptied before each run (QIDO + 12 WADO retrievals and
decodes), warm = thumbnails cached. Opening a study: a fresh session opens `?image=<SOP UID>`
(a different image each run: WADO + decode + model + Grad-CAM), until the X-ray and the
probability chart are drawn; the same for NIH images from the folder, for comparison. Predict: `predict_to_csv` over the same images from the PACS
(WADO per image) and from the folder of their PNGs, one decode worker each.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import NIH_IMAGES, REPO

sys.path.insert(0, str(REPO))

from cxrviz.data.metadata import load_metadata  # noqa: E402
from tests.pacs.app_server import pacs_app  # noqa: E402
from tests.pacs.dicom_files import make_set  # noqa: E402
from tests.pacs.orthanc_server import orthanc_server  # noqa: E402


def percentiles(runs: list[float]) -> str:
    ordered = sorted(runs)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.2f} s  p95 {p95:6.2f} s  (n={len(ordered)}, min {ordered[0]:.2f}, max {ordered[-1]:.2f})"


def browse_runs(browser, url: str, cache: Path, repeat: int, cold: bool) -> list[float]:
    runs = []
    for _ in range(repeat):
        if cold:
            shutil.rmtree(cache / "pacs-thumbs", ignore_errors=True)
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        page = context.new_page()
        page.set_default_timeout(180_000)
        start = time.perf_counter()
        page.goto(f"{url}/browse?source=pacs")
        page.wait_for_function("""() => {
            const imgs = [...document.querySelectorAll('[class*="st-key-tile_pacs_"] img')];
            return imgs.length >= 12 && imgs.every(i => i.complete && i.naturalWidth > 0);
        }""")
        runs.append(time.perf_counter() - start)
        context.close()
    return runs


def open_runs(browser, url: str, uids: list[str]) -> list[float]:
    runs = []
    for uid in uids:
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        page = context.new_page()
        page.set_default_timeout(180_000)
        start = time.perf_counter()
        page.goto(f"{url}/image?image={uid}")
        page.wait_for_function("""() => {
            const img = document.querySelector('[data-testid="stImage"] img');
            return img && img.complete && img.naturalWidth > 0 && document.querySelector('.js-plotly-plot .bars, .js-plotly-plot .trace');
        }""")
        runs.append(time.perf_counter() - start)
        context.close()
    return runs


def predict_rates(orthanc, made, work: Path) -> tuple[float, float]:
    from cxrviz.data.dicomweb import Credentials, Pacs, PacsSource
    from cxrviz.model.batch import predict_to_csv
    from cxrviz.model.registry import bundled_spec, load_model

    model = load_model(bundled_spec(), "cpu")
    folder = work / "folder"
    folder.mkdir()
    for m in made:
        (folder / m.source).symlink_to(NIH_IMAGES / m.source)
    names = [m.source for m in made]
    start = time.perf_counter()
    predict_to_csv(model, names, [folder / n for n in names], work / "folder.csv", 16, 1)
    folder_rate = len(names) / (time.perf_counter() - start)
    credentials = Credentials(*orthanc.auth)
    start = time.perf_counter()
    source = PacsSource.query(Pacs(orthanc.dicomweb, credentials), page_size=500)
    predict_to_csv(model, source.names, source.refs, work / "pacs.csv", 16, 1, load=source.loader(credentials))
    pacs_rate = len(source.names) / (time.perf_counter() - start)
    return folder_rate, pacs_rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=48, help="NIH images loaded into Orthanc")
    parser.add_argument("--repeat", type=int, default=10, help="browser runs per figure")
    parser.add_argument("--skip-predict", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_FLAGS

    metadata = load_metadata()
    names = [p.name for p in sorted(NIH_IMAGES.glob("*.png")) if metadata.row_of(p.name) is not None][: args.images]
    work = Path(tempfile.mkdtemp(prefix="cxrviz-bench-pacs-"))
    try:
        with orthanc_server() as orthanc:
            made = make_set(NIH_IMAGES, metadata, names)
            start = time.perf_counter()
            for m in made:
                orthanc.upload(m.to_bytes())
            print(f"Orthanc: {len(made)} DICOM files made from the NIH PNGs stored in {time.perf_counter() - start:.1f} s")
            if not args.skip_predict:
                folder_rate, pacs_rate = predict_rates(orthanc, made, work)
                print(f"predict, folder of PNGs        {folder_rate:6.2f} img/s")
                print(f"predict, over DICOMweb (WADO)  {pacs_rate:6.2f} img/s  ({pacs_rate / folder_rate:.0%} of the folder's)")
            with pacs_app(work / "app", orthanc.dicomweb, orthanc.auth, NIH_IMAGES) as url, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                                     args=CHROMIUM_FLAGS, headless=True)
                open_runs(browser, url, [made[-1].sop_uid])  # warm-up: the model and the first heatmap loaded once
                cold = browse_runs(browser, url, work / "app" / "cache", args.repeat, cold=True)
                warm = browse_runs(browser, url, work / "app" / "cache", args.repeat, cold=False)
                opened = open_runs(browser, url, [m.sop_uid for m in made[: args.repeat]])
                nih = open_runs(browser, url, [m.source for m in made[args.repeat : 2 * args.repeat]])  # the same way, from the folder
                browser.close()
            print(f"Browse PACS first page, cold   {percentiles(cold)}")
            print(f"Browse PACS first page, warm   {percentiles(warm)}")
            print(f"Open a PACS study (Image page) {percentiles(opened)}")
            print(f"Open an NIH image, same way    {percentiles(nih)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
