"""IBM Quantum hardware through qiskit-ibm-runtime: account, backend, checks, cost, estimator.

See lesson 09.

qiskit-ibm-runtime 0.50 deprecated its server-side ``EstimatorV2`` / ``SamplerV2``; this module
uses the client-side estimator that replaces them (``qiskit_ibm_runtime.executor_estimator``,
a Qiskit ``BaseEstimatorV2``), so :class:`~qdr_course.quantum.layer.QuantumLayer` runs on it
unchanged. Every job goes through :class:`BudgetedEstimator`, which estimates the QPU seconds of
a job before it is submitted and refuses a job that would exceed the approved budget.

A backend name starting with ``Fake`` (``FakeManilaV2``, ``FakeTorino``) selects
qiskit-ibm-runtime's *local testing mode*: the same code path, run on Aer with the fake device's
noise, offline and free; only the qubits a job uses are simulated (:class:`DeviceSubset`), so
127- and 133-qubit devices run too. Nothing assumes a processor family: the native two-qubit
gate (CZ on Heron, ECR on Eagle, CX on Falcon) and every error rate come from the target.
The account comes from the user's own saved credentials
(``QiskitRuntimeService.save_account``, kept in ``~/.qiskit/qiskit-ibm.json``) or the
``QISKIT_IBM_TOKEN`` environment variable; the course never writes either.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from qiskit.primitives import BaseEstimatorV2

__all__ = ["TOKEN_VARIABLE", "MIN_EXPECTED_FIDELITY", "MITIGATIONS", "JOB_OVERHEAD_SECONDS",
           "has_ibm_credentials", "ibm_service", "ibm_backend", "is_local", "require_qubits",
           "instruction_error", "two_qubit_gate", "error_table", "expected_fidelity",
           "require_fidelity", "depth_limit", "readout_errors", "isa_pass_manager",
           "used_qubits", "DeviceSubset",
           "estimator_options",
           "CostEstimate", "estimate_cost", "BudgetedEstimator", "ibm_estimator", "layer_pubs",
           "estimate_layer_cost", "layer_cost", "ibm_quantum_layer", "grader_cost", "ibm_grader"]

#: The environment variable qiskit-ibm-runtime reads an API key from (with QISKIT_IBM_INSTANCE).
TOKEN_VARIABLE = "QISKIT_IBM_TOKEN"
#: Circuits whose expected fidelity (product of the device's gate and readout successes) is
#: below this are refused: most shots would then carry at least one error.
MIN_EXPECTED_FIDELITY = 0.5
#: Error mitigation -> the estimator's resilience level (qiskit-ibm-runtime 0.51): "trex" is
#: twirled readout-error extinction (measurement-error mitigation, level 1, IBM's default),
#: "zne" adds zero-noise extrapolation with gate twirling (level 2).
MITIGATIONS = {"none": 0, "trex": 1, "zne": 2}
#: Fixed QPU time per job beyond its shots, in seconds (loading, calibration checks): a rough
#: figure; IBM's usage guide shows 4.1 s for one 2-qubit circuit at 4096 shots.
JOB_OVERHEAD_SECONDS = 3.0
_ACCOUNT_HELP = (f"save your own once with QiskitRuntimeService.save_account(token=..., "
                 f"instance=..., set_as_default=True) or set {TOKEN_VARIABLE} (and "
                 "QISKIT_IBM_INSTANCE); or use a fake device such as FakeManilaV2 (local testing "
                 "mode, offline)")


# -- account and backend ------------------------------------------------------------------------
def has_ibm_credentials(accounts_file: str | Path | None = None) -> bool:
    """True when QISKIT_IBM_TOKEN is set or a saved qiskit-ibm-runtime account exists (offline)."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    if os.environ.get(TOKEN_VARIABLE):
        return True
    filename = None if accounts_file is None else str(accounts_file)
    try:
        return bool(QiskitRuntimeService.saved_accounts(filename=filename))
    except Exception:  # noqa: BLE001 - an unreadable accounts file counts as no account
        return False


