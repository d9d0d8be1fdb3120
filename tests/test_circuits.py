"""Circuit builders (lesson 01) and the exact torch simulator, against Qiskit's own Statevector."""

import numpy as np
import pytest
import torch
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

import qdr_course.quantum.statevector as sv
from qdr_course.quantum.circuits import (
    ParameterizedCircuit,
    layered_ansatz,
    probability_observables,
    retinopathy_circuit,
    seed_retinopathy_circuit,
    textbook_circuit,
    xia_kais_circuit,
    z_observables,
)
from qdr_course.quantum.statevector import TorchStatevector, expectation_values


def qiskit_expectations(pc, x, w):
    state = Statevector(pc.bind(x, w))
    return np.array([state.expectation_value(o).real for o in pc.observables])


def general_circuit():
    """Every supported gate kind, an expression 2*b + 1, non-diagonal observables."""
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(3)
    qc.h(0); qc.sx(1); qc.rxx(a, 0, 2); qc.ryy(2 * b + 1, 1, 2); qc.rzz(a, 0, 1)
    qc.rzx(b, 2, 0); qc.cp(a, 1, 2); qc.p(b, 0); qc.rx(-a, 1); qc.cry(a, 0, 1); qc.crx(b, 2, 1)
    qc.crz(a, 1, 0); qc.ccx(0, 1, 2); qc.swap(0, 2); qc.u(0.1, 0.2, 0.3, 1); qc.y(2); qc.t(0)
    obs = [SparsePauliOp(["XYZ", "ZZI"], [0.7, -0.3]), SparsePauliOp("IXI")]
    return ParameterizedCircuit(qc, [a], [b], obs, name="general")


CIRCUITS = [retinopathy_circuit(3, 2), retinopathy_circuit(4, 1), xia_kais_circuit(),
            layered_ansatz(4, 2, ("rz", "ry", "rx"), "cx"), layered_ansatz(2, 3, entangler=None),
            textbook_circuit(), seed_retinopathy_circuit(), general_circuit()]


def test_builders_shapes_and_parameter_split():
    pc = retinopathy_circuit(n_qubits=3, n_layers=2)
    assert (pc.num_qubits, pc.num_inputs, pc.num_weights, pc.num_outputs) == (3, 3, 6, 3)
    assert set(pc.circuit.parameters) == set(pc.input_params) | set(pc.weight_params)
    ops = pc.circuit.count_ops()
    assert ops["h"] == 3 and ops["ry"] == 9 and ops["cz"] == 4
    xk = xia_kais_circuit()
    assert (xk.num_inputs, xk.num_weights, xk.num_outputs) == (1, 9, 3)
    assert xk.circuit.count_ops()["cx"] == 6
    la = layered_ansatz(3, 2, rotations=("rz", "ry"))
    assert la.num_weights == 12 and la.num_inputs == 3
    seed = seed_retinopathy_circuit()
    assert (seed.num_inputs, seed.num_weights, seed.num_outputs) == (7, 0, 8)
    t0 = seed.input_params[0]  # the seed's shared parameter sits in three gates
    assert sum(t0 in inst.operation.params[0].parameters for inst in seed.circuit.data
               if inst.operation.params) == 3


def test_draw_text_and_mpl():
    pc = retinopathy_circuit()
    text = str(pc.draw())
    assert "x[0]" in text and "w[5]" in text
    import matplotlib
    matplotlib.use("Agg")
    fig = pc.draw("mpl")
    assert fig.axes
    with pytest.raises(ValueError, match="output must be"):
        pc.draw("png")


@pytest.mark.parametrize("pc", CIRCUITS, ids=lambda pc: pc.name)
@pytest.mark.parametrize("full", [True, False])
def test_torch_statevector_matches_qiskit(pc, full, monkeypatch):
    monkeypatch.setattr(sv, "FULL_MATRIX_QUBITS", 8 if full else 0)
    rng = np.random.default_rng(1)
    x = rng.normal(scale=2.0, size=(4, pc.num_inputs))
    w = rng.normal(scale=2.0, size=pc.num_weights)
    ours = TorchStatevector(pc).run(torch.tensor(x), torch.tensor(w)).numpy()
    ref = np.stack([qiskit_expectations(pc, xi, w) for xi in x])
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # the state itself, up to nothing (no global phase is dropped by either side)
    state = TorchStatevector(pc).statevector(
        TorchStatevector(pc).gate_angle_values(torch.tensor(x[:1]), torch.tensor(w)))[0].numpy()
    np.testing.assert_allclose(state, Statevector(pc.bind(x[0], w)).data, atol=1e-12)


