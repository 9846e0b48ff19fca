# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.failover_udev_naming through Ansible: the rule and helper written to a temporary
directory, and (enforce) the existing slaves of a namespace renamed in the same call, as the
slave_names role runs it."""

from __future__ import annotations

import os
import shlex
import shutil
import sys

import pytest

MOD = "virtnet.failover.failover_udev_naming"
BRIDGE = ["bridge"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UTILS = os.path.join(ROOT, "plugins", "module_utils")
# Where AnsibleModule.get_bin_path looks besides PATH.
UDEVADM_PLACES = ("/sbin", "/usr/sbin", "/usr/local/sbin", "/bin", "/usr/bin", "/usr/local/bin")


def file_lookup(path):
    """The file's text as the role passes it: through a lookup, so its braces are never templated."""
    return "{{ lookup('ansible.builtin.file', %r, rstrip=False) }}" % path


@pytest.fixture
def files(tmp_path):
    """The module's file options, with every path under tmp_path."""
    return {
        "rules_file": str(tmp_path / "rules.d" / "81-vnfo-test.rules"),
        "helper_path": str(tmp_path / "libexec" / "vnfo-slave-name"),
        "helper": file_lookup(os.path.join(ROOT, "roles", "slave_names", "files", "slave-name.py")),
        "naming_code": {name: file_lookup(os.path.join(UTILS, name))
                        for name in ("failover_naming.py", "ethtool_drvinfo.py")},
    }


@pytest.fixture
def rules_dir(files):
    os.makedirs(os.path.dirname(files["rules_file"]))
    os.makedirs(os.path.dirname(files["helper_path"]))
    return os.path.dirname(files["rules_file"])


def test_installs_the_rule_and_names_the_slaves_in_one_call_then_changes_nothing(lab, ansible_run, files, rules_dir):
    lab.add_group("enp1s0", "eth1", "eth2")
    args = dict(files, enforce=True, netns=lab.name, master_kinds=BRIDGE)
    first = ansible_run.one(MOD, args)
    assert not first.get("failed"), first
    assert first["changed"] is True and first["udev_reload"] is True
    assert first["udev_reloaded"] is False  # reload_udev not asked
    assert sorted((r["from"], r["to"]) for r in first["renames"]) == [("eth1", "enp1s0nsby"), ("eth2", "enp1s0npri")]
    assert {"enp1s0nsby", "enp1s0npri"} <= set(lab.names()) and "eth1" not in lab.names()
    (group,) = first["groups"]
    assert group["names_ok"] is True
    assert os.path.exists(files["rules_file"]) and os.access(files["helper_path"], os.X_OK)
    second = ansible_run.one(MOD, args)
    assert second["changed"] is False and second["changes"] == [] and second["renames"] == []
    assert second["udev_reload"] is False


def test_enforce_off_renames_nothing_and_returns_no_names(lab, ansible_run, files, rules_dir):
    lab.add_group("enp1s0", "eth1", "eth2")
    res = ansible_run.one(MOD, dict(files, netns=lab.name, master_kinds=BRIDGE))
    assert res["changed"] is True and "renames" not in res and "groups" not in res
    assert "eth1" in lab.names() and "eth2" in lab.names()


def test_check_mode_writes_and_renames_nothing_and_shows_both_diffs(lab, ansible_run, files, rules_dir):
    lab.add_group("enp1s0", "eth1", "eth2")
    before = lab.names()
    res = ansible_run.one(MOD, dict(files, enforce=True, reload_udev=True, netns=lab.name, master_kinds=BRIDGE),
                          check=True, diff=True)
    assert res["changed"] is True and len(res["renames"]) == 2 and res["udev_reloaded"] is False
    assert res["diff"][-1]["before"] == "enp1s0 standby: eth1\nenp1s0 primary: eth2\n"
    assert res["diff"][-1]["after"] == "enp1s0 standby: enp1s0nsby\nenp1s0 primary: enp1s0npri\n"
    assert any(d["after_header"] == files["rules_file"] for d in res["diff"][:-1])
    assert lab.names() == before and os.listdir(rules_dir) == []


def test_a_bad_rename_fails_after_the_files_and_renames_nothing(lab, ansible_run, files, rules_dir):
    lab.add_group("enp1s0", "eth1", "eth2")
    lab.add_group("enp3s0", "eth3", "eth4")
    # both masters' standbys would get the same name
    names = [{"master": "enp1s0", "standby": "samename"}, {"master": "enp3s0", "standby": "samename"}]
    before = lab.names()
    res = ansible_run.one(MOD, dict(files, enforce=True, names=names, netns=lab.name, master_kinds=BRIDGE))
    assert res.get("failed") is True
    assert res["msg"].startswith("the udev rule is in place, but the existing slaves were not renamed: nothing renamed: ")
    assert "samename" in res["msg"] and res["problems"]
    assert res["changed"] is True and os.path.exists(files["rules_file"])  # the files' change is reported
    assert lab.names() == before


def installed_udevadm():
    """Every udevadm the module could find on this host (real paths, once each)."""
    found = [shutil.which("udevadm")] + [os.path.join(d, "udevadm") for d in UDEVADM_PLACES]
    return sorted({os.path.realpath(p) for p in found if p and os.path.isfile(p)})


@pytest.fixture
def host_without_udevadm(ansible_run, tmp_path):
    """Runs modules on a host without udevadm. Where udev is installed, the managed Python runs in a
    mount namespace of its own in which every udevadm is an empty, non-executable file; elsewhere it
    is the plain Python."""
    found = installed_udevadm()
    if not found:
        return ansible_run
    empty = tmp_path / "no-udevadm"
    empty.write_text("")
    empty.chmod(0o644)
    binds = "; ".join("mount --bind %s %s" % (shlex.quote(str(empty)), shlex.quote(path)) for path in found)
    inner = "set -e; mount --make-rprivate /; %s; exec %s \"$@\"" % (binds, shlex.quote(sys.executable))
    wrapper = tmp_path / "python-without-udevadm"
    wrapper.write_text("#!/bin/sh\nexec unshare -m sh -c %s sh \"$@\"\n" % shlex.quote(inner))
    wrapper.chmod(0o755)
    return type(ansible_run)(python=str(wrapper))


def test_reload_without_udevadm_fails_with_what_to_do(host_without_udevadm, files, rules_dir):
    res = host_without_udevadm.one(MOD, dict(files, reload_udev=True))
    assert res.get("failed") is True
    assert res["msg"] == ("the rules file changed but udevadm is not installed: install udev, then run "
                          "udevadm control --reload")
    assert res["udev_reload"] is True and res["udev_reloaded"] is False