def ibm_service(accounts_file: str | Path | None = None):
    """The user's QiskitRuntimeService (saved default account or QISKIT_IBM_TOKEN); refuses
    without one.
    """
    from qiskit_ibm_runtime import QiskitRuntimeService

    if not has_ibm_credentials(accounts_file):
        raise ValueError(f"no IBM Quantum account found: {_ACCOUNT_HELP}")
    kwargs = {} if accounts_file is None or os.environ.get(TOKEN_VARIABLE) else \
        {"filename": str(accounts_file)}
    try:
        return QiskitRuntimeService(**kwargs)
    except Exception as error:  # noqa: BLE001 - network, expired key, wrong instance: one line
        text = " ".join(str(error).split()) or type(error).__name__
        raise ConnectionError(f"could not open your IBM Quantum account ({text}); check the "
                              "network and that the saved key and instance are current") from None


def is_local(backend) -> bool:
    """True for a fake device (qiskit-ibm-runtime's local testing mode: Aer, offline, free)."""
    return type(backend).__name__.startswith("Fake")


def ibm_backend(name, service=None, accounts_file: str | Path | None = None):
    """The backend called ``name``: a fake device (local testing mode) or one of the account's.

    See lesson 09. A ``BackendV2`` passes through unchanged.
    """
    from qdr_course.quantum.backends import fake_device

    if not isinstance(name, str):
        return name
    if name.startswith("Fake"):
        return fake_device(name)
    service = ibm_service(accounts_file) if service is None else service
    try:
        return service.backend(name)
    except Exception as error:  # noqa: BLE001 - QiskitBackendNotFoundError and friends
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        try:
            names = sorted(b.name for b in service.backends(simulator=False, operational=True))
        except Exception:  # noqa: BLE001 - the list is only a hint
            names = []
        known = f"your account sees {', '.join(names)}" if names else "your account lists none"
        raise ValueError(f"unknown IBM backend {name!r}: {known}; or use a fake device such as "
                         "FakeManilaV2") from None


def _backend_name(backend) -> str:
    """The name a user typed for ``backend`` (a fake device's class name)."""
    return type(backend).__name__ if is_local(backend) else getattr(backend, "name", "backend")


def require_qubits(backend, n_qubits: int) -> None:
    """Refuse a backend with fewer than ``n_qubits`` qubits. See lesson 09."""
    available = backend.num_qubits
    if available < n_qubits:
        raise ValueError(f"backend {_backend_name(backend)} has {available} qubits, too few for "
                         f"this {n_qubits}-qubit circuit; choose a backend with at least "
                         f"{n_qubits} qubits")


# -- will the circuit survive the device's errors? --------------------------------------------
def instruction_error(target, name: str, qubits: tuple) -> float:
    """The device's reported error of one instruction on those qubits (0 when none is known);
    :func:`error_table` and :func:`expected_fidelity` read every error through it.
    """
    if name not in target.operation_names:
        return 0.0
    props = target[name].get(qubits)
    error = None if props is None else props.error
    return 0.0 if error is None or error != error else float(error)


def _is_gate_instruction(target, name: str) -> bool:
    """True for a real instruction of the target (not control flow, which it stores as a class)."""
    operation = target.operation_from_name(name)
    return not isinstance(operation, type) and name not in ("delay", "reset", "measure", "barrier")


def two_qubit_gate(target) -> str:
    """The device's native two-qubit gate, read from its target. See lesson 09.

    IBM's Heron processors (ibm_torino, ibm_fez; FakeTorino) use ``cz``, Eagle processors
    (FakeSherbrooke, FakeKyiv) ``ecr``, the retired Falcon snapshots (FakeManilaV2) ``cx``.
    """
    target = getattr(target, "target", target)
    names = sorted(name for name in target.operation_names if _is_gate_instruction(target, name)
                   and target.operation_from_name(name).num_qubits == 2)
    if not names:
        raise ValueError("this device reports no two-qubit gate: it cannot entangle qubits; "
                         "choose another backend")
    errors = {name: np.nanmedian([instruction_error(target, name, qargs)
                                  for qargs in target[name] if qargs is not None] or [np.nan])
              for name in names}
    return min(names, key=lambda name: (not errors[name] < np.inf, errors[name], name))


