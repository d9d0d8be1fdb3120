"""The ICDR grading scale, once: its names, its size, the referable threshold, its validators.

See lesson 04.

Grades are the International Clinical Diabetic Retinopathy scale, 0 (no DR) to 4
(proliferative DR); every module of :mod:`qdr_course.retina` takes them from here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FOLDER_GRADES", "GRADE_NAMES", "NUM_GRADES", "REFERABLE_GRADE", "SHORT_GRADE_NAMES",
           "grade_array", "grade_counts", "grade_from_folder_name", "grade_labels", "one_grade"]

#: The ICDR names of grades 0-4.
GRADE_NAMES = ("No DR", "Mild NPDR", "Moderate NPDR", "Severe NPDR", "Proliferative DR")
#: The same names, short (for plot axes and tables).
SHORT_GRADE_NAMES = ("No DR", "Mild", "Moderate", "Severe", "Proliferative")
NUM_GRADES = len(GRADE_NAMES)
#: Grades at or above this are referable DR (moderate NPDR or worse).
REFERABLE_GRADE = 2

#: ICDR grade of each folder name used by public "one folder per class" copies of APTOS.
#: Sorting these names alphabetically (as ``ImageFolder`` does) gives Mild=0, Moderate=1,
#: No_DR=2, Proliferate_DR=3, Severe=4: the wrong order. Map by meaning, never by sort order.
FOLDER_GRADES = {"no_dr": 0, "mild": 1, "moderate": 2, "severe": 3, "proliferate_dr": 4,
                 "proliferative_dr": 4, "proliferative": 4, "no dr": 0, "nodr": 0}


def grade_array(grades) -> np.ndarray:
    """Validate integer grades 0-4 (a column (N, 1) is flattened); return them as int64."""
    grades = np.asarray(grades)
    if grades.ndim == 2 and grades.shape[1] == 1:
        grades = grades[:, 0]
    if grades.ndim != 1:
        raise ValueError(f"grades must be 1-D, got shape {grades.shape}")
    if grades.size == 0:
        raise ValueError("grades is empty: give at least one grade 0-4 per image")
    if grades.dtype.kind not in "iu":
        raise TypeError(f"grades must be integers 0-4, got dtype {grades.dtype}")
    bad = (grades < 0) | (grades > 4)
    if bad.any():
        raise ValueError("grades must be 0-4 (ICDR scale); found "
                         f"{sorted(set(grades[bad].tolist()))[:10]} at positions "
                         f"{np.flatnonzero(bad)[:10].tolist()}")
    return grades.astype(np.int64)


def grade_counts(grades) -> np.ndarray:
    """Number of images of each grade 0-4. See lesson 04."""
    return np.bincount(grade_array(grades), minlength=NUM_GRADES)


def grade_from_folder_name(name: str) -> int:
    """The ICDR grade of a class-folder name ("No_DR", "Mild", ..., "Proliferate_DR").

    See lesson 04.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in FOLDER_GRADES:
        raise ValueError(f"unknown class folder {name!r}; expected one of No_DR, Mild, Moderate, "
                         "Severe, Proliferate_DR")
    return FOLDER_GRADES[key]


def grade_labels(y, name: str) -> np.ndarray:
    """Validate a 1-D array of integer grades 0-4 (integral floats accepted) named ``name``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one grade per image), got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} is empty")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"{name} must hold integer grades 0-4, got non-integer values; "
                             "take argmax over class scores first")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer grades 0-4, got dtype {y.dtype}")
    bad = (y < 0) | (y >= NUM_GRADES)
    if bad.any():
        raise ValueError(f"{name} has grades outside 0-4 (ICDR scale): "
                         f"{sorted(set(y[bad].tolist()))[:10]}")
    return y.astype(np.int64)


def one_grade(grade) -> int:
    """Validate one integer grade 0-4 (ICDR scale); return it as an int."""
    if isinstance(grade, bool) or not isinstance(grade, (int, np.integer)):
        raise TypeError(f"grade must be an integer 0-4 (ICDR scale), got {grade!r}")
    if not 0 <= grade <= 4:
        raise ValueError("grade must be 0-4 on the ICDR scale (0 = no DR, 4 = proliferative), got "
                         f"{grade}")
    return int(grade)
