# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health verdict (failover_group_health): groups, the loaded module, both together."""

from __future__ import annotations

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils.failover_group_health import (
    group_problems,
    health,
    module_problems,
)

SLAVE = {"name": "x", "role": "standby"}


def group(name="enp1s0", up=True, standby=True, primary=True, names_ok=True):
    """A group as failover_info returns it; standby/primary False or None: the group lacks that slave."""
    return {"master": {"name": name, "up": up}, "standby": dict(SLAVE) if standby else None,
            "primary": dict(SLAVE) if primary else None, "names_ok": names_ok}


PATCHED_ON = {"loaded": True, "patched": True, "slave_rename_ok": True}


@pytest.mark.parametrize("groups, require_group, problems", [
    ([group()], True, []),
    ([], True, ["no failover group (no net_failover master) on this host"]),
    ([], False, []),
    (None, True, ["no failover group (no net_failover master) on this host"]),
    ([group(up=False)], True, ["master enp1s0 is not UP"]),
    ([group(standby=None)], True, ["master enp1s0 has no standby slave"]),
    ([group(primary=None)], True, ["master enp1s0 has no primary slave"]),
    ([group(names_ok=False)], True, ["slaves of enp1s0 are not named per policy"]),
    ([group(), group("enp2s0", up=False, primary=None, names_ok=False)], False,
     ["master enp2s0 is not UP", "master enp2s0 has no primary slave", "slaves of enp2s0 are not named per policy"]),
    ([{"master": None, "standby": SLAVE, "primary": SLAVE, "names_ok": True}], True, ["master ? is not UP"]),
])
def test_group_problems(groups, require_group, problems):
    assert group_problems(groups, require_group) == problems


@pytest.mark.parametrize("kernel_module, wanted, reboot_pending, problems", [
    (PATCHED_ON, True, False, []),
    (dict(PATCHED_ON, slave_rename_ok=False), False, False, []),
    (dict(PATCHED_ON, slave_rename_ok=False), True, False, ["slave_rename_ok is False, wanted True"]),
    (PATCHED_ON, False, False, ["slave_rename_ok is True, wanted False"]),
    ({"loaded": True, "patched": False, "slave_rename_ok": None}, True, False,
     ["the loaded failover module is not the patched one"]),
    ({"loaded": False, "patched": False, "slave_rename_ok": None}, False, False,
     ["the loaded failover module is not the patched one"]),
    (None, True, False, ["the loaded failover module is not the patched one"]),
    # a pending reboot waives the module: it changes at the next boot
    ({"loaded": True, "patched": False, "slave_rename_ok": None}, True, True, []),
    (dict(PATCHED_ON, slave_rename_ok=False), True, True, []),
    # no wanted value: the module is not judged (failover_info without slave_rename_ok)
    ({"loaded": True, "patched": False, "slave_rename_ok": None}, None, False, []),
])
def test_module_problems(kernel_module, wanted, reboot_pending, problems):
    assert module_problems(kernel_module, wanted, reboot_pending) == problems


def test_health_joins_group_and_module_problems_in_that_order():
    verdict = health([group(primary=None)], {"patched": False}, require_group=True, slave_rename_ok=True)
    assert verdict == {"ok": False, "problems": ["master enp1s0 has no primary slave",
                                                 "the loaded failover module is not the patched one"]}


def test_health_ok():
    assert health([group()], PATCHED_ON, slave_rename_ok=True) == {"ok": True, "problems": []}
    assert health([], None, require_group=False) == {"ok": True, "problems": []}


def test_health_defaults_require_a_group_and_leave_the_module_out():
    assert health([], {"patched": False}) == {"ok": False, "problems": [
        "no failover group (no net_failover master) on this host"]}
