"""Progress bars: tqdm's notebook widget when ipywidgets is importable, plain text otherwise.

``tqdm.auto`` alone warns ("IProgress not found") in a notebook without ipywidgets; choosing the
class here first means no warning in either case. ``TQDM_DISABLE=1`` switches every bar off
(tqdm's notebook widget would still display an empty bar, so plain text is chosen then).
"""

from __future__ import annotations

import importlib.util
import os


def bars_disabled() -> bool:
    """True when ``TQDM_DISABLE`` asks for no progress bars (as the notebook tests do)."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


def progress_bar():
    """The tqdm class: ``tqdm.auto`` (a widget in notebooks) if ipywidgets is there, else text."""
    if bars_disabled() or importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm  # the widget in a notebook, plain text in a terminal
    return tqdm
