# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""failover_drift's ``from_play_vars`` through a real ``ansible-playbook`` run on localhost against a network
namespace with a stand-in failover group (bridge master, veth slaves) and a modprobe.d file in a temporary
directory: the action fills in the options from the failover_* inventory variables (templated), an option the
task gives wins, a bad variable fails before the module runs, and without ``from_play_vars`` the module keeps
its own defaults.  Each option is seen through its effect on the verdict, since registered results do not
carry the module's arguments."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils.modprobe_policy import modprobe_file_content
from ansible_collections.virtnet.failover.plugins.plugin_utils.dkms_identity import read_identity
from ansible_env import ANSIBLE_PLAYBOOK, collections_path, playbook_env
from netns_lab import NetnsLab

NAMES = [{"master": "enp1s0", "standby": "eth1", "primary": "eth2"}]


def task(name, args, **keys):
    return dict({"name": name, "virtnet.failover.failover_drift": args, "register": name, "ignore_errors": True},
                **keys)


TASKS = [
    task("from_vars", {"from_play_vars": True}),
    task("task_wins", {"from_play_vars": True, "names": []}),
    task("bad_var", {"from_play_vars": True}, vars={"failover_slave_rename_ok": "maybe"}),
    task("task_wins_bool", {"from_play_vars": True, "slave_rename_ok": True}),
    task("no_vars", {"checks": ["slave_name"], "netns": "{{ failover_netns }}", "master_kinds": ["bridge"]}),
    task("check_mode", {"from_play_vars": True}, check_mode=True),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("playvars")
    lab = NetnsLab(prefix="vnfopv")
    lab.create()
    try:
        lab.add_group("enp1s0", "eth1", "eth2")
        modprobe = tmp / "virtnet-failover.conf"
        # the file the kmod role writes for slave_rename_ok true and the DKMS identity the play variables default to
        identity = read_identity()
        modprobe.write_text(modprobe_file_content("failover", True, identity["name"], identity["version"]))
        modprobe.chmod(0o644)
        textfile_dir = tmp / "textfile"
        textfile_dir.mkdir()
        out = tmp / "results.json"
        save = {"name": "Save", "ansible.builtin.copy": {
            "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (t["name"], t["name"]) for t in TASKS),
            "dest": str(out), "mode": "0600"}, "check_mode": False}
        play = [{"hosts": "all", "gather_facts": False, "tasks": TASKS + [save]}]
        (tmp / "play.yml").write_text(json.dumps(play))
        inventory = {"all": {"hosts": {"vm1": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "lab_namespace": lab.name, "failover_netns": "{{ lab_namespace }}",  # a template, as inventories use
            "failover_master_kinds": ["bridge"], "failover_drift_checks": ["slave_name", "modprobe_file"],
            "failover_names": NAMES, "failover_slave_rename_ok": "no", "failover_modprobe_file": str(modprobe),
            "failover_drift_textfile_dir": str(textfile_dir)}}}}
        (tmp / "inventory.json").write_text(json.dumps(inventory))
        env = playbook_env(collections_path(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
        env.pop("ANSIBLE_CONFIG", None)
        proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(tmp / "inventory.json"), str(tmp / "play.yml")], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert out.exists(), (proc.stdout + proc.stderr)[-4000:]
        data = json.loads(out.read_text())
        data["lab"], data["modprobe"], data["textfile_dir"] = lab.name, str(modprobe), str(textfile_dir)
        return data
    finally:
        lab.delete()


def kinds(result):
    return sorted((d["kind"], d["subject"]) for d in result["drift"])


def test_the_options_come_from_the_play_variables(results):
    result = results["from_vars"]
    assert not result.get("failed"), result.get("msg")
    # failover_netns (a template) and failover_master_kinds: the namespace's bridge group was read
    assert [g["master"]["name"] for g in result["groups"]] == ["enp1s0"]
    # failover_names: the slaves are named as it says; failover_slave_rename_ok "no" against the file's 1 in
    # failover_modprobe_file; failover_drift_checks: nothing else was checked
    assert kinds(result) == [("modprobe_file", results["modprobe"])]
    # failover_drift_textfile_dir
    assert result["textfile"] == results["textfile_dir"] + "/virtnet_failover.prom"


def test_an_option_the_task_gives_wins(results):
    assert kinds(results["task_wins"]) == [("modprobe_file", results["modprobe"]), ("slave_name", "eth1"),
                                           ("slave_name", "eth2")]  # the default templates, not failover_names
    assert kinds(results["task_wins_bool"]) == []  # slave_rename_ok true, as the file says


def test_a_bad_variable_fails_before_the_module_runs(results):
    result = results["bad_var"]
    assert result["failed"] is True and "drift" not in result
    assert result["msg"] == ("the play variable failover_slave_rename_ok is 'maybe', which is not a boolean "
                             "(true/false, yes/no, on/off, 1/0): set it to for example true in the inventory or "
                             "with -e")


def test_without_from_play_vars_the_module_keeps_its_own_defaults(results):
    result = results["no_vars"]
    assert kinds(result) == [("slave_name", "eth1"), ("slave_name", "eth2")]  # the default templates
    assert result["textfile"] is None  # textfile_dir defaults to none


def test_check_mode_gives_the_same_verdict(results):
    result = results["check_mode"]
    assert not result.get("failed") and result["changed"] is False
    assert kinds(result) == kinds(results["from_vars"])
