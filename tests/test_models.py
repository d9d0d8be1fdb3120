"""Tests for qdr_course.retina.models: shapes, bad input, the honest baseline, the seed's loss
floor.
"""

import math

import numpy as np
import pytest
import torch

from qdr_course.retina.grades import SHORT_GRADE_NAMES
from qdr_course.retina.models import (
    ClassicalGrader,
    FundusCNN,
    build_grader,
    count_parameters,
    sigmoid_pair_loss_floor,
    validate_images,
)


def small_classical(**kw):
    return ClassicalGrader(num_inputs=3, num_outputs=3, image_size=16, channels=(4, 8), **kw)


def test_classical_grader_shapes_and_probabilities():
    torch.manual_seed(0)
    model = small_classical()
    x = torch.rand(5, 3, 16, 16)
    logits = model(x)
    assert logits.shape == (5, 5)
    assert model.encode(x).shape == (5, 3)
    assert torch.all(model.encode(x).abs() <= 1)  # tanh, like Pauli expectation values
    angles = model.angles(x)
    assert torch.all(angles.abs() < math.pi)
    p = model.predict_proba(x)
    assert torch.allclose(p.sum(1), torch.ones(5, dtype=p.dtype))
    assert model.training  # predict_proba restores the mode


def test_cnn_width_and_any_image_size():
    cnn = FundusCNN(channels=(4, 6))
    assert cnn(torch.zeros(2, 3, 32, 32)).shape == (2, 6)
    assert cnn.width == 6


@pytest.mark.parametrize("bad, error, words", [
    (torch.rand(2, 3, 32, 32), ValueError, "16x16"),
    (torch.rand(2, 1, 16, 16), ValueError, "3 colour channels"),
    (torch.rand(2, 16, 16, 3), ValueError, "permute"),
    (torch.rand(3, 16, 16), ValueError, "unsqueeze"),
    (torch.zeros(2, 3, 16, 16, dtype=torch.uint8), TypeError, "floating point"),
    (np.zeros((2, 3, 16, 16), dtype=np.float32), TypeError, "torch.Tensor"),
    (torch.rand(0, 3, 16, 16), ValueError, "empty"),
])
def test_bad_images_get_clear_errors(bad, error, words):
    model = small_classical()
    with pytest.raises(error, match=words):
        model(bad)


def test_check_images_accepts_good_batch():
    x = torch.rand(1, 3, 8, 8)
    assert validate_images(x, 8) is x


@pytest.mark.parametrize("kw", [dict(num_inputs=0), dict(num_outputs=-1), dict(image_size=3),
                                dict(channels=()), dict(num_inputs=2.5)])
def test_bad_arguments(kw):
    args = dict(num_inputs=3, num_outputs=3, image_size=16, channels=(4, 8)) | kw
    with pytest.raises(ValueError):
        ClassicalGrader(**args)


def test_config_rebuilds_the_same_architecture():
    model = small_classical()
    twin = build_grader("classical", **model.config)
    assert twin.config == model.config
    twin.load_state_dict(model.state_dict())  # same parameter names and shapes
    twin2 = build_grader("ClassicalGrader", **model.config)
    assert count_parameters(twin2) == count_parameters(model)
    with pytest.raises(ValueError, match="unknown grader"):
        build_grader("quantum-magic")


def test_classical_bottleneck_parameter_count():
    model = ClassicalGrader(num_inputs=3, num_outputs=3, image_size=16, channels=(4, 8))
    assert model.bottleneck_parameters() == 3 * 3 + 3


