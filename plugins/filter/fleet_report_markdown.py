# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report filter: report dict -> Markdown for people."""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report_markdown
short_description: Render a fleet drift report as Markdown for people
version_added: 1.0.0
author:
  - virtnet.failover contributors (@virtnet)
description:
  - Renders the output of P(virtnet.failover.fleet_report#filter) as Markdown.
  - "A report that states its scope (the key C(scope): rollout and removal reports, the reports of a slice of a sliced
    run and the fleet report merged from them) shows it in a C(Scope:) line below the policy."
  - "Sections: a one-line verdict, a summary table (hosts, ok, drift, unreachable, failed, other, drift items)
    with the number of hosts per drift kind, a table of every host (status, running and next-boot kernel,
    DKMS version, the module's rename mechanism, drift kinds or message), one table per drift kind listing the hosts with that drift (subject, expected,
    actual, remedy), and the hosts that could not be checked with the reason."
  - Table cells escape C(|) and line breaks. The per-kind tables are selected with JMESPath queries.
requirements:
  - jmespath (Python library on the controller)
options:
  _input:
    description: The report built by P(virtnet.failover.fleet_report#filter).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the Markdown report
  ansible.builtin.copy:
    content: "{{ failover_report | virtnet.failover.fleet_report_markdown }}"
    dest: failover-report/report.md
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The Markdown document (ends with a newline).
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import FORMAT, _lit, _q, _require_jmespath


def _cell(value):
    text = "" if value is None else to_text(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>") or "-"


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _col in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return out


def _policy_line(policy):
    if not policy:
        return None
    parts = []
    for key in sorted(policy):
        value = policy[key]
        if isinstance(value, (list, dict)) and not value:
            continue
        parts.append("%s=`%s`" % (key, to_text(value).replace("`", "'")))
    return "Policy: " + ", ".join(parts) if parts else None


def fleet_report_markdown(report):
    """Markdown for people: summary table, hosts table, hosts grouped by drift kind, problem hosts."""
    _require_jmespath()
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        raise AnsibleFilterError("fleet_report_markdown expects the output of virtnet.failover.fleet_report")
    s = report["summary"]
    lines = ["# %s" % (report.get("title") or "Failover fleet report"), ""]
    if report.get("generated_at"):
        lines += ["Generated: %s" % report["generated_at"], ""]
    pol = _policy_line(report.get("policy"))
    if pol:
        lines += [pol, ""]
    if report.get("scope"):
        lines += ["Scope: %s" % report["scope"], ""]
    if report["clean"]:
        verdict = "**No drift**: every host follows the policy."
    else:
        verdict = ("**Not clean**: %d of %d hosts are not ok (%d drift with %d items, %d unreachable, %d failed, %d other)."
                   % (s["hosts"] - s["ok"], s["hosts"], s["drift"], s["drift_items"], s["unreachable"], s["failed"],
                      s["other"]))
    lines += [verdict, "", "## Summary", ""]
    lines += _table(["Hosts", "OK", "Drift", "Unreachable", "Failed", "Other", "Drift items"],
                    [[s["hosts"], s["ok"], s["drift"], s["unreachable"], s["failed"], s["other"], s["drift_items"]]])
    if s["kinds"]:
        lines += [""]
        lines += _table(["Drift kind", "Hosts"], [[k, n] for k, n in s["kinds"].items()])
    lines += ["", "## Hosts", ""]
    rows = []
    for h in report["hosts"]:
        kinds = sorted(set(_q("drift[].kind", h) or []))
        rows.append([h["host"], h["status"], h.get("running_kernel"), h.get("next_boot_kernel"), h.get("dkms_version"),
                     h.get("module_mechanism"), ", ".join(kinds) if kinds else h.get("message")])
    lines += _table(["Host", "Status", "Running kernel", "Next-boot kernel", "DKMS version", "Mechanism",
                     "Drift / message"], rows)
    if report["by_kind"]:
        lines += ["", "## Hosts by drift kind"]
        for kind, hosts in report["by_kind"].items():
            lines += ["", "### %s (%d host%s)" % (kind, len(hosts), "" if len(hosts) == 1 else "s"), ""]
            items = _q("hosts[].drift[?kind=='%s'][]" % _lit(kind), {"hosts": [
                {"drift": [dict(i, host=h["host"]) for i in h["drift"]]} for h in report["hosts"]]}) or []
            lines += _table(["Host", "Subject", "Expected", "Actual", "Remedy"],
                            [[i["host"], i["subject"], i["expected"], i["actual"], i["remedy"]] for i in items])
    if report["problem_hosts"]:
        lines += ["", "## Hosts not checked or not done", ""]
        lines += _table(["Host", "Status", "Why"],
                        [[p["host"], p["status"], p["message"]] for p in report["problem_hosts"]])
    return "\n".join(lines) + "\n"


class FilterModule(object):
    """virtnet.failover fleet report Markdown filter."""

    def filters(self):
        return {"fleet_report_markdown": fleet_report_markdown}
