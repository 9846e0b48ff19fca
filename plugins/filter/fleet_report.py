# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report filter: per-host drift results -> report dict (JSON)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report
short_description: Build the fleet drift report from per-host failover_drift results
version_added: 1.0.0
author:
  - virtnet.failover contributors (@virtnet)
description:
  - Turns a mapping of inventory host name to the registered result of M(virtnet.failover.failover_drift)
    into one report (a dict that serialises to JSON), with one entry per host and every drift item.
  - The summary, the per-kind grouping and the problem-host lists are computed with JMESPath queries
    (the C(jmespath) Python library is required on the controller).
  - "A host's status is: C(ok) (no drift), C(drift) (at least one item), C(unreachable) (the result is missing
    or says unreachable), C(failed) (the module failed; its C(msg) is kept), or the C(status) key of the result
    when it has one (the rollout playbook uses C(not_reached) and C(preflight_failed))."
  - Render it for people with P(virtnet.failover.fleet_report_markdown#filter).
requirements:
  - jmespath (Python library on the controller)
positional: hosts
options:
  _input:
    description: Mapping of host name to its registered result (or null when the host gave none).
    type: dict
    required: true
  hosts:
    description:
      - Every host the check targeted (for example C(ansible_play_hosts_all)). Hosts missing from the input
        count as unreachable. Default the keys of the input.
    type: list
    elements: str
  policy:
    description: The policy checked (shown in the report as given).
    type: dict
  generated_at:
    description: Timestamp to record (for example C(now(utc=true\).isoformat(\))).
    type: str
  title:
    description: Title of the report.
    type: str
    default: Failover fleet drift report
  facts:
    description:
      - Mapping of host name to a registered M(virtnet.failover.failover_drift) result read for the facts only
        (kernels, DKMS version, module state, failover groups), or a list of such mappings, the first one with
        a value winning. They fill the facts a host's result lacks; the rollout playbook passes each host's last
        read (taken after the host was rolled out, else by its fast path), so every host shows its kernels.
    type: raw
  require_group:
    description: A host without any failover group is not healthy (C(groups_healthy) of its entry).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Build the report on the controller
  ansible.builtin.set_fact:
    failover_report: >-
      {{ failover_results | virtnet.failover.fleet_report(ansible_play_hosts_all,
                                                        policy=failover_policy,
                                                        generated_at=now(utc=true).isoformat()) }}

- name: Hosts whose next boot would load the stock module
  ansible.builtin.debug:
    msg: "{{ failover_report.by_kind.dkms_next_kernel | default([]) }}"
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    format: {description: "Report format id, C(virtnet.failover.fleet_report/1).", type: str}
    title: {description: Title., type: str}
    generated_at: {description: Timestamp given., type: str}
    policy: {description: Policy given., type: dict}
    clean: {description: True when every host is C(ok)., type: bool}
    summary:
      description: "Counts: hosts, ok, drift, unreachable, failed, other (any other status), drift_items, and
        kinds (drift kind -> number of hosts)."
      type: dict
    hosts:
      description:
        - "One entry per host, sorted by name: host, status, message, running_kernel, next_boot_kernel,
          dkms_version, drift (list of items kind, subject, expected, actual, message, remedy)."
        - "Module and group facts (null when not read): module_mechanism (the patched module's C(live_rename):
          C(flag), C(notifier) or C(unsupported)), patched_module_loaded, slave_rename_ok (run-time value),
          groups (number of failover groups), groups_healthy and group_problems (master UP, both slaves,
          names per policy; no group at all is a problem unless O(require_group=false))."
      type: list
      elements: dict
    by_kind: {description: Drift kind -> sorted host names., type: dict}
    problem_hosts: {description: "Hosts that are not C(ok) and not C(drift) -> their status and message.", type: list}
    not_ok:
      description:
        - Sorted names of the hosts whose status is not C(ok) (drift, unreachable, failed, other); empty when
          RV(_value.clean). The drift playbook fails exactly these hosts.
      type: list
      elements: str
    not_done:
      description:
        - Sorted names of the hosts whose status is neither C(ok) nor C(pending_reboot), the rollout's and the
          removal's two outcomes of success. The rollout and remove playbooks fail exactly these hosts at the end.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_entry import (
    FORMAT,
    KIND_ORDER,
    host_entry,
)

