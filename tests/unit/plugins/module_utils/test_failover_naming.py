# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import (
    Policy,
    PolicyError,
    Rename,
    check_template,
    diff_text,
    ifname_problem,
    order_renames,
    plan_renames,
    render,
)


# ------------------------------------------------------------ interface names

@pytest.mark.parametrize("name", ["enp1s0nsby", "a", "x" * 15, "eth-1_2.3", "vé"])
def test_valid_names(name):
    assert ifname_problem(name) is None


@pytest.mark.parametrize("name,reason", [
    ("", "is empty"),
    (None, "is empty"),
    ("x" * 16, "16 bytes long"),
    ("é" * 8, "16 bytes long"),  # 8 characters, 16 bytes
    (".", "reserved"),
    ("..", "reserved"),
    ("a/b", "contains '/'"),
    ("a:b", "contains ':'"),
    ("a b", "whitespace"),
    ("a\tb", "whitespace"),
    ("a\nb", "whitespace"),
    ("a\x00b", "non-printable"),
    ("a\x7fb", "non-printable"),
    ("a\u200bb", "non-printable"),
])
def test_invalid_names(name, reason):
    problem = ifname_problem(name)
    assert problem is not None and reason in problem


def test_non_string_name():
    assert ifname_problem(5) == "is not a string"


# ------------------------------------------------------------ templates

def test_default_policy_renders_lab_names():
    policy = Policy()
    assert policy.expected("enp1s0", 2, "standby") == ("enp1s0nsby", None)
    assert policy.expected("enp1s0", 2, "primary") == ("enp1s0npri", None)


def test_master_index_placeholder_and_literal_braces():
    check_template("fo{master_index}{{s}}", "standby")
    assert render("fo{master_index}{{s}}", "enp1s0", 7) == "fo7{s}"


@pytest.mark.parametrize("template,msg", [
    ("{name}x", "unknown placeholder {name}"),
    ("{}x", "unknown placeholder {}"),
    ("{0}", "unknown placeholder {0}"),
    ("{master.upper}", "unknown placeholder {master.upper}"),
    ("{master[0]}", "unknown placeholder"),
    ("{master!r}", "unknown placeholder {master!r}"),
    ("{master:>20}", "unknown placeholder {master:>20}"),
    ("{master", "not a valid template"),
    ("master}", "not a valid template"),
])
def test_bad_templates(template, msg):
    with pytest.raises(PolicyError) as exc:
        Policy(standby_template=template)
    assert msg in str(exc.value) and "standby_template" in str(exc.value)


def test_rendered_name_too_long_is_a_per_slave_problem():
    policy = Policy()
    name, problem = policy.expected("enp0s20f0u1u2", 3, "standby")
    assert name is None and "enp0s20f0u1u2nsby" in problem and "17 bytes" in problem


def test_empty_template_leaves_role_unmanaged():
    policy = Policy(primary_template="")
    assert policy.expected("enp1s0", 2, "primary") == (None, None)
    assert policy.as_dict()["primary_template"] == ""


# ------------------------------------------------------------ explicit names

def test_explicit_names_override_templates_per_role():
    policy = Policy(names=[{"master": "enp1s0", "standby": "sby0", "primary": None}])
    assert policy.expected("enp1s0", 2, "standby") == ("sby0", None)
    assert policy.expected("enp1s0", 2, "primary") == ("enp1s0npri", None)
    assert policy.expected("enp7s0", 9, "standby") == ("enp7s0nsby", None)


@pytest.mark.parametrize("names,msg", [
    ([{"master": "enp1s0", "standby": "a"}, {"master": "enp1s0", "primary": "b"}], "twice"),
    ([{"master": "enp1s0"}], "neither"),
    ([{"standby": "x"}], "needs a 'master'"),
])
def test_bad_names_entries(names, msg):
    with pytest.raises(PolicyError, match=msg):
        Policy(names=names)


def test_explicit_invalid_name_reports_its_source():
    policy = Policy(names=[{"master": "enp1s0", "standby": "bad name"}])
    name, problem = policy.expected("enp1s0", 2, "standby")
    assert name is None and "names[enp1s0].standby" in problem and "whitespace" in problem


# ------------------------------------------------------------ plans

LAB = [("enp1s0", 2, {"standby": (3, "eth1"), "primary": (4, "enp2s0")})]
USED = {"lo": (1, False), "enp1s0": (2, False), "eth1": (3, False), "enp2s0": (4, False)}


