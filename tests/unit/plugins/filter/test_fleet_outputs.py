# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit and Prometheus renderings of the fleet report, the group-health verdict
and the module/group facts the report keeps per host."""

from __future__ import annotations

import re

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from junitparser import Error, Failure, JUnitXml, Skipped

from ansible_collections.virtnet.failover.plugins.filter import failover_host_prometheus as fhp
from ansible_collections.virtnet.failover.plugins.filter import fleet_report as fr
from ansible_collections.virtnet.failover.plugins.filter import fleet_report_junit as frj
from ansible_collections.virtnet.failover.plugins.filter import fleet_report_prometheus as frp
from ansible_collections.virtnet.failover.plugins.module_utils.failover_group_health import group_problems
from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import escape_label
from ansible_collections.virtnet.failover.plugins.modules import failover_drift


def item(kind, subject="s", expected="e", actual="a", msg="m"):
    return dict(kind=kind, subject=subject, expected=expected, actual=actual, message=msg, remedy="run the rollout")


def group(master="enp1s0", up=True, standby="enp1s0nsby", primary="enp1s0npri", names_ok=True):
    return {"master": {"name": master, "up": up}, "standby": standby and {"name": standby},
            "primary": primary and {"name": primary}, "names_ok": names_ok}


def result(items=(), groups=None, loaded=True, patched=True, rename=True, mechanism="notifier"):
    return {"changed": False, "drift": list(items), "running_kernel": "6.1.0-56-amd64",
            "next_boot_kernel": "6.1.0-58-amd64", "dkms_version": "1.0.0",
            "loaded_module": {"loaded": loaded, "builtin": False, "patched": patched,
                              "slave_rename_ok": rename if patched else None,
                              "live_rename": mechanism if patched else None},
            "groups": [group()] if groups is None else groups}


RESULTS = {
    "a-ok": result(),
    "b-drift": result([item("slave_name", "eth7", "enp1s0nsby", "eth7", 'the "standby" <slave>'),
                       item("slave_name", "eth8"), item("param_value", "slave_rename_ok")],
                      groups=[group(names_ok=False)], rename=False),
    "c-down": {"unreachable": True, "msg": "Failed to connect: Connection refused", "changed": False},
    "d-fail": {"failed": True, "msg": "network namespace 'x' does not exist", "changed": False},
    "e-skip": {"skipped": True, "skip_reason": "Conditional result was False"},
}


def report(**kw):
    return fr.fleet_report(RESULTS, generated_at="2026-01-02T03:04:05Z", **kw)


# -- group health --------------------------------------------------------------------------------------

def test_group_problems():
    assert group_problems([group()]) == []
    assert group_problems([]) == ["no failover group (no net_failover master) on this host"]
    assert group_problems([], require_group=False) == []
    assert group_problems([group(up=False, standby=None, names_ok=False)]) == [
        "master enp1s0 is not UP", "master enp1s0 has no standby slave", "slaves of enp1s0 are not named per policy"]
    assert group_problems([group(), group("enp2s0", primary=None)]) == ["master enp2s0 has no primary slave"]


# -- facts kept per host (the Markdown and the rollout report show them) --------------------------------

def test_report_keeps_module_and_group_facts():
    hosts = {h["host"]: h for h in report()["hosts"]}
    a, b = hosts["a-ok"], hosts["b-drift"]
    assert (a["module_mechanism"], a["patched_module_loaded"], a["slave_rename_ok"]) == ("notifier", True, True)
    assert (a["groups"], a["groups_healthy"], a["group_problems"]) == (1, True, [])
    assert (b["slave_rename_ok"], b["groups_healthy"]) == (False, False)
    assert b["group_problems"] == ["slaves of enp1s0 are not named per policy"]
    assert hosts["c-down"]["running_kernel"] is None and hosts["c-down"]["groups_healthy"] is None


def test_facts_fill_what_the_result_lacks():
    """The rollout passes a failover_drift read taken after the rollout: a rolled-out host's record has no
    kernels, the read has them; a record's own value wins."""
    rep = fr.fleet_report({"r": {"status": "ok", "msg": "rolled out, healthy"},
                           "s": {"status": "ok", "msg": "already converged", "running_kernel": "6.12.1"}},
                          facts={"r": result(), "s": result()})
    hosts = {h["host"]: h for h in rep["hosts"]}
    assert hosts["r"]["status"] == "ok" and hosts["r"]["running_kernel"] == "6.1.0-56-amd64"
    assert (hosts["r"]["next_boot_kernel"], hosts["r"]["dkms_version"], hosts["r"]["module_mechanism"]) == \
        ("6.1.0-58-amd64", "1.0.0", "notifier")
    assert hosts["s"]["running_kernel"] == "6.12.1" and hosts["s"]["module_mechanism"] == "notifier"


