"""Part 2 (lessons 04-05): retinopathy photographs, their data, and the graders trained on them.

The data path only goes downward: grades -> fundus, preprocessing -> splits -> sources,
aptos_folder -> datasets (the one entry point, :func:`load_grading_data`) -> loaders (torch) ->
metrics -> models -> training -> runs. Every name a lesson uses is importable from here, e.g.
``from qdr_course.retina import load_grading_data, HybridGrader, train_grader``.
"""

from qdr_course.utils import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "grades": ["GRADE_NAMES", "NUM_GRADES", "REFERABLE_GRADE", "SHORT_GRADE_NAMES", "grade_counts",
               "grade_from_folder_name"],
    "lesions": ["LESION_COLOURS", "LESION_TYPES"],
    "fundus": ["APTOS_COUNTS", "class_prior", "exudates_near_fovea", "overlay_lesions",
               "synthetic_fundus", "synthetic_fundus_dataset"],
    "splits": ["GradingData", "NEAR_DUPLICATE_BITS", "Split", "conflicting_groups", "grouped_split",
               "leak_groups", "patient_of", "perceptual_hash", "stratified_split"],
    "sources": ["fetch_retinamnist", "load_aptos", "load_eyepacs", "load_retinamnist",
                "try_load_retinamnist"],
    "idrid": ["IDRID_LESIONS", "IDRID_LESION_NAMES", "IDRID_TO_SYNTHETIC", "SegmentationSet",
              "idrid_labels", "load_idrid", "load_idrid_photographs", "load_idrid_segmentation",
              "verify_idrid"],
    "aptos_folder": ["save_aptos_folder"],
    "datasets": ["load_grading_data"],
    "loaders": ["FundusDataset", "as_dataset", "augment_batch", "class_weights", "grades_of",
                "make_loaders"],
    "metrics": ["format_report", "grading_report", "plot_confusion_matrix",
                "quadratic_weighted_kappa", "qwk_difference_interval"],
    "models": ["ClassicalGrader", "HybridGrader", "beats_baselines", "count_parameters",
               "edge_saliency", "lesion_enrichment", "random_saliency", "saliency_map",
               "sigmoid_pair_loss_floor",
               "sigmoid_pair_probability_cap"],
    "seed_model": ["SeedGrader", "alphabetical_grades", "seed_circuit",
                   "seed_circuit_probabilities"],
    "device": ["device_simulator", "grader_physical_qubits", "mitigate_readout",
               "readout_calibration"],
    "screening": ["REFERABLE_DME", "apply_temperature", "expected_calibration_error",
                  "fit_temperature", "operating_point", "referable_truth", "reliability_curve",
                  "seed_image_bootstrap", "sensitivity_at_specificity"],
    "training": ["evaluate_grader", "load_checkpoint", "predict_grades", "train_grader"],
    "runs": ["RETINAMNIST_PUBLISHED", "compare_graders", "format_real_scores", "format_summary",
             "paired_seed_difference", "plot_learning_curve", "real_data_scores",
             "summarise_runs", "train_and_score"],
})
