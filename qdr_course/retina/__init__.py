"""Part 2 (lessons 04-05): retinopathy photographs, their data, and the graders trained on them.

Every name a lesson uses is importable from here, e.g.
``from qdr_course.retina import load_grading_data, HybridGrader, train_grader``.
"""

from qdr_course.utils import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "fundus": ["APTOS_COUNTS", "GRADE_NAMES", "LESION_COLOURS", "LESION_TYPES", "overlay_lesions",
               "synthetic_fundus", "synthetic_fundus_dataset"],
    "datasets": ["FundusDataset", "GradingData", "augment_batch", "class_weights", "grade_counts",
                 "grade_from_folder_name", "load_grading_data", "make_loaders",
                 "stratified_split"],
    "metrics": ["format_report", "grading_report", "plot_confusion_matrix",
                "quadratic_weighted_kappa"],
    "models": ["ClassicalGrader", "HybridGrader", "count_parameters", "lesion_enrichment",
               "saliency_map", "sigmoid_pair_loss_floor"],
    "training": ["compare_graders", "evaluate_grader", "format_summary", "load_checkpoint",
                 "predict_grades", "summarize_runs", "train_grader"],
    "runs": ["plot_learning_curve"],
})