def test_unpatched_module_is_not_patched_loaded():
    rep = fr.fleet_report({"x": result(patched=False), "y": result(loaded=False)})
    assert [h["patched_module_loaded"] for h in rep["hosts"]] == [False, False]
    assert rep["hosts"][0]["slave_rename_ok"] is None


# -- JUnit -----------------------------------------------------------------------------------------------

def test_junit_one_case_per_host_one_failure_per_item(tmp_path):
    path = tmp_path / "drift.xml"
    path.write_text(frj.fleet_report_junit(report()))
    xml = JUnitXml.fromfile(str(path))
    (suite,) = list(xml)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (5, 3, 2, 1)
    cases = {c.name: c for c in suite}
    assert sorted(cases) == sorted(RESULTS)
    assert {c.classname for c in suite} == {"virtnet.failover.drift"}
    assert cases["a-ok"].is_passed and cases["a-ok"].result == []
    fails = cases["b-drift"].result
    assert [type(r) for r in fails] == [Failure, Failure, Failure]
    assert [f.type for f in fails] == ["slave_name", "slave_name", "param_value"]
    assert fails[0].message == 'the "standby" <slave>'  # escaped in the XML, read back intact
    assert "expected: enp1s0nsby" in fails[0].text and "remedy: run the rollout" in fails[0].text
    (down,) = cases["c-down"].result
    assert isinstance(down, Error) and down.type == "unreachable" and "Connection refused" in down.message
    (fail,) = cases["d-fail"].result
    assert isinstance(fail, Error) and fail.type == "failed"
    (skip,) = cases["e-skip"].result
    assert isinstance(skip, Skipped)
    assert "running_kernel: 6.1.0-56-amd64" in cases["a-ok"].system_out
    assert suite.timestamp == "2026-01-02T03:04:05Z"


def test_junit_rollout_statuses_are_errors():
    xml = frj.fleet_report_junit(fr.fleet_report({"p": {"status": "preflight_failed", "failed": True, "msg": "no"},
                                                  "n": {"status": "not_reached", "msg": "stopped"}}),
                                 suite="rollout")
    assert xml.count("<error ") == 2 and 'classname="virtnet.failover.rollout"' in xml
    assert 'type="not_reached"' in xml and 'type="preflight_failed"' in xml


def test_junit_bad_input():
    with pytest.raises(AnsibleFilterError, match="output of virtnet.failover.fleet_report"):
        frj.fleet_report_junit({"hosts": []})


# -- Prometheus ------------------------------------------------------------------------------------------

def samples(text):
    """name{labels} -> value, and every family's TYPE (checks the layout on the way)."""
    out, types = {}, {}
    for line in text.splitlines():
        m = re.match(r"^# TYPE (\S+) (\S+)$", line)
        if m:
            types[m.group(1)] = m.group(2)
            continue
        if line.startswith("# HELP "):
            continue
        key, value = line.rsplit(" ", 1)
        assert key not in out, "duplicate sample %s" % key
        out[key] = float(value)
    return out, types


def test_host_metrics():
    text = fhp.failover_host_prometheus(RESULTS["b-drift"], checked_at=1767323045.5)
    s, types = samples(text)
    assert set(types.values()) == {"gauge"}
    assert all(name.startswith("virtnet_failover_") for name in types)
    assert s['virtnet_failover_drift_items{kind="slave_name"}'] == 2
    assert s['virtnet_failover_drift_items{kind="param_value"}'] == 1
    assert s['virtnet_failover_drift_items{kind="initramfs"}'] == 0  # every kind present
    assert len([k for k in s if k.startswith("virtnet_failover_drift_items{")]) == len(fr.KIND_ORDER)
    assert s["virtnet_failover_check_success"] == 1
    assert s["virtnet_failover_patched_module_loaded"] == 1
    assert s["virtnet_failover_slave_rename_ok"] == 0
    assert (s["virtnet_failover_groups"], s["virtnet_failover_groups_healthy"]) == (1, 0)
    assert s["virtnet_failover_last_check_timestamp_seconds"] == 1767323045.5
    assert s['virtnet_failover_info{running_kernel="6.1.0-56-amd64",next_boot_kernel="6.1.0-58-amd64",'
             'dkms_version="1.0.0",mechanism="notifier"}'] == 1
    assert text.endswith("\n") and "\n\n" not in text


