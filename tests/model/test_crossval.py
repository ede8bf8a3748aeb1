"""Cross-validation by patient: folds never share a patient, and out-of-fold predictions cover
every image exactly once, from a model that did not train on it (checked in the checkpoints)."""

import numpy as np
import pytest
import torch

from cxrviz.model.crossval import CrossValidationError, out_of_fold, patient_folds
from cxrviz.model.training import TrainConfig


def test_a_patient_is_never_in_two_folds_and_folds_are_stratified():
    rng = np.random.default_rng(1)
    patients = rng.integers(0, 120, size=600)
    targets = (rng.random((600, 14)) < 0.08).astype(np.float32)
    for given in (None, targets):
        folds = patient_folds(patients, k=5, seed=3, targets=given)
        assert set(folds.tolist()) == {0, 1, 2, 3, 4}
        for p in np.unique(patients):
            assert len(set(folds[patients == p].tolist())) == 1
    folds = patient_folds(patients, k=5, seed=3, targets=targets)
    per_fold = np.array([targets[folds == f].sum(axis=0) for f in range(5)])
    # every finding with at least 5 patients' worth of positives appears in every fold
    assert (per_fold[:, targets.sum(axis=0) >= 25] > 0).all()
    assert not np.array_equal(folds, patient_folds(patients, k=5, seed=4, targets=targets))


def test_hash_folds_do_not_depend_on_the_other_images():
    patients = np.arange(200)
    assert np.array_equal(patient_folds(patients, k=3, seed=0)[:50], patient_folds(patients[:50], k=3, seed=0))


def test_too_few_patients_is_a_user_error():
    with pytest.raises(CrossValidationError, match="at least 5 patients"):
        patient_folds([1, 1, 2, 3], k=5)
    with pytest.raises(CrossValidationError, match="at least 2 folds"):
        patient_folds([1, 2, 3], k=1)


@pytest.fixture(scope="module")
def tiny_set(nih_images):
    from cxrviz.data.image_index import scan_images
    from cxrviz.data.labelled import labelled_set
    from cxrviz.data.metadata import load_metadata

    data = labelled_set(load_metadata(), scan_images(nih_images))
    keep = np.zeros(len(data), dtype=bool)
    keep[np.random.default_rng(0).permutation(len(data))[:40]] = True
    return data.subset(keep)


def test_out_of_fold_covers_each_image_once_from_a_model_that_never_saw_it(tmp_path, tiny_set):
    config = TrainConfig(output=tmp_path / "unused.pt", epochs=1, input_size=64, freeze_blocks=10, batch_size=16)
    folds = patient_folds(tiny_set.patient_ids, k=2, seed=0, targets=tiny_set.targets)
    seen, ticks = [], []
    probs = out_of_fold(tiny_set, config, folds, tmp_path / "cv", on_fold=lambda f, names, p: seen.append((f, names, p)),
                        progress=lambda done, total: ticks.append((done, total)))
    assert probs.shape == (len(tiny_set), 14) and np.isfinite(probs).all() and ((probs >= 0) & (probs <= 1)).all()
    assert ticks == [(1, 2), (2, 2)]
    stored = [n for _, names, _ in seen for n in names]
    assert sorted(stored) == sorted(tiny_set.names) and len(set(stored)) == len(stored)
    for fold, names, p in seen:
        checkpoint = torch.load(tmp_path / "cv" / f"fold-{fold}.pt", weights_only=True)
        trained_on = set(checkpoint["train_images"]) | set(checkpoint["val_images"])
        assert trained_on.isdisjoint(names) and len(trained_on) + len(names) == len(tiny_set)
        rows = [tiny_set.names.index(n) for n in names]
        assert np.array_equal(probs[rows], p)

    # resumed: fold 0 is known, so only fold 1 trains again
    known = {n: p[i] for f, names, p in seen if f == 0 for i, n in enumerate(names)}
    again = []
    resumed = out_of_fold(tiny_set, config, folds, tmp_path / "cv2", known=known, on_fold=lambda f, names, p: again.append(f))
    assert again == [1] and not (tmp_path / "cv2" / "fold-0.pt").exists()
    rows = [tiny_set.names.index(n) for n in known]
    assert np.array_equal(resumed[rows], probs[rows])


def test_cross_validated_auroc_against_hand_computed_values():
    from sklearn.metrics import roc_auc_score

    from cxrviz.model.crossval import cross_validated_auroc

    rng = np.random.default_rng(1)
    targets = rng.integers(0, 2, size=(200, 3))
    perfect = cross_validated_auroc(targets, targets * 0.8 + 0.1, ["a", "b", "c"], n_resamples=200)
    assert perfect.mean == 1.0 and perfect.low == 1.0 and perfect.high == 1.0
    noise = rng.random((200, 3))
    result = cross_validated_auroc(targets, noise, ["a", "b", "c"], n_resamples=300)
    by_hand = np.mean([roc_auc_score(targets[:, j], noise[:, j]) for j in range(3)])
    assert result.mean == pytest.approx(by_hand)
    assert result.low < result.mean < result.high and result.low < 0.5 < result.high  # chance lies inside
    assert list(result.per_finding["finding"]) == ["a", "b", "c"]
