"""Issue 27.9: a crafted or damaged run is refused in one line, before anything is built from it.

Each case edits a real run folder as an attacker or a careless hand would, updating the SHA-256
in metrics.json where the issue says so, and checks the one-line error.
"""

import json
import shutil

import pytest
import torch

from qdr_course.cli import main
from qdr_course.retina.runs import file_sha256

TINY = ["--n", "100", "--size", "32", "--epochs", "1", "--no-progress"]


@pytest.fixture(scope="module")
def hybrid_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "hybrid"
    assert main(["train", "--out", str(out), *TINY]) == 0
    return out


@pytest.fixture
def run(hybrid_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(hybrid_run, copy)
    return copy


def craft(run, edit, config_too: bool = False) -> None:
    """Apply ``edit`` to the checkpoint's payload and record the new SHA-256 in metrics.json."""
    path = run / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["checkpoint_sha256"] = file_sha256(path)
    if config_too:
        metrics["settings"]["config"] = payload["config"]
    (run / "metrics.json").write_text(json.dumps(metrics))


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "error: " in err, err
    return err


def _wrong_shape(p):
    name = next(k for k, v in p["state_dict"].items() if v.ndim == 2)
    p["state_dict"][name] = torch.zeros(3, 3)
    p.pop("best_state_dict", None)


def _nan_weight(p):
    for state in (p["state_dict"], p.get("best_state_dict") or {}):
        name = next(k for k, v in state.items() if v.is_floating_point())
        state[name] = state[name].clone().fill_(float("nan"))


@pytest.mark.parametrize("edit, config_too, words", [
    (_wrong_shape, False, "weights do not fit"),
    (lambda p: p.pop("state_dict"), False, "state_dict missing"),
    (lambda p: p.update(kind="Trojan"), False, "unknown model kind"),
    (_nan_weight, False, "NaN or infinite weights"),
    (lambda p: p["config"].update(n_layers=1_000_000), True, "n_layers = 1000000"),
    (lambda p: p["config"].update(channels=[8] * 1000), True, "channels"),
])
def test_crafted_checkpoints_are_refused_in_one_line(run, capsys, edit, config_too, words):
    craft(run, edit, config_too)
    assert main(["evaluate", str(run)]) == 2
    assert words in one_line(capsys)


def test_changed_bytes_are_refused_before_torch_reads_them(run, capsys, monkeypatch):
    path = run / "checkpoint.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    def never(*args, **kwargs):
        raise AssertionError("torch.load ran before the SHA-256 was checked")

    monkeypatch.setattr(torch, "load", never)
    assert main(["evaluate", str(run)]) == 2
    assert "SHA-256 differs" in one_line(capsys)


@pytest.mark.parametrize("key, value, words", [
    ("n", 10**9, "n = 1000000000"),
    ("size", 5.5, "size = 5.5 is not an integer"),
    ("lr", float("nan"), "lr = nan"),
    ("model", "quantum", "model = 'quantum' is not one of"),
    ("augment", 1, "augment = 1 is not one of"),
])
def test_resume_revalidates_a_hand_edited_settings_file(run, capsys, key, value, words):
    (run / "metrics.json").unlink()  # an unfinished run, as --resume expects
    settings = json.loads((run / "settings.json").read_text())
    settings[key] = value
    (run / "settings.json").write_text(json.dumps(settings))
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