def error_table(backend) -> dict:
    """Reported errors by kind: ``{"sx": [...], <two-qubit gate>: [...], "measure": [...]}``,
    one entry per qubit (or coupled pair) the device reports. See lesson 09.
    """
    target = backend.target
    gate = two_qubit_gate(target)
    return {"sx": [instruction_error(target, "sx", (q,)) for q in range(backend.num_qubits)],
            gate: [instruction_error(target, gate, qargs) for qargs in target[gate]],
            "measure": [instruction_error(target, "measure", (q,))
                        for q in range(backend.num_qubits)]}


def expected_fidelity(isa_circuit, backend) -> float:
    """Product of (1 - error) over every gate and the readout of every active qubit.

    See lesson 09. ``isa_circuit`` must be transpiled for ``backend``; the errors are the ones the
    backend reports (gate errors from randomized benchmarking, readout assignment errors).
    """
    target = backend.target
    log_fidelity, active = 0.0, set()
    for inst in isa_circuit.data:
        qubits = tuple(isa_circuit.find_bit(q).index for q in inst.qubits)
        name = inst.operation.name
        if name in ("barrier", "delay"):
            continue
        active.update(qubits)
        if name == "measure":
            continue  # every active qubit's readout is counted below, once
        log_fidelity += math.log1p(-min(instruction_error(target, name, qubits), 1 - 1e-12))
    for qubit in active:
        log_fidelity += math.log1p(-min(instruction_error(target, "measure", (qubit,)), 1 - 1e-12))
    return math.exp(log_fidelity)


def require_fidelity(isa_circuit, backend, minimum: float = MIN_EXPECTED_FIDELITY) -> float:
    """The expected fidelity; refuses (one line) a circuit too deep for the device's error rates.

    See lesson 09.
    """
    fidelity = expected_fidelity(isa_circuit, backend)
    if fidelity < minimum:
        twoq = sum(1 for inst in isa_circuit.data if inst.operation.num_qubits == 2)
        raise ValueError(f"circuit too deep for {_backend_name(backend)}: {twoq} two-qubit gates "
                         f"and depth {isa_circuit.depth()} give an expected fidelity of "
                         f"{fidelity:.2f} from the device's reported gate and readout errors, "
                         f"below {minimum:g}; use fewer layers or qubits, or a device with lower "
                         "error rates")
    return fidelity


def depth_limit(fidelity_1: float, fidelity_2: float, threshold: float) -> int:
    """The deepest number of layers whose expected fidelity stays >= ``threshold``, when every
    layer after the first multiplies it by the same factor ``fidelity_2 / fidelity_1``.

    See lesson 09 (exercise 9.2). 0 when even one layer is below the threshold.
    """
    if not 0 < fidelity_2 < fidelity_1 <= 1 or not 0 < threshold < 1:
        raise ValueError("need 0 < fidelity_2 < fidelity_1 <= 1 and 0 < threshold < 1, got "
                         f"{fidelity_1}, {fidelity_2}, {threshold}")
    if fidelity_1 < threshold:
        return 0
    return 1 + math.floor(math.log(threshold / fidelity_1) / math.log(fidelity_2 / fidelity_1))


def readout_errors(backend, qubit: int) -> tuple[float, float]:
    """(e0, e1) = (P(read 1 | 0), P(read 0 | 1)) of one qubit, from the device's calibration
    data; both the target's single (average) number when it keeps no such data. See lesson 09.
    """
    properties = backend.properties() if hasattr(backend, "properties") else None
    try:
        return (float(properties.qubit_property(qubit, "prob_meas1_prep0")[0]),
                float(properties.qubit_property(qubit, "prob_meas0_prep1")[0]))
    except Exception:  # noqa: BLE001 - no calibration data: the target's symmetric error
        error = instruction_error(backend.target, "measure", (qubit,))
        return error, error


def isa_pass_manager(circuit, backend, levels=(1, 2, 3), seed: int = 0):
    """The preset pass manager (of ``levels``) whose ISA circuit for ``circuit`` has the highest
    expected fidelity on ``backend``, with that fidelity. See lesson 09.

    The transpiler's optimisation levels place a circuit on different physical qubits (level 1
    keeps a perfect layout it finds first, higher levels also score layouts by the reported
    errors); since readout and gate errors differ several-fold between qubits, trying them and
    keeping the best is cheap (milliseconds) and can raise the fidelity a lot.
    """
    from qiskit.transpiler import generate_preset_pass_manager

    best = None
    for level in levels:
        manager = generate_preset_pass_manager(optimization_level=level, backend=backend,
                                               seed_transpiler=seed)
        fidelity = expected_fidelity(manager.run(circuit), backend)
        if best is None or fidelity > best[1] + 1e-12:
            best = (manager, fidelity)
    if best is None:
        raise ValueError("levels must name at least one optimisation level (0-3)")
    return best


