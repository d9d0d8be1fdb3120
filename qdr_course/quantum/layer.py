"""``QuantumLayer``: a parameterised circuit as a PyTorch layer. See lesson 03.

Example (runs in a second on a laptop)::

    >>> import torch
    >>> from qdr_course.quantum.circuits import retinopathy_circuit
    >>> from qdr_course.quantum.layer import QuantumLayer
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

from qdr_course import validate
from qdr_course.quantum.backends import PrimitiveRunner, primitive_kind
from qdr_course.quantum.circuits import ParameterizedCircuit
from qdr_course.quantum.compiled import gate_angles
from qdr_course.quantum.parameter_shift import four_term_flags, gate_gradients
from qdr_course.quantum.statevector import TorchStatevector

__all__ = ["QuantumLayer", "encode_angles"]

#: Up to this many amplitudes (batch x 2^qubits) the statevector layer computes on ONE torch
#: thread: its kernels are too small for a second thread to pay, and when another process holds
#: a CPU every parallel region waits for a descheduled thread (measured on a loaded 2-core
#: machine: 5-100x slower with two threads). Larger states use torch's threads.
SINGLE_THREAD_AMPLITUDES = 2**17


def encode_angles(z: torch.Tensor) -> torch.Tensor:
    """Squash unbounded features into angles (pi/2) tanh(z) in (-pi/2, pi/2). See lesson 03.

    After H, RY(angle) gives <Z> = -sin(angle): one-to-one on (-pi/2, pi/2). Raw features as
    angles (the seed's choice) wrap around every 2 pi, so far-apart features can collide.
    """
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
    return (math.pi / 2) * torch.tanh(z)


class QuantumLayer(torch.nn.Module):
    """Map inputs (B, in_features) to expectation values (B, out_features) of a parameterised
    circuit. See lesson 03.

    Args:
        circuit: a :class:`~qdr_course.quantum.circuits.ParameterizedCircuit`; its inputs receive
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
            raise TypeError("circuit must be a ParameterizedCircuit (e.g. "
                            "qdr_course.quantum.circuits.retinopathy_circuit()), got "
                            f"{type(circuit).__name__}")
        if circuit.num_inputs == 0:
            raise ValueError("the circuit has no input parameters, so the layer would ignore its "
                             "input; build it with at least one input")
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        if observables is not None:
            circuit = ParameterizedCircuit(circuit.circuit, circuit.input_params,
                                           circuit.weight_params, list(observables),
                                           name=circuit.name)
        validate.shots(shots, allow_none=True)
        self.circuit = circuit
        self.in_features = circuit.num_inputs
        self.out_features = circuit.num_outputs
        self.dtype = dtype
        self.shots = shots
        self._angles = gate_angles(circuit)

        if isinstance(backend, str):
            if backend != "statevector":
                raise ValueError("backend must be 'statevector' or a Qiskit V2 primitive, got "
                                 f"{backend!r}")
            self.kind = "statevector"
            if transpile_to is not None or shots is not None:
                raise ValueError("transpile_to and shots apply to Qiskit primitives, not to the "
                                 "exact statevector back end")
            self.simulator = TorchStatevector(self._angles, dtype=dtype)
            self.runner = None
        else:
            self.kind = primitive_kind(backend)
            if dtype != torch.float64:
                raise ValueError("Qiskit primitives compute in float64; use dtype=torch.float64")
            if self.kind == "estimator" and shots is not None:
                raise ValueError("shots apply to a sampler; set an estimator's precision or "
                                 "default_shots on the estimator itself")
            # two shifted runs per gate, four for a controlled rotation (CRX, CRY, CRZ); a gate
            # with no known shift rule is refused here, before any primitive call
            self._four_term = four_term_flags(self._angles)
            self.simulator = None
            self.runner = PrimitiveRunner(self._angles, backend, transpile_to, shots)
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

    @property
    def num_primitive_calls(self) -> int:
        """Primitive calls made so far (one per forward and one per backward pass); 0 for
        statevector.
        """
        return 0 if self.runner is None else self.runner.num_calls

    @property
    def executed_circuit(self):
        """The circuit that actually runs: compiled, and measured / transpiled for a primitive."""
        return self._angles.circuit if self.runner is None else self.runner.circuit

    # -- torch ------------------------------------------------------------------------------
    def _validate_input(self, x) -> torch.Tensor:
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
        self._check_live_weights()
        return x

    def _check_live_weights(self) -> None:
        """Refuse NaN or infinite weights (a diverged optimiser step), looked at once per change:
        a tensor's version counter moves with every in-place update, so a forward pass that
        follows no update costs nothing here."""
        version = (id(self.weights), self.weights._version)
        if version == getattr(self, "_finite_version", None):
            return
        if not torch.isfinite(self.weights.detach()).all():
            bad = (~torch.isfinite(self.weights.detach())).nonzero()[0, 0].item()
            raise ValueError(f"weights contain NaN or infinity (first at index {bad}): the last "
                             "optimiser step diverged; lower the learning rate, or reload the "
                             "weights from a checkpoint")
        self._finite_version = version

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Expectation values (B, out_features) for angles x (B, in_features)."""
        x = self._validate_input(x)
        if self.kind == "statevector":
            angles = x.to(self.dtype)
            if x.shape[0] * 2**self.circuit.num_qubits <= SINGLE_THREAD_AMPLITUDES \
                    and torch.get_num_threads() > 1:
                out = _run_on_one_thread(self.simulator, angles, self.weights)
            else:
                out = self.simulator.run(angles, self.weights)
        else:
            out = _ShiftRuleFunction.apply(x.to(torch.float64), self.weights, self)
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        backend = self.kind
        if self.kind != "statevector":
            backend = f"{self.kind}={type(self.backend).__name__}"
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"num_weights={self.circuit.num_weights}, backend={backend}, dtype={self.dtype}")


class _ShiftRuleFunction(torch.autograd.Function):
    """Forward: ONE primitive call for the batch; backward: the shift rule (the four-term rule
    for controlled rotations), ONE call for all shifts.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weights: torch.Tensor, layer: QuantumLayer) -> torch.Tensor:
        p = torch.cat([x, weights.expand(x.shape[0], -1)], dim=1).detach().cpu().numpy()
        theta = layer._angles.angle_values(p)
        ctx.layer = layer
        ctx.theta = theta
        return torch.as_tensor(layer.runner(theta), dtype=torch.float64)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        layer = ctx.layer
        dtheta = gate_gradients(layer.runner, ctx.theta, layer._four_term)  # (B, G, n_out)
        grad_p = np.einsum("bo,bgo,gp->bp", grad_out.detach().cpu().numpy(), dtheta,
                           layer._angles.jacobian)
        grad_p = torch.as_tensor(grad_p, dtype=torch.float64)
        n_in = layer.in_features
        grad_x = grad_p[:, :n_in] if ctx.needs_input_grad[0] else None
        grad_w = grad_p[:, n_in:].sum(0) if ctx.needs_input_grad[1] else None
        return grad_x, grad_w, None


