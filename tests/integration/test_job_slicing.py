# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Platform job slicing, the way AWX runs it: ``ansible-runner`` jobs over the namespace fleet of
test_playbooks_drift.py (plus a host that cannot be reached and one whose check fails).

The same inventory is checked by playbooks/drift.yml once as 3 slices and once as one run. Each slice gets the
part of the inventory AWX gives it (the hosts ordered by name, slice n every 3rd from the n-th on:
awx/main/models/inventory.py, get_sliced_hosts) and AWX's job variables (its own ``awx_job_id``, the
``awx_workflow_job_id`` of the sliced job), with ``failover_report_slice: awx``, all writing to one directory.
Then playbooks/merge_reports.yml merges the 3 slice reports, and the merged outputs (JSON, Markdown, JUnit,
Prometheus fleet textfile, job summary) are those of the single run, host by host, but for the time stamps and
the lines that state the scope.
"""

from __future__ import annotations

import json
import os
import re
import sys

from netns_lab import NetnsLab
from test_ansible_runner import runner, stats_event
from ansible_env import BIN, collections_path
from test_playbooks_drift import DRIFT_HOST, drifted, fleet  # noqa: F401  # pylint: disable=unused-import

SLICES = 3
WORKFLOW_JOB = 100  # awx_workflow_job_id of the sliced job; slice n is the job 100 + n
UNREACHABLE = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody",
               "ansible_ssh_common_args": "-o BatchMode=yes -o ConnectTimeout=5"}
JOB_VARS = {"failover_drift_checks": ["slave_name"], "failover_master_kinds": ["bridge"], "failover_drift_junit": True}


def awx_split(hosts, count):
    """AWX's slices of an inventory: {slice number: host names}, the hosts ordered by name, slice n gets
    hosts[n-1::count]."""
    ordered = sorted(hosts)
    return {n: ordered[n - 1::count] for n in range(1, count + 1)}


def job(tmp_path, ident, playbook, host_vars, extravars):
    """One ansible-runner job: a private data dir with an AWX-style project wrapper of the collection's
    ``playbook``, the inventory ``host_vars`` (host -> vars) and ``extravars``."""
    pdd = tmp_path / ident
    for sub in ("project", "inventory", "env"):
        (pdd / sub).mkdir(parents=True)
    (pdd / "project" / playbook).write_text(json.dumps(
        [{"name": "Run the collection playbook", "ansible.builtin.import_playbook": "virtnet.failover." +
          playbook[:-4]}]))
    inventory = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                  "failover_become": False}, "hosts": host_vars}}
    (pdd / "inventory" / "hosts.json").write_text(json.dumps(inventory))
    (pdd / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_COLLECTIONS_PATH": collections_path(), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}))
    (pdd / "env" / "extravars").write_text(json.dumps(extravars))
    return runner(pdd, playbook, ident)


def artifacts(job_run):
    return stats_event(job_run)["event_data"].get("artifact_data") or {}


def read(path):
    with open(str(path), encoding="utf-8") as fh:
        return fh.read()


def without(text, pattern):
    """``text`` without the lines that match ``pattern`` (a time stamp, a scope)."""
    return [line for line in text.splitlines() if not re.search(pattern, line)]


def test_three_slices_merged_are_the_single_run(fleet, drifted, tmp_path):  # noqa: F811
    missing = NetnsLab(prefix="vnfopb-missing").name
    host_vars = {host: {"failover_netns": lab.name} for host, lab in fleet.items()}
    host_vars.update({"vm0-down": UNREACHABLE, "vm9-nons": {"failover_netns": missing}})
    split = awx_split(host_vars, SLICES)
    assert split == {1: ["vm0-down", "vm3"], 2: ["vm1", "vm9-nons"], 3: ["vm2"]}  # every kind of host in a slice
    shared, single_dir = tmp_path / "shared-report", tmp_path / "single-report"
    textfiles = {name: tmp_path / name for name in ("slice-textfiles", "single-textfile", "merged-textfile")}
    for directory in textfiles.values():
        directory.mkdir()

    # -- the sliced job: 3 jobs, each on its part of the inventory, all writing to one directory
    slices = {}
    for n, hosts in split.items():
        slices[n] = job(tmp_path, "slice-%d" % n, "drift.yml", {h: host_vars[h] for h in hosts}, dict(
            JOB_VARS, failover_report_slice="awx", awx_job_id=WORKFLOW_JOB + n, awx_workflow_job_id=WORKFLOW_JOB,
            failover_report_dir=str(shared), failover_drift_fleet_textfile_dir=str(textfiles["slice-textfiles"])))
        # each slice has a host that is not ok, so each fails, as a drift check does
        assert (slices[n]["status"], slices[n]["rc"]) == ("failed", 2), slices[n]["stdout"][-4000:]
        checked = {e["event_data"]["host"] for e in slices[n]["events"] if e["event"].startswith("runner_on_")
                   and e["event_data"].get("task_action") == "virtnet.failover.failover_drift"}
        assert checked == set(hosts)
        summary = artifacts(slices[n])
        # a slice's job summary is not the fleet's failover_drift (AWX merges the artifacts of the slices)
        assert set(summary) == {"failover_drift_slice"}, summary
        want = shared / ("fleet-report.slice-job-%d.md" % (WORKFLOW_JOB + n))
        assert summary["failover_drift_slice"]["report"] == str(want)
    ids = ["job-%d" % (WORKFLOW_JOB + n) for n in split]
    assert sorted(os.listdir(str(shared))) == sorted("fleet-report.slice-%s.%s" % (i, ext) for i in ids
                                                     for ext in ("json", "md", "junit.xml"))
    assert sorted(os.listdir(str(textfiles["slice-textfiles"]))) == sorted(
        "virtnet_failover_fleet.slice-%s.prom" % i for i in ids)
    for n, slice_id in zip(split, ids):
        report = json.loads(read(shared / ("fleet-report.slice-%s.json" % slice_id)))
        assert report["slice"] == {"id": slice_id, "kind": "drift", "run": str(WORKFLOW_JOB)}
        assert [h["host"] for h in report["hosts"]] == split[n]
        assert report["scope"].startswith("slice %s: the %d host" % (slice_id, len(split[n])))
        prom = read(textfiles["slice-textfiles"] / ("virtnet_failover_fleet.slice-%s.prom" % slice_id))
        assert all('slice="%s"' % slice_id in line for line in prom.splitlines() if not line.startswith("#"))

    # -- the same inventory as one run
    single = job(tmp_path, "single", "drift.yml", host_vars, dict(
        JOB_VARS, failover_report_dir=str(single_dir),
        failover_drift_fleet_textfile_dir=str(textfiles["single-textfile"])))
    assert (single["status"], single["rc"]) == ("failed", 2), single["stdout"][-4000:]
    assert sorted(os.listdir(str(single_dir))) == ["fleet-report.json", "fleet-report.junit.xml", "fleet-report.md"]

    # -- the merge, as the next node of the workflow: on the controller, no host contacted
    merge = job(tmp_path, "merge", "merge_reports.yml", host_vars, {
        "failover_report_dir": str(shared), "failover_merge_slices": SLICES, "failover_drift_junit": True,
        "failover_drift_fleet_textfile_dir": str(textfiles["merged-textfile"])})
    # it fails as the single run does: hosts drifted or could not be checked
    assert (merge["status"], merge["rc"]) == ("failed", 2), merge["stdout"][-4000:]
    hosts_touched = {e["event_data"].get("host") for e in merge["events"] if e["event"].startswith("runner_on_")}
    assert hosts_touched == {"localhost"}, hosts_touched
    assert "vm0-down, vm2, vm9-nons: drifted or could not be checked" in merge["stdout"], merge["stdout"][-4000:]

    # -- the merged report is the single run's, host by host
    merged = json.loads(read(shared / "fleet-report.json"))
    one = json.loads(read(single_dir / "fleet-report.json"))
    assert [h["host"] for h in merged["hosts"]] == [h["host"] for h in one["hosts"]] == sorted(host_vars)
    for mine, theirs in zip(merged["hosts"], one["hosts"]):
        assert mine == theirs, (mine, theirs)
    for key in ("format", "title", "policy", "clean", "summary", "by_kind", "problem_hosts", "not_ok", "not_done"):
        assert merged[key] == one[key], key
    assert one["summary"] == {"hosts": 5, "ok": 2, "drift": 1, "unreachable": 1, "failed": 1, "other": 0,
                              "drift_items": 1, "kinds": {"slave_name": 1}}
    assert set(merged) - set(one) == {"scope", "merged"} and set(one) - set(merged) == set()
    assert merged["merged"]["run"] == str(WORKFLOW_JOB)
    want = [(i, len(split[n])) for n, i in zip(split, ids)]
    assert [(s["id"], s["hosts"]) for s in merged["merged"]["slices"]] == want
    # ... and so are its outputs, but for the time stamps and the scope
    stamp = r"^Generated: | timestamp=\"|^virtnet_failover_fleet_last_check_timestamp_seconds "
    merged_md = read(shared / "fleet-report.md")
    assert merged["scope"] == "fleet: 3 slices merged (%s), 5 hosts" % ", ".join(ids)
    assert "\nScope: %s\n\n" % merged["scope"] in merged_md
    assert without(merged_md.replace("Scope: %s\n\n" % merged["scope"], "", 1), stamp) == \
        without(read(single_dir / "fleet-report.md"), stamp)
    assert without(read(shared / "fleet-report.junit.xml"), stamp) == \
        without(read(single_dir / "fleet-report.junit.xml"), stamp)
    merged_prom = read(textfiles["merged-textfile"] / "virtnet_failover_fleet.prom")
    assert without(merged_prom, stamp) == without(read(textfiles["single-textfile"] / "virtnet_failover_fleet.prom"),
                                                  stamp)
    assert "slice=" not in merged_prom
    # the job summary of the merge is the fleet's, as the single run's
    fleet_summary, one_summary = artifacts(merge)["failover_drift"], artifacts(single)["failover_drift"]
    assert fleet_summary["report"] == str(shared / "fleet-report.md")
    assert {k: v for k, v in fleet_summary.items() if k != "report"} == \
        {k: v for k, v in one_summary.items() if k != "report"}
    assert fleet_summary["not_ok"] == ["vm0-down", DRIFT_HOST, "vm9-nons"]
