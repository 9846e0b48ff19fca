# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report_entry.report_result: a failover_drift result cut to what its report entry reads
(failover_drift's result=report) gives the same fleet report entry as the full result."""

from __future__ import annotations

import json

import pytest

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import fleet_report
from ansible_collections.virtnet.failover.plugins.module_utils import fleet_report_entry as fre

KERNEL = "6.1.0-56-amd64"


def slave(name, role, expected):
    return {"name": name, "role": role, "expected_name": expected, "name_ok": name == expected, "up": True,
            "mac": "52:54:00:12:34:56", "driver": "virtio_net", "ifindex": 3, "operstate": "UP",
            "policy_problem": None, "alias": role, "bus_info": None, "pci_address": None, "phys_port_name": None}


def group(master, standby, primary, up=True):
    members = {"standby": slave(standby, "standby", master + "nsby") if standby else None,
               "primary": slave(primary, "primary", master + "npri") if primary else None}
    return dict(members, master={"name": master, "up": up, "ifindex": 2, "kind": "failover", "mac": "m",
                                 "operstate": "UP" if up else "DOWN"},
                names_ok=all(s is None or s["name_ok"] for s in members.values()), other_slaves=[])


def full(groups, drift=(), loaded=None, failed_msg=None, nxt=KERNEL):
    loaded = loaded or {"loaded": True, "builtin": False, "patched": True, "srcversion": "ABC", "version": "1.0.0",
                        "slave_rename_ok": True, "live_rename": "flag"}
    res = {"changed": False, "drift": list(drift), "drift_kinds": sorted({d["kind"] for d in drift}),
           "running_kernel": KERNEL, "next_boot_kernel": nxt, "dkms_version": "1.0.0",
           "kernels": {KERNEL: {"dkms_state": "installed", "module_path": "/x.ko", "srcversion": "ABC",
                                "running": True, "next_boot": True}},
           "loaded_module": loaded, "initramfs": {"path": "/boot/initrd.img", "kernel": KERNEL, "found": True,
                                                  "srcversion": "ABC", "error": None, "exists": True, "member": "f"},
           "groups": groups, "health": {"ok": not drift, "problems": []}, "converged": not drift,
           "textfile": None, "elapsed_seconds": 0.01}
    if failed_msg:
        res.update(failed=True, msg=failed_msg)
    return res


ITEM = {"kind": "slave_name", "subject": "eth1", "expected": "enp1s0nsby", "actual": "eth1", "message": "m",
        "remedy": "r"}
CASES = {
    "converged": full([group("enp1s0", "enp1s0nsby", "enp1s0npri")]),
    "misnamed": full([group("enp1s0", "eth1", "enp1s0npri")], drift=[ITEM]),
    "no_group": full([]),
    "no_primary_master_down": full([group("enp1s0", "enp1s0nsby", None, up=False)]),
    "stock_module": full([group("enp1s0", "enp1s0nsby", "enp1s0npri")],
                         loaded={"loaded": True, "builtin": False, "patched": False, "srcversion": "S",
                                 "version": None, "slave_rename_ok": None, "live_rename": None}, nxt="6.1.0-58-amd64"),
    "names_not_read": dict(full([]), groups=[], health=None),
    "require_healthy_failed": full([group("enp1s0", "eth1", "enp1s0npri")], drift=[ITEM],
                                   failed_msg="health check failed: slaves of enp1s0 are not named per policy"),
}


@pytest.mark.parametrize("require_group", [True, False])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cut_result_gives_the_same_report_entry(case, require_group):
    result = CASES[case]
    cut = fre.report_result(result, require_group)
    if result.get("failed"):  # fail_json adds failed and msg after the module cut its result
        cut.update(failed=True, msg=result["msg"])
    assert fre.host_entry("h", cut, require_group=require_group) == \
        fre.host_entry("h", result, require_group=require_group)


def test_the_cut_result_keeps_only_what_the_entry_reads():
    cut = fre.report_result(CASES["misnamed"])
    assert set(cut) == set(fre.REPORT_RESULT_KEYS) | {"report_facts"}
    assert set(cut["report_facts"]) == set(fre.FACT_KEYS)
    assert cut["drift"] == [ITEM] and cut["report_facts"]["group_problems"] == ["slaves of enp1s0 are not named per policy"]
    # about half the data of the full result, with one failover group (the fleet's common case)
    assert len(json.dumps(cut)) < 0.6 * len(json.dumps(CASES["misnamed"]))


def test_a_fleet_report_is_the_same_from_cut_results():
    cut = {name: fre.report_result(res) for name, res in CASES.items()}
    for name, res in CASES.items():
        if res.get("failed"):
            cut[name].update(failed=True, msg=res["msg"])
    assert fleet_report(cut, generated_at="t") == fleet_report(CASES, generated_at="t")


def test_report_facts_win_over_the_keys_of_a_result_and_unknown_keys_are_dropped():
    facts = fre.host_facts({"running_kernel": "old", "report_facts": {"running_kernel": "new", "other": 1}})
    assert facts == {"running_kernel": "new"}
