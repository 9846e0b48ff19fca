# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/drift.yml end to end: real ``ansible-playbook`` runs over a
simulated fleet.

Each inventory host is ``connection: local`` and owns a network namespace
with a stand-in failover group (bridge master + standby and primary veth
ports, netns_lab.py); the playbook forwards ``failover_netns``,
``failover_master_kinds`` and ``failover_drift_checks`` to failover_drift.
Only slave names are checked (this host has no DKMS build of the module for
its kernel).  Every run also checks that the namespaces are left exactly as
they were and that the play recap counts no change on any host.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from ansible_env import ANSIBLE_PLAYBOOK, ROOT, collections_path, playbook_env
from netns_lab import NetnsLab, netns_exists

PLAYBOOK = os.path.join(ROOT, "playbooks", "drift.yml")

HOSTS = ("vm1", "vm2", "vm3")  # vm<n> has master enp<n>s0 with slaves enp<n>s0nsby / enp<n>s0npri
DRIFT_HOST, DRIFT_MASTER, DRIFT_FROM, DRIFT_TO = "vm2", "enp2s0", "enp2s0nsby", "eth7"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
SUMMARY_HEADER = "| Hosts | OK | Drift | Unreachable | Failed | Other | Drift items |"


def master_of(host):
    return "enp%ss0" % host[2:]


@pytest.fixture(scope="module")
def fleet():
    """host -> NetnsLab, one namespace per host; every namespace is deleted."""
    labs = {}
    try:
        for host in HOSTS:
            lab = NetnsLab(prefix="vnfopb")
            labs[host] = lab
            lab.create()
            master = master_of(host)
            lab.add_group(master, master + "nsby", master + "npri")
        yield labs
    finally:
        for lab in labs.values():
            lab.delete()
        leftover = [lab.name for lab in labs.values() if netns_exists(lab.name)]
        assert not leftover, "namespaces left behind: %s" % leftover


@pytest.fixture
def drifted(fleet):
    """DRIFT_HOST's standby slave renamed away from the policy (restored afterwards)."""
    lab = fleet[DRIFT_HOST]
    lab.batch(["link set %s down" % DRIFT_FROM, "link set %s name %s" % (DRIFT_FROM, DRIFT_TO),
               "link set %s up" % DRIFT_TO])
    try:
        yield lab
    finally:
        lab.batch(["link set %s down" % DRIFT_TO, "link set %s name %s" % (DRIFT_TO, DRIFT_FROM),
                   "link set %s up" % DRIFT_FROM])


def snapshot(fleet):
    """What a read-only run must not touch: per namespace, every link's
    ifindex, name, master, admin state, alias and MAC."""
    out = {}
    for host, lab in fleet.items():
        out[host] = sorted((link["ifindex"], link["ifname"], link.get("master"), "UP" in link.get("flags", []),
                            link.get("ifalias"), link.get("address")) for link in lab.links())
    return out


class Run:
    def __init__(self, proc, report_dir):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)),
                                   "unreachable": int(m.group(4)), "failed": int(m.group(5))}
                      for m in RECAP.finditer(proc.stdout)}
        json_path = os.path.join(report_dir, "fleet-report.json")
        md_path = os.path.join(report_dir, "fleet-report.md")
        assert os.path.isfile(json_path), "no JSON report (rc=%d):\n%s" % (self.rc, self.output[-4000:])
        assert os.path.isfile(md_path), "no Markdown report (rc=%d):\n%s" % (self.rc, self.output[-4000:])
        with open(json_path) as fh:
            self.report = json.load(fh)
        with open(md_path) as fh:
            self.markdown = fh.read()

    def host(self, name):
        (entry,) = [h for h in self.report["hosts"] if h["host"] == name]
        return entry

    def section(self, heading):
        """The Markdown lines under ``heading`` up to the next heading of any level."""
        lines = self.markdown.splitlines()
        assert heading in lines, "no %r in the Markdown report:\n%s" % (heading, self.markdown)
        body = []
        for line in lines[lines.index(heading) + 1:]:
            if line.startswith("#"):
                break
            body.append(line)
        return body


