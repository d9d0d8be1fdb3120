"""Part 3 (lessons 06-07): the neural tangent kernel and training it with a quantum linear solver.

Every name a lesson uses is importable from here, e.g. ``from qdr_course import ntk`` and then
``ntk.erf_ntk(...)``, or ``from qdr_course.ntk import qlsa_cost``.
"""

from qdr_course.utils import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "kernels": ['ERF_SCALE', 'W_STD', 'MU', 'DIAGONAL_GROWTH', 'MAX_DIRECT_DEPTH',
                'MAX_STABLE_DEPTH', 'PAPER_DIGITS_FC', 'PAPER_DIGITS_CNN',
                'import_neural_tangents', 'DigitPair', 'standardise_images', 'load_digit_pair',
                'min_margin', 'convergence_depth', 'depth_for', 'fc_erf_network', 'myrtle_cnn',
                'nt_erf_ntk_by_depth', 'nt_erf_ntk', 'erf_nngp_map', 'erf_derivative_map',
                'erf_ntk', 'test_kernel_threshold', 'normalised_test_kernel',
                'sparsity_probability', 'sparsity_pattern', 'sparsify', 'kernel_regression',
                'diagonal_regression', 'classify', 'condition_number', 'nonzeros_per_row',
                'state_preparation_measurements', 'readout_overlap', 'readout_measurements',
                'METRICS', 'trial_metrics', 'sweep', 'bootstrap_interval', 'summarise'],
})
