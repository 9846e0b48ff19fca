# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's host check (playbooks/tasks/check_host.yml, its health check and the read
for the report) run by ansible-playbook against real namespace groups (bridges stand in for
failover masters): it passes on a healthy host, fails with failover_drift's health problems
on an unhealthy one, a pending reboot waives the module check, and without the assert it
only reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_env import ANSIBLE_PLAYBOOK, ROOT, collections_path, playbook_env


def run_check_host(tmp_path, lab, **host_vars):
    play = [{
        "name": "Health check", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars_files": [os.path.join(ROOT, "playbooks", "vars", "failover_defaults.yml")],
        "vars": dict({"failover_netns": lab.name, "failover_master_kinds": ["bridge"],
                      "ansible_python_interpreter": sys.executable}, **host_vars),
        "tasks": [{"name": "Run the rollout's host check",
                   "ansible.builtin.include_tasks": os.path.join(ROOT, "playbooks", "tasks", "check_host.yml")}],
    }]
    path = tmp_path / "play.yml"
    path.write_text(json.dumps(play))  # JSON is YAML
    env = playbook_env(collections_path(), ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", str(path)], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_check_host_asserts_the_health_of_failover_drift(lab, tmp_path):
    lab.add_group("enp1s0", "enp1s0nsby", "enp1s0npri")
    # this host's failover module is not the patched one with slave_rename_ok=true (no DKMS build is loaded
    # here), so the module part fails unless a reboot is pending
    rc, out = run_check_host(tmp_path, lab, kmod_reboot_pending=True)
    assert rc == 0, out[-3000:]
    lab.add_group("enp2s0", "eth5", None)
    rc, out = run_check_host(tmp_path, lab, kmod_reboot_pending=True)
    assert rc == 2, out[-3000:]
    assert "health check failed: master enp2s0 has no primary slave; slaves of enp2s0 are not named per policy" in out
    rc, out = run_check_host(tmp_path, lab, failover_slave_rename_ok=False)
    assert rc == 2 and "slaves of enp2s0 are not named per policy; " in out, out[-3000:]
    assert "the loaded failover module is not the patched one" in out or "slave_rename_ok is" in out
    # the fast path's read: no assert, the unhealthy host is only read
    rc, out = run_check_host(tmp_path, lab, failover_slave_rename_ok=False, __failover_check_health=False)
    assert rc == 0, out[-3000:]
    # a host the check cannot read fails the health check with the module's own message
    rc, out = run_check_host(tmp_path, lab, failover_netns=lab.name + "-missing")
    assert rc == 2 and "health check failed: cannot check slave names: network namespace" in out, out[-3000:]
