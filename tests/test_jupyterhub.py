"""The JupyterHub files hold the numbers the measured lesson table implies."""

import re

import pytest
import yaml

from qdr_course.hub_sizing import learners_per_node, lesson_peaks, per_user, sizing_table
from qdr_course.utils import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


@pytest.fixture(scope="module")
def user():
    return per_user(lesson_peaks(REPO_ROOT / "README.md"))


def test_the_rule_on_the_measured_table():
    peaks = lesson_peaks(REPO_ROOT / "README.md")
    assert sorted(peaks) == [f"{i:02d}" for i in range(len(peaks))] and len(peaks) >= 8
    assert per_user({"a": 1.04, "b": 0.40, "c": 0.57}) == {
        "mem_limit_gb": 1.75, "mem_guarantee_gb": 1.0, "cpu_limit": 1.0, "cpu_guarantee": 0.25}
    assert per_user({"a": 1.25, "b": 0.5}) == {  # exact multiples are not rounded up further
        "mem_limit_gb": 1.75, "mem_guarantee_gb": 1.25, "cpu_limit": 1.0, "cpu_guarantee": 0.25}


def test_z2jh_config_matches_the_lesson_table(user):
    config = yaml.safe_load((DEPLOY / "z2jh" / "config.yaml").read_text())
    single = config["singleuser"]
    assert single["memory"]["limit"] == f"{user['mem_limit_gb']:g}G"
    assert single["memory"]["guarantee"] == f"{user['mem_guarantee_gb']:g}G"
    assert single["cpu"] == {"limit": user["cpu_limit"], "guarantee": user["cpu_guarantee"]}
    assert config["cull"]["enabled"] and config["cull"]["timeout"] == 3600
    assert config["prePuller"]["hook"]["enabled"] and config["prePuller"]["continuous"]["enabled"]
    assert single["defaultUrl"] == "/lab/tree/lessons/00_welcome.ipynb"
    assert (REPO_ROOT / single["defaultUrl"].removeprefix("/lab/tree/")).is_file()


def _flat(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_tljh_config_and_setup_script_agree_with_the_table(user):
    config = dict(_flat(yaml.safe_load((DEPLOY / "tljh" / "config.yaml").read_text())))
    assert config["limits.memory"] == f"{user['mem_limit_gb']:g}G"
    assert config["limits.cpu"] == user["cpu_limit"]
    script = (DEPLOY / "tljh" / "setup.sh").read_text()
    applied = dict(re.findall(r"^tljh-config set (\S+) (\S+)$", script, re.MULTILINE))
    assert applied == {key: str(value).lower() if isinstance(value, bool) else f"{value:g}"
                       if isinstance(value, (int, float)) else str(value)
                       for key, value in config.items()}


def test_docs_sizing_table_and_numbers_are_the_computed_ones(user):
    text = (REPO_ROOT / "docs" / "jupyterhub.md").read_text()
    block = text.split("checks it -->\n")[1].split("\n<!-- end of sizing table -->")[0]
    assert block == sizing_table(user)
    assert f"| memory limit | {user['mem_limit_gb']:g} GB |" in text
    assert f"| memory guarantee | {user['mem_guarantee_gb']:g} GB |" in text
    hundred = next(row for row in block.splitlines() if "32 cores" in row)
    assert int(hundred.split("|")[2]) >= 100  # the VM named for 100 learners on TLJH holds them
    assert learners_per_node(1, 2, user) == 0  # a node that is all reserve holds nobody


@pytest.mark.parametrize("cores, gb, words", [
    (-4, 64, "cores must be a positive finite number"),
    (4, float("nan"), "gb must be a positive finite number"),
])
def test_learners_per_node_refuses_impossible_nodes(cores, gb, words):
    from qdr_course.hub_sizing import learners_per_node

    user = {"cpu_guarantee": 0.25, "mem_guarantee_gb": 0.75}
    with pytest.raises(ValueError, match=words):
        learners_per_node(cores, gb, user)
    assert learners_per_node(1, 64, user) == 0 == learners_per_node(8, 2, user)  # never negative


@pytest.mark.parametrize("peaks, words", [
    ({}, "peaks is empty"),
    ({"01": -0.5}, "lesson 01 must be a positive finite number"),
    ({"01": 0.0}, "must be a positive"),
])
def test_per_user_refuses_empty_or_negative_peaks(peaks, words):
    from qdr_course.hub_sizing import per_user

    with pytest.raises(ValueError, match=words):
        per_user(peaks)