def test_host_metrics_clean_and_unpatched():
    s, _t = samples(fhp.failover_host_prometheus(result(), checked_at=1))
    assert sum(v for k, v in s.items() if k.startswith("virtnet_failover_drift_items")) == 0
    assert s["virtnet_failover_groups_healthy"] == 1 and s["virtnet_failover_slave_rename_ok"] == 1
    s, _t = samples(fhp.failover_host_prometheus(result(patched=False), checked_at=1))
    assert s["virtnet_failover_patched_module_loaded"] == 0
    assert "virtnet_failover_slave_rename_ok" not in s  # no such parameter on the stock module
    s, _t = samples(fhp.failover_host_prometheus(result(groups=[]), checked_at=1))
    assert s["virtnet_failover_groups_healthy"] == 0
    s, _t = samples(fhp.failover_host_prometheus(result(groups=[]), checked_at=1, require_group=False))
    assert s["virtnet_failover_groups_healthy"] == 1


def test_host_metrics_failed_check():
    s, _t = samples(fhp.failover_host_prometheus(RESULTS["d-fail"], checked_at=1))
    assert s["virtnet_failover_check_success"] == 0
    assert not [k for k in s if k.startswith("virtnet_failover_drift_items")]
    with pytest.raises(AnsibleFilterError, match="registered result"):
        fhp.failover_host_prometheus("nope")


def test_fleet_metrics():
    s, types = samples(frp.fleet_report_prometheus(report(), checked_at=1767323045))
    assert set(types.values()) == {"gauge"}
    assert {k: v for k, v in s.items() if k.startswith("virtnet_failover_fleet_hosts")} == {
        'virtnet_failover_fleet_hosts{status="ok"}': 1, 'virtnet_failover_fleet_hosts{status="drift"}': 1,
        'virtnet_failover_fleet_hosts{status="unreachable"}': 1, 'virtnet_failover_fleet_hosts{status="failed"}': 1,
        'virtnet_failover_fleet_hosts{status="other"}': 1}
    assert s['virtnet_failover_fleet_drift_hosts{kind="slave_name"}'] == 1
    assert s['virtnet_failover_fleet_drift_hosts{kind="dkms_next_kernel"}'] == 0
    assert s["virtnet_failover_fleet_drift_items"] == 3 and s["virtnet_failover_fleet_clean"] == 0
    assert s['virtnet_failover_fleet_host_drift_items{host="b-drift"}'] == 3
    assert 'virtnet_failover_fleet_host_drift_items{host="c-down"}' not in s
    assert s['virtnet_failover_fleet_host_checked{host="c-down"}'] == 0
    assert s['virtnet_failover_fleet_host_checked{host="a-ok"}'] == 1
    assert s["virtnet_failover_fleet_last_check_timestamp_seconds"] == 1767323045
    with pytest.raises(AnsibleFilterError, match="output of virtnet.failover.fleet_report"):
        frp.fleet_report_prometheus([])


def test_label_escaping():
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    text = frp.fleet_report_prometheus(fr.fleet_report({'we"ird\\host': result()}), checked_at=0)
    assert 'host="we\\"ird\\\\host"' in text


def test_filters_registered():
    assert set(frj.FilterModule().filters()) == {"fleet_report_junit"}
    assert set(frp.FilterModule().filters()) == {"fleet_report_prometheus"}
    assert set(fhp.FilterModule().filters()) == {"failover_host_prometheus"}


def test_facts_list_first_with_a_value_wins():
    after = {"r": dict(result(), running_kernel="6.1.0-58-amd64")}
    fast = {"r": result(mechanism="flag"), "p": result()}
    rep = fr.fleet_report({"r": {"status": "ok"}, "p": {"status": "preflight_failed", "failed": True, "msg": "x"}},
                          facts=[after, fast])
    hosts = {h["host"]: h for h in rep["hosts"]}
    assert hosts["r"]["running_kernel"] == "6.1.0-58-amd64" and hosts["r"]["module_mechanism"] == "notifier"
    assert hosts["p"]["running_kernel"] == "6.1.0-56-amd64"  # only the fast-path read has it
    with pytest.raises(AnsibleFilterError, match="facts must be a mapping"):
        fr.fleet_report({}, facts="nope")


def test_kind_order_is_every_kind_failover_drift_documents():
    """The report, the JUnit file and the metrics list every drift kind (0 when none); failover_drift takes its
    kinds from KIND_ORDER, and its documentation (the choices of O(checks)) is written by hand: same list."""
    doc = yaml.safe_load(failover_drift.DOCUMENTATION)
    assert doc["options"]["checks"]["choices"] == list(fr.KIND_ORDER)
