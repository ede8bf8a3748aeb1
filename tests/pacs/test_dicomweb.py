"""The PACS data layer against a real Orthanc: QIDO search of CR/DX with paging and filters, WADO
retrieval decoded by the upload path, thumbnails cached by SOP Instance UID, and each failure
a user can meet said in a sentence."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from PIL import Image

from cxrviz.data import dicomweb
from cxrviz.data.dicomweb import Credentials, Pacs, PacsQuery
from cxrviz.data.imaging import load_gray


def _all(pacs, query=PacsQuery()):
    return dicomweb.PacsSource.query(pacs, query, page_size=3).instances


def test_search_lists_the_xrays_with_their_tags_and_never_the_ct(pacs, pacs_content):
    made = pacs_content["made"]
    found = {i.sop_uid: i for i in _all(pacs)}
    assert set(found) == {m.sop_uid for m in made}  # the CT is not an X-ray
    assert pacs_content["ct"].sop_uid not in found
    for m in made:
        listed = found[m.sop_uid]
        assert (listed.modality, listed.age, listed.sex, listed.view, listed.study_date) == (m.modality, m.age, m.sex, m.view, m.study_date)
        assert listed.study_uid == m.study_uid and listed.series_uid == m.series_uid
        assert listed.spacing_mm == tuple(float(v) for v in m.dataset.PixelSpacing)  # for measurements in mm
        assert listed.spacing_keyword == "PixelSpacing"  # said beside every length
        assert listed.size == (m.dataset.Rows, m.dataset.Columns)


def test_pages_do_not_overlap_and_the_last_says_so(pacs, pacs_content):
    n = len(pacs_content["made"])
    pages = []
    page = 1
    while True:
        result = pacs.search(PacsQuery(), page, 3)
        pages.append(result)
        if not result.has_next:
            break
        page += 1
    uids = [i.sop_uid for p in pages for i in p.instances]
    assert len(uids) == len(set(uids)) == n
    assert [len(p.instances) for p in pages] == [3] * (n // 3) + ([n % 3] if n % 3 else [])
    assert pacs.search(PacsQuery(), len(pages) + 1, 3).instances == []


@pytest.mark.parametrize("query, keep", [
    (PacsQuery(sexes=("F",)), lambda m: m.sex == "F"),
    (PacsQuery(views=("AP",)), lambda m: m.view == "AP"),
    (PacsQuery(age_range=(50, 66)), lambda m: 50 <= m.age <= 66),
    (PacsQuery(date_range=("2017-02-01", "2017-04-30")), lambda m: "2017-02-01" <= m.study_date <= "2017-04-30"),
    (PacsQuery(sexes=("M",), views=("PA",), age_range=(0, 61)), lambda m: m.sex == "M" and m.view == "PA" and m.age <= 61),
])
def test_filters_are_matched_by_the_pacs(pacs, pacs_content, query, keep):
    expected = {m.sop_uid for m in pacs_content["made"] if keep(m)}
    assert expected  # each filter keeps something and drops something on this content
    assert expected != {m.sop_uid for m in pacs_content["made"]}
    assert {i.sop_uid for i in _all(pacs, query)} == expected


def test_an_instance_is_retrieved_and_decoded_like_the_png_it_was_made_from(pacs, pacs_content, nih_images):
    for m in pacs_content["made"][:3]:  # MONOCHROME1, 16-bit with a window, plain 8-bit
        instance, decoded = pacs.open_image(m.sop_uid)
        assert instance.study_uid == m.study_uid and decoded.kind == "DICOM"
        assert decoded.details["photometric"] == m.photometric
        png = load_gray(nih_images / m.source)
        assert decoded.gray.shape == png.shape
        # The same picture (its range stretched to 0..1): MONOCHROME1 inverted back, the 16-bit window applied.
        assert np.corrcoef(decoded.gray.ravel(), png.ravel())[0, 1] > 0.999, m.source


def test_thumbnail_is_cached_by_sop_uid(pacs, pacs_content, tmp_path, monkeypatch):
    instance = pacs.locate(pacs_content["made"][3].sop_uid)
    path = dicomweb.thumbnail(pacs, tmp_path, instance)
    assert path.name.startswith(instance.sop_uid) and max(Image.open(path).size) == dicomweb.THUMB_SIZE
    monkeypatch.setattr(pacs, "retrieve_bytes", lambda *_: pytest.fail("a cached thumbnail was fetched again"))
    assert dicomweb.thumbnail(pacs, tmp_path, instance) == path


def test_wrong_password_and_no_credentials_are_401_sentences(orthanc, pacs_content):
    for credentials in (Credentials("radiologist", "wrong"), Credentials()):
        with pytest.raises(dicomweb.PacsAuthError, match="401") as caught:
            Pacs(orthanc.dicomweb, credentials).search()
        assert "secrets.toml" in str(caught.value) and "wrong" not in str(caught.value)


def test_unreachable_pacs(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(dicomweb.PacsUnreachableError, match="cannot be reached"):
        Pacs(f"http://127.0.0.1:{port}/dicom-web", timeout=2).search()


def test_slow_pacs_times_out_with_the_setting_in_the_sentence():
    with socket.socket() as server:  # accepts the connection, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with pytest.raises(dicomweb.PacsTimeoutError, match=r"within 0\.5 s.*CXRVIZ_DICOMWEB_TIMEOUT"):
            Pacs(f"http://127.0.0.1:{port}/dicom-web", timeout=0.5).search()


def test_unknown_instance_and_non_image_instance(pacs, orthanc, pacs_content, nih_images, metadata):
    with pytest.raises(dicomweb.PacsNotFoundError, match="has no instance"):
        pacs.open_image("1.2.3.4.5.6.7.8")
    with pytest.raises(dicomweb.PacsNotFoundError, match="not a SOP Instance UID"):
        pacs.open_image("../../etc/passwd")


def test_unsupported_transfer_syntax_is_said(pacs, orthanc, nih_images, metadata):
    from pydicom.uid import MPEG2MPML

    from tests.pacs.dicom_files import make_instance

    name = "00000100_000.png"
    made = make_instance(nih_images / name, metadata.table.iloc[metadata.row_of(name)], syntax=MPEG2MPML)
    orthanc.upload(made.to_bytes())
    try:
        with pytest.raises(dicomweb.PacsUnsupportedError, match="MPEG2.*no decoder"):
            pacs.open_image(made.sop_uid)
    finally:
        orthanc.delete(made.sop_uid)


def test_query_filters_never_ask_for_ct():
    assert PacsQuery().filters() == {"Modality": "CR,DX"}
    ages = PacsQuery(age_range=(58, 60)).filters()["PatientAge"]
    assert ages == "058Y,059Y,060Y"
    assert "PatientAge" not in PacsQuery(age_range=(0, 120)).filters()
    assert dicomweb.parse_age("006M") == 0 and dicomweb.parse_age("058Y") == 58 and dicomweb.parse_age("x") is None


def test_uids_and_names():
    assert dicomweb.is_sop_uid("1.2.826.0.1.3680043.10.543.1")
    assert not dicomweb.is_sop_uid("00000100_000.png") and not dicomweb.is_sop_uid("1." + "2" * 70)
    assert "secret" not in repr(Credentials("u", "secret", None))


def test_a_spacing_from_imager_pixel_spacing_is_named_as_such():
    from cxrviz.app.measure_view import measuring_for_pacs
    from cxrviz.data.dicomweb import instance_from_json

    item = {"00080018": {"vr": "UI", "Value": ["1.2.3"]}, "00181164": {"vr": "DS", "Value": [0.2, 0.1]},
            "00280010": {"vr": "US", "Value": [100]}, "00280011": {"vr": "US", "Value": [200]}}
    instance = instance_from_json(item)
    assert instance.spacing_mm == (0.2, 0.1) and instance.spacing_keyword == "ImagerPixelSpacing"
    measuring = measuring_for_pacs(None, instance, None, (100, 200), "m")
    assert "ImagerPixelSpacing" in measuring.spacing.source
    assert (measuring.spacing.mm_per_column, measuring.spacing.mm_per_row) == (0.1, 0.2)
