"""Exercise checks: ``check_*(answer)`` prints what is right or wrong. See lesson 00.

Each lesson's checks live in the module named after its topic; they are all importable from
here, e.g. ``from qdr_course.checks import check_parameter_shift``.
"""

from qdr_course.checks._core import CheckResult, ExerciseError, exercise_check  # noqa: F401
from qdr_course.checks.concepts import *  # noqa: F401,F403
from qdr_course.checks.data import *  # noqa: F401,F403
from qdr_course.checks.grader import *  # noqa: F401,F403
from qdr_course.checks.hardware import *  # noqa: F401,F403
from qdr_course.checks.ntk import *  # noqa: F401,F403
from qdr_course.checks.quantum import *  # noqa: F401,F403
from qdr_course.checks.welcome import *  # noqa: F401,F403