def test_gradients_reach_every_parameter():
    torch.manual_seed(1)
    model = small_classical()
    loss = torch.nn.functional.cross_entropy(model(torch.rand(4, 3, 16, 16)),
                                             torch.tensor([0, 1, 2, 4]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_grade_names_in_severity_order():
    assert SHORT_GRADE_NAMES == ("No DR", "Mild", "Moderate", "Severe", "Proliferative")


def test_sigmoid_pair_loss_floor_matches_optimisation():
    """The seed's cat(p, 1-p) loss cannot go below the stated floor: minimise it directly."""
    floor = sigmoid_pair_loss_floor(5)
    assert floor == pytest.approx(1.8278, abs=1e-4)
    z = torch.zeros(1, 5, requires_grad=True)
    opt = torch.optim.Adam([z], lr=0.1)
    target = torch.tensor([2])
    for _ in range(1500):
        opt.zero_grad()
        p = torch.sigmoid(z)
        loss = torch.nn.functional.cross_entropy(torch.cat([p, 1 - p], dim=1), target)
        loss.backward()
        opt.step()
    assert loss.item() > floor - 1e-6
    assert loss.item() == pytest.approx(floor, abs=2e-3)
    # the minimiser: the target's p near 1, the others at 1/2
    p = torch.sigmoid(z).detach()[0]
    assert p[2] > 0.99 and torch.allclose(p[[0, 1, 3, 4]], torch.full((4,), 0.5), atol=1e-3)
    # proper logits have no floor
    logits = torch.tensor([[0., 0., 30., 0., 0.]])
    assert float(torch.nn.functional.cross_entropy(logits, target)) < 1e-6
    with pytest.raises(ValueError):
        sigmoid_pair_loss_floor(1)


# ----------------------------------------------------------------------------- hybrid grader
from qdr_course.retina.models import HybridGrader  # noqa: E402


def small_hybrid(**kw):
    torch.manual_seed(0)
    return HybridGrader(n_qubits=3, n_layers=2, image_size=16, channels=(4, 8), **kw)


def test_hybrid_grader_shapes_and_circuit_outputs():
    model = small_hybrid()
    x = torch.rand(4, 3, 16, 16)
    assert model(x).shape == (4, 5)
    z = model.encode(x)
    assert z.shape == (4, model.circuit.num_outputs)
    assert torch.all(z.abs() <= 1 + 1e-9)  # Pauli-Z expectation values
    assert model.quantum is model.bottleneck
    assert model.bottleneck_parameters() == model.circuit.num_weights
    with pytest.raises(ValueError, match="16x16"):
        model(torch.rand(2, 3, 8, 8))


def test_hybrid_and_classical_twin_are_comparable():
    hybrid = small_hybrid()
    twin = ClassicalGrader.matching(hybrid)
    assert twin.num_inputs == hybrid.num_inputs and twin.num_outputs == hybrid.num_outputs
    # everything but the bottleneck is identical in shape
    def shapes(model):
        return {k: v.shape for k, v in model.state_dict().items()
                if not k.startswith("bottleneck")}

    h_shapes, c_shapes = shapes(hybrid), shapes(twin)
    assert h_shapes == c_shapes
    difference = abs(count_parameters(hybrid) - count_parameters(twin))
    assert difference <= 2 * hybrid.num_inputs * hybrid.num_outputs


def test_hybrid_gradient_matches_finite_differences():
    """Autograd through CNN + circuit + head against central differences (float64)."""
    model = small_hybrid().double().eval()
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    y = torch.tensor([1, 3])

    def loss_fn():
        return torch.nn.functional.cross_entropy(model(x), y)

    loss_fn().backward()
    for param in (model.bottleneck.weights, model.compress.bias, model.head.weight):
        analytic = param.grad.detach().clone().reshape(-1)
        flat = param.data.view(-1)
        for i in range(min(4, flat.numel())):
            old = flat[i].item()
            flat[i] = old + 1e-6
            up = loss_fn().item()
            flat[i] = old - 1e-6
            down = loss_fn().item()
            flat[i] = old
            assert analytic[i].item() == pytest.approx((up - down) / 2e-6, abs=1e-7)


def test_with_backend_exact_estimator_matches_statevector():
    from qdr_course.quantum.backends import aer_estimator

    model = small_hybrid().eval()
    x = torch.rand(3, 3, 16, 16)
    on_aer = model.with_backend(aer_estimator(precision=0.0))
    assert on_aer.bottleneck.kind == "estimator" and model.bottleneck.kind == "statevector"
    torch.testing.assert_close(on_aer(x), model(x), atol=1e-5, rtol=1e-5)
    assert not on_aer.training


def test_hybrid_config_and_checkpoint_kind(tmp_path):
    from qdr_course.retina.training import load_checkpoint, save_checkpoint

    model = small_hybrid()
    path = save_checkpoint(tmp_path / "h.pt", model)
    loaded = load_checkpoint(path)
    assert isinstance(loaded, HybridGrader)
    torch.testing.assert_close(loaded.bottleneck.weights, model.bottleneck.weights)
    with pytest.raises(ValueError, match="holds a HybridGrader, not a ClassicalGrader"):
        load_checkpoint(path, ClassicalGrader.matching(model))
    with pytest.raises(ValueError, match="n_qubits"):
        HybridGrader(n_qubits=0)


# ------------------------------------------------------------------------------- saliency
from qdr_course.retina.models import lesion_enrichment, saliency_map  # noqa: E402


def test_saliency_is_the_input_gradient():
    model = small_classical().eval()
    image = torch.rand(3, 16, 16)
    s = saliency_map(model, image, grade=2)
    assert s.shape == (16, 16) and (s >= 0).all()
    # against finite differences on one pixel of the channel with the largest gradient
    x = image.clone().double()
    model = model.double()
    s = saliency_map(model, x, grade=2)
    i, j = 5, 7
    diffs = []
    for c in range(3):
        up, down = x.clone(), x.clone()
        up[c, i, j] += 1e-6
        down[c, i, j] -= 1e-6
        with torch.no_grad():
            diffs.append(abs((model(up[None])[0, 2] - model(down[None])[0, 2]).item()) / 2e-6)
    assert s[i, j].item() == pytest.approx(max(diffs), rel=1e-4, abs=1e-9)
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError):
        saliency_map(model, torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError):
        saliency_map(model, x, grade=7)


def test_lesion_enrichment_formula():
    mask = torch.zeros(10, 10, dtype=torch.bool)
    mask[0, :5] = True  # P(lesion) = 0.05
    s = mask.float() + 0.001 * torch.arange(100.0).reshape(10, 10) / 100
    assert lesion_enrichment(s, mask, 0.05) == pytest.approx(20.0)  # all top-5 on lesions
    assert lesion_enrichment(s, mask, 0.10) == pytest.approx(10.0)  # 5 of top-10
    assert lesion_enrichment(torch.ones(10, 10), torch.ones(10, 10), 0.3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="empty"):
        lesion_enrichment(s, torch.zeros(10, 10), 0.1)
    with pytest.raises(ValueError, match="same"):
        lesion_enrichment(s, torch.zeros(5, 5), 0.1)
    with pytest.raises(ValueError):
        lesion_enrichment(s, mask, 0)


def test_on_device_runs_the_circuit_on_a_noisy_fake_device():
    model = small_hybrid().eval()
    x = torch.rand(3, 3, 16, 16)
    noisy = model.on_device("FakeManilaV2", shots=2000, seed=0)
    assert noisy.bottleneck.kind == "estimator" and model.bottleneck.kind == "statevector"
    with torch.no_grad():
        exact, measured = model.encode(x), noisy.encode(x)
    diff = (measured - exact).abs()
    assert diff.max() < 0.35  # noisy, but the same circuit
    assert diff.mean() > 1e-3  # and really noisy (shots + device errors)
    with pytest.raises(ValueError, match="unknown fake device"):
        model.on_device("FakeNowhere")
