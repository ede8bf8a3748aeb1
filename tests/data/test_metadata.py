import gzip

import numpy as np
import pytest

from cxrviz.data.metadata import default_metadata_path, load_metadata, parse_age
from cxrviz.errors import MetadataError
from cxrviz.findings import ALL_LABELS


def test_real_metadata_counts(metadata):
    assert len(metadata) == 112_120
    assert metadata.n_patients == 30_805
    counts = metadata.label_counts()
    assert counts["Infiltration"] == 19_894
    assert counts["Effusion"] == 13_317
    assert counts["No Finding"] == 60_361
    assert counts["Hernia"] == 227
    assert metadata.labels.shape == (112_120, len(ALL_LABELS))


def test_no_finding_is_exclusive_in_real_data(metadata):
    no_finding = metadata.labels[:, ALL_LABELS.index("No Finding")]
    assert not metadata.labels[no_finding, :-1].any()


def test_columns_and_first_row(metadata):
    first = metadata.table.iloc[0]
    assert first["image"] == "00000001_000.png"
    assert first["finding_labels"] == "Cardiomegaly"
    assert (first["patient_id"], first["age"], first["gender"], first["view"]) == (1, 57, "M", "PA")
    assert (first["width"], first["height"]) == (2682, 2749)
    assert first["spacing_x"] == pytest.approx(0.143)


def _original_2017_csv(tmp_path, metadata, n=300):
    """The 2017 dialect: trailing empty column, some impossible ages, from the real rows."""
    lines = ["Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
             "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],"]
    for i, r in enumerate(metadata.table.head(n).itertuples()):
        age = 414 if i == 5 else int(r.age)
        lines.append(f"{r.image},{r.finding_labels},{r.follow_up},{r.patient_id},{age},{r.gender},{r.view},"
                     f"{r.width},{r.height},{r.spacing_x},{r.spacing_y},")
    path = tmp_path / "Data_Entry_2017.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_original_2017_dialect_reads_the_same(tmp_path, metadata):
    loaded = load_metadata(_original_2017_csv(tmp_path, metadata))
    assert len(loaded) == 300
    assert np.array_equal(loaded.labels, metadata.labels[:300])
    assert np.isnan(loaded.table["age"].iloc[5])  # 414 is impossible: row kept, age unknown
    assert loaded.table["age"].iloc[4] == metadata.table["age"].iloc[4]


def test_kaggle_sample_ages():
    import pandas as pd

    ages = parse_age(pd.Series(["058Y", "6M", "414", "", "12"]))
    assert ages.iloc[0] == 58 and ages.iloc[1] == pytest.approx(0.5)
    assert np.isnan(ages.iloc[2]) and np.isnan(ages.iloc[3]) and ages.iloc[4] == 12


def test_gzipped_file_is_read(tmp_path, metadata):
    source = _original_2017_csv(tmp_path, metadata, 50)
    target = tmp_path / "copy.csv.gz"
    target.write_bytes(gzip.compress(source.read_bytes()))
    assert len(load_metadata(target)) == 50


@pytest.mark.parametrize(
    "content, phrase",
    [
        ("a,b,c\n1,2,3\n", "does not look like Data_Entry_2017.csv"),
        ("", "empty"),
        ("Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,w,h,x,y\n"
         "x.png,Cancer,0,1,50,M,PA,1,1,1,1\n", "unknown finding label"),
        ("Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,w,h,x,y\n"
         "x.png,Mass,0,abc,50,M,PA,1,1,1,1\n", "Patient ID"),
    ],
)
def test_malformed_csv_names_file_and_problem(tmp_path, content, phrase):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(MetadataError) as caught:
        load_metadata(path)
    assert str(path) in str(caught.value) and phrase in str(caught.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(MetadataError, match="does not exist"):
        load_metadata(tmp_path / "absent.csv")
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(MetadataError, match="cannot be read"):
        load_metadata(broken)


def test_default_is_the_bundled_v2020_copy():
    assert default_metadata_path().name == "Data_Entry_2017_v2020.csv.gz"


def _write_rows(path, rows, header=None):
    header = header or ("Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
                        "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]")
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


ROW = "{name},Mass,0,{patient},58,M,PA,2682,2749,0.143,0.143"


def test_a_file_cut_mid_row_is_refused_naming_the_line(tmp_path):
    import pytest

    from cxrviz.data.metadata import load_metadata
    from cxrviz.errors import MetadataError

    rows = [ROW.format(name=f"0000000{i}_000.png", patient=i) for i in range(1, 6)] + ["00000009_000.png,Ma"]
    with pytest.raises(MetadataError, match=r"at lines 7 \(the last row is incomplete: the file looks truncated\)"):
        load_metadata(_write_rows(tmp_path / "Data_Entry_2017.csv", rows))


def test_duplicate_images_are_refused_and_named(tmp_path):
    import pytest

    from cxrviz.data.metadata import load_metadata
    from cxrviz.errors import MetadataError

    rows = [ROW.format(name="00000001_000.png", patient=1), ROW.format(name="00000002_000.png", patient=2),
            ROW.format(name="00000001_000.png", patient=1)]
    with pytest.raises(MetadataError, match="1 images appear more than once, e.g. 00000001_000.png"):
        load_metadata(_write_rows(tmp_path / "m.csv", rows))


def test_extra_columns_and_a_short_release_file_are_reported(tmp_path):
    from cxrviz.data.metadata import load_metadata

    header = ("Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
              "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],Comment,")
    rows = [ROW.format(name="00000001_000.png", patient=1) + ",looks odd,", ROW.format(name="00000002_000.png", patient=2) + ",,"]
    metadata = load_metadata(_write_rows(tmp_path / "Data_Entry_2017.csv", rows, header))
    assert len(metadata) == 2
    assert any("columns cxrviz does not use: Comment" in w for w in metadata.warnings)
    assert any("has 2 rows; the NIH release has 112,120" in w for w in metadata.warnings)
    assert load_metadata().warnings == ()  # the real file: nothing to report
