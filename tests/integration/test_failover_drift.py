# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.failover_drift through Ansible: the slave-name part on real
netlink, in namespaces with bridge stand-ins for failover masters."""

from __future__ import annotations

MOD = "virtnet.failover.failover_drift"
NAMES_ONLY = {"checks": ["slave_name"], "master_kinds": ["bridge"], "check_initramfs": False, "modprobe_file": ""}


def kinds(res):
    return [i["kind"] for i in res["drift"]]


def test_reports_misnamed_slaves_and_changes_nothing(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "enp1s0npri")
    lab.add_group("enp7s0", "enp7s0nsby", "enp7s0npri")
    before = lab.names()
    res, res_check = ansible_run.many([
        {"module": MOD, "args": dict(NAMES_ONLY, netns=lab.name)},
        {"module": MOD, "args": dict(NAMES_ONLY, netns=lab.name), "check": True},
    ])
    assert lab.names() == before
    for r in (res, res_check):
        assert not r.get("failed"), r
        assert r["changed"] is False
        assert kinds(r) == ["slave_name"]
        (item,) = r["drift"]
        assert (item["subject"], item["expected"], item["actual"]) == ("eth1", "enp1s0nsby", "eth1")
        assert "standby slave of enp1s0" in item["message"] and "failover_slave_name" in item["remedy"]
        assert [g["master"]["name"] for g in r["groups"]] == ["enp1s0", "enp7s0"]


def test_after_enforcement_no_drift(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "eth2")
    first, fix, second = ansible_run.many([
        {"module": MOD, "args": dict(NAMES_ONLY, netns=lab.name)},
        {"module": "virtnet.failover.failover_slave_name", "args": {"netns": lab.name, "master_kinds": ["bridge"]}},
        {"module": MOD, "args": dict(NAMES_ONLY, netns=lab.name)},
    ])
    found = sorted((i["actual"], i["expected"]) for i in first["drift"])
    assert found == [("eth1", "enp1s0nsby"), ("eth2", "enp1s0npri")]
    assert fix["changed"] is True
    assert second["drift"] == [] and second["drift_kinds"] == []


def test_custom_policy_and_bad_policy(lab, ansible_run):
    lab.add_group("enp1s0", "sby0", "vf0")
    ok, bad, missing_ns = ansible_run.many([
        {"module": MOD, "args": dict(NAMES_ONLY, netns=lab.name,
                                     names=[{"master": "enp1s0", "standby": "sby0", "primary": "vf0"}])},
        {"module": MOD, "args": dict(NAMES_ONLY, netns=lab.name, primary_template="{master}-much-too-long-name")},
        {"module": MOD, "args": dict(NAMES_ONLY, netns=lab.name + "-nope")},
    ])
    assert ok["drift"] == []
    # standby sby0 differs from the default {master}nsby; the primary's template is invalid
    assert kinds(bad) == ["slave_name", "slave_name"]
    assert [i["expected"] for i in bad["drift"]] == ["enp1s0nsby", "a valid name"]
    assert "bytes long" in bad["drift"][1]["message"]
    assert missing_ns.get("failed") and "does not exist" in missing_ns["msg"]