def run_drift(fleet, tmp_path, extra_hosts=None, check=False, extra_vars=None, playbook=PLAYBOOK, collections=None):
    """One ansible-playbook run of playbooks/drift.yml over the fleet (plus
    ``extra_hosts``: name -> host vars, listed first in the inventory; plus
    ``extra_vars``: more inventory vars for every host; ``playbook`` and
    ``collections`` default to the checkout's)."""
    report_dir = tmp_path / "report"
    hosts = dict(extra_hosts or {})
    hosts.update({host: {"failover_netns": lab.name} for host, lab in fleet.items()})
    inventory = {"all": {"vars": {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "failover_become": False,
        "failover_master_kinds": ["bridge"],
        "failover_drift_checks": ["slave_name"],
        "failover_report_dir": str(report_dir),
    }, "hosts": hosts}}
    inventory["all"]["vars"].update(extra_vars or {})
    inv_path = tmp_path / "inventory.json"
    inv_path.write_text(json.dumps(inventory))  # JSON is YAML
    env = playbook_env(collections or collections_path(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
                       ANSIBLE_FORCE_COLOR="0", ANSIBLE_HOST_KEY_CHECKING="false")
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [ANSIBLE_PLAYBOOK, "-i", str(inv_path), playbook] + (["--check"] if check else [])
    before = snapshot(fleet)
    proc = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    run = Run(proc, str(report_dir))
    # Read-only, with or without --check: nothing in any namespace moved ...
    assert snapshot(fleet) == before
    # ... and the recap counts no change on any host (the report files are
    # written on the controller, not on a host).
    # (localhost: the settings check, virtnet.failover.check_settings, runs on the controller first)
    assert sorted(run.recap) == sorted([*hosts, "localhost"]), run.output[-3000:]
    assert {h: r["changed"] for h, r in run.recap.items()} == {h: 0 for h in [*hosts, "localhost"]}, \
        run.output[-3000:]
    return run


def test_clean_fleet_exits_zero(fleet, tmp_path):
    run = run_drift(fleet, tmp_path)
    assert run.rc == 0, run.output[-4000:]
    rep = run.report
    assert rep["format"] == "virtnet.failover.fleet_report/1"
    assert rep["clean"] is True
    assert rep["summary"] == {"hosts": 3, "ok": 3, "drift": 0, "unreachable": 0, "failed": 0, "other": 0,
                              "drift_items": 0, "kinds": {}}
    assert [(h["host"], h["status"], h["drift"]) for h in rep["hosts"]] == [(h, "ok", []) for h in HOSTS]
    assert rep["by_kind"] == {} and rep["problem_hosts"] == []
    assert rep["policy"]["standby_template"] == "{master}nsby"
    assert rep["policy"]["primary_template"] == "{master}npri"
    # Markdown: verdict and the summary table with the same numbers
    assert "**No drift**: every host follows the policy." in run.markdown
    summary = run.section("## Summary")
    assert SUMMARY_HEADER in summary
    assert summary[summary.index(SUMMARY_HEADER) + 2] == "| 3 | 3 | 0 | 0 | 0 | 0 | 0 |"
    assert "## Hosts by drift kind" not in run.markdown
    assert "Failover fleet drift report: 3 hosts, 3 ok, 0 drift" in run.output


def test_one_renamed_slave_is_drift(fleet, drifted, tmp_path):
    assert DRIFT_TO in drifted.names() and DRIFT_FROM not in drifted.names()
    run = run_drift(fleet, tmp_path)
    # docs/user-guide.md: "fails (exit status 2) when any host drifts"
    assert run.rc == 2, run.output[-4000:]
    assert "drift on 1 host(s) (slave_name), 0 unreachable, 0 failed" in run.output
    # the recap (and so AWX's host summaries) fails the drifted host, and no other
    assert {h: r["failed"] for h, r in run.recap.items()} == {h: int(h == DRIFT_HOST) for h in [*HOSTS, "localhost"]}
    (fatal,) = [line for line in run.output.splitlines() if line.startswith("fatal: ")]
    assert fatal.startswith("fatal: [%s]: FAILED!" % DRIFT_HOST) and "drift: slave_name: 1 drift item; see " in fatal, fatal
    rep = run.report
    assert rep["clean"] is False
    assert rep["summary"] == {"hosts": 3, "ok": 2, "drift": 1, "unreachable": 0, "failed": 0, "other": 0,
                              "drift_items": 1, "kinds": {"slave_name": 1}}
    assert rep["by_kind"] == {"slave_name": [DRIFT_HOST]}
    assert rep["problem_hosts"] == []
    statuses = {h["host"]: h["status"] for h in rep["hosts"]}
    assert statuses == {h: ("drift" if h == DRIFT_HOST else "ok") for h in HOSTS}
    entry = run.host(DRIFT_HOST)
    (item,) = entry["drift"]
    assert item["kind"] == "slave_name"
    assert (item["subject"], item["expected"], item["actual"]) == (DRIFT_TO, DRIFT_FROM, DRIFT_TO)
    assert item["message"] == "the standby slave of %s is %s, the policy names it %s" % (
        DRIFT_MASTER, DRIFT_TO, DRIFT_FROM)
    assert item["remedy"]
    for host in HOSTS:
        if host != DRIFT_HOST:
            assert run.host(host)["drift"] == []
    # Markdown: the host under the slave_name kind, and only that host
    assert "**Not clean**: 1 of 3 hosts are not ok" in run.markdown
    summary = run.section("## Summary")
    assert summary[summary.index(SUMMARY_HEADER) + 2] == "| 3 | 2 | 1 | 0 | 0 | 0 | 1 |"
    assert "| slave_name | 1 |" in summary
    rows = [line for line in run.section("### slave_name (1 host)") if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| Host | Subject | Expected | Actual | Remedy |"
    assert len(rows) == 2
    assert rows[1].startswith("| %s | %s | %s | %s | " % (DRIFT_HOST, DRIFT_TO, DRIFT_FROM, DRIFT_TO))
    assert "## Hosts not checked or not done" not in run.markdown


def test_hosts_not_checked_fail_the_run(fleet, tmp_path):
    """A host whose namespace does not exist (module fails) and a host that
    cannot be reached (ssh to a closed port) are not ok, the run fails and the
    report names both with the reason.  Run with --check this time."""
    missing = NetnsLab(prefix="vnfopb-missing").name
    assert not netns_exists(missing)
    extra = {
        # listed first, so the run_once report task is attributed to the unreachable host
        "vm0-down": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                     "ansible_user": "nobody", "ansible_ssh_common_args": "-o BatchMode=yes -o ConnectTimeout=5"},
        "vm9-nons": {"failover_netns": missing},
    }
    run = run_drift(fleet, tmp_path, extra_hosts=extra, check=True)
    assert not netns_exists(missing)  # the module never creates namespaces
    assert run.rc == 2, run.output[-4000:]
    assert "drift on 0 host(s) (), 1 unreachable, 1 failed" in run.output
    # each host that could not be checked fails itself in the recap (the unreachable one too: the check ignores
    # unreachable hosts so that the report names them); the checked hosts do not
    assert {h: r["failed"] for h, r in run.recap.items()} == {
        "localhost": 0, "vm0-down": 1, "vm1": 0, "vm2": 0, "vm3": 0, "vm9-nons": 1}
    rep = run.report
    assert rep["clean"] is False
    assert rep["summary"] == {"hosts": 5, "ok": 3, "drift": 0, "unreachable": 1, "failed": 1, "other": 0,
                              "drift_items": 0, "kinds": {}}
    statuses = {h["host"]: h["status"] for h in rep["hosts"]}
    assert statuses == {"vm0-down": "unreachable", "vm1": "ok", "vm2": "ok", "vm3": "ok", "vm9-nons": "failed"}
    problems = {p["host"]: p for p in rep["problem_hosts"]}
    assert sorted(problems) == ["vm0-down", "vm9-nons"]
    assert problems["vm0-down"]["status"] == "unreachable"
    assert "Connection refused" in problems["vm0-down"]["message"]
    assert problems["vm9-nons"]["status"] == "failed"
    assert "network namespace '%s' does not exist" % missing in problems["vm9-nons"]["message"]
    # Markdown: both under "not checked", with the reason
    rows = [line for line in run.section("## Hosts not checked or not done")
            if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| Host | Status | Why |"
    assert len(rows) == 3
    assert rows[1].startswith("| vm0-down | unreachable | ") and "Connection refused" in rows[1]
    assert rows[2].startswith("| vm9-nons | failed | ") and "'%s' does not exist" % missing in rows[2]
    summary = run.section("## Summary")
    assert summary[summary.index(SUMMARY_HEADER) + 2] == "| 5 | 3 | 0 | 1 | 1 | 0 | 0 |"


# Settings that used to fail open (a drifting host exiting 0, a skipped abort, a reboot policy acting as
# never, no JUnit file, a host pattern that matched nothing with rc 0): each is now refused by the settings
# check before any host is touched. The rollout and remove runs keep failover_manage_packages=false, so even a
# broken check could not install packages on this test host (its preflight refuses: no headers).
REFUSED = [
    ("drift.yml", ["failover_drift_fail=ture"], "failover_drift_fail is 'ture': not a boolean"),
    ("drift.yml", ["failover_drift_junit=maybe"], "failover_drift_junit is 'maybe': not a boolean"),
    ("drift.yml", ["failover_hosts=no_such_group"], "the host pattern 'no_such_group' (failover_hosts, default all) "
                                                    "matches no host of the inventory"),
    ("drift.yml", ["failover_drift_fial=false"], "did you mean failover_drift_fail?"),
    ("rollout.yml", ["failover_rollout_preflight_policy=abrot"], "set it to abort or skip"),
    ("rollout.yml", ["failover_reboot=sometimes"], "failover_reboot is 'sometimes': not one of the choices"),
    ("rollout.yml", ["failover_hosts=no_such_group"], "matches no host of the inventory"),
    ("remove.yml", ["failover_reboot=sometimes"], "set it to never or if_needed"),
]


@pytest.mark.parametrize("playbook, extra, says", REFUSED, ids=["%s %s" % (p, e[0]) for p, e, _s in REFUSED])
def test_a_bad_setting_stops_the_run_before_any_host(fleet, tmp_path, playbook, extra, says):
    report_dir = tmp_path / "report"
    inventory = {"all": {"vars": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "failover_become": False,
        "failover_master_kinds": ["bridge"], "failover_drift_checks": ["slave_name"],
        "failover_report_dir": str(report_dir), "failover_manage_packages": False,
    }, "hosts": {host: {"failover_netns": lab.name} for host, lab in fleet.items()}}}
    inv_path = tmp_path / "inventory.json"
    inv_path.write_text(json.dumps(inventory))
    env = playbook_env(collections_path(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [ANSIBLE_PLAYBOOK, "-i", str(inv_path), os.path.join(ROOT, "playbooks", playbook)]
    for e in extra:
        cmd += ["-e", e]
    before = snapshot(fleet)
    proc = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert says in output, output[-3000:]
    recap = {m.group(1): int(m.group(5)) for m in RECAP.finditer(proc.stdout)}
    assert recap == {"localhost": 1}, output[-3000:]  # only the settings check ran, and failed
    assert not report_dir.exists()
    assert snapshot(fleet) == before


SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's Python: on this host without pyroute2, like many fleet images


def test_drift_on_hosts_whose_python_has_no_pyroute2(fleet, drifted, tmp_path):
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import pyroute2"], capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        pytest.fail("%s can import pyroute2 here, so this test cannot show that drift works without it: "
                    "run it on a host whose system Python has no pyroute2 (Debian's python3-pyroute2 removed)"
                    % SYSTEM_PYTHON)
    run = run_drift(fleet, tmp_path, extra_vars={"ansible_python_interpreter": SYSTEM_PYTHON})
    assert run.rc == 2, run.output[-4000:]
    assert run.report["by_kind"] == {"slave_name": [DRIFT_HOST]}, run.output[-4000:]
    assert {h: run.host(h)["status"] for h in HOSTS} == {h: ("drift" if h == DRIFT_HOST else "ok") for h in HOSTS}