def used_qubits(isa_circuit, observables=()) -> list[int]:
    """The physical qubits an ISA circuit acts on or its observables read, in increasing order."""
    used = {isa_circuit.find_bit(q).index for inst in isa_circuit.data
            if inst.operation.name != "barrier" for q in inst.qubits}
    for observable in observables:
        for label in observable:
            used.update(len(label) - 1 - i for i, char in enumerate(label) if char != "I")
    return sorted(used)


# -- local testing mode on a large device: simulate only the qubits the circuit uses ----------
def _sub_target(target, qubits):
    """``target`` restricted to ``qubits``, renumbered 0..k-1: their gates, errors, durations
    and T1/T2, nothing else.
    """
    from qiskit.transpiler import Target

    index = {q: i for i, q in enumerate(qubits)}
    properties = target.qubit_properties
    sub = Target(description=f"qubits {qubits} of {target.description or 'a device'}",
                 num_qubits=len(qubits), dt=target.dt, granularity=target.granularity,
                 min_length=target.min_length, pulse_alignment=target.pulse_alignment,
                 acquire_alignment=target.acquire_alignment,
                 qubit_properties=None if not properties else [properties[q] for q in qubits],
                 concurrent_measurements=None)
    for name in target.operation_names:
        operation, qargs_map = target.operation_from_name(name), target[name]
        if None in qargs_map or isinstance(operation, type):  # global or control flow
            sub.add_instruction(operation, name=name)
            continue
        kept = {tuple(index[q] for q in qargs): props for qargs, props in qargs_map.items()
                if all(q in index for q in qargs)}
        if kept:
            sub.add_instruction(operation, kept, name=name)
    return sub


def _base_backend_class():
    """Qiskit's BackendV2 (imported late: qiskit loads slowly)."""
    from qiskit.providers import BackendV2

    return BackendV2


class DeviceSubset:
    """The qubits of a fake device that a circuit uses, as a small device of its own.

    See lesson 09. qiskit-ibm-runtime's local testing mode simulates every qubit of the device
    it is given, and a 127- or 133-qubit statevector does not fit any computer; a circuit that
    uses 3 of them needs only those 3, with their own gate errors, readout errors, durations and
    T1/T2, which is exactly what this device holds (``qubits[i]`` of the device is qubit ``i``
    here). Create it with :meth:`of`; :meth:`pub` maps a PUB onto it.
    """

    @classmethod
    def of(cls, backend, qubits):
        """A BackendV2 holding ``qubits`` of the fake device ``backend``."""
        base = _base_backend_class()

        class _Subset(base):
            def __init__(self):
                super().__init__(name=f"{_backend_name(backend)}{list(qubits)}",
                                 description=f"qubits {list(qubits)} of {_backend_name(backend)}")
                self._target = _sub_target(backend.target, list(qubits))
                self.qubits = list(qubits)
                self.default_rep_delay = getattr(backend, "default_rep_delay", None)

            @property
            def target(self):
                return self._target

            @property
            def max_circuits(self):
                return None

            @classmethod
            def _default_options(cls):
                from qiskit.providers import Options

                return Options()

            def run(self, run_input, **options):
                raise NotImplementedError("a device subset only runs through an estimator in "
                                          "local testing mode")

        _Subset.__name__ = _Subset.__qualname__ = "DeviceSubset"
        return _Subset()

    @staticmethod
    def pub(pub, qubits):
        """``pub`` (circuit, observables, bindings) with its circuit and observables moved from
        the device's qubits to ``qubits`` renumbered 0..k-1.
        """
        from qiskit import QuantumCircuit
        from qiskit.primitives.containers import ObservablesArray
        from qiskit.primitives.containers.estimator_pub import EstimatorPub

        pub = EstimatorPub.coerce(pub)
        circuit, index = pub.circuit, {q: i for i, q in enumerate(qubits)}
        small = QuantumCircuit(len(qubits), circuit.num_clbits, global_phase=circuit.global_phase,
                               name=circuit.name)
        for inst in circuit.data:
            places = [circuit.find_bit(q).index for q in inst.qubits]
            if inst.operation.name == "barrier":
                places = [q for q in places if q in index]
                if not places:
                    continue
                small.barrier(*[index[q] for q in places])
                continue
            small.append(inst.operation, [index[q] for q in places],
                         [circuit.find_bit(c).index for c in inst.clbits])
        width = circuit.num_qubits

        def moved(label: str) -> str:
            if any(char != "I" for i, char in enumerate(label) if width - 1 - i not in index):
                raise ValueError("an observable reads a qubit the circuit does not use")
            return "".join(label[width - 1 - q] for q in reversed(qubits))

        observables = ObservablesArray.coerce(
            np.array([{moved(label): coeff for label, coeff in term.items()}
                      for term in np.ravel(pub.observables.tolist())],
                     dtype=object).reshape(pub.observables.shape).tolist())
        values = pub.parameter_values.as_array(small.parameters) \
            if small.num_parameters else None
        return (small, observables) if values is None else (small, observables, values)