def test_float32_mode_is_close():
    pc = layered_ansatz(3, 2, ("rz", "ry"))
    x, w = torch.randn(8, 3), torch.randn(12)
    fast = TorchStatevector(pc, dtype=torch.float32).run(x, w)
    exact = TorchStatevector(pc).run(x.double(), w.double())
    assert fast.dtype == torch.float32
    mixed = TorchStatevector(pc).run(x, w)  # float32 in, the simulator's float64 out
    assert mixed.dtype == torch.float64 and (mixed - exact).abs().max() < 1e-6
    with pytest.raises(ValueError, match=r"inputs must have shape \(B, 3\)"):
        TorchStatevector(pc).run(torch.zeros(3), w)
    assert (fast.double() - exact).abs().max() < 1e-5


def test_textbook_layer_is_one_plus_sin_over_two():
    t = np.linspace(-4, 4, 9)
    got = expectation_values(textbook_circuit(), t[:, None])[:, 0]
    np.testing.assert_allclose(got, (1 + np.sin(t)) / 2, atol=1e-14)


def test_probability_observables_are_qiskit_probabilities():
    pc = seed_retinopathy_circuit()
    x = np.random.default_rng(2).normal(size=7)
    probs = expectation_values(pc, x)
    np.testing.assert_allclose(probs, Statevector(pc.bind(x)).probabilities(), atol=1e-14)
    assert probs.sum() == pytest.approx(1.0)
    assert [o.to_matrix().trace().real for o in probability_observables(2)] == [1, 1, 1, 1]


def test_z_observables_labels():
    assert [o.paulis[0].to_label() for o in z_observables(3)] == ["IIZ", "IZI", "ZII"]


def test_validation_errors():
    with pytest.raises(ValueError, match="n_qubits must be an integer >= 1"):
        retinopathy_circuit(n_qubits=0)
    with pytest.raises(ValueError, match="n_layers"):
        xia_kais_circuit(n_layers=1.5)
    with pytest.raises(ValueError, match="rotations"):
        layered_ansatz(2, 1, rotations=("u",))
    with pytest.raises(ValueError, match="entangler"):
        layered_ansatz(2, 1, entangler="iswap")
    pc = retinopathy_circuit()
    with pytest.raises(ValueError, match="acts on 2 qubits but the circuit has 3"):
        ParameterizedCircuit(pc.circuit, pc.input_params, pc.weight_params, z_observables(2))
    with pytest.raises(ValueError, match="neither inputs nor weights"):
        ParameterizedCircuit(pc.circuit, pc.input_params, pc.weight_params[:-1], pc.observables)
    measured = pc.circuit.copy()
    measured.measure_all()
    with pytest.raises(ValueError, match="must not measure"):
        ParameterizedCircuit(measured, pc.input_params, pc.weight_params, pc.observables)
    with pytest.raises(ValueError, match="expected 3 inputs and 6 weights"):
        pc.bind([0.1, 0.2], [0.0] * 6)
    with pytest.raises(TypeError, match="float32 or torch.float64"):
        TorchStatevector(pc, dtype=torch.float16)


def test_unsupported_parameterised_gate_is_named():
    a = Parameter("a")
    qc = QuantumCircuit(1)
    qc.u(a, 0.1, 0.2, 0)
    pc = ParameterizedCircuit(qc, [a], [], z_observables(1))
    with pytest.raises(ValueError, match="single-angle rotations"):
        TorchStatevector(pc)
    b = Parameter("b")
    qc = QuantumCircuit(1)
    qc.ry(b * b, 0)
    with pytest.raises(ValueError, match="not affine"):
        TorchStatevector(ParameterizedCircuit(qc, [b], [], z_observables(1)))
