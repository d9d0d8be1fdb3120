"""Issue 13: lesson 05's real-data section, run on a small npz in RetinaMNIST's layout."""

import numpy as np

from qdr_course.retina import (
    ClassicalGrader,
    HybridGrader,
    format_real_scores,
    train_and_score,
    try_load_retinamnist,
)


def _fake_retinamnist(path, rng):
    arrays = {}
    for split, n in (("train", 40), ("val", 15), ("test", 20)):
        labels = np.arange(n) % 5
        images = rng.integers(0, 60, (n, 28, 28, 3)).astype(np.uint8)
        images[..., 0] += (40 * labels).astype(np.uint8)[:, None, None]  # grade-dependent red
        arrays[f"{split}_images"] = images
        arrays[f"{split}_labels"] = labels.reshape(-1, 1)  # MedMNIST stores (N, 1)
    np.savez(path, **arrays)


def test_section_runs_on_a_file_in_the_real_layout(tmp_path):
    path = tmp_path / "retinamnist.npz"
    _fake_retinamnist(path, np.random.default_rng(0))
    data, note = try_load_retinamnist(size=28, path=path)
    assert data is not None and note.startswith("RetinaMNIST loaded")
    assert (len(data.train), len(data.val), len(data.test)) == (40, 15, 20)
    rows = train_and_score({"hybrid": lambda: HybridGrader(image_size=28),
                            "classical": lambda: ClassicalGrader(image_size=28)},
                           data, epochs=2, lr=1e-2, batch_size=8, progress=False)
    table = format_real_scores(rows)
    assert set(rows) == {"hybrid", "classical"}
    assert all(-1 <= r["qwk"] <= 1 and 0 <= r["accuracy"] <= 1 and 0 <= r["auc"] <= 1
               for r in rows.values())
    assert "published (MedMNIST v2)" in table and "0.49-0.53" in table and "0.69-0.75" in table


def test_offline_is_one_line_and_no_error(tmp_path, monkeypatch):
    monkeypatch.delenv("QDR_RETINAMNIST", raising=False)
    data, note = try_load_retinamnist(size=28, cache_dir=tmp_path, download=False)
    assert data is None and "\n" not in note and "skipping" in note
