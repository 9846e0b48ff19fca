# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover_* play variables of the drift policy (plugin_utils.play_variables): which option each sets,
its default, how its value is read, and that the module docs and the playbooks' vars file agree with the table."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible_collections.virtnet.failover.plugins.modules import failover_drift
from ansible_collections.virtnet.failover.plugins.plugin_utils.dkms_identity import read_identity
from ansible_collections.virtnet.failover.plugins.plugin_utils.play_variables import (
    BY_NAME,
    OMIT,
    VARIABLES,
    PlayVariableError,
    named_value,
    play_options,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
DEFAULTS_FILE = os.path.join(ROOT, "playbooks", "vars", "failover_defaults.yml")


def same(value):
    return value


def test_defaults_when_no_variable_is_set():
    identity = read_identity()
    assert play_options({}, {}, same) == {
        "dkms_name": identity["name"], "dkms_version": identity["version"], "slave_rename_ok": True,
        "modprobe_file": "/etc/modprobe.d/virtnet-failover.conf", "standby_template": "{master}nsby",
        "primary_template": "{master}npri", "names": [], "require_group": True, "check_initramfs": True,
        "textfile_dir": "",
    }  # checks, netns and master_kinds have no default: the module's own applies


def test_every_variable_sets_its_option():
    variables = {"failover_dkms_name": "other", "failover_dkms_version": "2.0", "failover_slave_rename_ok": False,
                 "failover_modprobe_file": "/etc/modprobe.d/x.conf", "failover_standby_template": "{master}s",
                 "failover_primary_template": "{master}p",
                 "failover_names": [{"master": "enp1s0", "standby": "sb0"}], "failover_health_require_group": False,
                 "failover_drift_check_initramfs": False, "failover_drift_textfile_dir": "/var/lib/ne",
                 "failover_drift_checks": ["slave_name"], "failover_netns": "ns1", "failover_master_kinds": ["bridge"]}
    assert set(variables) == set(BY_NAME)
    options = play_options({}, variables, same)
    assert options == {BY_NAME[name].option: value for name, value in variables.items()}


def test_an_option_the_task_gives_wins_over_its_variable():
    options = play_options({"standby_template": "{master}task", "netns": "taskns"},
                           {"failover_standby_template": "{master}var", "failover_netns": "varns"}, same)
    assert options["standby_template"] == "{master}task" and options["netns"] == "taskns"


def test_values_are_templated_by_the_callers_function():
    seen = []

    def template(value):
        seen.append(value)
        return value.replace("{{ ns }}", "ns7") if isinstance(value, str) else value

    options = play_options({}, {"failover_netns": "{{ ns }}", "failover_slave_rename_ok": "yes"}, template)
    assert options["netns"] == "ns7" and options["slave_rename_ok"] is True
    assert sorted(seen, key=str) == ["yes", "{{ ns }}"]  # only the variables that are set are templated


def test_a_null_variable_takes_the_default():
    options = play_options({}, {"failover_slave_rename_ok": None, "failover_netns": None}, same)
    assert options["slave_rename_ok"] is True and "netns" not in options


@pytest.mark.parametrize("spelling,value", [
    (True, True), (False, False), ("yes", True), ("no", False), ("on", True), ("off", False), ("1", True),
    ("0", False), (1, True), (0, False), ("true", True), ("False", False), ("y", True), ("n", False),
])
def test_booleans_read_as_ansible_reads_them(spelling, value):
    for name in ("failover_slave_rename_ok", "failover_health_require_group", "failover_drift_check_initramfs"):
        assert play_options({}, {name: spelling}, same)[BY_NAME[name].option] is value


@pytest.mark.parametrize("name,value,wanted", [
    ("failover_slave_rename_ok", "maybe", "not a boolean (true/false, yes/no, on/off, 1/0): set it to for example true"),
    ("failover_slave_rename_ok", 2, "not a boolean"),
    ("failover_names", "enp1s0", "not a list of {master, standby, primary} mappings: set it to for example []"),
    ("failover_master_kinds", ["bridge", 3], "not a list of strings: set it to a valid value"),
    ("failover_drift_checks", "slave_name", "not a list of strings"),
    ("failover_standby_template", {"a": 1}, "not a string: set it to for example \"{master}nsby\""),
    ("failover_dkms_version", True, "not a string"),
])
def test_a_value_of_the_wrong_type_is_refused_with_the_variable_and_what_to_set(name, value, wanted):
    with pytest.raises(PlayVariableError) as err:
        play_options({}, {name: value}, same)
    assert str(err.value).startswith("the play variable %s is %r, which is " % (name, value))
    assert wanted in str(err.value) and "in the inventory or with -e" in str(err.value)


def test_named_value_reads_one_variable():
    assert named_value("failover_slave_rename_ok", {"failover_slave_rename_ok": "off"}, same) is False
    assert named_value("failover_names", {}, same) == []
    assert named_value("failover_dkms_version", {}, same) == read_identity()["version"]


def test_named_value_refuses_unknown_names_and_unset_variables_without_default():
    with pytest.raises(PlayVariableError, match=r"'failover_rename' is not a policy variable .* they are: "
                                                r"failover_dkms_name, failover_dkms_version"):
        named_value("failover_rename", {}, same)
    with pytest.raises(PlayVariableError, match=r"failover_netns is not set and has no default: read it as "
                                                r"failover_netns \| default\(omit\)"):
        named_value("failover_netns", {}, same)
    assert named_value("failover_netns", {"failover_netns": "ns1"}, same) == "ns1"


def test_every_option_of_the_table_is_a_failover_drift_option_of_the_same_default():
    spec = failover_drift.argument_spec()
    for variable in VARIABLES:
        assert variable.option in spec, variable.option
        module_default = spec[variable.option].get("default")
        table_default = variable.default_value()
        if table_default is not OMIT and module_default is not None:
            assert table_default == module_default, variable.option


def test_the_module_docs_list_every_variable_of_the_table():
    doc = yaml.safe_load(failover_drift.DOCUMENTATION)["options"]["from_play_vars"]["description"]
    text = " ".join(doc)
    documented = set(re.findall(r"C\((failover_[a-z_]+)\)", text))
    assert documented == set(BY_NAME)
    for variable in VARIABLES:
        assert "C(%s) (O(%s)" % (variable.name, variable.option) in text or \
            "O(%s)" % variable.option in text.split("C(%s)" % variable.name, 1)[1][:80], variable.name


def test_the_playbooks_read_the_policy_variables_through_the_table_only():
    """playbooks/vars/failover_defaults.yml writes no default of a variable in the table: it reads them all
    with the virtnet.failover.play_variable lookup."""
    with open(DEFAULTS_FILE) as fh:
        defaults = yaml.safe_load(fh)
    lookups = {}
    for key, value in defaults.items():
        found = re.fullmatch(r"\{\{ lookup\('virtnet\.failover\.play_variable', '(failover_[a-z_]+)'\) \}\}",
                             str(value).strip())
        if found:
            lookups[key] = found.group(1)
        for name in BY_NAME:
            assert not re.search(r"\b%s\b\s*(\||if)" % name, str(value)), (key, name)
    assert lookups == {"__failover_slave_rename_ok": "failover_slave_rename_ok",
                       "__failover_standby_template": "failover_standby_template",
                       "__failover_primary_template": "failover_primary_template",
                       "__failover_names": "failover_names", "__failover_modprobe_file": "failover_modprobe_file",
                       "__failover_dkms_name": "failover_dkms_name", "__failover_dkms_version": "failover_dkms_version",
                       "__failover_health_require_group": "failover_health_require_group"}
