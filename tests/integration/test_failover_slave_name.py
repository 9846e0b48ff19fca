# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.failover_slave_name through Ansible: real renames in namespaces."""

from __future__ import annotations

from netns_lab import netns_exists, unique_name

MOD = "virtnet.failover.failover_slave_name"
BRIDGE = ["bridge"]


def renames(res):
    return sorted((r["master"], r["role"], r["from"], r["to"]) for r in res["renames"])


def test_renames_up_and_down_slaves_then_idempotent(lab, ansible_any_python):
    lab.add_group("enp1s0", "eth1", "eth2")
    lab.set_up("eth2", False)
    assert lab.is_up("eth1") and not lab.is_up("eth2")
    first = ansible_any_python.slave_name(netns=lab.name, master_kinds=BRIDGE)
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert renames(first) == [("enp1s0", "primary", "eth2", "enp1s0npri"),
                              ("enp1s0", "standby", "eth1", "enp1s0nsby")]
    names = lab.names()
    assert "enp1s0nsby" in names and "enp1s0npri" in names and "eth1" not in names and "eth2" not in names
    assert lab.is_up("enp1s0nsby") and not lab.is_up("enp1s0npri")  # admin state kept
    assert lab.link("enp1s0nsby")["master"] == "enp1s0"
    (group,) = first["groups"]
    assert group["names_ok"] is True and group["standby"]["name"] == "enp1s0nsby"
    second = ansible_any_python.slave_name(netns=lab.name, master_kinds=BRIDGE)
    assert second["changed"] is False and second["renames"] == []
    assert lab.names() == names


def test_check_mode_and_diff_change_nothing(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "eth2")
    before = lab.names()
    res = ansible_run.slave_name(check=True, diff=True, netns=lab.name, master_kinds=BRIDGE)
    assert res["changed"] is True and len(res["renames"]) == 2
    assert res["diff"]["before"] == "enp1s0 standby: eth1\nenp1s0 primary: eth2\n"
    assert res["diff"]["after"] == "enp1s0 standby: enp1s0nsby\nenp1s0 primary: enp1s0npri\n"
    assert lab.names() == before


def test_swap_through_temporary_name(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "eth2")
    res = ansible_run.slave_name(netns=lab.name, master_kinds=BRIDGE,
                                 names=[{"master": "enp1s0", "standby": "eth2", "primary": "eth1"}])
    assert res["changed"] is True, res
    assert renames(res) == [("enp1s0", "primary", "eth2", "eth1"), ("enp1s0", "standby", "eth1", "eth2")]
    assert lab.link("eth2")["ifalias"] == "standby" and lab.link("eth1")["ifalias"] == "primary"
    assert not any(n.startswith("vnfotmp") for n in lab.names())


def test_masters_limits_the_run_and_other_slaves_are_left_alone(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "eth2", extra_ports=("eth5",))
    lab.add_group("enp3s0", "eth3", "eth4")
    res = ansible_run.slave_name(netns=lab.name, master_kinds=BRIDGE, masters=["enp1s0"],
                                 down_rename_up=True)
    assert res["changed"] is True and res["bounced"] == []
    assert [g["master"]["name"] for g in res["groups"]] == ["enp1s0"]
    names = lab.names()
    assert {"enp1s0nsby", "enp1s0npri", "eth5", "eth3", "eth4"} <= set(names)


def test_chain_where_a_target_is_held_by_another_slave(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "enp1s0nsby")  # the primary holds the standby's name
    res = ansible_run.slave_name(netns=lab.name, master_kinds=BRIDGE)
    assert res["changed"] is True, res
    assert lab.link("enp1s0nsby")["ifalias"] == "standby" and lab.link("enp1s0npri")["ifalias"] == "primary"


def test_bad_inputs_fail_clearly_and_rename_nothing(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "eth2")
    lab.add_group("enp0s20f0u1u2", "s1", "p1")
    lab.ip("link", "set", "eth1", "down")
    lab.ip("link", "property", "add", "dev", "vp2", "altname", "altvp2")
    absent = unique_name("vnfo-absent")
    base = {"netns": lab.name, "master_kinds": BRIDGE, "masters": ["enp1s0"]}

    def names(**roles):
        return dict(base, names=[dict(master="enp1s0", **roles)])

    cases = [
        (names(standby="x" * 16), "is 16 bytes long; Linux interface names are at most 15 bytes"),
        (names(standby=""), "is empty"),
        (names(standby="."), "'.' and '..' are not allowed"),
        (names(primary=".."), "'.' and '..' are not allowed"),
        (names(standby="a/b"), "contains '/'"),
        (names(standby="a:b"), "contains ':'"),
        (names(standby="a b"), "contains whitespace"),
        (names(standby="a\tb"), "contains whitespace"),
        (names(standby="a\u0001b"), "non-printable"),
        (names(standby="same0", primary="same0"), "duplicate target 'same0'"),
        (names(primary="vp1"), "target 'vp1' for primary of enp1s0 is already used by another interface"),
        (names(standby="altvp2"), "target 'altvp2' for standby of enp1s0 is already an alternative name"),
        (dict(base, masters=["nosuch0"]), "there is no interface 'nosuch0'"),
        (dict(base, masters=["vp1"]), "interface 'vp1' (rtnl kind veth, 0 slaves) is not a failover master"),
        (dict(base, masters=[], names=[{"master": "vp2", "standby": "x"}]),
         "names lists master 'vp2', which is not a failover master here"),
        (dict(base, masters=["enp1s0"], master_kinds=["net_failover"]), "is not a failover master"),
        (dict(base, standby_template="{master}{role}"), "unknown placeholder {role}"),
        (dict(base, standby_template="{master.upper}"), "unknown placeholder {master.upper}"),
        (dict(base, masters=["enp0s20f0u1u2"]), "'enp0s20f0u1u2nsby' from standby_template"),
        (dict(base, netns=absent), "network namespace %r does not exist" % absent),
    ]
    before = lab.names()
    results = ansible_run.many([{"module": MOD, "args": args, "check": False} for args, _expected in cases]
                               + [{"module": MOD, "args": cases[0][0], "check": True}])
    for (args, expected), res in zip(cases + cases[:1], results):
        assert res.get("failed") is True, (args, res)
        assert expected in res["msg"], (expected, res["msg"])
        assert res["changed"] is False
    assert lab.names() == before
    assert not lab.is_up("eth1") and lab.is_up("eth2")
    assert not netns_exists(absent)  # other users of this machine may add namespaces meanwhile


def test_all_problems_are_reported_together(lab, ansible_run):
    lab.add_group("enp1s0", "eth1", "eth2")
    before = lab.names()
    res = ansible_run.slave_name(netns=lab.name, master_kinds=BRIDGE, masters=["enp1s0", "nosuch0"],
                                 names=[{"master": "enp1s0", "standby": "a/b", "primary": "vp1"}])
    assert res["failed"] is True and len(res["problems"]) == 3, res
    assert lab.names() == before
