"""``QuantumLayer``: a parameterised circuit as a PyTorch layer. See lesson 03.

Example (runs in a second on a laptop)::

    >>> import torch
    >>> from qdr_course.circuits import retinopathy_circuit
    >>> from qdr_course.layer import QuantumLayer
    >>> _ = torch.manual_seed(0)
    >>> layer = QuantumLayer(retinopathy_circuit(n_qubits=3, n_layers=2))
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), layer, torch.nn.Linear(3, 2))
    >>> optimiser = torch.optim.Adam(model.parameters(), lr=0.1)
    >>> x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    >>> for step in range(5):
    ...     optimiser.zero_grad()
    ...     loss = torch.nn.functional.cross_entropy(model(x), y)
    ...     loss.backward()
    ...     optimiser.step()
    >>> layer.weights.grad.shape
    torch.Size([6])
"""

from __future__ import annotations

import math

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from qdr_course.backends import expand_controlled_parameter_gates, primitive_kind, transpile_for
from qdr_course.circuits import ParameterizedCircuit
from qdr_course.parameter_shift import estimate_expectations, gate_angles
from qdr_course.statevector import TorchStatevector

__all__ = ["QuantumLayer", "encode_angles"]


def encode_angles(z: torch.Tensor) -> torch.Tensor:
    """Squash unbounded features into angles (pi/2) tanh(z) in (-pi/2, pi/2). See lesson 03.

    After H, RY(angle) gives <Z> = -sin(angle): one-to-one on (-pi/2, pi/2). Raw features as
    angles (the seed's choice) wrap around every 2 pi, so far-apart features can collide.
    """
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
    return (math.pi / 2) * torch.tanh(z)


