"""Issue 13: Ben Graham's settings, the loss cap, the seed's model as written, readout bias."""

import math

import numpy as np
import pytest
import torch

from qdr_course.retina import synthetic_fundus
from qdr_course.retina.preprocessing import ben_graham, circular_mask, fov_radius


def test_graham_settings_remove_the_rim_ring():
    img = synthetic_fundus(grade=2, size=128, seed=4)[0]
    r = fov_radius(img)
    assert 50 < r <= 64
    kept = ben_graham(img, rim=None)
    graham = ben_graham(img)
    ring = circular_mask(128, 1.0 * r / 64) & ~circular_mask(128, 0.9 * r / 64)
    assert np.abs(kept[ring].astype(float) - 128).mean() > 10  # the filter's bright/dark rim
    assert np.all(graham[ring] == 128)
    inner = circular_mask(128, 0.8 * r / 64)
    assert np.array_equal(graham[inner], kept[inner])


def test_fov_radius_of_a_padded_photograph():
    img = np.zeros((100, 100, 3), np.uint8)
    img[circular_mask(100, 0.6)] = 120
    assert fov_radius(img) == pytest.approx(30, abs=1)
    assert fov_radius(np.zeros((20, 20, 3), np.uint8)) == 10


def test_sigmoid_pair_cap_is_the_right_grades_best_probability():
    from qdr_course.retina import sigmoid_pair_loss_floor, sigmoid_pair_probability_cap

    cap = sigmoid_pair_probability_cap(5)
    assert cap == pytest.approx(math.e / (math.e + 1 + 8 * math.sqrt(math.e)))
    assert round(cap, 3) == 0.161 and -math.log(cap) == pytest.approx(sigmoid_pair_loss_floor(5))
    p = torch.tensor([[1.0, 0.5, 0.5, 0.5, 0.5]])
    best = torch.softmax(torch.cat([p, 1 - p], 1), 1)[0, 0].item()
    assert best == pytest.approx(cap, abs=1e-6)
    rng = np.random.default_rng(0)  # no sigmoid outputs do better
    q = torch.tensor(rng.uniform(0, 1, (2000, 5)), dtype=torch.float32)
    assert torch.softmax(torch.cat([q, 1 - q], 1), 1)[:, 0].max().item() < cap


def test_seed_circuit_in_torch_matches_qiskit():
    from qiskit.quantum_info import Statevector

    from qdr_course.retina import seed_circuit, seed_circuit_probabilities

    rng = np.random.default_rng(1)
    angles = rng.uniform(-4, 4, (3, 7))
    ours = seed_circuit_probabilities(torch.tensor(angles))
    qc = seed_circuit()
    assert qc.num_parameters == 7 and sum(1 for i in qc.data if i.operation.name == "ry") == 9
    for row, t in zip(ours, angles):
        expected = Statevector(qc.assign_parameters(t)).probabilities()
        assert np.allclose(row.numpy(), expected, atol=1e-12)


def test_seed_grader_as_written_and_fixed():
    from qdr_course.retina import SeedGrader, alphabetical_grades, train_grader

    assert alphabetical_grades([0, 1, 2, 3, 4]).tolist() == [2, 0, 1, 4, 3]
    seed = SeedGrader(image_size=64)
    assert seed.flat_width == 81 and SeedGrader(image_size=224).flat_width == 729
    assert seed.bottleneck_parameters() == 0
    out = seed(torch.rand(3, 3, 64, 64))
    assert out.shape == (3, 10) and torch.allclose(out[:, :5] + out[:, 5:], torch.ones(3, 5))
    fixed = SeedGrader(image_size=64, loss="logits", angles="tanh")
    assert fixed(torch.rand(2, 3, 64, 64)).shape == (2, 5)
    with pytest.raises(ValueError, match="loss must be"):
        SeedGrader(loss="softmax")
    images = np.stack([synthetic_fundus(grade=g % 5, size=64, seed=g)[0] for g in range(15)])
    history = train_grader(seed, (images, np.arange(15) % 5), (images, np.arange(15) % 5),
                           epochs=1, batch_size=8, class_weighting=None, progress=False)
    assert history.epochs == 1 and history.train_loss[0] > 1.828


def test_paired_seed_difference_is_a_t_interval():
    from qdr_course.retina import paired_seed_difference

    results = {"h": [{"qwk": q} for q in (0.80, 0.85, 0.78, 0.90, 0.82)],
               "c": [{"qwk": q} for q in (0.79, 0.80, 0.80, 0.84, 0.80)]}
    out = paired_seed_difference(results, "h", "c")
    d = np.array([0.01, 0.05, -0.02, 0.06, 0.02])
    half = 2.7764451 * d.std(ddof=1) / math.sqrt(5)
    assert out["n"] == 5 and out["mean"] == pytest.approx(d.mean())
    assert (out["low"], out["high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    with pytest.raises(ValueError, match="pairs need one run of each"):
        paired_seed_difference({"h": results["h"], "c": results["c"][:4]}, "h", "c")
    with pytest.raises(ValueError, match="no runs named 'x'"):
        paired_seed_difference(results, "x", "c")


def test_every_synthetic_severe_npdr_meets_the_4_2_1_rule():
    met = []
    for seed in range(60):
        _, _, masks, info = synthetic_fundus(grade=3, size=64, seed=seed, return_info=True)
        plan = info["plan"]
        met.append(plan["beading"] >= 2 or plan["irma"] >= 1)
        assert not masks["neovascularisation"].any()
    assert all(met)


def test_exudates_near_the_fovea_mark_dme():
    from qdr_course.retina import exudates_near_fovea

    _, _, masks, info = synthetic_fundus(grade=2, size=64, seed=3, return_info=True)
    fx, fy = info["macula"]
    masks = {"hard_exudates": np.zeros((64, 64), bool)}
    col, row = int((fx + 1) / 2 * 64), int((fy + 1) / 2 * 64)
    masks["hard_exudates"][row, col] = True
    assert exudates_near_fovea(masks, info)
    far = {"hard_exudates": np.zeros((64, 64), bool)}
    far["hard_exudates"][row, (col + 32) % 64] = True  # half the image away
    assert not exudates_near_fovea(far, info)
    assert not any(exudates_near_fovea(*synthetic_fundus(grade=1, size=64, seed=s,
                                                          return_info=True)[2:])
                   for s in range(10))
