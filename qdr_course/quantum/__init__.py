"""Part 1 (lessons 01-03; 09 on IBM hardware): circuits, gradients and a quantum layer for torch.

Every name a lesson uses is importable from here, e.g.
``from qdr_course.quantum import retinopathy_circuit, QuantumLayer``.
"""

from qdr_course.utils import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "circuits": ["ParameterizedCircuit", "layered_ansatz", "probability_observables",
                 "retinopathy_circuit", "seed_retinopathy_circuit", "textbook_circuit",
                 "xia_kais_circuit", "z_observables"],
    "compiled": ["GateAngles", "gate_angles"],
    "parameter_shift": ["finite_difference_gradient", "finite_difference_variance",
                        "four_term_gradient", "gate_gradients", "parameter_shift_jacobian",
                        "shift_gradient",
                        "shift_gradient_variance", "shots_for_gradient"],
    "statevector": ["TorchStatevector", "expectation_values"],
    "backends": ["PrimitiveRunner", "aer_estimator", "aer_sampler", "device_estimator",
                 "device_simulator",
                 "estimate_expectations", "exact_expectations", "fake_device",
                 "sample_expectations", "transpile_for"],
    "layer": ["QuantumLayer", "encode_angles"],
    "digits": ["DigitNet", "accuracy", "classical_digit_net", "fit", "hybrid_digit_net",
               "load_digit_tensors", "train_step", "with_backend"],
    "hhl": ["HHL", "HHLResult", "matrix_with_condition_number"],
    "ibm": ["BudgetedEstimator", "CostEstimate", "estimate_cost", "estimate_layer_cost",
            "expected_fidelity", "grader_cost", "has_ibm_credentials", "ibm_backend",
            "ibm_grader", "ibm_quantum_layer", "ibm_service", "instruction_error"],
})