# -- options and cost ---------------------------------------------------------------------------
def estimator_options(mitigation: str = "trex", shots: int = 4000, seed: int | None = None):
    """EstimatorOptions for the client-side estimator: shots per binding and the mitigation.

    ``seed`` only seeds the simulator of local testing mode.
    """
    from qiskit_ibm_runtime.options_models import EstimatorOptions

    from qdr_course import validate

    if mitigation not in MITIGATIONS:
        raise ValueError(f"mitigation must be one of {sorted(MITIGATIONS)}, got {mitigation!r}")
    validate.shots(shots)
    options = EstimatorOptions(resilience_level=MITIGATIONS[mitigation], default_shots=shots)
    if seed is not None:
        options.simulator.seed_simulator = seed
    return options


@dataclass
class CostEstimate:
    """QPU time of some jobs, estimated before submitting them (what ``str()`` prints)."""

    backend: str
    jobs: int
    executions: int  # circuit executions (shots, incl. twirling and mitigation's calibration)
    seconds_per_execution: float  # repetition delay + circuit duration
    local: bool = False

    @property
    def qpu_seconds(self) -> float:
        """Estimated QPU seconds: a fixed overhead per job plus the time of every execution."""
        return self.jobs * JOB_OVERHEAD_SECONDS + self.executions * self.seconds_per_execution

    def __add__(self, other: CostEstimate) -> CostEstimate:
        seconds = ((self.executions * self.seconds_per_execution
                    + other.executions * other.seconds_per_execution)
                   / max(self.executions + other.executions, 1))
        return CostEstimate(self.backend, self.jobs + other.jobs,
                            self.executions + other.executions, seconds, self.local)

    def __str__(self) -> str:
        jobs = f"{self.jobs} job{'s' if self.jobs != 1 else ''}"
        where = " (local testing mode: nothing is billed)" if self.local else ""
        return (f"about {self.qpu_seconds:.0f} QPU seconds on {self.backend}: {jobs}, "
                f"{self.executions:,} circuit executions at "
                f"{self.seconds_per_execution * 1e6:.0f} us each{where}")


def _seconds_per_execution(isa_circuit, backend) -> float:
    """Repetition delay plus the circuit's scheduled duration on ``backend``, in seconds."""
    rep_delay = getattr(backend, "default_rep_delay", None) or 250e-6
    try:
        duration = isa_circuit.estimate_duration(backend.target, unit="s")
    except Exception:  # noqa: BLE001 - a target without durations: the delay dominates anyway
        duration = 0.0
    return float(rep_delay) + float(duration)


