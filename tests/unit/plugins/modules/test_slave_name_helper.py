# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The slave_names role's udev helper and failover_slave_name name a slave alike.

The helper (roles/slave_names/files/slave-name.py) runs here as the role
installs it: next to a directory holding the collection's own
failover_naming.py and ethtool_drvinfo.py and the policy as policy.json.  It
reads a fake /sys/class/net tree; the ethtool driver lookup is a mock
(MockEthtool), because no net_failover master can be created on this host.
The other side is what failover_slave_name plans for the same group (its
policy parser and plan_renames), and what failover_naming_policy (the role's
check) says about the policy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import (
    common_argument_spec,
    policy_from_params,
)
from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import PolicyError, plan_renames
from ansible_collections.virtnet.failover.plugins.modules import failover_naming_policy
from module_run import run_main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
HELPER = os.path.join(ROOT, "roles", "slave_names", "files", "slave-name.py")
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")


def load_helper():
    spec = importlib.util.spec_from_file_location("virtnet_slave_name_helper", HELPER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class MockEthtool:
    """Mock of ethtool_drvinfo.Ethtool: drivers by interface name."""

    def __init__(self, drivers):
        self.drivers = drivers

    def driver(self, ifname):
        return self.drivers.get(ifname)


def fake_host(base, master, master_index, policy, master_driver="net_failover"):
    """A /sys/class/net with master + standby (virtio, phys_port_name sby) + primary, and the helper's lib dir."""
    net = os.path.join(str(base), "sys", "class", "net")
    links = {master: master_index, "eth0": 3, "eth1": 5}
    for name, index in links.items():
        os.makedirs(os.path.join(net, name))
        with open(os.path.join(net, name, "ifindex"), "w") as fh:
            fh.write("%d\n" % index)
    with open(os.path.join(net, master, "name_assign_type"), "w") as fh:
        fh.write("4\n")
    with open(os.path.join(net, "eth0", "phys_port_name"), "w") as fh:
        fh.write("sby\n")
    for slave in ("eth0", "eth1"):
        os.symlink("../" + master, os.path.join(net, slave, "master"))
        os.symlink("../" + slave, os.path.join(net, master, "lower_" + slave))
    lib = os.path.join(str(base), "lib", "virtnet-failover")
    os.makedirs(lib)
    for name in ("failover_naming.py", "ethtool_drvinfo.py"):  # what roles/slave_names/tasks/main.yml installs
        shutil.copy(os.path.join(MODULE_UTILS, name), lib)
    with open(os.path.join(lib, "policy.json"), "w") as fh:
        json.dump(dict(policy, master_wait=0), fh)
    eth = MockEthtool({master: master_driver, "eth0": "virtio_net", "eth1": "mlx5_core"})
    return net, lib, eth


def module_names(policy, master, master_index):
    """The targets failover_slave_name plans for the standby (now eth8) and primary (now eth9) slave;
    None for a role it leaves alone, all None when it refuses the policy."""
    params = {k: v["default"] for k, v in common_argument_spec().items() if "default" in v}
    params.update(policy)
    try:
        plan = plan_renames([(master, master_index, {"standby": (3, "eth8"), "primary": (5, "eth9")})],
                            {"eth8": (3, False), "eth9": (5, False)}, policy_from_params(params))
    except PolicyError:
        return {"standby": None, "primary": None}
    got = {"standby": None, "primary": None}
    got.update({r.role: r.new for r in plan})
    return got


DEFAULT = {"standby_template": "{master}nsby", "primary_template": "{master}npri", "names": []}
CASES = [
    # (policy, master, master_index, {role: expected name or None})
    (DEFAULT, "enp1s0", 2, {"standby": "enp1s0nsby", "primary": "enp1s0npri"}),
    (dict(DEFAULT, standby_template="sby{master_index}", primary_template="{master}-{master_index}"), "enp1s0", 7,
     {"standby": "sby7", "primary": "enp1s0-7"}),
    # the {{ escape that the unknown-placeholder message tells users to write
    (dict(DEFAULT, standby_template="{{s}}{master_index}", primary_template="{master}}}"), "enp1s0", 7,
     {"standby": "{s}7", "primary": "enp1s0}"}),
    # 15 bytes is the longest interface name, 16 is refused (counted in bytes, not characters)
    (dict(DEFAULT, standby_template="{master}abcdefghi"), "enp1s0", 2,
     {"standby": "enp1s0abcdefghi", "primary": "enp1s0npri"}),
    (dict(DEFAULT, standby_template="{master}abcdefghij", primary_template=""), "enp1s0", 2,
     {"standby": None, "primary": None}),
    (dict(DEFAULT, primary_template="{master}\u00e4\u00e4\u00e4\u00e4"), "enp1s0", 2,
     {"standby": "enp1s0nsby", "primary": "enp1s0\u00e4\u00e4\u00e4\u00e4"}),
    (dict(DEFAULT, standby_template="", primary_template="{master}\u00e4\u00e4\u00e4\u00e4\u00e4"), "enp1s0", 2,
     {"standby": None, "primary": None}),
    # unknown placeholders and bad braces: no name at all
    (dict(DEFAULT, standby_template="{master}{slot}"), "enp1s0", 2, {"standby": None, "primary": None}),
    (dict(DEFAULT, primary_template="{master"), "enp1s0", 2, {"standby": None, "primary": None}),
    (dict(DEFAULT, primary_template="{master!r}"), "enp1s0", 2, {"standby": None, "primary": None}),
    # explicit names win over templates; an empty template leaves the role alone
    (dict(DEFAULT, names=[{"master": "enp1s0", "primary": "vf0"}]), "enp1s0", 2,
     {"standby": "enp1s0nsby", "primary": "vf0"}),
    (dict(DEFAULT, standby_template=""), "enp1s0", 2, {"standby": None, "primary": "enp1s0npri"}),
]


@pytest.mark.parametrize("policy,master,master_index,expected", CASES)
def test_helper_and_module_give_the_same_name(tmp_path, capsys, policy, master, master_index, expected):
    helper = load_helper()
    net, lib, eth = fake_host(tmp_path, master, master_index, policy)
    slaves = {"standby": "eth0", "primary": "eth1"}
    from_module = module_names(policy, master, master_index)
    from_helper = {role: helper.policy_name(slave, net, lib, eth) for role, slave in slaves.items()}
    assert from_helper == expected
    assert from_module == expected
    # the role's check (failover_naming_policy) refuses exactly the templates neither side can use
    valid = run_main(failover_naming_policy.main, policy, capsys)
    templates = (policy["standby_template"], policy["primary_template"])
    unusable = ("{master}{slot}", "{master", "{master!r}")
    assert (valid["rc"] == 0) is not any(t in unusable for t in templates)


def test_helper_leaves_other_masters_and_strangers_alone(tmp_path):
    helper = load_helper()
    net, lib, eth = fake_host(tmp_path, "br0", 2, DEFAULT, master_driver="bridge")
    assert helper.policy_name("eth0", net, lib, eth) is None
    assert helper.policy_name("nosuchdev", net, lib, eth) is None


def test_one_bad_explicit_name(tmp_path):
    """failover_slave_name refuses the whole run on a bad name (nothing renamed); the helper, naming one
    hot-plugged slave at a time, leaves that slave alone and still names the other one."""
    policy = dict(DEFAULT, names=[{"master": "enp1s0", "standby": "bad/name"}])
    helper = load_helper()
    net, lib, eth = fake_host(tmp_path, "enp1s0", 2, policy)
    assert helper.policy_name("eth0", net, lib, eth) is None
    assert helper.policy_name("eth1", net, lib, eth) == "enp1s0npri"
    assert module_names(policy, "enp1s0", 2) == {"standby": None, "primary": None}


def test_helper_main_exit_codes(tmp_path, capsys, monkeypatch):
    helper = load_helper()
    net, lib, _eth = fake_host(tmp_path, "enp1s0", 2, DEFAULT)
    monkeypatch.setattr(helper, "NET", net)
    monkeypatch.setattr(helper, "LIB", lib)
    assert helper.main(["x"]) == 2
    # the real ethtool finds no enp1s0 on this host: not a net_failover slave, udev keeps the name
    assert helper.main(["x", "eth0"]) == 1 and capsys.readouterr().out == ""


def test_role_check_module_rejects_bad_policy_with_the_module_message(capsys):
    res = run_main(failover_naming_policy.main, {"standby_template": "{master}{slot}"}, capsys)
    assert res["rc"] == 1 and res["changed"] is False
    assert "standby_template '{master}{slot}' uses the unknown placeholder {slot}" in res["msg"]
    assert "write literal braces" not in res["msg"] or "{{" in res["msg"]
    res = run_main(failover_naming_policy.main, {"primary_template": "{{vf}}{master_index}"}, capsys)
    assert res["rc"] == 0 and res["policy"]["primary_template"] == "{{vf}}{master_index}"


def test_role_check_module_rejects_explicit_names_that_cannot_be_interface_names(capsys):
    res = run_main(failover_naming_policy.main, {"names": [
        {"master": "enp1s0", "standby": "abcdefghijklmnop", "primary": "a/b"},
        {"master": "enp2s0", "standby": "same0", "primary": "same0"},
        {"master": "enp3s0", "standby": "sby3", "primary": "vf3"}]}, capsys)
    assert res["rc"] == 1 and res["changed"] is False
    assert res["problems"] == [
        "name 'abcdefghijklmnop' from names[enp1s0].standby is 16 bytes long; Linux interface names are at most 15 bytes",
        "name 'a/b' from names[enp1s0].primary contains '/'",
        "names[enp2s0] gives both slaves the name 'same0'"]
    assert res["msg"].startswith("invalid naming policy: name 'abcdefghijklmnop' from names[enp1s0].standby")
    res = run_main(failover_naming_policy.main, {"names": [{"master": "enp3s0", "standby": "sby3", "primary": "vf3"}]}, capsys)
    assert res["rc"] == 0
