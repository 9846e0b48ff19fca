# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.failover_info through Ansible, in namespaces the tests create."""

from __future__ import annotations

import os

from netns_lab import netns_exists, unique_name

BRIDGE = ["bridge"]


def test_info_reports_stand_in_groups(lab, ansible_any_python):
    lab.add_group("enp1s0", "eth1", "eth2")
    lab.add_group("enp7s0", "enp7s0nsby", "enp7s0npri")
    lab.add_group("br9", "br9s", "br9p", extra_ports=("br9x",))
    lab.ip("link", "add", "lone0", "type", "veth", "peer", "name", "lone1")
    before = lab.names()
    res = ansible_any_python.info(netns=lab.name, master_kinds=BRIDGE)
    assert not res.get("failed"), res
    assert res["changed"] is False and res["netns"] == lab.name
    assert res["link_count"] == len(before)
    groups = {g["master"]["name"]: g for g in res["groups"]}
    assert sorted(groups) == ["br9", "enp1s0", "enp7s0"]
    g1 = groups["enp1s0"]
    assert g1["master"]["kind"] == "bridge" and g1["master"]["up"] is True
    assert g1["master"]["mac"] and g1["master"]["ifindex"] > 1
    assert g1["standby"]["name"] == "eth1" and g1["standby"]["alias"] == "standby"
    assert g1["standby"]["driver"] == "veth" and g1["standby"]["expected_name"] == "enp1s0nsby"
    assert g1["standby"]["name_ok"] is False and g1["names_ok"] is False
    assert g1["primary"]["name"] == "eth2" and g1["primary"]["expected_name"] == "enp1s0npri"
    assert g1["primary"]["pci_address"] is None and g1["primary"]["up"] is True
    assert groups["enp7s0"]["names_ok"] is True
    assert groups["enp7s0"]["standby"]["name_ok"] is True and groups["enp7s0"]["primary"]["name_ok"] is True
    assert groups["br9"]["other_slaves"] == ["br9x"]
    assert set(res["kernel_module"]) == {"loaded", "builtin", "patched", "version", "srcversion",
                                         "slave_rename_ok", "live_rename"}
    assert lab.names() == before


def test_info_default_kind_ignores_bridges_and_custom_policy(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "eth2")
    results = ansible_run.many([
        {"module": "virtnet.failover.failover_info", "args": {"netns": lab.name}},
        {"module": "virtnet.failover.failover_info",
         "args": {"netns": lab.name, "master_kinds": BRIDGE, "standby_template": "eth{master_index}",
                  "primary_template": "", "names": [{"master": "enp1s0", "primary": "eth2"}]}},
    ])
    assert results[0]["groups"] == [] and not results[0].get("failed")
    (group,) = results[1]["groups"]
    index = group["master"]["ifindex"]
    assert group["standby"]["expected_name"] == "eth%d" % index
    assert group["standby"]["name_ok"] is (index == 1)
    assert group["primary"]["name_ok"] is True and group["primary"]["expected_name"] == "eth2"
    assert results[1]["policy"]["names"] == [{"master": "enp1s0", "primary": "eth2"}]


def test_info_overlong_rendered_name_is_reported_not_fatal(lab, ansible_run):
    lab.add_group("enp0s20f0u1u2", "s1", "p1")
    res = ansible_run.info(netns=lab.name, master_kinds=BRIDGE)
    (group,) = res["groups"]
    assert group["standby"]["expected_name"] is None and group["standby"]["name_ok"] is False
    assert "17 bytes" in group["standby"]["policy_problem"]


def test_info_missing_netns_is_a_clear_error_and_creates_nothing(ansible_run):
    name = unique_name("vnfo-absent")
    res = ansible_run.info(netns=name)
    assert res["failed"] is True
    assert "network namespace %r does not exist" % name in res["msg"]
    assert "never creates" in res["msg"]
    assert not netns_exists(name)
    assert not os.path.exists("/var/run/netns/" + name)


def test_info_bad_template_fails(lab, ansible_run):
    res = ansible_run.info(netns=lab.name, primary_template="{master}{role}")
    assert res["failed"] is True and "unknown placeholder {role}" in res["msg"]


def test_health_verdict_of_info_and_drift(lab, ansible_run):
    """failover_info and failover_drift return the same health for the same groups and inputs."""
    lab.add_group("enp1s0", "enp1s0nsby", "enp1s0npri")          # healthy
    lab.add_group("enp2s0", "enp2s0nsby", None)                  # no primary
    lab.add_group("enp3s0", "eth3", "eth4", up=False)           # master down, misnamed
    common = {"netns": lab.name, "master_kinds": BRIDGE}
    drift_args = dict(common, checks=["slave_name"], check_initramfs=False, modprobe_file="")
    empty = {"netns": lab.name, "master_kinds": ["team"]}       # no group of that kind
    before = lab.names()
    module_args = dict(empty, require_group=False, slave_rename_ok=True)
    drift_module_args = dict(module_args, checks=["slave_name"], check_initramfs=False, modprobe_file="")
    results = ansible_run.many([
        {"module": "virtnet.failover.failover_info", "args": common},
        {"module": "virtnet.failover.failover_drift", "args": drift_args},
        {"module": "virtnet.failover.failover_info", "args": empty},
        {"module": "virtnet.failover.failover_info", "args": dict(empty, require_group=False)},
        {"module": "virtnet.failover.failover_info", "args": dict(empty, require_group=False, slave_rename_ok=True, reboot_pending=True)},
        {"module": "virtnet.failover.failover_info", "args": dict(empty, require_group=False, slave_rename_ok=True)},
        {"module": "virtnet.failover.failover_drift", "args": dict(drift_args, check_names=False)},
        {"module": "virtnet.failover.failover_drift", "args": drift_module_args},
        {"module": "virtnet.failover.failover_drift", "args": dict(drift_module_args, reboot_pending=True)},
    ])
    (info, drift, info_empty, info_optional, info_pending, info_module, drift_no_names, drift_module,
     drift_pending) = results
    problems = ["master enp2s0 has no primary slave",
                "master enp3s0 is not UP", "slaves of enp3s0 are not named per policy"]
    assert info["health"] == {"ok": False, "problems": problems}, info
    assert drift["health"] == info["health"], drift
    assert info_empty["health"] == {"ok": False, "problems": ["no failover group (no net_failover master) on this host"]}
    assert info_optional["health"] == {"ok": True, "problems": []}
    assert info_pending["health"] == {"ok": True, "problems": []}  # the module is left out while a reboot is pending
    km = info_module["kernel_module"]  # this host's own module: stock, absent, or the patched one
    if km["patched"]:
        wanted = [] if km["slave_rename_ok"] is True else ["slave_rename_ok is %s, wanted True" % km["slave_rename_ok"]]
    else:
        wanted = ["the loaded failover module is not the patched one"]
    assert info_module["health"] == {"ok": not wanted, "problems": wanted}
    assert drift_no_names["health"] is None and drift_no_names["groups"] == []
    # the module part and the pending reboot that waives it, the same in both modules
    assert drift_module["health"] == info_module["health"] and drift_pending["health"] == info_pending["health"]
    assert lab.names() == before