def estimate_cost(pubs, backend, options) -> CostEstimate:
    """QPU time of ONE estimator job with these PUBs, computed on this computer. See lesson 09.

    The client-side estimator's own preparation step counts the executions: shots per binding,
    twirling randomizations and the TREX calibration circuits.
    """
    from qiskit_ibm_runtime.executor_estimator.prepare import prepare

    pubs = list(pubs)
    program, _ = prepare(pubs, options, None, add_tags=is_local(backend), backend=backend)
    executions = program.shots * sum(item.size() for item in program.items)
    per_execution = max(_seconds_per_execution(pub[0], backend) for pub in pubs)
    return CostEstimate(_backend_name(backend), 1, int(executions), per_execution,
                        is_local(backend))


# -- the estimator that never spends more than approved ---------------------------------------
def _open_mode(backend, mode: str):
    """The execution mode: a Batch (independent jobs), a Session (iterative) or the backend."""
    from qiskit_ibm_runtime import Batch, Session

    if mode == "batch":
        return Batch(backend=backend)
    if mode == "session":
        return Session(backend=backend)
    if mode == "job":
        return backend
    raise ValueError(f"mode must be 'batch', 'session' or 'job', got {mode!r}")


class BudgetedEstimator(BaseEstimatorV2):
    """A qiskit-ibm-runtime estimator that estimates each job's QPU seconds before submitting it.

    See lesson 09. A job that would bring the estimated total above ``max_qpu_seconds`` is refused
    before anything is sent. ``jobs`` keeps every submitted job (``job.job_id()``, ``job.usage()``).
    ``mode``: ``"batch"`` (independent jobs, IBM's advice for evaluation), ``"session"``
    (iterative jobs such as training, paid plans) or ``"job"``.
    """

    def __init__(self, backend, options, max_qpu_seconds: float, mode: str = "batch"):
        from qiskit_ibm_runtime.executor_estimator import Estimator

        super().__init__()
        if not max_qpu_seconds > 0:
            raise ValueError(f"max_qpu_seconds must be positive, got {max_qpu_seconds}")
        self.backend, self.options, self.max_qpu_seconds = backend, options, max_qpu_seconds
        if mode not in ("batch", "session", "job"):
            raise ValueError(f"mode must be 'batch', 'session' or 'job', got {mode!r}")
        self.backend, self.options, self.max_qpu_seconds = backend, options, max_qpu_seconds
        self.mode = mode
        self.estimated_seconds = 0.0
        self.jobs, self.estimates = [], []
        self.execution_mode = None  # opened at the first job: estimates alone open nothing
        self._local_estimators = {}  # local testing mode: one per set of used qubits
        self._estimator_class = Estimator

    def run(self, pubs, *, precision: float | None = None):
        """Estimate, check the budget, then submit all ``pubs`` as ONE job."""
        if precision is not None:
            raise ValueError("set shots with estimator_options(shots=...), not a precision")
        pubs = list(pubs)
        cost = estimate_cost(pubs, self.backend, self.options)
        if self.estimated_seconds + cost.qpu_seconds > self.max_qpu_seconds * (1 + 1e-9):
            raise ValueError(f"not submitted: this job needs {cost}, which would bring the "
                             f"estimate to {self.estimated_seconds + cost.qpu_seconds:.0f} s, "
                             f"above the approved max_qpu_seconds={self.max_qpu_seconds:g}; "
                             "raise it (and confirm) or send fewer inputs")
        self.estimated_seconds += cost.qpu_seconds
        self.estimates.append(cost)
        job = self._submit(pubs)
        self.jobs.append(job)
        return job

    def _submit(self, pubs):
        """Send ONE job: to the device, or in local testing mode to Aer on the used qubits only."""
        if not is_local(self.backend):
            if self.execution_mode is None:
                self.execution_mode = _open_mode(self.backend, self.mode)
                self._remote = self._estimator_class(mode=self.execution_mode,
                                                     options=self.options)
            return self._remote.run(pubs)
        from qiskit.primitives.containers.estimator_pub import EstimatorPub

        coerced = [EstimatorPub.coerce(pub) for pub in pubs]
        qubits = sorted(set().union(*(used_qubits(pub.circuit, np.ravel(
            pub.observables.tolist())) for pub in coerced)))
        key = tuple(qubits)
        if key not in self._local_estimators:
            subset = DeviceSubset.of(self.backend, qubits)
            self._local_estimators[key] = self._estimator_class(mode=subset, options=self.options)
        return self._local_estimators[key].run([DeviceSubset.pub(pub, qubits)
                                                for pub in coerced])

    def close(self) -> None:
        """Close the batch or session (its jobs still finish); no more jobs can be sent."""
        if hasattr(self.execution_mode, "close"):
            self.execution_mode.close()


