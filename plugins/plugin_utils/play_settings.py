# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every failover_* setting of the virtnet.failover playbooks, and the check that refuses a bad one.

The policy variables (plugins/plugin_utils/play_variables.py) are read by their own strict readers; every other
setting of the rollout, drift and remove playbooks has an entry in SETTINGS_SPEC, checked with ansible-core's
ArgumentSpecValidator (strict booleans, choices, integers). A setting that is not valid is an error that names
the variable, its value, the hosts that have it and what to set it to; nothing coerces it to a default. A
failover_* variable that no playbook reads is refused too: a misspelt name would otherwise be ignored.
"""

from __future__ import annotations

import difflib
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_slices import KINDS, slice_problem
from ansible_collections.virtnet.failover.plugins.plugin_utils.play_variables import BY_NAME, PlayVariableError

# name: its argument spec entry (the settings of the rollout, drift and remove playbooks, next to the policy)
SETTINGS = {
    "failover_hosts": {"type": "raw"},
    "failover_become": {"type": "bool"},
    "failover_report_dir": {"type": "str"},
    "failover_rollout_serial": {"type": "raw"},
    "failover_rollout_max_fail_percentage": {"type": "int"},
    "failover_rollout_preflight_policy": {"type": "str", "choices": ["abort", "skip"]},
    "failover_rollout_force": {"type": "bool"},
    "failover_rollout_report_name": {"type": "str"},
    "failover_rollout_report_title": {"type": "str"},
    "failover_reboot": {"type": "str", "choices": ["never", "if_needed"]},
    "failover_kernels": {"type": "str", "choices": ["all", "running"]},
    "failover_manage_packages": {"type": "bool"},
    "failover_slave_names_enforce": {"type": "bool"},
    "failover_down_rename_up": {"type": "bool"},
    "failover_drift_fail": {"type": "bool"},
    "failover_drift_junit": {"type": "bool"},
    "failover_drift_fleet_textfile_dir": {"type": "str"},
    "failover_drift_report_name": {"type": "str"},
    "failover_drift_report_title": {"type": "str"},
    # one slice of a sliced run (AWX job slicing): its id goes into every report file name; awx: job-<awx_job_id>
    "failover_report_slice": {"type": "raw"},
    # playbooks/merge_reports.yml: which reports to merge, and how many slices the run has
    "failover_merge_report": {"type": "str", "choices": list(KINDS)},
    "failover_merge_slices": {"type": "int"},
    "failover_merge_remove_slices": {"type": "bool"},
}

# Variables named failover_* that the collection's own plays set (register, set_fact): not settings.
OWN_FACTS = frozenset({"failover_drift_result", "failover_rollout_host", "failover_rollout_hosts"})

_SERIAL_ITEM = re.compile(r"^\s*(\d+(\.\d+)?%|\d+)\s*$")


class SettingsError(Exception):
    pass


def known_names():
    return sorted(set(SETTINGS) | set(BY_NAME))


def _serial_problem(value):
    items = value if isinstance(value, list) else [value]
    if not items:
        return "an empty list"
    for item in items:
        if isinstance(item, bool) or not (isinstance(item, int) and item > 0 or
                                          isinstance(item, str) and _SERIAL_ITEM.match(item) and item.strip() != "0"):
            return "%r is not a batch size" % (item,)
    return ""


def setting_problems(values, awx_job_id=None):
    """Problems of one host's settings ``values`` (name -> value, only the variables the host has), as
    (name, message) pairs, sorted by name. An empty list: every setting is valid. ``awx_job_id``: AWX's job id
    of the run (None outside AWX), which failover_report_slice=awx needs."""
    problems = []
    spec, params = {}, {}
    for name, value in values.items():
        if name in OWN_FACTS:
            continue
        if value is None:
            continue  # a null value counts as not set: the default applies
        if name in BY_NAME:
            try:
                BY_NAME[name].value(value)
            except PlayVariableError as exc:
                problems.append((name, str(exc)))
            continue
        if name not in SETTINGS:
            close = difflib.get_close_matches(name, known_names(), n=1, cutoff=0.8)
            problems.append((name, "%s is not a setting of the virtnet.failover playbooks%s" % (
                name, "; did you mean %s?" % close[0] if close else " (docs/user-guide.md lists them)")))
            continue
        spec[name], params[name] = dict(SETTINGS[name]), value
    result = ArgumentSpecValidator(spec).validate(params)
    for err in result.errors:
        name = next((n for n in params if re.search(r"\b%s\b" % re.escape(n), str(err))), None)
        if name is None:
            raise SettingsError("unexpected validation error: %s" % err)
        problems.append((name, "%s is %r: %s" % (name, params[name], _plain(str(err), name))))
    validated = result.validated_parameters
    for name in params:
        if name == "failover_hosts" and not _hosts_ok(params[name]):
            problems.append((name, "%s is %r: give a host pattern (a group, a host, or a pattern such as "
                                   "'web:&dc1')" % (name, params[name])))
        elif name == "failover_rollout_serial" and _serial_problem(params[name]):
            problems.append((name, "%s is %r: %s; give a number, a percentage such as '25%%', or a list of "
                                   "them" % (name, params[name], _serial_problem(params[name]))))
        elif name == "failover_rollout_max_fail_percentage" and isinstance(validated.get(name), int) and \
                not 0 <= validated[name] <= 100 and not any(p[0] == name for p in problems):
            problems.append((name, "%s is %r: give a percentage from 0 to 100" % (name, params[name])))
        elif name == "failover_report_slice" and slice_problem(params[name], awx_job_id):
            problems.append((name, "%s is %r: %s" % (name, params[name], slice_problem(params[name], awx_job_id))))
        elif name == "failover_merge_slices" and isinstance(validated.get(name), int) and validated[name] < 1 and \
                not any(p[0] == name for p in problems):
            problems.append((name, "%s is %r: give the number of slices of the sliced run, 1 or more (the job "
                                   "template's job slice count)" % (name, params[name])))
    return sorted(problems)


def _hosts_ok(value):
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def _plain(err, name):
    """ansible-core's message for one setting, said as what to set instead."""
    kind = SETTINGS[name]
    if kind["type"] == "bool":
        return "not a boolean: set it to true or false (yes/no, on/off and 1/0 are read too)"
    if "choices" in kind:
        return "not one of the choices: set it to %s" % " or ".join(kind["choices"])
    if kind["type"] == "int":
        return "not a whole number: set it to one, for example 0"
    return err.replace("argument '%s' is of type" % name, "of type")


def check_hosts(per_host_values, awx_job_id=None):
    """Check every host's settings (host -> {name: value}); raises SettingsError with one line per distinct
    problem and the hosts that have it. ``awx_job_id``: as for setting_problems."""
    by_problem = {}
    for host, values in per_host_values.items():
        for _name, msg in setting_problems(values, awx_job_id):
            by_problem.setdefault(msg, []).append(host)
    if by_problem:
        lines = []
        for msg, hosts in sorted(by_problem.items()):
            shown = ", ".join(hosts[:5]) + (" and %d more" % (len(hosts) - 5) if len(hosts) > 5 else "")
            lines.append("%s (host%s %s)" % (msg, "s" if len(hosts) > 1 else "", shown))
        raise SettingsError("refused before any host is touched: " + "; ".join(lines))
