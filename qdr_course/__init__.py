"""qdr-course: hybrid quantum-classical networks for retinopathy grading, and quantum
linear-system training of infinitely wide networks.

The lessons in ``lessons/`` tell the story; this package is their index. Every public
function's docstring names the lesson that explains it.
"""

__version__ = "0.1.0"

from qdr_course.utils import set_seed  # noqa: E402

__all__ = ["__version__", "set_seed"]
