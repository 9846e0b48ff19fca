# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report / fleet_report_markdown on results shaped like failover_drift's."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.virtnet.failover.plugins.filter import fleet_report as fr
from ansible_collections.virtnet.failover.plugins.filter import fleet_report_markdown as frm


def item(kind, subject, expected, actual, msg="m", remedy="run the rollout"):
    return dict(kind=kind, subject=subject, expected=expected, actual=actual, message=msg, remedy=remedy)


def result(items=(), kernel="6.1.0-56-amd64", nxt=None):
    return {"changed": False, "failed": False, "drift": list(items),
            "drift_kinds": sorted({i["kind"] for i in items}), "running_kernel": kernel,
            "next_boot_kernel": nxt or kernel, "dkms_version": "1.0.0"}


RESULTS = {
    "d12-a": result(),
    "d13-b": result([item("dkms_next_kernel", "6.12.99-cloud-amd64", "virtnet-failover/1.0.0 installed", "added"),
                     item("slave_name", "eth1", "enp1s0npri", "eth1")], kernel="6.12.48+deb13-amd64",
                    nxt="6.12.99-cloud-amd64"),
    "d12-c": result([item("slave_name", "eth2", "enp1s0npri", "eth2 | odd")]),
    "gone": {"unreachable": True, "msg": "Failed to connect to the host via ssh: timeout", "changed": False},
    "broken": {"failed": True, "msg": "Failed to import the required Python library (pyroute2)", "changed": False},
}
POLICY = {"dkms_name": "virtnet-failover", "dkms_version": "1.0.0", "slave_rename_ok": True,
          "standby_template": "{master}nsby", "primary_template": "{master}npri"}


def test_report_structure():
    rep = fr.fleet_report(RESULTS, ["d12-a", "d13-b", "d12-c", "gone", "broken", "never"], policy=POLICY,
                          generated_at="2025-01-01T00:00:00+00:00")
    json.dumps(rep)  # serialisable
    assert rep["format"] == "virtnet.failover.fleet_report/1" and rep["clean"] is False
    assert [h["host"] for h in rep["hosts"]] == ["broken", "d12-a", "d12-c", "d13-b", "gone", "never"]
    s = rep["summary"]
    assert (s["hosts"], s["ok"], s["drift"], s["unreachable"], s["failed"], s["other"], s["drift_items"]) == \
        (6, 1, 2, 2, 1, 0, 3)
    assert s["kinds"] == {"dkms_next_kernel": 1, "slave_name": 2}
    assert list(rep["by_kind"]) == ["dkms_next_kernel", "slave_name"]  # kind order, not alphabetical by accident
    assert rep["by_kind"]["slave_name"] == ["d12-c", "d13-b"]
    status = {h["host"]: h["status"] for h in rep["hosts"]}
    assert status == {"broken": "failed", "d12-a": "ok", "d12-c": "drift", "d13-b": "drift",
                      "gone": "unreachable", "never": "unreachable"}
    probs = {p["host"]: p for p in rep["problem_hosts"]}
    assert set(probs) == {"broken", "gone", "never"} and "pyroute2" in probs["broken"]["message"]
    # the hosts the drift playbook fails (every status but ok), sorted
    assert rep["not_ok"] == ["broken", "d12-c", "d13-b", "gone", "never"]
    assert rep["not_done"] == rep["not_ok"]
    d13 = [h for h in rep["hosts"] if h["host"] == "d13-b"][0]
    assert d13["next_boot_kernel"] == "6.12.99-cloud-amd64" and len(d13["drift"]) == 2
    assert set(d13["drift"][0]) == {"kind", "subject", "expected", "actual", "message", "remedy"}


def test_clean_fleet():
    rep = fr.fleet_report({"a": result(), "b": result()})
    assert rep["clean"] is True and rep["summary"]["drift_items"] == 0 and rep["by_kind"] == {}
    md = frm.fleet_report_markdown(rep)
    assert "**No drift**" in md and "## Hosts by drift kind" not in md


def test_status_override_for_rollout():
    rep = fr.fleet_report({"a": {"status": "preflight_failed", "failed": True, "msg": "CONFIG_FAILOVER=y"},
                           "b": {"status": "not_reached", "msg": "the rollout stopped before this batch"},
                           "c": {"status": "ok", "msg": "patched, names ok"}}, title="Failover rollout report")
    st = {h["host"]: (h["status"], h["message"]) for h in rep["hosts"]}
    assert st == {"a": ("preflight_failed", "CONFIG_FAILOVER=y"),
                  "b": ("not_reached", "the rollout stopped before this batch"), "c": ("ok", "patched, names ok")}
    assert rep["summary"]["other"] == 2 and rep["summary"]["ok"] == 1
    assert rep["not_ok"] == ["a", "b"] and rep["not_done"] == ["a", "b"]
    rep = fr.fleet_report({"a": {"status": "pending_reboot", "msg": "rolled out; reboot pending"},
                           "c": {"status": "ok", "msg": "patched, names ok"}})
    # the rollout fails the hosts that are not done; a pending reboot is done (the operator reboots)
    assert rep["not_ok"] == ["a"] and rep["not_done"] == []
    rep = fr.fleet_report({"a": {"status": "preflight_failed", "failed": True, "msg": "CONFIG_FAILOVER=y"},
                           "b": {"status": "not_reached", "msg": "the rollout stopped before this batch"},
                           "c": {"status": "ok", "msg": "patched, names ok"}}, title="Failover rollout report")
    md = frm.fleet_report_markdown(rep)
    assert md.startswith("# Failover rollout report\n") and "| a | preflight_failed | CONFIG_FAILOVER=y |" in md


def test_markdown_sections_and_escaping():
    rep = fr.fleet_report(RESULTS, policy=POLICY, generated_at="2025-01-01T00:00:00+00:00")
    md = frm.fleet_report_markdown(rep)
    assert "## Summary" in md and "## Hosts" in md and "### slave_name (2 hosts)" in md
    assert "### dkms_next_kernel (1 host)" in md
    assert "| 5 | 1 | 2 | 1 | 1 | 0 | 3 |" in md
    assert "eth2 \\| odd" in md  # pipe escaped inside a cell
    assert "| gone | unreachable | Failed to connect" in md
    assert "Policy: dkms_name=`virtnet-failover`" in md
    assert "**Not clean**: 4 of 5 hosts are not ok (2 drift with 3 items, 1 unreachable, 1 failed, 0 other)." in md
    # every table row has the same number of unescaped separators as its header
    for block in md.split("\n\n"):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        if rows:
            counts = {r.replace("\\|", "").count("|") for r in rows}
            assert len(counts) == 1, block


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="mapping of host name"):
        fr.fleet_report(["a"])
    with pytest.raises(AnsibleFilterError, match="output of virtnet.failover.fleet_report"):
        frm.fleet_report_markdown({"hosts": []})
    assert fr.fleet_report(None)["summary"]["hosts"] == 0


def test_missing_jmespath(monkeypatch):
    monkeypatch.setattr(fr, "HAS_JMESPATH", False)
    with pytest.raises(AnsibleFilterError, match="pip install jmespath"):
        fr.fleet_report({})


def test_filters_registered():
    assert set(fr.FilterModule().filters()) == {"fleet_report"}
    assert set(frm.FilterModule().filters()) == {"fleet_report_markdown"}