try:
    import jmespath
except ImportError:
    HAS_JMESPATH = False
else:
    HAS_JMESPATH = True

Q_STATUS_COUNT = "length(hosts[?status=='%s'])"
Q_ALL_ITEMS = "hosts[].drift[]"
Q_KINDS = "hosts[].drift[].kind"
Q_HOSTS_WITH_KIND = "hosts[?drift[?kind=='%s']].host"
Q_PROBLEMS = "hosts[?status!='ok' && status!='drift'].{host: host, status: status, message: message}"
Q_NOT_OK = "hosts[?status!='ok'].host"
Q_NOT_DONE = "hosts[?status!='ok' && status!='pending_reboot'].host"


def _require_jmespath():
    if not HAS_JMESPATH:
        raise AnsibleFilterError("the virtnet.failover fleet report filters need the Python library 'jmespath' on the "
                                 "controller: pip install jmespath (it is in the collection's requirements-ee.txt)")


def _q(expr, data):
    return jmespath.search(expr, data)


def _lit(value):
    """``value`` made safe inside a JMESPath raw string literal ('...')."""
    return to_text(value).replace("\\", "\\\\").replace("'", "\\'")


def fleet_report(results, hosts=None, policy=None, generated_at=None, title="Failover fleet drift report", facts=None,
                 require_group=True):
    """Build the report dict (see DOCUMENTATION)."""
    _require_jmespath()
    if results is None:
        results = {}
    if not isinstance(results, dict):
        raise AnsibleFilterError("fleet_report expects a mapping of host name -> failover_drift result, got %s"
                                 % type(results).__name__)
    names = list(hosts) if hosts is not None else list(results)
    names = sorted(dict.fromkeys([to_text(h) for h in names] + [to_text(h) for h in results]))
    facts = [] if facts is None else [facts] if isinstance(facts, dict) else facts
    if not isinstance(facts, (list, tuple)) or not all(isinstance(f, dict) for f in facts):
        raise AnsibleFilterError("fleet_report: facts must be a mapping of host name -> failover_drift result, or a "
                                 "list of such mappings; got %s" % type(facts).__name__)
    entries = [host_entry(h, results.get(h), [f.get(h) for f in facts], require_group) for h in names]
    return report_from_entries(entries, policy=policy, generated_at=generated_at, title=title)


def report_from_entries(entries, policy=None, generated_at=None, title="Failover fleet drift report"):
    """The report of the host ``entries`` (fleet_report_entry.host_entry's, sorted by host): the summary, the
    per-kind grouping and the problem-host lists. fleet_report builds a run's report with it, the merge of slice
    reports (plugin_utils/report_files.merged_report) the fleet's, so both are computed the same way."""
    _require_jmespath()
    data = {"hosts": list(entries)}

    kinds_seen = _q(Q_KINDS, data) or []
    order = {k: n for n, k in enumerate(KIND_ORDER)}
    kinds = sorted(set(kinds_seen), key=lambda k: (order.get(k, len(order)), k))
    by_kind = {k: sorted(set(_q(Q_HOSTS_WITH_KIND % _lit(k), data) or [])) for k in kinds}
    counts = {s: _q(Q_STATUS_COUNT % s, data) for s in ("ok", "drift", "unreachable", "failed")}
    summary = {"hosts": len(data["hosts"])}
    summary.update(counts)
    summary["other"] = summary["hosts"] - sum(counts.values())
    summary["drift_items"] = len(_q(Q_ALL_ITEMS, data) or [])
    summary["kinds"] = {k: len(v) for k, v in by_kind.items()}
    return {
        "format": FORMAT,
        "title": to_text(title),
        "generated_at": generated_at,
        "policy": policy or {},
        "clean": summary["ok"] == summary["hosts"],
        "summary": summary,
        "hosts": data["hosts"],
        "by_kind": by_kind,
        "problem_hosts": _q(Q_PROBLEMS, data) or [],
        "not_ok": _q(Q_NOT_OK, data) or [],
        "not_done": _q(Q_NOT_DONE, data) or [],
    }


class FilterModule(object):
    """virtnet.failover fleet report filters."""

    def filters(self):
        return {
            "fleet_report": fleet_report,
        }
