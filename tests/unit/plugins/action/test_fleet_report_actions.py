# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The actions of virtnet.failover.fleet_report_files (a slice's file names, failover_report_slice=awx from AWX's
job variables) and virtnet.failover.fleet_report_merge (writes the fleet's report, or nothing when it refuses),
run in-process on real directories with a stand-in task."""

from __future__ import annotations

import json
import os
from unittest import mock

import pytest

from ansible_collections.virtnet.failover.plugins.action import fleet_report_files as files_action
from ansible_collections.virtnet.failover.plugins.action import fleet_report_merge as merge_action

RESULTS = {"vm1": {"drift": []}, "vm2": {"drift": [{"kind": "slave_name", "subject": "eth7", "expected": "enp2s0nsby",
                                                   "actual": "eth7", "message": "m", "remedy": "r"}]},
           "vm3": {"unreachable": True, "msg": "Connection refused"}}


class Templar:
    def template(self, value):
        return value


def run(module, args, task_vars=None, check_mode=False):
    task = mock.MagicMock(args=args, async_val=0, check_mode=check_mode, action=module.__name__)
    connection = mock.MagicMock()
    connection._shell.tmpdir = "/nonexistent"  # never None: no temporary directory is made
    action = module.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), Templar(), mock.MagicMock())
    return action.run(task_vars=task_vars or {})


def write_slice(directory, slice_id, hosts, task_vars=None, kind="drift", name="fleet-report"):
    return run(files_action, {"dest": str(directory), "name": name, "kind": kind, "slice": slice_id, "hosts": hosts,
                              "results": {h: RESULTS[h] for h in hosts if h in RESULTS}}, task_vars)


def test_one_run_keeps_its_names(tmp_path):
    result = write_slice(tmp_path, "", ["vm1", "vm2", "vm3"])
    assert not result.get("failed"), result
    assert (result["name"], result["suffix"], result["slice"]) == ("fleet-report", "", "")
    assert sorted(os.listdir(str(tmp_path))) == ["fleet-report.json", "fleet-report.md"]
    assert "slice" not in result["report"] and "scope" not in result["report"]


def test_a_slice_writes_under_its_own_names(tmp_path):
    result = write_slice(tmp_path, 2, ["vm2"])
    assert (result["name"], result["suffix"], result["slice"]) == ("fleet-report.slice-2", ".slice-2", "2")
    assert sorted(os.listdir(str(tmp_path))) == ["fleet-report.slice-2.json", "fleet-report.slice-2.md"]
    assert result["report"]["slice"] == {"id": "2", "kind": "drift", "run": None}


def test_awx_takes_the_slice_id_and_the_run_from_awx(tmp_path):
    result = write_slice(tmp_path, "awx", ["vm2"], {"awx_job_id": 4711, "awx_workflow_job_id": 4710})
    assert result["name"] == "fleet-report.slice-job-4711"
    assert result["report"]["slice"] == {"id": "job-4711", "kind": "drift", "run": "4710"}
    with open(str(tmp_path / "fleet-report.slice-job-4711.json")) as fh:
        assert json.load(fh)["slice"]["run"] == "4710"


@pytest.mark.parametrize("value, task_vars, says", [
    ("../x", {}, "failover_report_slice is '../x': not a slice id"),
    ("awx", {}, "failover_report_slice is 'awx': awx takes the slice id from AWX's awx_job_id"),
])
def test_a_bad_slice_fails_and_writes_nothing(tmp_path, value, task_vars, says):
    result = write_slice(tmp_path / "out", value, ["vm1"], task_vars)
    assert result["failed"] and result["msg"].startswith("cannot write the fleet report: " + says), result
    assert not (tmp_path / "out").exists()


def test_a_rollout_report_states_its_scope(tmp_path):
    result = write_slice(tmp_path, "", ["vm1", "vm2"], kind="rollout", name="rollout-report")
    assert result["report"]["scope"].startswith("run: the batches (failover_rollout_serial) and the failure budget")


def merge(directory, **args):
    return run(merge_action, dict({"src": str(directory), "name": "fleet-report"}, **args))


def test_merge_writes_the_fleets_report(tmp_path):
    for slice_id, hosts in (("1", ["vm1"]), ("2", ["vm2"]), ("3", ["vm3"])):
        write_slice(tmp_path, slice_id, hosts, {"awx_job_id": 1, "awx_workflow_job_id": 9})
    single = write_slice(tmp_path / "single", "", ["vm1", "vm2", "vm3"])["report"]
    result = merge(tmp_path, slices=3)
    assert not result.get("failed"), result
    assert (result["name"], result["suffix"], result["slice"], result["kind"]) == ("fleet-report", "", "", "drift")
    assert result["written"] == [str(tmp_path / "fleet-report.json"), str(tmp_path / "fleet-report.md")]
    assert result["merged"] == [str(tmp_path / ("fleet-report.slice-%d.json" % n)) for n in (1, 2, 3)]
    assert result["removed"] == []
    with open(str(tmp_path / "fleet-report.json")) as fh:
        written = json.load(fh)
    assert written == result["report"]
    assert written["hosts"] == single["hosts"] and written["summary"] == single["summary"]
    assert written["merged"]["run"] == "9"


def test_a_refused_merge_writes_nothing(tmp_path):
    write_slice(tmp_path, "1", ["vm1"])
    write_slice(tmp_path, "3", ["vm3"])
    before = sorted(os.listdir(str(tmp_path)))
    result = merge(tmp_path, slices=3, remove_slices=True)
    assert result["failed"]
    assert result["msg"].startswith("cannot merge the slice reports, nothing was written: 3 slices expected, 2 found "
                                    "(1, 3): slice 2 is missing."), result["msg"]
    assert sorted(os.listdir(str(tmp_path))) == before


def test_merge_can_remove_the_slices_it_merged(tmp_path):
    write_slice(tmp_path, "1", ["vm1"])
    write_slice(tmp_path, "2", ["vm2", "vm3"])
    result = merge(tmp_path, dest=str(tmp_path / "fleet"), remove_slices=True)
    assert not result.get("failed"), result
    assert sorted(os.listdir(str(tmp_path / "fleet"))) == ["fleet-report.json", "fleet-report.md"]
    assert os.listdir(str(tmp_path)) == ["fleet"]
    assert len(result["removed"]) == 4


def test_merge_in_check_mode_writes_and_removes_nothing(tmp_path):
    write_slice(tmp_path, "1", ["vm1"])
    result = run(merge_action, {"src": str(tmp_path), "name": "fleet-report", "remove_slices": True}, check_mode=True)
    assert not result.get("failed") and result["written"] == [] and result["removed"] == []
    assert "check mode" in result["msg"]
    assert sorted(os.listdir(str(tmp_path))) == ["fleet-report.slice-1.json", "fleet-report.slice-1.md"]


def test_merge_refuses_a_name_with_a_slash(tmp_path):
    result = merge(tmp_path, name="../fleet-report")
    assert result["failed"] and "must be the base name of the reports" in result["msg"]
