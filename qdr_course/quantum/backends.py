"""Where circuits run: Qiskit V2 primitives (exact, shot-based, a fake noisy IBM device).

See lesson 03.

Qiskit 2.x has no ``execute`` / ``Aer.get_backend`` and no V1 primitives: circuits run through a
``BaseEstimatorV2`` (expectation values) or a ``BaseSamplerV2`` (shots). Every execution of a
compiled circuit (:class:`~qdr_course.quantum.compiled.GateAngles`) for rows of gate angles
lives here: :func:`exact_expectations` (the torch simulator), :func:`estimate_expectations`
(an estimator), :func:`sample_expectations` (a sampler) and :class:`PrimitiveRunner` (a
primitive with its transpiled circuit, as the quantum layer uses it).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from qdr_course import validate
from qdr_course.quantum.compiled import GateAngles

__all__ = ["primitive_kind", "aer_estimator", "aer_sampler", "fake_device", "device_estimator",
           "transpile_for", "expand_controlled_parameter_gates", "exact_expectations",
           "device_simulator",
           "estimate_expectations", "sample_expectations", "PrimitiveRunner"]

_V1_HINT = ("V1 primitives (Estimator, Sampler, BackendEstimator, ...) were removed in Qiskit 2.0; "
            "pass a V2 primitive such as qiskit_aer.primitives.EstimatorV2(), "
            "qiskit.primitives.StatevectorEstimator() or "
            "qdr_course.quantum.backends.device_estimator(device)")


def primitive_kind(primitive) -> str:
    """``"estimator"`` or ``"sampler"`` for a V2 primitive; TypeError (saying what to use)
    otherwise.
    """
    from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2
    if isinstance(primitive, BaseEstimatorV2):
        return "estimator"
    if isinstance(primitive, BaseSamplerV2):
        return "sampler"
    try:
        from qiskit.primitives import BaseEstimatorV1, BaseSamplerV1
    except ImportError:  # pragma: no cover - a future Qiskit without the V1 bases
        BaseEstimatorV1 = BaseSamplerV1 = ()
    if (BaseEstimatorV1 and isinstance(primitive, (BaseEstimatorV1, BaseSamplerV1))) or \
            type(primitive).__name__ in ("Estimator", "Sampler", "BackendEstimator",
                                         "BackendSampler"):
        raise TypeError(f"{type(primitive).__module__}.{type(primitive).__name__} is a V1 "
                        f"primitive. {_V1_HINT}")
    raise TypeError(f"backend must be 'statevector' or a Qiskit V2 primitive (BaseEstimatorV2 or "
                    f"BaseSamplerV2), got {type(primitive).__name__}. {_V1_HINT}")


def aer_estimator(precision: float = 0.0, seed: int | None = None, noise_model=None):
    """Aer's EstimatorV2: exact when ``precision`` is 0 (else Gaussian noise of that size, not
    shots).

    See lesson 01.
    """
    from qiskit_aer.primitives import EstimatorV2
    backend_options = {} if noise_model is None else {"noise_model": noise_model}
    if precision < 0:
        raise ValueError(f"precision must be >= 0, got {precision}")
    run_options = {} if seed is None else {"seed_simulator": seed}
    return EstimatorV2(options={"default_precision": precision, "backend_options": backend_options,
                                "run_options": run_options})


def aer_sampler(shots: int = 1024, seed: int | None = None):
    """Aer's SamplerV2: real shot noise, ``shots`` samples per binding. See lesson 01."""
    from qiskit_aer.primitives import SamplerV2
    validate.shots(shots)
    return SamplerV2(default_shots=shots, seed=seed)


def fake_device(name: str = "FakeManilaV2"):
    """An offline snapshot of an IBM device (qubits, couplings, gate errors) from
    qiskit-ibm-runtime.

    See lesson 03.
    """
    from qiskit_ibm_runtime import fake_provider
    cls = getattr(fake_provider, name, None)
    if cls is None or not name.startswith("Fake"):
        known = sorted(n for n in dir(fake_provider) if n.startswith("Fake") and n.endswith("V2"))
        raise ValueError(f"unknown fake device {name!r}; try one of {known[:8]} ...")
    return cls()


