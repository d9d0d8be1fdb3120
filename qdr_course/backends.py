"""Qiskit V2 primitives for the quantum layer: exact, shot-based and a fake noisy IBM device. See lesson 03.

Qiskit 2.x has no ``execute`` / ``Aer.get_backend`` and no V1 primitives: circuits run through a
``BaseEstimatorV2`` (expectation values) or a ``BaseSamplerV2`` (shots).
"""

from __future__ import annotations

__all__ = ["primitive_kind", "aer_estimator", "aer_sampler", "fake_device", "device_estimator",
           "device_sampler", "transpile_for", "expand_controlled_parameter_gates"]

_V1_HINT = ("V1 primitives (Estimator, Sampler, BackendEstimator, ...) were removed in Qiskit 2.0; "
            "pass a V2 primitive such as qiskit_aer.primitives.EstimatorV2(), "
            "qiskit.primitives.StatevectorEstimator() or qdr_course.backends.device_estimator(device)")


def primitive_kind(primitive) -> str:
    """``"estimator"`` or ``"sampler"`` for a V2 primitive; TypeError (saying what to use) otherwise. See lesson 03."""
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
            type(primitive).__name__ in ("Estimator", "Sampler", "BackendEstimator", "BackendSampler"):
        raise TypeError(f"{type(primitive).__module__}.{type(primitive).__name__} is a V1 primitive. {_V1_HINT}")
    raise TypeError(f"backend must be 'statevector' or a Qiskit V2 primitive (BaseEstimatorV2 or "
                    f"BaseSamplerV2), got {type(primitive).__name__}. {_V1_HINT}")


def aer_estimator(precision: float = 0.0, seed: int | None = None, noise_model=None):
    """Aer's EstimatorV2: exact when ``precision`` is 0 (else Gaussian noise of that size, not shots). See lesson 01."""
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
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    return SamplerV2(default_shots=shots, seed=seed)


def fake_device(name: str = "FakeManilaV2"):
    """An offline snapshot of an IBM device (qubits, couplings, gate errors) from qiskit-ibm-runtime. See lesson 03."""
    from qiskit_ibm_runtime import fake_provider
    cls = getattr(fake_provider, name, None)
    if cls is None or not name.startswith("Fake"):
        known = sorted(n for n in dir(fake_provider) if n.startswith("Fake") and n.endswith("V2"))
        raise ValueError(f"unknown fake device {name!r}; try one of {known[:8]} ...")
    return cls()


def _device_simulator(backend, seed):
    """Aer with the device's noise model, coupling map and basis gates (a fake device runs offline)."""
    from qiskit_aer import AerSimulator
    if isinstance(backend, AerSimulator):
        return backend
    if type(backend).__name__.startswith("Fake"):
        return AerSimulator.from_backend(backend, seed_simulator=seed)
    return backend  # a real BackendV2: run on it


def device_estimator(backend, shots: int = 4000, seed: int | None = 0):
    """An EstimatorV2 that measures on ``backend`` with real shots; a fake device runs locally on Aer with its noise. See lesson 03.

    Qiskit's ``BackendEstimatorV2`` measures every Pauli term with ``shots`` shots (precision
    1/sqrt(shots)), in one backend job per call. Circuits must be transpiled for the device:
    pass ``transpile_to=backend`` to ``QuantumLayer``. On IBM hardware use IBM Runtime's
    estimator instead (``qiskit_ibm_runtime``), with the same ``QuantumLayer`` code.
    """
    from qiskit.primitives import BackendEstimatorV2
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    options = {"default_precision": 1 / shots**0.5}
    if seed is not None:
        options["seed_simulator"] = seed
    return BackendEstimatorV2(backend=_device_simulator(backend, seed), options=options)


def device_sampler(backend, shots: int = 4000, seed: int | None = 0):
    """A SamplerV2 that runs on ``backend`` (a fake device: locally on Aer with its noise). See lesson 03."""
    from qiskit.primitives import BackendSamplerV2
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    options = {"default_shots": shots}
    if seed is not None:
        options["seed_simulator"] = seed
    return BackendSamplerV2(backend=_device_simulator(backend, seed), options=options)


def transpile_for(circuit, backend, optimization_level: int = 1, seed: int = 0):
    """Transpile once for ``backend`` (a BackendV2 or Target); return the ISA circuit. See lesson 03."""
    from qiskit.transpiler import Target, generate_preset_pass_manager
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
    """``circuit`` with parameterised controlled gates decomposed into P/RY/RZ + CX. See lesson 03.

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
