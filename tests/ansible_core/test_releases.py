# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supported ansible-core releases: what meta/runtime.yml promises is
what the host and the ansible-core matrix check, with every release pinned."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import matrix  # noqa: E402

PIN = re.compile(r"^[A-Za-z0-9_.\-\[\]]+==[^\s=]+$")


def minor(release):
    major, minr = release.split(".")
    return int(major), int(minr)


def test_requires_ansible_is_a_lower_bound_at_the_host_release():
    spec = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    assert re.fullmatch(r">=\d+\.\d+\.0", spec), "requires_ansible must be a lower bound only: %r" % spec
    assert spec == ">=%s.0" % matrix.host_release()


def test_the_matrix_covers_every_release_after_the_host_one_without_a_gap():
    releases = [matrix.host_release(), *matrix.RELEASES]
    for older, newer in zip(releases, releases[1:]):
        assert minor(newer) == (minor(older)[0], minor(older)[1] + 1), "gap between %s and %s" % (older, newer)
    assert minor(releases[-1]) >= (2, 21)


@pytest.mark.parametrize("release", sorted(matrix.RELEASES))
def test_each_release_is_fully_pinned(release):
    lines = [line.split("#")[0].strip() for line in (HERE / matrix.RELEASES[release]).read_text().splitlines()]
    lines = [line for line in lines if line]
    loose = [line for line in lines if not PIN.match(line)]
    assert not loose, "not pinned with ==: %s" % loose
    assert matrix.pinned_core(release).startswith(release + "."), matrix.pinned_core(release)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"ansible-core", "pytest", "pyroute2", "jmespath", "junitparser"} <= names


def test_each_release_runs_sanity_units_and_a_drift_run_in_its_own_virtualenv():
    for release in matrix.RELEASES:
        scripts = matrix.check_scripts(release)
        assert sorted(scripts) == sorted(matrix.CHECKS)
        assert all(matrix.venv_dir(release) + "/bin/" in script for script in scripts.values())
        assert "ansible-test sanity --venv --python %s" % matrix.PYTHON in scripts["sanity"]
        assert "tests/integration/test_playbooks_drift.py" in scripts["drift"]
    assert len({matrix.venv_dir(r) for r in matrix.RELEASES}) == len(matrix.RELEASES)


def test_the_virtualenv_path_changes_with_its_requirements(tmp_path, monkeypatch):
    release = sorted(matrix.RELEASES)[0]
    before = matrix.venv_dir(release)
    copy = tmp_path / matrix.RELEASES[release]
    copy.write_text((HERE / matrix.RELEASES[release]).read_text() + "six==1.16.0\n")
    monkeypatch.setattr(matrix, "HERE", tmp_path)
    assert matrix.venv_dir(release) != before