def ibm_estimator(backend, max_qpu_seconds: float, mitigation: str = "trex", shots: int = 4000,
                  mode: str = "batch", seed: int | None = None) -> BudgetedEstimator:
    """A :class:`BudgetedEstimator` on ``backend`` (a name or a BackendV2), for any V2 caller."""
    backend = ibm_backend(backend)
    return BudgetedEstimator(backend, estimator_options(mitigation, shots, seed),
                             max_qpu_seconds, mode)


# -- the quantum layer and the grader on IBM hardware -------------------------------------------
def layer_pubs(layer, n_inputs: int, backward: bool = False) -> list:
    """The PUB a primitive-backed layer submits for ``n_inputs`` rows (forward) or their
    parameter-shift gradient (backward: 2 bindings per gate angle and row).
    """
    from qdr_course.quantum.parameter_shift import gate_gradients

    runner = layer.runner
    rows = n_inputs
    if backward:  # count the bindings the layer's backward pass sends, without sending them
        sent = []
        gate_gradients(lambda theta: sent.append(len(theta)) or np.zeros((len(theta),
                                                                          layer.out_features)),
                       np.zeros((n_inputs, len(runner.angles.angles))))
        rows = sum(sent)
    bindings = np.zeros((rows, 1, runner.circuit.num_parameters))
    return [(runner.circuit, [list(runner.observables)], bindings)]


def estimate_layer_cost(layer, n_inputs: int, backward: bool = True) -> CostEstimate:
    """QPU time of a forward pass of ``n_inputs`` rows through an IBM-backed layer (and of its
    backward pass when ``backward``); :func:`layer_cost` estimates one not yet built.
    """
    estimator = layer.backend
    if not isinstance(estimator, BudgetedEstimator):
        raise TypeError("layer must run on an IBM estimator (made by ibm_quantum_layer)")
    cost = estimate_cost(layer_pubs(layer, n_inputs), estimator.backend, estimator.options)
    if backward:
        cost = cost + estimate_cost(layer_pubs(layer, n_inputs, backward=True),
                                    estimator.backend, estimator.options)
    return cost


def _checked_backend(backend, n_qubits: int):
    """The backend (a name or BackendV2), refused when it has too few qubits."""
    backend = ibm_backend(backend)
    require_qubits(backend, n_qubits)
    return backend


def _require_confirmation(cost: CostEstimate, confirm: bool, max_qpu_seconds: float) -> None:
    """Refuse unless the user confirmed; the message shows the estimate."""
    if cost.qpu_seconds > max_qpu_seconds:
        raise ValueError(f"{cost} exceeds max_qpu_seconds={max_qpu_seconds:g}; raise it or use "
                         "fewer inputs")
    if confirm is not True:
        raise ValueError(f"nothing submitted: this needs {cost}; pass confirm=True to approve "
                         f"up to max_qpu_seconds={max_qpu_seconds:g}")


def ibm_quantum_layer(layer, backend, *, confirm: bool = False, n_inputs: int = 8,
                      max_qpu_seconds: float = 60.0, mitigation: str = "trex", shots: int = 4000,
                      mode: str = "batch", seed: int | None = None,
                      min_fidelity: float = MIN_EXPECTED_FIDELITY):
    """A copy of ``layer`` (a QuantumLayer, its weights kept) running on an IBM backend.

    See lesson 09. The circuit is transpiled to the backend's ISA; a backend with too few qubits,
    or a circuit whose expected fidelity is below ``min_fidelity``, is refused. The cost of one
    forward and backward pass of ``n_inputs`` rows is estimated; without ``confirm=True`` nothing
    is built and the error says the estimate. Every later job is checked against
    ``max_qpu_seconds`` in total.
    """
    ibm_layer = _layer_on(layer, backend, estimator_options(mitigation, shots, seed),
                          max_qpu_seconds, mode, min_fidelity)
    _require_confirmation(estimate_layer_cost(ibm_layer, n_inputs), confirm, max_qpu_seconds)
    return ibm_layer


