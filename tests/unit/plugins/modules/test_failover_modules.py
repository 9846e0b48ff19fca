# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both modules run in-process against this host's own namespace.

Read-only: the host has no net_failover master, and every call here either
only reads or fails validation before any rename.
"""

from __future__ import annotations

import importlib
import types

import pytest
import yaml
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.virtnet.failover.plugins.module_utils import slave_name_enforcement
from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import common_argument_spec
from ansible_collections.virtnet.failover.plugins.modules import failover_drift, failover_info, failover_slave_name
from module_run import run_main


def run(module, args, capsys):
    return run_main(module.main, args, capsys)


def host_links():
    with open("/proc/net/dev") as fh:
        return sorted(line.split(":")[0].strip() for line in fh.readlines()[2:])


def test_info_on_host(capsys):
    before = host_links()
    res = run(failover_info, {}, capsys)
    assert res["rc"] == 0 and res["changed"] is False
    assert res["groups"] == [] and res["link_count"] >= 1 and res["netns"] is None
    assert set(res["kernel_module"]) >= {"loaded", "patched", "slave_rename_ok", "live_rename"}
    assert host_links() == before


def test_info_health_on_host_without_groups(capsys):
    res = run(failover_info, {}, capsys)
    assert res["health"] == {"ok": False, "problems": ["no failover group (no net_failover master) on this host"]}
    res = run(failover_info, {"require_group": False, "slave_rename_ok": False, "reboot_pending": True}, capsys)
    assert res["health"] == {"ok": True, "problems": []}


def test_info_rejects_bad_template(capsys):
    res = run(failover_info, {"standby_template": "{mastr}sby"}, capsys)
    assert res["rc"] == 1 and "unknown placeholder {mastr}" in res["msg"]


def test_info_rejects_unknown_master_kind(capsys):
    res = run(failover_info, {"master_kinds": ["macvlan"]}, capsys)
    assert res["rc"] == 1 and "master_kinds" in res["msg"]


def test_info_reports_missing_pyroute2(capsys, monkeypatch):
    monkeypatch.setattr(failover_info, "HAS_PYROUTE2", False)
    monkeypatch.setattr(failover_info, "PYROUTE2_IMPORT_ERROR", "ImportError: pyroute2")
    res = run(failover_info, {}, capsys)
    assert res["rc"] == 1 and "pyroute2" in res["msg"] and "required" in res["msg"]


def test_slave_name_loopback_is_not_a_failover_master(capsys):
    before = host_links()
    res = run(failover_slave_name, {"masters": ["lo", "vnfo-nope0"]}, capsys)
    assert res["rc"] == 1 and res["changed"] is False
    assert "'lo'" in res["msg"] and "not a failover master" in res["msg"]
    assert "no interface 'vnfo-nope0'" in res["msg"] and res["msg"].startswith("nothing renamed")
    assert host_links() == before


def test_slave_name_nothing_to_do_on_host(capsys):
    res = run(failover_slave_name, {}, capsys)
    assert res["rc"] == 0 and res["changed"] is False and res["renames"] == []


def test_slave_name_names_for_unknown_master(capsys):
    res = run(failover_slave_name, {"names": [{"master": "ghost0", "standby": "x"}]}, capsys)
    assert res["rc"] == 1 and "'ghost0', which is not a failover master" in res["msg"]


class CollectionFragments:
    """The fragment loader ansible-doc uses, for this collection's doc_fragments only."""

    def get(self, name):
        parts = name.split(".")
        if len(parts) != 3:  # NAME.VAR: ansible's add_fragments asks again for NAME and reads VAR
            return None
        mod = importlib.import_module("ansible_collections.%s.%s.plugins.doc_fragments.%s" % tuple(parts))
        cls = mod.ModuleDocFragment
        return types.SimpleNamespace(ansible_name=name, **dict((k, getattr(cls, k)) for k in dir(cls) if k.isupper()))


def merged_doc(module):
    """The module's DOCUMENTATION with its doc fragments merged in, as ansible-doc shows it."""
    doc = yaml.safe_load(module.DOCUMENTATION)
    add_fragments(doc, module.__file__, fragment_loader=CollectionFragments(), is_module=True)
    return doc


@pytest.mark.parametrize("module", [failover_info, failover_slave_name, failover_drift])
def test_documented_options_match_argument_spec(module):
    doc = merged_doc(module)
    spec = common_argument_spec()
    if module is failover_slave_name:
        spec.update(masters={"default": []}, down_rename_up={"default": False})
    if module in (failover_drift, failover_info):
        spec = module.argument_spec()
    assert set(doc["options"]) == set(spec)
    for name, opt in doc["options"].items():
        assert opt.get("default") == spec[name].get("default"), name
        assert opt.get("choices") == spec[name].get("choices"), name
        assert opt.get("description"), name
    assert set(doc["attributes"]) == {"check_mode", "diff_mode", "platform"} | ({"action"} if module is failover_drift else set())
    # failover_drift's link dump is a plain netlink socket; the others use pyroute2
    assert any(r.startswith("pyroute2 >= 0.7") for r in doc["requirements"]) == (module is not failover_drift)
    ret = yaml.safe_load(module.RETURN)
    assert "groups" in ret
    if module is not failover_slave_name:
        assert {"health", "groups"} <= set(ret)


def test_names_by_group_applies_plan():
    class L:
        def __init__(self, name):
            self.name = name

    class G:
        def __init__(self):
            self.master = L("enp1s0")

        def slave(self, role):
            return L("eth1") if role == "standby" else None

    from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import Rename
    plan = [Rename("enp1s0", "standby", 3, "eth1", "enp1s0nsby")]
    assert slave_name_enforcement.names_by_group([G()]) == [("enp1s0", {"standby": "eth1"})]
    assert slave_name_enforcement.names_by_group([G()], plan) == [("enp1s0", {"standby": "enp1s0nsby"})]


def test_slave_name_and_udev_enforce_report_missing_pyroute2_faked(capsys, monkeypatch, tmp_path):
    """pyroute2 is installed here, so its absence is faked; both callers of the enforcement refuse before
    reading anything, with Ansible's missing-library message (udev_naming after writing its files)."""
    monkeypatch.setattr(slave_name_enforcement, "pyroute2_missing_error", lambda: "ImportError: pyroute2")
    res = run(failover_slave_name, {"master_kinds": ["bridge"]}, capsys)
    assert res["rc"] == 1 and "pyroute2" in res["msg"] and "required" in res["msg"] and res["renames"] == []
    assert res["groups"] == [] and res["changed"] is False
    from ansible_collections.virtnet.failover.plugins.modules import failover_udev_naming
    res = run(failover_udev_naming, {
        "rules_file": str(tmp_path / "81-x.rules"), "helper_path": str(tmp_path / "h"), "helper": "x",
        "naming_code": {"failover_naming.py": "x", "ethtool_drvinfo.py": "y"}, "enforce": True,
        "master_kinds": ["bridge"]}, capsys)
    assert res["rc"] == 1 and res["changed"] is True and (tmp_path / "81-x.rules").exists()
    assert res["msg"].startswith("the udev rule is in place, but the existing slaves were not renamed: ")
    assert "pyroute2" in res["msg"] and "required" in res["msg"]
