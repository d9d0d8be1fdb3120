"""QuantumLayer (lesson 03): exact back ends agree, gradients are right, errors are clear."""

import numpy as np
import pytest
import torch
from qiskit.primitives import StatevectorEstimator
from qiskit.quantum_info import SparsePauliOp

from qdr_course.quantum.backends import (
    aer_estimator,
    aer_sampler,
    device_estimator,
    fake_device,
    primitive_kind,
)
from qdr_course.quantum.circuits import (
    layered_ansatz,
    retinopathy_circuit,
    xia_kais_circuit,
    z_observables,
)
from qdr_course.quantum.layer import QuantumLayer
from qdr_course.quantum.parameter_shift import parameter_shift_jacobian


@pytest.fixture
def batch():
    torch.manual_seed(0)
    return torch.randn(6, 3, dtype=torch.float64, requires_grad=True)


def outputs_and_grads(layer, x, seed=1):
    y = layer(x)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=y.dtype)
    gx, gw = torch.autograd.grad(y, (x, layer.weights), g)
    return y.detach(), gx, gw


def test_shapes_and_contract():
    layer = QuantumLayer(retinopathy_circuit(n_qubits=3, n_layers=2))
    assert (layer.in_features, layer.out_features) == (3, 3)
    assert isinstance(layer.weights, torch.nn.Parameter) and layer.weights.shape == (6,)
    assert layer(torch.zeros(5, 3)).shape == (5, 3)
    assert "in_features=3" in repr(layer)


@pytest.mark.parametrize("estimator", [aer_estimator(), StatevectorEstimator()],
                         ids=["aer", "statevector_estimator"])
def test_exact_backends_agree_to_1e_10(estimator, batch):
    pc = layered_ansatz(3, 2, rotations=("rz", "ry"))
    exact = QuantumLayer(pc)
    on_primitive = QuantumLayer(pc, backend=estimator, init_weights=exact.weights.detach())
    y1, gx1, gw1 = outputs_and_grads(exact, batch)
    y2, gx2, gw2 = outputs_and_grads(on_primitive, batch)
    for a, b in ((y1, y2), (gx1, gx2), (gw1, gw2)):
        assert (a - b).abs().max() < 1e-10
    # ONE call for the forward batch and ONE for all shifted bindings of the backward pass
    assert on_primitive.num_primitive_calls == 2


def test_estimator_gradient_is_the_parameter_shift_rule(batch):
    pc = xia_kais_circuit()
    layer = QuantumLayer(pc, backend=aer_estimator())
    x = batch[:, :1].detach().clone().requires_grad_(True)
    y = layer(x)
    jac = parameter_shift_jacobian(pc, x.detach().numpy(), layer.weights.detach().numpy())
    for k in range(pc.num_outputs):
        gx, gw = torch.autograd.grad(y[:, k].sum(), (x, layer.weights), retain_graph=True)
        np.testing.assert_allclose(gx.numpy()[:, 0], jac[:, k, 0], atol=1e-12)
        np.testing.assert_allclose(gw.numpy(), jac[:, k, 1:].sum(0), atol=1e-12)


def test_gradcheck_statevector_and_estimator(batch):
    pc = retinopathy_circuit(3, 2)
    layer = QuantumLayer(pc)
    assert torch.autograd.gradcheck(layer, (batch,))
    fn = lambda x, w: layer.simulator.run(x, w)
    assert torch.autograd.gradcheck(fn, (batch, layer.weights))
    est = QuantumLayer(pc, backend=aer_estimator(), init_weights=layer.weights.detach())
    assert torch.autograd.gradcheck(est, (batch[:2],))


def test_float32_mode_and_output_dtype_follows_input():
    pc = retinopathy_circuit()
    fast = QuantumLayer(pc, dtype=torch.float32)
    exact = QuantumLayer(pc, init_weights=fast.weights.detach().double())
    x = torch.randn(16, 3)
    assert fast(x).dtype == torch.float32 and exact(x).dtype == torch.float32
    assert exact(x.double()).dtype == torch.float64
    assert (fast(x).double() - exact(x.double())).abs().max() < 1e-5


def test_trains_inside_a_torch_model():
    torch.manual_seed(0)
    layer = QuantumLayer(retinopathy_circuit(3, 2))
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), layer, torch.nn.Linear(3, 2))
    x = torch.randn(64, 2)
    y = (x[:, 0] * x[:, 1] > 0).long()  # XOR-like: needs the non-linear layer
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before = layer.weights.detach().clone()
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]
    assert not torch.equal(before, layer.weights.detach())


