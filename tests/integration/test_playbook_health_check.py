# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's health check (playbooks/tasks/health_check.yml) run by ansible-playbook
against real namespace groups (bridges stand in for failover masters): it passes on a
healthy host, fails with failover_info's problems on an unhealthy one, and a pending
reboot waives the module check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_env import ANSIBLE_PLAYBOOK, ROOT, collections_path, playbook_env


def run_health_check(tmp_path, lab, **host_vars):
    play = [{
        "name": "Health check", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars_files": [os.path.join(ROOT, "playbooks", "vars", "failover_defaults.yml")],
        "vars": dict({"failover_netns": lab.name, "failover_master_kinds": ["bridge"],
                      "ansible_python_interpreter": sys.executable}, **host_vars),
        "tasks": [{"name": "Run the rollout's health check",
                   "ansible.builtin.include_tasks": os.path.join(ROOT, "playbooks", "tasks", "health_check.yml")}],
    }]
    path = tmp_path / "play.yml"
    path.write_text(json.dumps(play))  # JSON is YAML
    env = playbook_env(collections_path(), ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", str(path)], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_health_check_asserts_failover_info_health(lab, tmp_path):
    lab.add_group("enp1s0", "enp1s0nsby", "enp1s0npri")
    # this host's failover module is not the patched one with slave_rename_ok=true (no DKMS build is loaded
    # here), so the module part fails unless a reboot is pending
    rc, out = run_health_check(tmp_path, lab, kmod_reboot_pending=True)
    assert rc == 0, out[-3000:]
    lab.add_group("enp2s0", "eth5", None)
    rc, out = run_health_check(tmp_path, lab, kmod_reboot_pending=True)
    assert rc == 2, out[-3000:]
    assert "health check failed: master enp2s0 has no primary slave; slaves of enp2s0 are not named per policy" in out
    rc, out = run_health_check(tmp_path, lab, failover_slave_rename_ok=False)
    assert rc == 2 and "slaves of enp2s0 are not named per policy; " in out, out[-3000:]
    assert "the loaded failover module is not the patched one" in out or "slave_rename_ok is" in out
