# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift playbook's monitoring outputs, end to end over the namespace fleet of
test_playbooks_drift.py: the JUnit file (read with junitparser), the per-host
node_exporter textfiles and the fleet summary (each checked with
``promtool check metrics``, then read sample by sample).

Set VIRTNET_OUTPUTS_KEEP=DIR to keep a copy of the generated files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from junitparser import Error, Failure, JUnitXml

from netns_lab import NetnsLab
from test_playbooks_drift import DRIFT_FROM, DRIFT_HOST, DRIFT_TO, HOSTS, drifted, fleet, run_drift  # noqa: F401  # pylint: disable=unused-import

PROMTOOL = shutil.which("promtool")
UNREACHABLE = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody",
               "ansible_ssh_common_args": "-o BatchMode=yes -o ConnectTimeout=5"}


@pytest.fixture(autouse=True)
def need_promtool():
    if not PROMTOOL:
        pytest.fail("promtool is missing: make host-packages installs it (Debian package prometheus)")


def promtool_check(path):
    with open(path, "rb") as fh:
        proc = subprocess.run([PROMTOOL, "check", "metrics"], stdin=fh, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), \
        "promtool check metrics %s: %s%s" % (path, proc.stdout, proc.stderr)


def samples(path):
    out = {}
    with open(path) as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            key, value = line.rstrip("\n").rsplit(" ", 1)
            out[key] = float(value)
    return out


def outputs_vars(tmp_path):
    for host in HOSTS + ("vm9-nons",):
        (tmp_path / "textfiles" / host).mkdir(parents=True)
    (tmp_path / "fleet-textfile").mkdir()
    return {"failover_drift_junit": True,
            "failover_drift_textfile_dir": str(tmp_path / "textfiles") + "/{{ inventory_hostname }}",
            "failover_drift_fleet_textfile_dir": str(tmp_path / "fleet-textfile")}


def keep(paths):
    dest = os.environ.get("VIRTNET_OUTPUTS_KEEP")
    if dest:
        os.makedirs(dest, exist_ok=True)
        for name, path in paths.items():
            shutil.copy(path, os.path.join(dest, name))


def test_outputs_of_a_run_with_drift(fleet, drifted, tmp_path):  # noqa: F811
    missing = NetnsLab(prefix="vnfopb-missing").name
    extra = {"vm0-down": UNREACHABLE, "vm9-nons": {"failover_netns": missing}}
    run = run_drift(fleet, tmp_path, extra_hosts=extra, extra_vars=outputs_vars(tmp_path))
    assert run.rc == 2, run.output[-4000:]
    report_dir = tmp_path / "report"

    # JUnit: one case per host, one failure per drift item, unreachable / failed hosts as errors
    junit = report_dir / "fleet-report.junit.xml"
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    cases = {c.name: c for c in suite}
    assert sorted(cases) == ["vm0-down", "vm1", "vm2", "vm3", "vm9-nons"]
    assert (suite.tests, suite.failures, suite.errors) == (5, 1, 2)
    (fail,) = cases[DRIFT_HOST].result
    assert isinstance(fail, Failure) and fail.type == "slave_name"
    assert "expected: %s" % DRIFT_FROM in fail.text and "actual: %s" % DRIFT_TO in fail.text
    for host in HOSTS:
        if host != DRIFT_HOST:
            assert cases[host].is_passed, host
    (down,) = cases["vm0-down"].result
    assert isinstance(down, Error) and down.type == "unreachable" and "Connection refused" in down.message
    (nons,) = cases["vm9-nons"].result
    assert isinstance(nons, Error) and nons.type == "failed" and "does not exist" in nons.message

    # per-host textfiles: valid, only the .prom file in each directory, the numbers of the check
    files = {}
    for host in HOSTS + ("vm9-nons",):
        directory = tmp_path / "textfiles" / host
        assert os.listdir(str(directory)) == ["virtnet_failover.prom"], host
        files[host] = str(directory / "virtnet_failover.prom")
        promtool_check(files[host])
    drift = samples(files[DRIFT_HOST])
    assert drift['virtnet_failover_drift_items{kind="slave_name"}'] == 1
    assert sum(v for k, v in drift.items() if k.startswith("virtnet_failover_drift_items{")) == 1
    assert drift["virtnet_failover_check_success"] == 1
    assert (drift["virtnet_failover_groups"], drift["virtnet_failover_groups_healthy"]) == (1, 0)
    clean = samples(files["vm1"])
    assert (clean["virtnet_failover_groups"], clean["virtnet_failover_groups_healthy"]) == (1, 1)
    assert sum(v for k, v in clean.items() if k.startswith("virtnet_failover_drift_items{")) == 0
    assert "virtnet_failover_patched_module_loaded" in clean and "virtnet_failover_last_check_timestamp_seconds" in clean
    info = [k for k in clean if k.startswith("virtnet_failover_info{")]
    assert len(info) == 1 and re.search(r'running_kernel="%s"' % re.escape(os.uname().release), info[0])
    assert samples(files["vm9-nons"])["virtnet_failover_check_success"] == 0

    # fleet summary on the controller
    fleet_file = str(tmp_path / "fleet-textfile" / "virtnet_failover_fleet.prom")
    promtool_check(fleet_file)
    s = samples(fleet_file)
    assert {k: v for k, v in s.items() if k.startswith("virtnet_failover_fleet_hosts{")} == {
        'virtnet_failover_fleet_hosts{status="ok"}': 2, 'virtnet_failover_fleet_hosts{status="drift"}': 1,
        'virtnet_failover_fleet_hosts{status="unreachable"}': 1, 'virtnet_failover_fleet_hosts{status="failed"}': 1,
        'virtnet_failover_fleet_hosts{status="other"}': 0}
    assert s['virtnet_failover_fleet_drift_hosts{kind="slave_name"}'] == 1
    assert s['virtnet_failover_fleet_host_checked{host="vm0-down"}'] == 0
    assert s["virtnet_failover_fleet_clean"] == 0
    keep({"fleet-report.junit.xml": str(junit), "vm2-virtnet_failover.prom": files[DRIFT_HOST],
          "virtnet_failover_fleet.prom": fleet_file})


def test_check_mode_writes_no_host_textfile(fleet, tmp_path):  # noqa: F811
    run = run_drift(fleet, tmp_path, check=True, extra_vars=outputs_vars(tmp_path))
    assert run.rc == 0, run.output[-4000:]
    for host in HOSTS:
        assert os.listdir(str(tmp_path / "textfiles" / host)) == [], host
    # the controller outputs are the check's result, written also with --check
    assert (tmp_path / "report" / "fleet-report.junit.xml").is_file()
    promtool_check(str(tmp_path / "fleet-textfile" / "virtnet_failover_fleet.prom"))


def test_missing_textfile_dir_is_refused(fleet, tmp_path):  # noqa: F811
    """Every host's check fails before it reads anything; the report names the directory; the run fails."""
    missing = tmp_path / "no-node-exporter-here"
    run = run_drift(fleet, tmp_path, extra_vars={"failover_drift_textfile_dir": str(missing)})
    assert run.rc == 2, run.output[-4000:]
    message = "directory %s does not exist: give the directory node_exporter reads" % missing
    for host in HOSTS:
        entry = run.host(host)
        assert entry["status"] == "failed" and message in entry["message"], entry
        assert entry["drift"] == [] and entry["running_kernel"] is None, entry  # nothing was read
    assert not missing.exists()