def device_simulator(device="FakeManilaV2", seed: int | None = 0):
    """Aer with a fake device's noise, keeping its *asymmetric* readout errors. See lesson 05.

    ``device``: a fake device's name or the fake backend itself. ``AerSimulator.from_backend``
    alone reads the device's ``Target``, which stores one symmetric readout error per qubit (the
    average of P(1|0) and P(0|1)); the noise model here comes from the device's calibration data
    (``backend.properties()``), which keep the two apart, as hardware has them. Coupling map and
    basis gates come from the device.
    """
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel

    backend = fake_device(device) if isinstance(device, str) else device
    properties = backend.properties() if hasattr(backend, "properties") else None
    if properties is None:  # no calibration data: the Target's symmetric readout errors
        return AerSimulator.from_backend(backend, seed_simulator=seed)
    noise = NoiseModel.from_backend_properties(_WithoutFrequencies(properties), dt=backend.dt)
    return AerSimulator.from_backend(backend, noise_model=noise, seed_simulator=seed)


class _WithoutFrequencies:
    """Calibration data whose missing qubit frequencies read as "unknown" to Aer.

    Heron snapshots (FakeTorino, FakeFez) record no qubit frequency; Aer needs one only for the
    thermal excited-state population, which is 0 at its default temperature of 0 K, and skips it
    on a ValueError. Everything else passes through unchanged.
    """

    def __init__(self, properties):
        self._properties = properties

    def __getattr__(self, name):
        return getattr(self._properties, name)

    def frequency(self, qubit: int) -> float:
        """The qubit's frequency; ValueError (which Aer skips) when the snapshot has none."""
        from qiskit_ibm_runtime.models.exceptions import BackendPropertyError

        try:
            return self._properties.frequency(qubit)
        except BackendPropertyError:
            raise ValueError(f"no frequency recorded for qubit {qubit}") from None


def _device_simulator(backend, seed):
    """What a device estimator runs on: Aer with a fake device's noise (offline), else the device.
    """
    from qiskit_aer import AerSimulator
    if isinstance(backend, AerSimulator):
        return backend
    if type(backend).__name__.startswith("Fake"):
        return device_simulator(backend, seed)
    return backend  # a real BackendV2: run on it


def device_estimator(backend, shots: int = 4000, seed: int | None = 0):
    """An EstimatorV2 that measures on ``backend`` with real shots; a fake device runs locally on
    Aer with its noise (:func:`device_simulator`). See lesson 03.

    Qiskit's ``BackendEstimatorV2`` measures every Pauli term with ``shots`` shots (precision
    1/sqrt(shots)), in one backend job per call. Circuits must be transpiled for the device:
    pass ``transpile_to=backend`` to ``QuantumLayer``. On IBM hardware use
    :func:`qdr_course.quantum.ibm.ibm_quantum_layer` (IBM Runtime's client-side estimator,
    lesson 09), with the same ``QuantumLayer`` code.
    """
    from qiskit.primitives import BackendEstimatorV2
    validate.shots(shots)
    options = {"default_precision": 1 / shots**0.5}
    if seed is not None:
        options["seed_simulator"] = seed
    return BackendEstimatorV2(backend=_device_simulator(backend, seed), options=options)


def transpile_for(circuit, backend, optimization_level: int = 1, seed: int = 0):
    """Transpile once for ``backend`` (a BackendV2 or Target, or a pass manager already built
    for one, as :func:`qdr_course.quantum.ibm.isa_pass_manager` chooses); return the ISA circuit.
    """
    from qiskit.transpiler import PassManager, Target, generate_preset_pass_manager
    if isinstance(backend, PassManager):
        return backend.run(circuit)
    if isinstance(backend, Target):
        pm = generate_preset_pass_manager(optimization_level=optimization_level, target=backend,
                                          seed_transpiler=seed)
    else:
        pm = generate_preset_pass_manager(optimization_level=optimization_level, backend=backend,
                                          seed_transpiler=seed)
    return pm.run(circuit)


