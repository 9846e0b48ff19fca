# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover_* settings check (plugin_utils.play_settings): every typo that used to fail open is refused with
the variable, its value and what to set; valid values pass; the table covers every setting the playbooks read."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.virtnet.failover.plugins.plugin_utils.play_settings import (
    OWN_FACTS,
    SETTINGS,
    SettingsError,
    check_hosts,
    known_names,
    setting_problems,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


@pytest.mark.parametrize("name, value, says", [
    # each of these used to fail open: a default, a skipped step or a silent rc 0
    ("failover_drift_fail", "ture", "failover_drift_fail is 'ture': not a boolean: set it to true or false"),
    ("failover_drift_junit", "maybe", "failover_drift_junit is 'maybe': not a boolean"),
    ("failover_rollout_preflight_policy", "abrot", "set it to abort or skip"),
    ("failover_reboot", "sometimes", "set it to never or if_needed"),
    ("failover_kernels", "newest", "set it to all or running"),
    ("failover_rollout_force", "yess", "not a boolean"),
    ("failover_become", "sudo", "not a boolean"),
    ("failover_manage_packages", "2", "not a boolean"),
    ("failover_rollout_max_fail_percentage", "ten", "not a whole number"),
    ("failover_rollout_max_fail_percentage", 150, "a percentage from 0 to 100"),
    ("failover_rollout_serial", 0, "0 is not a batch size"),
    ("failover_rollout_serial", ["1", "lots"], "'lots' is not a batch size"),
    ("failover_rollout_serial", [], "an empty list"),
    ("failover_hosts", "", "give a host pattern"),
    ("failover_slave_rename_ok", "maybe", "failover_slave_rename_ok is 'maybe', which is not a boolean"),
    ("failover_names", "enp1s0", "not a list"),
    ("failover_drift_fial", True, "not a setting of the virtnet.failover playbooks; did you mean failover_drift_fail?"),
    ("failover_zzz_unknown", 1, "docs/user-guide.md lists them"),
    # a slice id becomes part of file names: only a safe file-name component, and awx only under AWX
    ("failover_report_slice", "../2", "failover_report_slice is '../2': not a slice id: give 1 to 64 letters, digits"),
    ("failover_report_slice", "2.json", "not a slice id"),
    ("failover_report_slice", True, "failover_report_slice is True: not a slice id"),
    ("failover_report_slice", "awx", "failover_report_slice is 'awx': awx takes the slice id from AWX's awx_job_id, "
                                     "and this run has none"),
    ("failover_merge_report", "deploy", "set it to drift or rollout or removal"),
    ("failover_merge_slices", "three", "failover_merge_slices is 'three': not a whole number"),
    ("failover_merge_slices", 0, "failover_merge_slices is 0: give the number of slices of the sliced run, 1 or more"),
])
def test_a_bad_setting_is_refused_with_what_to_set(name, value, says):
    problems = setting_problems({name: value})
    assert [p[0] for p in problems] == [name]
    assert says in problems[0][1], problems


@pytest.mark.parametrize("values", [
    {"failover_drift_fail": "yes", "failover_drift_junit": False, "failover_become": "1"},
    {"failover_rollout_preflight_policy": "skip", "failover_reboot": "if_needed", "failover_kernels": "running"},
    {"failover_rollout_serial": [1, "25%", "100%"], "failover_rollout_max_fail_percentage": "20"},
    {"failover_rollout_serial": "10%", "failover_hosts": "web:&dc1"},
    {"failover_hosts": ["a", "b"], "failover_report_dir": "/srv/reports"},
    {"failover_slave_rename_ok": "no", "failover_names": [], "failover_standby_template": "{master}sb"},
    {"failover_drift_fail": None},  # null: not set, the default applies
    {name: {"not": "checked"} for name in OWN_FACTS},  # the playbooks' own facts are not settings
    {"failover_report_slice": "2", "failover_merge_report": "rollout", "failover_merge_slices": "3"},
    {"failover_report_slice": 7},  # "{{ awx_job_id }}" templates to a number
    {"failover_report_slice": ""},
])
def test_valid_settings_pass(values):
    assert setting_problems(values) == []


def test_problems_are_grouped_by_message_with_the_hosts_that_have_them():
    per_host = {"h%d" % i: {"failover_drift_fail": "ture"} for i in range(7)}
    per_host["h9"] = {"failover_reboot": "sometimes"}
    per_host["ok"] = {"failover_reboot": "never"}
    with pytest.raises(SettingsError) as err:
        check_hosts(per_host)
    msg = str(err.value)
    assert msg.startswith("refused before any host is touched: ")
    assert "(hosts h0, h1, h2, h3, h4 and 2 more)" in msg
    assert "set it to never or if_needed (host h9)" in msg
    assert "ok" not in msg.replace("not one", "").replace("look", "")


def test_clean_hosts_pass():
    check_hosts({"a": {"failover_drift_fail": True}, "b": {}})


def test_a_slice_id_from_awx_needs_awx_job_id():
    assert setting_problems({"failover_report_slice": "awx"}, awx_job_id=1234) == []
    check_hosts({"a": {"failover_report_slice": "awx"}}, awx_job_id="1234")
    with pytest.raises(SettingsError, match=r"failover_report_slice is 'awx': awx takes the slice id from AWX's "
                                            r"awx_job_id, and this run has none .* \(host a\)"):
        check_hosts({"a": {"failover_report_slice": "awx"}})


def test_the_user_guide_documents_every_setting():
    """docs/user-guide.md's table of variables has a row for every setting the check knows (the policy variables
    and SETTINGS): a setting the check accepts is one a user can look up."""
    with open(os.path.join(ROOT, "docs", "user-guide.md"), encoding="utf-8") as fh:
        rows = [line.split("|")[1] for line in fh if line.startswith("| `failover_")]
    documented = {name for row in rows for name in re.findall(r"`(failover_[a-z0-9_]+)`", row)}
    assert set(known_names()) - documented == set(), "settings without a row in docs/user-guide.md"


def test_the_table_names_every_failover_setting_the_playbooks_read():
    """Each failover_* variable read in playbooks/ (as `failover_x | default` or by the play_variable lookup) is in
    the table, so none escapes the check; and each name of the table is read somewhere (no dead entry)."""
    read = set()
    for top, _dirs, files in os.walk(os.path.join(ROOT, "playbooks")):
        for f in files:
            text = open(os.path.join(top, f), encoding="utf-8").read()
            read |= set(re.findall(r"\b(failover_[a-z0-9_]+) \| default", text))
            read |= set(re.findall(r"play_variable', '(failover_[a-z0-9_]+)'", text))
    assert read, "the scan found nothing: the playbooks' syntax changed"
    assert read - set(known_names()) - OWN_FACTS == set()
    assert set(SETTINGS) - read == set(), "settings no playbook reads"
