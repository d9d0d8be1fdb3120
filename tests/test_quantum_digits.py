"""Lesson 03's digit experiment pieces: data, models, training step, back-end swap."""

import math

import pytest
import torch

from qdr_course.quantum.backends import aer_estimator
from qdr_course.quantum.digits import (
    DigitNet,
    accuracy,
    classical_digit_net,
    fit,
    hybrid_digit_net,
    load_digit_tensors,
    train_step,
    with_backend,
)
from qdr_course.quantum.layer import QuantumLayer, encode_angles


def test_encode_angles_is_bounded_and_one_to_one():
    z = torch.linspace(-10, 10, 61, dtype=torch.float64)
    a = encode_angles(z)
    assert a.abs().max() < math.pi / 2 and torch.all(a[1:] > a[:-1])
    # saturates
    assert encode_angles(torch.tensor([1e6], dtype=torch.float64)).item() <= math.pi / 2
    torch.testing.assert_close(a, (math.pi / 2) * torch.tanh(z))
    with pytest.raises(TypeError, match="torch.Tensor"):
        encode_angles([0.1])


def test_load_digit_pair_is_stratified_and_validated():
    x_tr, y_tr, x_te, y_te = load_digit_tensors((3, 8), test_size=0.25, seed=0)
    assert x_tr.shape[1:] == (1, 8, 8) and x_tr.dtype == torch.float32
    assert 0 <= x_tr.min() and x_tr.max() <= 1
    assert len(x_te) / (len(x_tr) + len(x_te)) == pytest.approx(0.25, abs=0.01)
    assert abs(y_tr.float().mean() - y_te.float().mean()) < 0.03
    with pytest.raises(ValueError, match="two different digits"):
        load_digit_tensors((1, 1))
    with pytest.raises(ValueError, match="test_size"):
        load_digit_tensors((0, 1), test_size=1.5)


def test_models_shapes_and_input_check():
    torch.manual_seed(0)
    hybrid, classical = hybrid_digit_net(), classical_digit_net()
    images = torch.rand(5, 1, 8, 8)
    assert hybrid(images).shape == (5, 2) and classical(images).shape == (5, 2)
    assert isinstance(hybrid.bottleneck, QuantumLayer)
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        hybrid(torch.rand(5, 8, 8))


def test_train_step_and_fit_learn_zero_vs_one():
    torch.manual_seed(0)
    x_tr, y_tr, x_te, y_te = load_digit_tensors((0, 1), seed=0)
    model = hybrid_digit_net()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    first = train_step(model, opt, x_tr[:32], y_tr[:32])
    assert isinstance(first, float) and first > 0
    history = fit(model, x_tr, y_tr, x_te, y_te, epochs=3, seed=0)
    assert history["loss"][-1] < history["loss"][0]
    assert history["test_accuracy"][-1] > 0.95
    assert accuracy(model, x_te, y_te) == history["test_accuracy"][-1]
    with pytest.raises(ValueError, match="epochs"):
        fit(model, x_tr, y_tr, epochs=0)


def test_with_backend_keeps_the_trained_function():
    torch.manual_seed(0)
    model = hybrid_digit_net().eval()
    copy = with_backend(model, aer_estimator())
    images = torch.rand(4, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(copy(images), model(images), atol=1e-6, rtol=1e-6)
    assert copy.bottleneck.kind == "estimator" and model.bottleneck.kind == "statevector"
    assert copy.features is not model.features  # a copy: training one leaves the other alone
    with pytest.raises(TypeError, match="hybrid DigitNet"):
        with_backend(classical_digit_net(), aer_estimator())
    assert isinstance(copy, DigitNet) and not copy.training