def _controlled_parameter_gate_names(circuit) -> list[str]:
    """Names of the controlled gates (CP, CRY, ...) in ``circuit`` with a free parameter."""
    from qiskit.circuit import ControlledGate, ParameterExpression

    return sorted({inst.operation.name for inst in circuit.data
                   if isinstance(inst.operation, ControlledGate)
                   and any(isinstance(v, ParameterExpression) and v.parameters
                           for v in inst.operation.params)})


def expand_controlled_parameter_gates(circuit):
    """``circuit`` with parameterised controlled gates decomposed into P/RY/RZ + CX.

    qiskit-aer 0.18 mishandles them in circuits it did not transpile: it ignores a parameterised
    CP (outputs off by up to 0.79) and fails ("Result for experiment ... could not be found")
    when one is the only parameterised gate. Their one-level decompositions are exact, so every
    primitive gets the same expectation values. A circuit without such gates is returned as is.
    """
    for _ in range(4):  # one level normally suffices; a gate defined through others may need more
        names = _controlled_parameter_gate_names(circuit)
        if not names:
            return circuit
        circuit = circuit.decompose(gates_to_decompose=names)
    names = _controlled_parameter_gate_names(circuit)
    if names:
        raise ValueError(f"could not decompose the parameterised controlled gates {names}; "
                         "rewrite them with single-qubit rotations and CX before running on Aer")
    return circuit


# -- running a compiled circuit for rows of gate angles ----------------------------------------
def _columns(ga: GateAngles, circuit) -> list[int]:
    """The gate-angle columns ``circuit`` binds, in its parameter order (transpiling never adds)."""
    position = {p: g for g, p in enumerate(ga.angles)}
    return [position[p] for p in circuit.parameters]


def exact_expectations(ga: GateAngles, angle_values: np.ndarray) -> np.ndarray:
    """Exact <O_k> for every row of gate angles (N, G), from the cached torch simulator."""
    import torch

    from qdr_course.quantum.statevector import cached_simulator

    values = np.atleast_2d(np.asarray(angle_values, dtype=float))
    with torch.no_grad():
        angles = torch.as_tensor(values, dtype=torch.float64)
        return cached_simulator(ga).expectations(angles).numpy()


def estimate_expectations(ga: GateAngles, angle_values: np.ndarray, estimator=None,
                          circuit=None, observables=None) -> np.ndarray:
    """<O_k> for every row of angle values (N, num_angles), in ONE estimator call.

    ``estimator=None`` uses the exact, fast torch simulator (:func:`exact_expectations`).
    ``circuit`` / ``observables`` may be a transpiled copy of ``ga.circuit`` and its
    layout-mapped observables (see :class:`PrimitiveRunner`).
    """
    values = np.atleast_2d(np.asarray(angle_values, dtype=float))
    if estimator is None:
        if circuit is not None or observables is not None:
            raise ValueError("a transpiled circuit or mapped observables need an estimator to run "
                             "on")
        return exact_expectations(ga, values)
    circuit = ga.circuit if circuit is None else circuit
    observables = ga.observables if observables is None else observables
    circuit = expand_controlled_parameter_gates(circuit)  # Aer ignores parameterised CP otherwise
    columns = _columns(ga, circuit)
    bound = values[:, columns].reshape(-1, 1, len(columns))
    obs = _observables_array_of(observables)  # (1, n_out): broadcasts against bindings (N, 1)
    with _gc_paused():
        result = estimator.run([(circuit, obs, bound)]).result()
    return np.asarray(result[0].data.evs, dtype=float).reshape(len(values), obs.shape[-1])