def test_plan_for_lab():
    plan = plan_renames(LAB, USED, Policy())
    assert [r.as_dict() for r in plan] == [
        {"master": "enp1s0", "role": "standby", "from": "eth1", "to": "enp1s0nsby"},
        {"master": "enp1s0", "role": "primary", "from": "enp2s0", "to": "enp1s0npri"}]


def test_plan_is_empty_when_compliant():
    groups = [("enp1s0", 2, {"standby": (3, "enp1s0nsby"), "primary": (4, "enp1s0npri")})]
    assert plan_renames(groups, {}, Policy()) == []


def test_every_problem_is_reported_at_once():
    groups = [("enp1s0", 2, {"standby": (3, "eth1"), "primary": (4, "eth2")}),
              ("enp5s0", 5, {"standby": (6, "eth3"), "primary": (7, "eth4")})]
    used = dict(USED, taken=(9, False), eth2=(4, False))
    policy = Policy(names=[{"master": "enp1s0", "standby": "same", "primary": "taken"},
                           {"master": "enp5s0", "standby": "same", "primary": "a:b"},
                           {"master": "ghost0", "standby": "x"}])
    with pytest.raises(PolicyError) as exc:
        plan_renames(groups, used, policy)
    text = str(exc.value)
    assert len(exc.value.problems) == 4
    assert "duplicate target 'same'" in text
    assert "'taken'" in text and "another interface (ifindex 9)" in text
    assert "contains ':'" in text
    assert "'ghost0', which is not a failover master" in text


def test_target_used_by_interface_renamed_in_same_run_is_fine():
    used = dict(USED, enp1s0nsby=(4, False))  # the primary currently holds the standby's name
    plan = plan_renames([("enp1s0", 2, {"standby": (3, "eth1"), "primary": (4, "enp1s0nsby")})], used, Policy())
    assert {(r.old, r.new) for r in plan} == {("eth1", "enp1s0nsby"), ("enp1s0nsby", "enp1s0npri")}


def test_target_that_is_an_altname_is_refused():
    used = dict(USED, enp1s0nsby=(3, True))
    with pytest.raises(PolicyError, match="alternative name"):
        plan_renames(LAB, used, Policy(primary_template=""))


def test_names_for_master_without_that_slave():
    with pytest.raises(PolicyError, match="has no primary slave"):
        plan_renames([("enp1s0", 2, {"standby": (3, "eth1")})], USED,
                     Policy(names=[{"master": "enp1s0", "primary": "p"}]))


def test_names_for_masters_left_out_on_purpose_are_not_errors():
    policy = Policy(names=[{"master": "enp9s0", "standby": "x"}])
    assert len(plan_renames(LAB, USED, policy, other_masters=["enp9s0"])) == 2


# ------------------------------------------------------------ ordering

def simulate(steps, names):
    names = dict(names)
    for index, old, new in steps:
        assert names[index] == old
        assert new not in names.values(), "step %s -> %s hits a name in use" % (old, new)
        names[index] = new
    return names


def test_chain_is_done_back_to_front():
    plan = [Rename("m", "standby", 3, "a", "b"), Rename("m", "primary", 4, "b", "c")]
    steps = order_renames(plan, {"a": 3, "b": 4})
    assert steps == [(4, "b", "c"), (3, "a", "b")]
    assert simulate(steps, {3: "a", 4: "b"}) == {3: "b", 4: "c"}


def test_swap_goes_through_a_temporary_name():
    plan = [Rename("m", "standby", 3, "a", "b"), Rename("m", "primary", 4, "b", "a")]
    steps = order_renames(plan, {"a": 3, "b": 4, "vnfotmp1": 9})
    assert len(steps) == 3 and steps[0][2] == "vnfotmp2"
    assert simulate(steps, {3: "a", 4: "b", 9: "vnfotmp1"}) == {3: "b", 4: "a", 9: "vnfotmp1"}


def test_three_cycle_and_independent_rename():
    plan = [Rename("m", "standby", 1, "a", "b"), Rename("m", "primary", 2, "b", "c"),
            Rename("n", "standby", 3, "c", "a"), Rename("n", "primary", 4, "x", "y")]
    steps = order_renames(plan, {"a": 1, "b": 2, "c": 3, "x": 4})
    assert simulate(steps, {1: "a", 2: "b", 3: "c", 4: "x"}) == {1: "b", 2: "c", 3: "a", 4: "y"}
    assert len(steps) == 5


def test_diff_text():
    assert diff_text([("enp1s0", {"standby": "a", "primary": "b"}), ("x", {})]) == \
        "enp1s0 standby: a\nenp1s0 primary: b\n"
    assert diff_text([]) == ""
