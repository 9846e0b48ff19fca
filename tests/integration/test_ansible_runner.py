# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks the way AWX/AAP runs them: ``ansible-runner run`` with a private
data dir (project, inventory, env/envvars, env/extravars), no TTY and stdin
closed, over the namespace fleet of test_playbooks_drift.py.

Asserted from the runner's artifacts: the status and rc files, the job events
(one failover_drift result per host, no prompt event) and the ``set_stats``
job summary that AWX shows, carried by the ``playbook_on_stats`` event's
``artifact_data``.

The rollout runs its refusal paths: a rollout that gets past preflight
builds and loads a kernel module, which must not happen on this test host.
With ``failover_kernels=every`` (not a choice) the settings check refuses the
run before any host is touched; with ``failover_manage_packages=false`` the
kmod role's preflight refuses every host (this host has no headers for its
running kernel) before any change, and the runner still gets the rollout
report and its job summary.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

from ansible_env import BIN, collections_path
from test_playbooks_drift import DRIFT_HOST, HOSTS, drifted, fleet  # noqa: F401  # pylint: disable=unused-import

ANSIBLE_RUNNER = os.path.join(BIN, "ansible-runner")


def private_data_dir(tmp_path, fleet, playbook, extravars):  # noqa: F811
    pdd = tmp_path / "pdd"
    for sub in ("project", "inventory", "env"):
        (pdd / sub).mkdir(parents=True)
    # an AWX project playbook that runs the collection's playbook
    (pdd / "project" / playbook).write_text(json.dumps(
        [{"name": "Run the collection playbook", "ansible.builtin.import_playbook": "virtnet.failover." +
          playbook[:-4]}]))
    inventory = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                  "failover_become": False},
                         "hosts": {h: {"failover_netns": lab.name} for h, lab in fleet.items()}}}
    (pdd / "inventory" / "hosts.json").write_text(json.dumps(inventory))
    (pdd / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_COLLECTIONS_PATH": collections_path(), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}))
    (pdd / "env" / "extravars").write_text(json.dumps(dict(extravars, failover_report_dir=str(tmp_path / "report"))))
    return pdd


def runner(pdd, playbook, ident):
    """``ansible-runner run`` without a terminal: stdin closed, output to pipes, a new session."""
    proc = subprocess.run([ANSIBLE_RUNNER, "run", str(pdd), "-p", playbook, "--ident", ident],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, check=False,
                          start_new_session=True, env=dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"]))
    art = pdd / "artifacts" / ident
    assert art.is_dir(), proc.stdout[-3000:] + proc.stderr[-3000:]
    events = []
    for path in glob.glob(str(art / "job_events" / "*.json")):
        with open(path) as fh:
            events.append(json.load(fh))
    events.sort(key=lambda e: e["counter"])
    return {"proc": proc, "status": (art / "status").read_text().strip(), "rc": int((art / "rc").read_text()),
            "events": events, "stdout": (art / "stdout").read_text()}


def stats_event(job):
    (stats,) = [e for e in job["events"] if e["event"] == "playbook_on_stats"]
    return stats


def test_drift_through_ansible_runner(fleet, drifted, tmp_path):  # noqa: F811
    pdd = private_data_dir(tmp_path, fleet, "drift.yml", {"failover_drift_checks": ["slave_name"],
                                                          "failover_master_kinds": ["bridge"]})
    job = runner(pdd, "drift.yml", "drift-1")
    assert (job["status"], job["rc"]) == ("failed", 2), job["stdout"][-4000:]
    assert job["proc"].returncode == 2
    kinds = [e["event"] for e in job["events"]]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats"
    assert "playbook_on_vars_prompt" not in kinds  # nothing asks for input
    checks = [e for e in job["events"] if e["event"] == "runner_on_ok"
              and e["event_data"].get("task_action") == "virtnet.failover.failover_drift"]
    assert sorted(e["event_data"]["host"] for e in checks) == sorted(HOSTS)
    drift_of = {e["event_data"]["host"]: e["event_data"]["res"]["drift_kinds"] for e in checks}
    assert drift_of == {h: (["slave_name"] if h == DRIFT_HOST else []) for h in HOSTS}
    stats = stats_event(job)["event_data"]
    # localhost: the settings check (virtnet.failover.check_settings) runs on the controller first
    assert sorted(stats["ok"]) == sorted([*HOSTS, "localhost"]) and not stats["changed"] and not stats["dark"]
    summary = stats["artifact_data"]["failover_drift"]
    assert summary["clean"] is False and summary["not_ok"] == [DRIFT_HOST]
    assert summary["summary"]["drift"] == 1 and summary["summary"]["kinds"] == {"slave_name": 1}
    assert summary["by_kind"] == {"slave_name": [DRIFT_HOST]}
    assert summary["report"] == str(tmp_path / "report" / "fleet-report.md")
    print("ansible-runner job summary (drift):", json.dumps(summary, indent=2, sort_keys=True))


def test_rollout_with_a_bad_setting_is_refused_before_any_host_through_ansible_runner(fleet, tmp_path):  # noqa: F811
    pdd = private_data_dir(tmp_path, fleet, "rollout.yml", {"failover_kernels": "every"})
    job = runner(pdd, "rollout.yml", "rollout-0")
    assert (job["status"], job["rc"]) == ("failed", 2), job["stdout"][-4000:]
    assert "failover_kernels is 'every': not one of the choices: set it to all or running" in job["stdout"]
    assert "playbook_on_vars_prompt" not in [e["event"] for e in job["events"]]
    host_events = [e for e in job["events"] if e["event"].startswith("runner_on_")
                   and e["event_data"].get("host") in HOSTS]
    assert host_events == [], "a host was touched: %s" % [e["event_data"].get("task") for e in host_events]
    assert not os.path.exists(tmp_path / "report" / "rollout-report.json")


def test_rollout_preflight_refusal_through_ansible_runner(fleet, tmp_path):  # noqa: F811
    before = sorted(os.listdir("/var/lib/dkms")) if os.path.isdir("/var/lib/dkms") else None
    pdd = private_data_dir(tmp_path, fleet, "rollout.yml", {"failover_manage_packages": False,
                                                            "failover_kernels": "running"})
    job = runner(pdd, "rollout.yml", "rollout-1")
    assert (job["status"], job["rc"]) == ("failed", 2), job["stdout"][-4000:]
    assert "nothing was changed on any host" in job["stdout"]
    assert "playbook_on_vars_prompt" not in [e["event"] for e in job["events"]]
    stats = stats_event(job)["event_data"]
    assert not stats["changed"]
    summary = stats["artifact_data"]["failover_rollout"]
    assert summary["summary"]["hosts"] == len(HOSTS) and summary["summary"]["other"] == len(HOSTS)
    assert summary["not_ok"] == sorted(HOSTS)
    with open(tmp_path / "report" / "rollout-report.json") as fh:
        report = json.load(fh)
    for host in report["hosts"]:
        assert host["status"] == "preflight_failed" and "headers" in host["message"], host
        # the fast-path read gives every host its kernel, also when preflight refused it
        assert host["running_kernel"] == os.uname().release
    assert (sorted(os.listdir("/var/lib/dkms")) if os.path.isdir("/var/lib/dkms") else None) == before
    print("ansible-runner job summary (rollout):", json.dumps(summary, indent=2, sort_keys=True))
