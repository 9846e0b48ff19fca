# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reliability driver's check that a rollout failed in the kmod role's reboot handler."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "molecule" / "reliability"))
import faults  # noqa: E402


def task(name, action="ansible.builtin.reboot", handler=True):
    return {"name": name, "action": action, "handler": handler}


def test_the_constant_names_a_handler_of_the_kmod_role():
    handlers = yaml.safe_load((ROOT / "roles" / "kmod" / "handlers" / "main.yml").read_text())
    assert faults.REBOOT_HANDLER in [h["name"] for h in handlers]


def test_the_timing_callback_name_with_its_role_prefix_is_the_handler():
    assert faults.is_reboot_handler(task("virtnet.failover.kmod : " + faults.REBOOT_HANDLER))
    assert faults.is_reboot_handler(task(faults.REBOOT_HANDLER))


def test_other_failed_tasks_are_not_the_handler():
    assert not faults.is_reboot_handler(task("Fail this host (counts against failover_rollout_max_fail_percentage)",
                                             action="ansible.builtin.fail", handler=False))
    assert not faults.is_reboot_handler(task("virtnet.failover.kmod : " + faults.REBOOT_HANDLER, handler=False))
    assert not faults.is_reboot_handler(task(faults.REBOOT_HANDLER, action="ansible.builtin.command"))
    assert not faults.is_reboot_handler(task("virtnet.failover.kmod : Build the module"))
