# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Molecule config every scenario runs with, loaded by Molecule's own loader.

Each molecule/NAME/molecule.yml is merged over .config/molecule/config.yml
(molecule.config.Config, the loader `molecule test` uses).  The merged result
must carry the settings the lab relies on, and a scenario file must not repeat
a setting of the base config with the same value.  No VM is started.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

from molecule.config import Config

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / ".config" / "molecule" / "config.yml"
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
# test_sequence steps that run a playbook, and which one
STEP_PLAYBOOK = {
    "create": "create",
    "prepare": "prepare",
    "converge": "converge",
    "check": "converge",
    "idempotence": "converge",
    "side_effect": "side_effect",
    "verify": "verify",
    "destroy": "destroy",
}
CALLBACK = "vnfo_changes"
MISSING = object()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Molecule's Config of every scenario, as `molecule` run from the repository root builds it."""
    saved = dict(os.environ)
    # the loader runs ansible-config from PATH; state files go to a throwaway directory
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["MOLECULE_PROJECT_DIRECTORY"] = str(ROOT)
    configs = {}
    try:
        for name in SCENARIOS:
            os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] = str(tmp_path_factory.mktemp(f"molecule-{name}"))
            configs[name] = Config(
                str(ROOT / "molecule" / name / "molecule.yml"),
                args={"base_config": [str(BASE)]},
                command_args={"subcommand": "syntax"},
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return configs


def leaves(tree, path=()):
    """(path, value) of every scalar or list in a nested mapping."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, path + (key,))
    else:
        yield path, tree


def lookup(tree, path):
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return MISSING
        tree = tree[key]
    return tree


def test_scenarios_are_found():
    assert len(SCENARIOS) >= 10, SCENARIOS
    assert "resources" not in SCENARIOS


def makefile_list(var: str) -> list[str]:
    """The words of the Makefile's `VAR ?=` line."""
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith(f"{var} ?="):
            return line.split("=", 1)[1].split()
    raise AssertionError(f"the Makefile has no '{var} ?=' line")


def test_make_test_full_runs_every_scenario_once():
    listed = makefile_list("ALL_SCENARIOS")
    assert len(listed) == len(set(listed)), listed
    assert sorted(listed) == sorted(SCENARIOS), "ALL_SCENARIOS must name every molecule/*/ scenario exactly once"


def test_make_test_runs_the_three_releases_live_migration_and_removal():
    gate = makefile_list("SCENARIOS")
    assert len(gate) == len(set(gate)), gate
    assert set(gate) <= set(SCENARIOS), gate
    for name in ("default", "debian13", "debian14", "migration", "remove"):
        assert name in gate, f"make test must run {name}"
    for name in sorted(set(SCENARIOS) - set(gate)):
        print(f"make test-full only: {name}")


@pytest.mark.parametrize("var", ["SCENARIOS", "ALL_SCENARIOS"])
def test_scenario_lists_start_with_the_scenarios_that_save_the_converged_snapshots(var):
    sys.path.insert(0, str(ROOT / "molecule" / "resources" / "lab"))
    import run_scenarios  # the runner's own list of snapshot producers

    producers = set(run_scenarios.PRODUCERS.values())
    assert set(makefile_list(var)[:len(producers)]) == producers


def test_make_test_full_runs_make_test_with_all_scenarios_and_both_matrices():
    text = (ROOT / "Makefile").read_text()
    recipe = text[text.index("\ntest-full:"):].split("\n\n", 1)[0]
    assert 'SCENARIOS="$(ALL_SCENARIOS)"' in recipe, recipe
    assert "core-matrix" in recipe and "kmod-matrix" in recipe, recipe


def test_base_config_keeps_prerun_off():
    base = yaml.safe_load(BASE.read_text())
    assert base["prerun"] is False


@pytest.mark.parametrize("name", SCENARIOS)
def test_merged_config_has_the_shared_settings(loaded, name):
    data = loaded[name].config_data
    assert data["prerun"] is False
    assert data["driver"]["name"] == "default"
    assert data["driver"]["options"]["managed"] is True
    cfg = data["ansible"]["cfg"]
    assert cfg["defaults"]["interpreter_python"] == "/usr/bin/python3"
    assert cfg["defaults"]["host_key_checking"] is False
    assert cfg["defaults"]["timeout"] == 60
    assert cfg["defaults"]["forks"] == 5
    assert cfg["ssh_connection"]["pipelining"] is True
    assert "ControlPersist=" in cfg["ssh_connection"]["ssh_args"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_step_of_the_test_sequence_has_its_playbook(loaded, name):
    config = loaded[name]
    sequence = config.config_data["scenario"]["test_sequence"]
    assert sequence, f"{name}: empty test_sequence"
    assert sequence[0] == "destroy" and sequence[-1] == "destroy", f"{name}: a run must start and end clean"
    playbooks = config.provisioner.playbooks
    for playbook in ("create", "destroy"):
        assert getattr(playbooks, playbook) == str(ROOT / "molecule" / "resources" / "playbooks" / f"{playbook}.yml")
    for step in sequence:
        if step in STEP_PLAYBOOK:
            path = getattr(playbooks, STEP_PLAYBOOK[step])
            assert path and Path(path).is_file(), f"{name}: step {step} has no playbook ({path})"


@pytest.mark.parametrize("name", SCENARIOS)
def test_check_prediction_has_its_callback(loaded, name):
    """A scenario whose playbooks read the vnfo_changes record enables that callback."""
    config = loaded[name]
    defaults = config.config_data["ansible"]["cfg"]["defaults"]
    enabled = CALLBACK in str(defaults.get("callbacks_enabled", "")).split(",")
    playbooks = config.provisioner.playbooks
    texts = [Path(p).read_text() for p in (playbooks.converge, playbooks.side_effect, playbooks.verify) if p]
    if any("check_prediction.yml" in text for text in texts):
        assert enabled, f"{name}: its verify compares check mode with converge but {CALLBACK} is not enabled"
    if enabled:
        assert (Path(defaults["callback_plugins"]) / f"{CALLBACK}.py").is_file()


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_does_not_repeat_the_base_config(name):
    base = yaml.safe_load(BASE.read_text())
    scenario = yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text())
    repeated = [".".join(path) for path, value in leaves(scenario) if lookup(base, path) == value]
    assert not repeated, f"molecule/{name}/molecule.yml repeats .config/molecule/config.yml: {repeated}"