def _run_on_one_thread(simulator: TorchStatevector, x: torch.Tensor,
                       weights: torch.Tensor) -> torch.Tensor:
    """``simulator.run(x, weights)`` with its forward AND backward on one torch thread.

    The forward pass switches threads around the call. For the backward pass the simulation's
    autograd graph is fenced by two identity functions: the one on its output sets one thread
    when the gradient arrives, the one on its inputs restores the count once the gradients have
    passed through the whole simulation (autograd runs a node only when all its inputs are
    ready). One graph, no nested backward: second derivatives work as on the plain path.
    """
    before = torch.get_num_threads()
    tracked = [t.requires_grad for t in (x, weights)]
    if torch.is_grad_enabled() and any(tracked):
        fenced = iter(_RestoreThreads.apply(before, *[t for t, g in zip((x, weights), tracked)
                                                      if g]))
        x, weights = (next(fenced) if g else t for t, g in zip((x, weights), tracked))
    torch.set_num_threads(1)
    try:
        out = simulator.run(x, weights)
    finally:
        torch.set_num_threads(before)
    return _OneThreadBackward.apply(out) if out.requires_grad else out


class _OneThreadBackward(torch.autograd.Function):
    """Identity; its backward switches torch to one thread before the simulation's backward."""

    @staticmethod
    def forward(ctx, out: torch.Tensor) -> torch.Tensor:
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        torch.set_num_threads(1)
        return grad_out


class _RestoreThreads(torch.autograd.Function):
    """Identity on the simulation's inputs; its backward restores the thread count after it."""

    @staticmethod
    def forward(ctx, before: int, *tensors: torch.Tensor):
        ctx.before = before
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        torch.set_num_threads(ctx.before)
        return (None, *grads)