def test_sampler_is_unbiased_within_shot_noise(batch):
    pc = retinopathy_circuit()
    exact = QuantumLayer(pc)
    shots = 4000
    sampled = QuantumLayer(pc, backend=aer_sampler(shots=shots, seed=3), shots=shots,
                           init_weights=exact.weights.detach())
    y, y_hat = exact(batch).detach(), sampled(batch).detach()
    std = torch.sqrt((1 - y**2) / shots)
    assert ((y_hat - y).abs() <= 5 * std + 1e-12).all()
    assert (y_hat - y).abs().max() > 0  # real shots, not exact values
    gx, = torch.autograd.grad(sampled(batch).sum(), batch)
    assert gx.shape == batch.shape and sampled.num_primitive_calls == 3


def test_fake_device_runs_transpiled_once(batch):
    pc = retinopathy_circuit()
    device = fake_device("FakeManilaV2")
    layer = QuantumLayer(pc, backend=device_estimator(device, shots=2000, seed=0),
                         transpile_to=device)
    # an ISA circuit on the device's qubits
    assert layer.executed_circuit.num_qubits == device.num_qubits
    y = layer(batch[:3]).detach()
    exact = QuantumLayer(pc, init_weights=layer.weights.detach())(batch[:3]).detach()
    assert (y - exact).abs().max() < 0.3  # noisy but the same function
    assert y.shape == (3, 3)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_validation_errors():
    pc = retinopathy_circuit()
    layer = QuantumLayer(pc)
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        layer(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        layer(torch.zeros(3))
    with pytest.raises(ValueError, match="NaN or infinity.*row 1, column 2"):
        layer(torch.tensor([[0.0, 0, 0], [0, 0, float("inf")]]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="floating-point"):
        layer(torch.zeros(2, 3, dtype=torch.long))
    from qiskit_aer.primitives import Estimator, Sampler
    for v1 in (Estimator(), Sampler()):
        with pytest.raises(TypeError, match="V1 primitive.*removed in Qiskit 2.0"):
            QuantumLayer(pc, backend=v1)
    with pytest.raises(TypeError, match="V2 primitive"):
        QuantumLayer(pc, backend=object())
    with pytest.raises(ValueError, match="'statevector' or a Qiskit V2 primitive"):
        QuantumLayer(pc, backend="aer")
    with pytest.raises(ValueError, match=r"init_weights must have shape \(6,\)"):
        QuantumLayer(pc, init_weights=torch.zeros(5))
    with pytest.raises(ValueError, match="acts on 2 qubits but the circuit has 3"):
        QuantumLayer(pc, observables=z_observables(2))
    with pytest.raises(ValueError, match="not diagonal"):
        QuantumLayer(pc, backend=aer_sampler(), observables=[SparsePauliOp("IIX")])
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        QuantumLayer(pc, backend=aer_sampler(), shots=0)
    layer.weights = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"weights must have shape \(6,\)"):
        layer(torch.zeros(1, 3))
    assert primitive_kind(aer_estimator()) == "estimator"


def test_non_diagonal_observables_on_statevector_and_estimator(batch):
    pc = retinopathy_circuit()
    obs = [SparsePauliOp(["XIZ", "IYY"], [0.5, 0.5]), SparsePauliOp("ZZZ")]
    a = QuantumLayer(pc, observables=obs)
    b = QuantumLayer(pc, backend=aer_estimator(), observables=obs, init_weights=a.weights.detach())
    assert a.out_features == 2
    assert (a(batch) - b(batch)).abs().max() < 1e-10


def test_nan_weights_after_a_diverged_step_are_refused_not_propagated():
    """Issue 27.13: inputs and initial weights were checked, the live weights were not."""
    from qdr_course.quantum.circuits import retinopathy_circuit

    layer = QuantumLayer(retinopathy_circuit(2, 1))
    x = torch.zeros(3, layer.in_features)
    assert torch.isfinite(layer(x)).all()
    with torch.no_grad():
        layer.weights[1] = float("nan")  # what an optimiser step with an inf gradient leaves
    with pytest.raises(ValueError, match="weights contain NaN or infinity \\(first at index 1\\)"):
        layer(x)
    with torch.no_grad():
        layer.weights[1] = 0.3
    assert torch.isfinite(layer(x)).all()
