# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift check results in the Prometheus text exposition format (0.0.4), as
node_exporter's textfile collector reads them.

``host_metrics`` renders one host (a fleet report host entry: the file lives
on that host, node_exporter adds the instance label, so no host label here);
``fleet_metrics`` renders the fleet summary written on the controller. Every
metric is a gauge with base units (``_seconds``) and snake_case names under
the ``virtnet_failover_`` prefix; every drift kind and status is always
present (0 when none), so alerts can compare with 0 instead of testing for
absence.
"""

from __future__ import annotations

import re

PREFIX = "virtnet_failover_"
STATUSES = ("ok", "drift", "unreachable", "failed", "other")
CHECKED = ("ok", "drift")


_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE_RE = re.compile(r"^%s(?:\{(?:%s(?:,%s)*,?)?\})?[ \t]+(\S+)(?:[ \t]+-?[0-9]+)?[ \t]*$" % (_NAME, _LABEL, _LABEL))
_HELP_RE = re.compile(r"^#[ \t]+HELP[ \t]+%s(?:[ \t].*)?$" % _NAME)
_TYPE_RE = re.compile(r"^#[ \t]+TYPE[ \t]+%s[ \t]+(counter|gauge|histogram|summary|untyped)[ \t]*$" % _NAME)


def exposition_problems(text, most=5):
    """Lines of ``text`` that the text exposition format (0.0.4) does not
    allow, as 'line N: why' (at most ``most``); empty when node_exporter can
    read it all.  A HELP or TYPE comment must be well formed, any other
    comment is free; a sample is a metric name, optional labels, a float
    value (NaN, +Inf, -Inf included) and an optional integer timestamp."""
    problems = []
    for number, line in enumerate(text.split("\n"), 1):
        why = None
        if not line.strip():
            continue
        if line.startswith("#"):
            words = line[1:].split()
            if words[:1] == ["HELP"] and not _HELP_RE.match(line):
                why = "malformed HELP comment"
            elif words[:1] == ["TYPE"] and not _TYPE_RE.match(line):
                why = "malformed TYPE comment (# TYPE name counter|gauge|histogram|summary|untyped)"
        else:
            m = _SAMPLE_RE.match(line)
            if not m:
                why = "not a sample (metric_name{label=\"value\",...} value [timestamp])"
            else:
                try:
                    float(m.group(1))
                except ValueError:
                    why = "value %r is not a number" % m.group(1)
        if why:
            problems.append("line %d: %s: %r" % (number, why, line[:80]))
            if len(problems) >= most:
                break
    return problems


def escape_label(value):
    """A label value escaped per the text format: backslash, double quote, line feed."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(int(value))


class _Doc:
    def __init__(self):
        self.lines = []

    def family(self, name, help_text, samples):
        """``samples``: list of (labels dict or None, value); families without samples are left out."""
        samples = [s for s in samples if s[1] is not None]
        if not samples:
            return
        full = PREFIX + name
        self.lines.append("# HELP %s %s" % (full, help_text.replace("\\", "\\\\").replace("\n", " ")))
        self.lines.append("# TYPE %s gauge" % full)
        for labels, value in samples:
            lab = ""
            if labels:
                lab = "{%s}" % ",".join('%s="%s"' % (k, escape_label(v)) for k, v in labels.items())
            self.lines.append("%s%s %s" % (full, lab, _value(value)))

    def text(self):
        return "\n".join(self.lines) + "\n"


def _kinds_of(entries, kinds):
    seen = [i.get("kind") for e in entries for i in (e.get("drift") or [])]
    return list(kinds) + sorted({k for k in seen if k and k not in kinds})


def host_metrics(entry, checked_at, kinds=()):
    """The textfile of one host. ``entry`` is a fleet report host entry,
    ``checked_at`` the time of the check (Unix seconds), ``kinds`` every
    drift kind (each gets a sample, 0 when the host has none of it)."""
    doc = _Doc()
    checked = entry.get("status") in CHECKED
    doc.family("check_success", "1 when the virtnet.failover drift check read this host, 0 when it failed.",
               [(None, checked)])
    if checked:
        items = entry.get("drift") or []
        doc.family("drift_items", "Drift items of this host against the virtnet.failover policy, by drift kind.",
                   [({"kind": k}, sum(1 for i in items if i.get("kind") == k)) for k in _kinds_of([entry], kinds)])
        doc.family("patched_module_loaded", "1 when the loaded failover module is the patched one.",
                   [(None, entry.get("patched_module_loaded"))])
        doc.family("slave_rename_ok", "Run-time value of the failover module parameter slave_rename_ok.",
                   [(None, entry.get("slave_rename_ok"))])
        doc.family("groups", "Failover groups (net_failover masters) on this host.", [(None, entry.get("groups"))])
        doc.family("groups_healthy", "1 when every failover group has its master UP, both slaves and names per "
                   "policy (and there is at least one group).", [(None, entry.get("groups_healthy"))])
    info = {k: entry.get(k) or "" for k in ("running_kernel", "next_boot_kernel", "dkms_version")}
    info["mechanism"] = entry.get("module_mechanism") or ""
    doc.family("info", "Kernels, DKMS version and rename mechanism of the failover module (value always 1).",
               [(info, 1)])
    doc.family("last_check_timestamp_seconds", "When the drift check ran, in Unix seconds.",
               [(None, float(checked_at))])
    return doc.text()


def fleet_metrics(report, checked_at, kinds=()):
    """The fleet summary textfile written on the controller. The report of a slice of a sliced run (it has
    ``slice``) gives every sample the label ``slice``: the files of several slices, and the merged fleet's file
    (no such label), can lie in one textfile directory without two of them exporting the same series."""
    doc = _Doc()
    summary = report.get("summary") or {}
    hosts = report.get("hosts") or []
    meta = report.get("slice")
    const = {"slice": str(meta["id"])} if isinstance(meta, dict) and meta.get("id") else {}

    def lab(labels=None):
        return dict(const, **(labels or {})) or None

    doc.family("fleet_hosts", "Hosts of the last drift check, by status.",
               [(lab({"status": s}), summary.get(s, 0)) for s in STATUSES])
    by_kind = report.get("by_kind") or {}
    doc.family("fleet_drift_hosts", "Hosts with at least one drift item of this kind.",
               [(lab({"kind": k}), len(by_kind.get(k) or [])) for k in _kinds_of(hosts, kinds)])
    doc.family("fleet_drift_items", "Drift items over the whole fleet.", [(lab(), summary.get("drift_items", 0))])
    doc.family("fleet_clean", "1 when every host is ok.", [(lab(), bool(report.get("clean")))])
    doc.family("fleet_host_drift_items", "Drift items per host (hosts that could not be checked are left out).",
               [(lab({"host": h["host"]}), len(h.get("drift") or [])) for h in hosts if h.get("status") in CHECKED])
    doc.family("fleet_host_checked", "1 when the drift check read the host, 0 when it was unreachable or failed.",
               [(lab({"host": h["host"]}), h.get("status") in CHECKED) for h in hosts])
    doc.family("fleet_last_check_timestamp_seconds", "When the fleet drift check ran, in Unix seconds.",
               [(lab(), float(checked_at))])
    return doc.text()
