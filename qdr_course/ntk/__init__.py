"""Part 3 (lessons 06-07): the neural tangent kernel and training it with a quantum linear solver.

The numerical side of Zlokapa, Neven and Lloyd, *A quantum algorithm for training wide and deep
classical neural networks* (arXiv:2107.09200), one module per step, each using only those above:

- :mod:`~qdr_course.ntk.data`: two digit classes, labels +-1, unit-norm images;
- :mod:`~qdr_course.ntk.networks`: the erf networks (``neural_tangents.stax``), the exact
  constants :data:`ERF_SCALE` and :data:`MU`, and the depth from the convergence depth;
- :mod:`~qdr_course.ntk.kernels`: the closed-form, numerically stable NTK (:func:`erf_ntk`) and
  kernel regression;
- :mod:`~qdr_course.ntk.sparsification`: the sparsified NTK, its sparsity and condition number;
- :mod:`~qdr_course.ntk.qlsa_metrics`: what decides the speed of a quantum linear-system
  algorithm, per trial and swept over n with bootstrap error bars;
- :mod:`~qdr_course.ntk.paper_figure` and :mod:`~qdr_course.ntk.growth`: the paper's figure with
  the original's error bars, and the test of O(log n) growth;
- :mod:`~qdr_course.ntk.qlsa_cost`: the query-count cost model built on those numbers.

The quantum linear-system solver itself is :mod:`qdr_course.quantum.hhl`. Every name a lesson
uses is importable from here: ``from qdr_course import ntk`` then ``ntk.erf_ntk(...)``.
"""

from qdr_course.utils import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "data": ["DigitPair", "MNIST_SUBSET_DIGITS", "PAPER_DIGITS_CNN", "PAPER_DIGITS_FC",
             "load_digit_pair", "load_mnist_subset", "standardise_images"],
    "networks": ["DIAGONAL_GROWTH", "ERF_SCALE", "MAX_DIRECT_DEPTH", "MAX_STABLE_DEPTH", "MU",
                 "W_STD", "convergence_depth", "depth_for", "fc_erf_network",
                 "min_margin", "myrtle_cnn", "nt_erf_ntk", "nt_erf_ntk_by_depth"],
    "_neural_tangents": ["import_neural_tangents"],
    "kernels": ["classify", "diagonal_regression", "erf_derivative_map", "erf_nngp_map", "erf_ntk",
                "kernel_regression", "normalised_test_kernel", "test_kernel_threshold"],
    "sparsification": ["cnn_class_thresholds", "cnn_ridge_factor", "cnn_sparsify",
                       "condition_number", "nonzeros_per_row", "sparsify", "sparsity",
                       "sparsity_pattern", "sparsity_probability"],
    "qlsa_metrics": ["METRICS", "PAPER_TRIALS", "STATE_PREP_SCALES", "bootstrap_interval",
                     "growth_exponent", "metrics_from_kernels", "original_replicated_values",
                     "readout_measurements", "readout_overlap", "state_preparation_measurements",
                     "summarise", "sweep", "trial_metrics"],
    "dequantised": ["rejection_sample", "sample_overlap", "sign_error_rate"],
    "cnn": ["CNN_DEPTH", "DEEP_CNN_FILE", "POOL_PER_CLASS", "cnn_fixed_thresholds", "cnn_kernels",
            "cnn_pool", "cnn_sweep", "cnn_test_threshold", "cnn_trial_metrics", "load_deep_cnn"],
    "paper_figure": ["PAPER_PATTERNS", "PAPER_POISSON_REPLICATES", "original_statistics",
                     "paper_sweep", "paper_trial", "poisson_error", "readout_cost",
                     "replicated_array", "trial_medians"],
    "growth": ["GrowthFits", "compare_growth_models", "growth_verdict", "local_slopes",
               "log_n_local_slopes"],
})
