"""Small helpers shared by every lesson (seeds, paths)."""

from __future__ import annotations

import importlib
import math
import os
import random
import sys
from pathlib import Path

import numpy as np

from qdr_course.validate import non_negative_int

#: The course's root folder when run from a checkout (lessons/, solutions/ beside the package).
REPO_ROOT = Path(__file__).resolve().parent.parent


def set_seed(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and torch (if imported); return a NumPy generator. See lesson 00."""
    seed = int(non_negative_int("seed", seed))
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    # Seed torch only if it is already imported: importing it here would cost the NTK lessons
    # about 250 MB. A torch imported later starts from its own fixed default seed, so runs stay
    # reproducible either way; call set_seed after `import torch` to get seed `seed` there too.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


#: Okabe & Ito's colour-blind-safe palette (Okabe and Ito 2008), in their order.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"]


def figure_style() -> None:
    """Matplotlib defaults of every lesson's figures: colour-blind-safe, never colour alone.

    Lines cycle through Okabe and Ito's palette together with line styles, so two series differ
    in dash pattern as well as colour (add markers or labels where points matter); images default
    to viridis (perceptually uniform, readable in grey). Call it once in a lesson's import cell.
    """
    import matplotlib as mpl
    from cycler import cycler

    colours = [OKABE_ITO[i] for i in (4, 5, 2, 0, 6, 1, 7)]  # the yellow is too pale for lines
    styles = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3))]
    mpl.rcParams["axes.prop_cycle"] = cycler(color=colours) + cycler(linestyle=styles)
    mpl.rcParams["image.cmap"] = "viridis"


def format_stable(value: float, uncertainty: float) -> str:
    """``value`` with the decimals that every number within ±``uncertainty`` shares. See lesson 02.

    Stored outputs must read the same on any CPU: a result known only to ±``uncertainty``
    (rounding, threads, SIMD) is printed with no digit that such an error could change.

    >>> format_stable(0.58285, 1e-4)
    '+0.583'
    >>> format_stable(0.58285, 1e-9)
    '+0.58285000'
    """
    if not (math.isfinite(value) and math.isfinite(uncertainty) and uncertainty >= 0):
        raise ValueError(f"value and uncertainty must be finite (uncertainty >= 0), got "
                         f"{value!r} ± {uncertainty!r}")
    for decimals in range(15, -1, -1):
        low, high = (f"{v:+.{decimals}f}" for v in (value - uncertainty, value + uncertainty))
        if low == high:
            return low
    return f"{value:+.0e}"


def lazy_exports(package: str, exports: dict[str, list[str]]):
    """Re-export ``{module: [names]}`` from a sub-package, importing each module on first use.

    Returns ``(__getattr__, __dir__, __all__)`` for the sub-package's ``__init__``: a lesson
    imports every name of a part from one place, and only the modules it uses get imported
    (``qdr_course.quantum.hhl`` does not pull in torch, for instance).
    """
    home = {name: module for module, names in exports.items() for name in names}
    shadowed = set(home) & set(exports)
    if shadowed:  # after `import package.module`, the attribute would be the module
        raise ValueError(f"{package}: names {sorted(shadowed)} are also module names")

    def __getattr__(name: str):
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f"{package}.{home[name]}")
        value = getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(home) | set(vars(sys.modules[package])))

    __getattr__.exports = {name: f"{package}.{module}" for name, module in home.items()}
    return __getattr__, __dir__, sorted(home)
