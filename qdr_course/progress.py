"""Progress bars: tqdm's notebook widget when ipywidgets is importable, plain text otherwise.

``tqdm.auto`` alone warns ("IProgress not found") in a notebook without ipywidgets; choosing the
class here first means no warning in either case. ``TQDM_DISABLE=1`` switches every bar off.
"""

from __future__ import annotations

import importlib.util


def progress_bar():
    """The tqdm class: ``tqdm.auto`` (a widget in notebooks) if ipywidgets is there, else text."""
    if importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm  # the widget in a notebook, plain text in a terminal
    return tqdm