def _layer_on(layer, backend, options, max_qpu_seconds: float, mode: str, min_fidelity: float):
    """A copy of ``layer`` on a (not yet used) BudgetedEstimator for ``backend``, placed on the
    physical qubits with the best expected fidelity; refuses too few qubits or too low a fidelity.
    """
    from qdr_course.quantum.layer import QuantumLayer

    if not isinstance(layer, QuantumLayer):
        raise TypeError(f"layer must be a QuantumLayer, got {type(layer).__name__}")
    backend = _checked_backend(backend, layer.circuit.circuit.num_qubits)
    manager, _ = isa_pass_manager(layer.circuit.circuit, backend)
    estimator = BudgetedEstimator(backend, options, max_qpu_seconds, mode)
    ibm_layer = QuantumLayer(layer.circuit, backend=estimator, transpile_to=manager,
                             init_weights=layer.weights.detach().to(layer.weights.dtype))
    require_fidelity(ibm_layer.executed_circuit, backend, min_fidelity)
    return ibm_layer


def layer_cost(layer, backend, n_inputs: int, *, backward: bool = True, mitigation: str = "trex",
               shots: int = 4000, min_fidelity: float = MIN_EXPECTED_FIDELITY) -> CostEstimate:
    """QPU time of a forward pass of ``n_inputs`` rows of ``layer`` (a QuantumLayer) on
    ``backend``, and of its backward pass when ``backward``; after the qubit and fidelity checks,
    with nothing submitted and no confirmation needed. See lesson 09.
    """
    from qdr_course import validate

    validate.positive_int("n_inputs", n_inputs)
    probe = _layer_on(layer, backend, estimator_options(mitigation, shots), 1.0, "job",
                      min_fidelity)
    return estimate_layer_cost(probe, int(n_inputs), backward=backward)


def _require_hybrid(model) -> None:
    """Refuse a model without a quantum circuit."""
    if getattr(model, "kind", None) != "HybridGrader":
        raise ValueError(f"an IBM backend needs a hybrid grader; got a "
                         f"{getattr(model, 'kind', type(model).__name__)}")


def grader_cost(model, backend, n_images: int, mitigation: str = "trex", shots: int = 4000,
                min_fidelity: float = MIN_EXPECTED_FIDELITY) -> CostEstimate:
    """QPU time of evaluating a HybridGrader on ``n_images`` images in ONE job, after the
    qubit and fidelity checks; nothing is submitted. See lesson 09.
    """
    _require_hybrid(model)
    backend = _checked_backend(backend, model.n_qubits)
    options = estimator_options(mitigation, shots)
    probe = model.with_backend(BudgetedEstimator(backend, options, 1.0, "job"),
                               transpile_to=_grader_pass_manager(model, backend))
    require_fidelity(probe.quantum.executed_circuit, backend, min_fidelity)
    return estimate_cost(layer_pubs(probe.quantum, n_images), backend, options)


def ibm_grader(model, backend, n_images: int, *, confirm: bool = False,
               max_qpu_seconds: float | None = None, mitigation: str = "trex", shots: int = 4000,
               seed: int | None = None, min_fidelity: float = MIN_EXPECTED_FIDELITY):
    """A copy of a trained HybridGrader whose circuit runs on an IBM backend, for evaluating
    ``n_images`` images in ONE job (``predict_grades(..., batch_size=n_images)``).

    See lesson 09. ``max_qpu_seconds`` defaults to the estimate of that one job; without
    ``confirm=True`` nothing is built and the error says the estimate.
    """
    backend = ibm_backend(backend)
    cost = grader_cost(model, backend, n_images, mitigation, shots, min_fidelity)
    budget = cost.qpu_seconds if max_qpu_seconds is None else max_qpu_seconds
    _require_confirmation(cost, confirm, budget)
    estimator = BudgetedEstimator(backend, estimator_options(mitigation, shots, seed), budget,
                                  "batch")
    return model.with_backend(estimator, transpile_to=_grader_pass_manager(model, backend))


def _grader_pass_manager(model, backend):
    """The pass manager that places the grader's circuit on the device's best qubits."""
    return isa_pass_manager(model.quantum.circuit.circuit, backend)[0]