class QuantumLayer(torch.nn.Module):
    """Map inputs (B, in_features) to expectation values (B, out_features) of a parameterised circuit. See lesson 03.

    Args:
        circuit: a :class:`~qdr_course.circuits.ParameterizedCircuit`; its inputs receive
            the layer's input columns (as rotation angles, in radians), its weights are trained.
        backend: ``"statevector"`` (default: exact, batched pure-torch simulation with
            autograd), or any Qiskit ``BaseEstimatorV2`` (gradients by the parameter-shift rule:
            one primitive call for the forward pass, one for the backward pass), or a
            ``BaseSamplerV2`` (real shot noise; observables must be diagonal, i.e. I and Z only).
        dtype: ``torch.float64`` (exact mode, default) or ``torch.float32`` (statevector only
            faster). Outputs are returned in the dtype of the input.
        observables: optional list of ``SparsePauliOp`` replacing the circuit's observables.
        transpile_to: a ``BackendV2`` (e.g. a fake IBM device) or ``Target``; the circuit is
            transpiled for it once, and the observables are mapped to its layout.
        shots: shots per binding for a sampler (``None``: the primitive's default).
        init_weights: optional initial weights (num_weights,); default uniform in [0, 2 pi).

    Any finite real angles are accepted; NaN and infinity are rejected.
    """

    def __init__(self, circuit: ParameterizedCircuit, backend="statevector",
                 dtype: torch.dtype = torch.float64, observables: list[SparsePauliOp] | None = None,
                 transpile_to=None, shots: int | None = None, init_weights=None):
        super().__init__()
        if not isinstance(circuit, ParameterizedCircuit):
            raise TypeError("circuit must be a ParameterizedCircuit (e.g. qdr_course.circuits."
                            f"retinopathy_circuit()), got {type(circuit).__name__}")
        if circuit.num_inputs == 0:
            raise ValueError("the circuit has no input parameters, so the layer would ignore its "
                             "input; build it with at least one input")
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        if observables is not None:
            circuit = ParameterizedCircuit(circuit.circuit, circuit.input_params,
                                           circuit.weight_params, list(observables),
                                           name=circuit.name)
        if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
            raise ValueError(f"shots must be a positive integer or None, got {shots!r}")
        self.circuit = circuit
        self.in_features = circuit.num_inputs
        self.out_features = circuit.num_outputs
        self.dtype = dtype
        self.shots = shots
        self.num_primitive_calls = 0
        self._angles = gate_angles(circuit)

        if isinstance(backend, str):
            if backend != "statevector":
                raise ValueError(f"backend must be 'statevector' or a Qiskit V2 primitive, got {backend!r}")
            self.kind = "statevector"
            if transpile_to is not None or shots is not None:
                raise ValueError("transpile_to and shots apply to Qiskit primitives, not to the "
                                 "exact statevector back end")
            self._simulator = TorchStatevector(self._angles, dtype=dtype)
        else:
            self.kind = primitive_kind(backend)
            if dtype != torch.float64:
                raise ValueError("Qiskit primitives compute in float64; use dtype=torch.float64")
            if self.kind == "estimator" and shots is not None:
                raise ValueError("shots apply to a sampler; set an estimator's precision or "
                                 "default_shots on the estimator itself")
            self._angles.check_shift_rule()
            self._prepare(backend, transpile_to)
        self.backend = backend

        if init_weights is None:
            init = torch.rand(circuit.num_weights, dtype=dtype) * (2 * math.pi)
        else:
            init = torch.as_tensor(init_weights, dtype=dtype).detach().clone()
            if init.shape != (circuit.num_weights,):
                raise ValueError(f"init_weights must have shape ({circuit.num_weights},), "
                                 f"got {tuple(init.shape)}")
            if not torch.isfinite(init).all():
                raise ValueError("init_weights contains NaN or infinity")
        self.weights = torch.nn.Parameter(init)

    # -- Qiskit primitives ------------------------------------------------------------------
    def _prepare(self, primitive, transpile_to) -> None:
        """Transpile once and cache the circuit and (layout-mapped) observables."""
        circuit = self._angles.circuit
        observables = list(self._angles.observables)
        if self.kind == "sampler":  # measure every qubit: bit i of each shot is qubit i
            for i, obs in enumerate(observables):
                if obs.paulis.x.any():
                    raise ValueError(f"observable {i} ({obs}) is not diagonal in the Z basis; a "
                                     "sampler only measures Z: use an estimator for it")
            circuit = circuit.copy()
            circuit.measure_all()
        if transpile_to is not None:
            circuit = transpile_for(circuit, transpile_to)
            if self.kind == "estimator" and circuit.layout is not None:
                observables = [obs.apply_layout(circuit.layout) for obs in observables]
        self._circuit = expand_controlled_parameter_gates(circuit)  # Aer ignores parameterised CP
        self._observables = observables

    def _run_primitive(self, theta: np.ndarray) -> np.ndarray:
        """<O_k> for every row of gate angles theta (N, G): ONE primitive call."""
        self.num_primitive_calls += 1
        if self.kind == "estimator":
            return estimate_expectations(self._angles, theta, self.backend, self._circuit,
                                         self._observables)
        position = {p: g for g, p in enumerate(self._angles.angles)}
        columns = [position[p] for p in self._circuit.parameters]
        bound = theta[:, columns]
        job = self.backend.run([(self._circuit, bound)], shots=self.shots)
        bits = job.result()[0].data.meas.to_bool_array(order="little")  # (N, shots, n): qubit i
        signs = 1.0 - 2.0 * bits
        out = np.zeros((len(theta), len(self._angles.observables)))
        for k, obs in enumerate(self._angles.observables):
            for z, coeff in zip(obs.paulis.z, obs.coeffs):
                out[:, k] += coeff.real * np.prod(signs[..., z], axis=-1).mean(axis=-1)
        return out

    # -- torch ------------------------------------------------------------------------------
    def _check_input(self, x) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"input must have shape (batch, {self.in_features}) - one angle per "
                             f"circuit input - got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"input must be a floating-point tensor, got {x.dtype}")
        if not torch.isfinite(x).all():
            bad = (~torch.isfinite(x)).nonzero()[0].tolist()
            raise ValueError(f"input contains NaN or infinity (first at row {bad[0]}, column "
                             f"{bad[1]}); angles must be finite real numbers")
        if self.weights.shape != (self.circuit.num_weights,):
            raise ValueError(f"weights must have shape ({self.circuit.num_weights},), got "
                             f"{tuple(self.weights.shape)}; do not replace layer.weights by hand")
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Expectation values (B, out_features) for angles x (B, in_features)."""
        x = self._check_input(x)
        if self.kind == "statevector":
            out = self._simulator.run(x.to(self.dtype), self.weights)
        else:
            out = _ShiftRuleFunction.apply(x.to(torch.float64), self.weights, self)
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        backend = self.kind if self.kind == "statevector" else f"{self.kind}={type(self.backend).__name__}"
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"num_weights={self.circuit.num_weights}, backend={backend}, dtype={self.dtype}")


class _ShiftRuleFunction(torch.autograd.Function):
    """Forward: ONE primitive call for the batch; backward: ONE call with all 2 G B shifted bindings."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weights: torch.Tensor, layer: QuantumLayer) -> torch.Tensor:
        p = torch.cat([x, weights.expand(x.shape[0], -1)], dim=1).detach().cpu().numpy()
        theta = layer._angles.angle_values(p)
        ctx.layer = layer
        ctx.theta = theta
        return torch.as_tensor(layer._run_primitive(theta), dtype=torch.float64)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        layer, theta = ctx.layer, ctx.theta
        batch, num_angles = theta.shape
        shifts = np.concatenate([np.eye(num_angles), -np.eye(num_angles)]) * (math.pi / 2)
        shifted = (theta[:, None, :] + shifts[None]).reshape(-1, num_angles)
        evs = layer._run_primitive(shifted).reshape(batch, 2 * num_angles, -1)
        dtheta = (evs[:, :num_angles] - evs[:, num_angles:]) / 2  # (B, G, n_out)
        grad_p = np.einsum("bo,bgo,gp->bp", grad_out.detach().cpu().numpy(), dtheta,
                           layer._angles.jacobian)
        grad_p = torch.as_tensor(grad_p, dtype=torch.float64)
        n_in = layer.in_features
        grad_x = grad_p[:, :n_in] if ctx.needs_input_grad[0] else None
        grad_w = grad_p[:, n_in:].sum(0) if ctx.needs_input_grad[1] else None
        return grad_x, grad_w, None
