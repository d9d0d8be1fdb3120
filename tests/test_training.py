"""Tests for qdr_course.retina.training and qdr_course.retina.runs on tiny random data (fast)."""

import json
import math

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from qdr_course.retina.loaders import grades_of
from qdr_course.retina.models import ClassicalGrader
from qdr_course.retina.runs import compare_graders, format_summary, summarise_runs
from qdr_course.retina.training import (
    History,
    evaluate_grader,
    load_checkpoint,
    predict_grades,
    read_checkpoint,
    referable_score,
    save_checkpoint,
    train_grader,
)

SIZE = 8


def tiny_data(n=40, seed=0):
    """Images whose mean brightness encodes the grade: learnable in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    grades = torch.arange(n) % 5
    x = 0.1 * torch.rand(n, 3, SIZE, SIZE, generator=g) + grades.view(-1, 1, 1, 1) / 5.0
    return TensorDataset(x, grades)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return ClassicalGrader(num_inputs=3, num_outputs=3, image_size=SIZE, channels=(4,))


def test_training_reduces_loss_and_keeps_best_epoch():
    model = tiny_model()
    train, val = tiny_data(60, 0), tiny_data(20, 1)
    h = train_grader(model, train, val, epochs=4, lr=0.05, batch_size=10, patience=None,
                     progress=False)
    assert isinstance(h, History) and h.epochs == 4
    assert h.train_loss[-1] < h.train_loss[0]
    assert len(h.val_qwk) == 4 and len(h.seconds) == 4
    assert h.best_qwk == max(h.val_qwk) and h.val_qwk[h.best_epoch] == h.best_qwk
    # the model ends with the best epoch's weights: re-evaluating gives the best QWK
    from qdr_course.retina.metrics import quadratic_weighted_kappa
    pred, probs = predict_grades(model, val)
    assert quadratic_weighted_kappa(val.tensors[1].numpy(), pred) == pytest.approx(h.best_qwk)
    assert not model.training


def test_same_seed_same_result_and_resume_matches_uninterrupted(tmp_path):
    kw = dict(epochs=3, lr=0.05, batch_size=8, patience=None, progress=False, seed=3)
    train, val = tiny_data(32, 0), tiny_data(10, 1)
    a = tiny_model()
    ha = train_grader(a, train, val, **kw)
    b = tiny_model()
    hb = train_grader(b, train, val, **kw)
    assert ha.train_loss == hb.train_loss
    # interrupt after one epoch: simulate by training a 3-epoch schedule and stopping the process
    ckpt = tmp_path / "run.pt"
    c = tiny_model()
    hc_full = train_grader(c, train, val, checkpoint=ckpt, **kw)
    assert hc_full.train_loss == ha.train_loss
    payload = read_checkpoint(ckpt)
    assert payload["history"]["train_loss"] == ha.train_loss
    # now a genuinely interrupted run: write a checkpoint after epoch 1 by hand-crafting it
    ckpt2 = tmp_path / "interrupted.pt"
    d = tiny_model()
    _train_one_epoch_then_stop(d, train, val, ckpt2, kw)
    e = tiny_model(seed=99)  # different initial weights: resume must overwrite them
    he = train_grader(e, train, val, checkpoint=ckpt2, resume=True, **kw)
    assert he.epochs == 3
    np.testing.assert_allclose(he.train_loss, ha.train_loss, rtol=1e-6)
    for (k, va), vb in zip(a.state_dict().items(), e.state_dict().values()):
        torch.testing.assert_close(va, vb, rtol=1e-5, atol=1e-6, msg=k)


def _train_one_epoch_then_stop(model, train, val, ckpt, kw):
    """Run train_grader but abort (like Ctrl-C) right after the first checkpoint is saved."""
    import qdr_course.retina.training as training

    real_save = training.save_checkpoint

    def save_then_interrupt(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt

    training.save_checkpoint = save_then_interrupt
    try:
        with pytest.raises(KeyboardInterrupt):
            train_grader(model, train, val, checkpoint=ckpt, **kw)
    finally:
        training.save_checkpoint = real_save
    assert len(read_checkpoint(ckpt)["history"]["train_loss"]) == 1


def test_existing_checkpoint_is_not_overwritten(tmp_path):
    ckpt = tmp_path / "c.pt"
    ckpt.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="resume=True"):
        train_grader(tiny_model(), tiny_data(10), epochs=1, checkpoint=ckpt, progress=False)
    assert ckpt.read_bytes() == b"precious"


def test_resume_with_other_settings_is_refused(tmp_path):
    ckpt = tmp_path / "c.pt"
    train_grader(tiny_model(), tiny_data(10), tiny_data(5), epochs=1, checkpoint=ckpt,
                 progress=False)
    with pytest.raises(ValueError, match="cannot resume"):
        train_grader(tiny_model(), tiny_data(10), tiny_data(5), epochs=1, lr=0.1, checkpoint=ckpt,
                     resume=True, progress=False)


def test_early_stopping_stops():
    model = tiny_model()
    # lr tiny: validation QWK cannot improve after epoch 1 -> stops after 1 + patience epochs
    h = train_grader(model, tiny_data(20), tiny_data(10, 1), epochs=10, lr=1e-9, patience=2,
                     progress=False)
    assert h.stopped_early and h.epochs == 3 and h.best_epoch == 0


def test_checkpoint_round_trip_and_wrong_model(tmp_path):
    model = tiny_model()
    path = save_checkpoint(tmp_path / "m.pt", model, note="hello")
    payload = torch.load(path, weights_only=True)  # safe load works: only tensors and plain values
    assert payload["kind"] == "ClassicalGrader" and payload["note"] == "hello"
    loaded = load_checkpoint(path)
    for va, vb in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(va, vb)
    other = ClassicalGrader(num_inputs=4, num_outputs=3, image_size=SIZE, channels=(4,))
    with pytest.raises(ValueError, match="config"):
        load_checkpoint(path, other)

    class OtherKind(ClassicalGrader):
        kind = "HybridGrader"

    with pytest.raises(ValueError, match="holds a ClassicalGrader"):
        load_checkpoint(path, OtherKind(num_inputs=3, num_outputs=3, image_size=SIZE,
                                        channels=(4,)))
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2))


def test_unsafe_or_foreign_checkpoints_are_refused(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="not a qdr-course grader checkpoint"):
        load_checkpoint(foreign)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"format": "qdr-course-grader/1", "obj": History()}, unsafe)  # a pickled class
    with pytest.raises(ValueError, match="not a safe"):
        read_checkpoint(unsafe)
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize("kw, words", [
    (dict(epochs=0), "epochs"), (dict(lr=-1.0), "lr"), (dict(batch_size=0), "batch_size"),
    (dict(patience=0), "patience"), (dict(class_weighting="smote"), "class_weighting"),
    (dict(seed=-1), "seed"),
])
def test_bad_training_arguments(kw, words):
    with pytest.raises(ValueError, match=words):
        train_grader(tiny_model(), tiny_data(10), progress=False, **kw)


def test_empty_dataset_and_wrong_images():
    empty = TensorDataset(torch.zeros(0, 3, SIZE, SIZE), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        train_grader(tiny_model(), empty, progress=False)
    wrong = TensorDataset(torch.zeros(5, 3, 2 * SIZE, 2 * SIZE), torch.arange(5))
    with pytest.raises(ValueError, match="training images do not fit the model: .*8x8"):
        train_grader(tiny_model(), wrong, progress=False)
    one_channel = TensorDataset(torch.zeros(5, 1, SIZE, SIZE), torch.arange(5))
    with pytest.raises(ValueError, match="validation images .* 3 colour channels"):
        train_grader(tiny_model(), tiny_data(10), one_channel, progress=False)
    bad_grades = TensorDataset(torch.zeros(4, 3, SIZE, SIZE), torch.tensor([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="grades must be integers 0..4"):
        train_grader(tiny_model(), bad_grades, progress=False)
    with pytest.raises(TypeError, match="Dataset"):
        train_grader(tiny_model(), "not data", progress=False)


def test_sampler_weighting_runs():
    h = train_grader(tiny_model(), tiny_data(20), epochs=1, class_weighting="sampler",
                     progress=False)
    assert h.epochs == 1 and math.isnan(h.best_qwk)


def test_evaluate_matches_sklearn():
    from sklearn.metrics import accuracy_score, cohen_kappa_score, roc_auc_score

    model = tiny_model()
    train_grader(model, tiny_data(40), epochs=2, lr=0.05, progress=False)
    test = tiny_data(25, 2)
    report = evaluate_grader(model, test)
    pred, probs = predict_grades(model, test)
    y = test.tensors[1].numpy()
    assert report["qwk"] == pytest.approx(cohen_kappa_score(y, pred, weights="quadratic"))
    assert report["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert report["referable_auc"] == pytest.approx(roc_auc_score(y >= 2, probs[:, 2:].sum(1)))
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)


def test_referable_score():
    probs = np.array([[0.5, 0.2, 0.1, 0.1, 0.1], [0, 0, 0, 0, 1.0]])
    np.testing.assert_allclose(referable_score(probs), [0.3, 1.0])
    with pytest.raises(ValueError):
        referable_score(np.ones((2, 4)))


def test_grades_of():
    assert grades_of(tiny_data(7)).tolist() == [0, 1, 2, 3, 4, 0, 1]


def test_compare_and_summarize():
    class Split:
        def __init__(self, ds):
            self.ds = ds

    class Data:
        train, val, test = tiny_data(20, 0), tiny_data(10, 1), tiny_data(10, 2)

    results = compare_graders({"a": tiny_model, "b": tiny_model}, Data, seeds=[0, 1], epochs=1,
                              progress=False)
    assert set(results) == {"a", "b"} and len(results["a"]) == 2
    summary = summarise_runs(results)
    qwks = [r["qwk"] for r in results["a"]]
    mean, std = summary["a"]["qwk"]
    assert mean == pytest.approx(np.mean(qwks)) and std == pytest.approx(np.std(qwks, ddof=1))
    table = format_summary(summary)
    assert "qwk" in table and "±" in table
    with pytest.raises(ValueError):
        compare_graders({}, Data)
    with pytest.raises(ValueError):
        compare_graders({"a": tiny_model}, Data, seeds=[])


def test_run_folder_is_never_overwritten(tmp_path):
    from qdr_course.retina.runs import create_run_dir, read_run, unique_run_dir, write_run

    run = create_run_dir(tmp_path / "r")
    with pytest.raises(FileExistsError, match="never overwritten"):
        create_run_dir(tmp_path / "r")
    assert unique_run_dir(tmp_path, "r") == tmp_path / "r-2"
    with pytest.raises(ValueError):
        unique_run_dir(tmp_path, "a/b")
    model = tiny_model()
    h = train_grader(model, tiny_data(20), tiny_data(10, 1), epochs=2, progress=False,
                     checkpoint=run / "checkpoint.pt")
    report = evaluate_grader(model, tiny_data(10, 2))
    write_run(run, report=report, history=h, settings={"model": "classical"})
    for name in ("metrics.json", "confusion_matrix.png", "learning_curve.png", "checkpoint.pt"):
        assert (run / name).stat().st_size > 0
    meta = read_run(run)
    assert meta["test"]["qwk"] == pytest.approx(report["qwk"])
    assert meta["history"]["train_loss"] == h.train_loss
    json.loads((run / "metrics.json").read_text())
    with pytest.raises(FileExistsError):
        write_run(run, report=report, history=h, settings={})
    with pytest.raises(FileNotFoundError, match="missing"):
        read_run(create_run_dir(tmp_path / "empty"))


def test_warmup_cosine_schedule():
    from qdr_course.retina.training import warmup_cosine

    f = warmup_cosine(100)  # 10 warm-up steps, then cosine from 1 to 0.02
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(55) == pytest.approx(0.02 + 0.98 * 0.5)  # half-way through the decay
    assert f(100) == pytest.approx(0.02)
    assert all(f(i) >= f(i + 1) for i in range(10, 100))
    assert warmup_cosine(1)(0) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        warmup_cosine(0)


def test_compare_graders_pairs_models_seed_for_seed():
    """Lesson 05: twins built by one function see the same batches: identical twins stay equal."""
    import copy

    class Data:
        train, val, test = tiny_data(20, 0), tiny_data(10, 1), tiny_data(10, 2)

    def build(seed):
        model = tiny_model()
        return {"a": model, "b": copy.deepcopy(model)}

    results = compare_graders(build, Data, seeds=[0, 1], epochs=2, progress=False,
                              keep_models=True)
    for ra, rb in zip(results["a"], results["b"]):
        assert np.array_equal(ra["probs"], rb["probs"]) and ra["probs"].shape == (10, 5)
        assert ra["val_probs"].shape == (10, 5) and len(ra["y_true"]) == 10
        assert ra["model"] is not rb["model"]
    assert not np.array_equal(results["a"][0]["probs"], results["a"][1]["probs"])