def _observables_array_of(observables):
    """Observables as a (1, n_out) ``ObservablesArray``; one already built is passed through.

    Building it once (as :class:`PrimitiveRunner` does) spares every call Qiskit's conversion,
    whose recursive helper leaves a reference cycle behind each time.
    """
    from qiskit.primitives.containers import ObservablesArray

    if isinstance(observables, ObservablesArray):
        return observables
    return ObservablesArray.coerce([list(observables)])


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector for one primitive call, then restore it.

    One Aer call allocates thousands of short-lived containers (a tuple and a dict per binding)
    that reference counting frees at once, yet they trip generation-0 collections, and every
    tenth of those a costlier one; with a lesson's heap (torch, Qiskit, JAX: 0.2-0.6 million
    objects) a full collection stalls the layer for 0.1-0.3 s. The call's own cyclic garbage is
    a few dozen objects (Aer's circuit copy, the classes of Qiskit's ``label_iter``), collected
    as usual after the call.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sample_expectations(ga: GateAngles, angle_values: np.ndarray, sampler, circuit,
                        shots: int | None = None) -> np.ndarray:
    """<O_k> from a sampler's shots for every row (N, G), in ONE call.

    ``circuit`` is ``ga.circuit`` with every qubit measured (and maybe transpiled); the
    observables must be diagonal (I and Z only): each Pauli-Z string is a product of +-1 bits.
    """
    values = np.atleast_2d(np.asarray(angle_values, dtype=float))
    job = sampler.run([(circuit, values[:, _columns(ga, circuit)])], shots=shots)
    bits = job.result()[0].data.meas.to_bool_array(order="little")  # (N, shots, n): qubit i
    signs = 1.0 - 2.0 * bits
    out = np.zeros((len(values), len(ga.observables)))
    for k, obs in enumerate(ga.observables):
        for z, coeff in zip(obs.paulis.z, obs.coeffs):
            out[:, k] += coeff.real * np.prod(signs[..., z], axis=-1).mean(axis=-1)
    return out


@dataclass
class PrimitiveRunner:
    """A compiled circuit ready for a V2 primitive: ``runner(theta)`` gives <O_k>, ONE call each.

    The circuit is measured (for a sampler) and transpiled (for ``transpile_to``) once;
    an estimator's observables are mapped to the transpiled layout. ``num_calls`` counts the
    primitive calls made.
    """

    angles: GateAngles
    primitive: object
    transpile_to: object = None
    shots: int | None = None
    kind: str = field(init=False)
    circuit: object = field(init=False)
    observables: list = field(init=False)
    num_calls: int = field(init=False, default=0)
    _observables_array: object = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.kind = primitive_kind(self.primitive)
        circuit, observables = self.angles.circuit, list(self.angles.observables)
        if self.kind == "sampler":  # measure every qubit: bit i of each shot is qubit i
            for i, obs in enumerate(observables):
                if obs.paulis.x.any():
                    raise ValueError(f"observable {i} ({obs}) is not diagonal in the Z basis; a "
                                     "sampler only measures Z: use an estimator for it")
            circuit = circuit.copy()
            circuit.measure_all()
        if self.transpile_to is not None:
            circuit = transpile_for(circuit, self.transpile_to)
            if self.kind == "estimator" and circuit.layout is not None:
                observables = [obs.apply_layout(circuit.layout) for obs in observables]
        # Aer ignores parameterised CP otherwise
        self.circuit = expand_controlled_parameter_gates(circuit)
        self.observables = observables
        if self.kind == "estimator":
            self._observables_array = _observables_array_of(observables)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        """<O_k> for every row of gate angles theta (N, G): ONE primitive call."""
        self.num_calls += 1
        if self.kind == "estimator":
            return estimate_expectations(self.angles, theta, self.primitive, self.circuit,
                                         self._observables_array)
        with _gc_paused():
            return sample_expectations(self.angles, theta, self.primitive, self.circuit,
                                       self.shots)
