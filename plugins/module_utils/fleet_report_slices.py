# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports of sliced runs (AWX / Automation Platform job slicing): the slice id, the file names it gives, the
scope a report states, and the merge of the slice reports of one run into one fleet report.

A sliced job runs the playbook N times, each run on its own part of the inventory, possibly at the same time
and on different execution nodes. Each run writes its reports under its own names
(``fleet-report.slice-<id>.json``, ...) so that no run overwrites another's; ``merge_slices`` checks that the
slice reports belong together and puts their hosts into one list, from which the fleet report is built again
by the same code as for a single run (plugins/filter/fleet_report.py).

The one definition of: which slice ids are accepted (``slice_problem``), what ``failover_report_slice: awx``
resolves to (``resolve_slice``), the file names of a slice (``sliced_name``, ``SUFFIX``), the scope sentence of
a report (``scope``) and when slice reports are refused for a merge (``merge_slices``). Pure: no file access,
no Ansible plugin.
"""

from __future__ import annotations

import re

from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_entry import FORMAT

# failover_report_slice: awx -> the slice id is job-<awx_job_id>: AWX gives every slice of a sliced job its own
# job id, and the same awx_workflow_job_id (the workflow job AWX makes of a sliced job), recorded as the run.
AWX = "awx"
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
SLICE_ID = re.compile(r"\A%s\Z" % ID_PATTERN)
SUFFIX = ".slice-"
KINDS = ("drift", "rollout", "removal")
MERGE_PLAYBOOK = "virtnet.failover.merge_reports"
BUDGET = "the batches (failover_rollout_serial) and the failure budget (failover_rollout_max_fail_percentage)"


class SliceError(ValueError):
    """A slice id, or a set of slice reports, that cannot be used; the message says what to do."""


def _id_text(value):
    """``value`` as a slice id string, or None when it is of a type no slice id has."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    return value if isinstance(value, str) else None


def slice_problem(value, awx_job_id=None):
    """Why ``value`` (the play variable failover_report_slice) cannot be used, as what to set instead; '' when it
    can. ``awx_job_id``: AWX's job id of this run (None outside AWX), needed by the value ``awx``."""
    if value is None or value == "":
        return ""
    text = _id_text(value)
    if text == AWX:
        if _id_text(awx_job_id) is None or not _id_text(awx_job_id).isdigit():
            return ("awx takes the slice id from AWX's awx_job_id, and this run has none (it does not run under "
                    "AWX/Automation Platform): give the slice id itself, for example 2")
        return ""
    if text is None or not SLICE_ID.match(text):
        return ("not a slice id: give 1 to 64 letters, digits, '-' or '_', starting with a letter or digit (it "
                "becomes part of every report file name, for example fleet-report.slice-2.json), or awx to "
                "take it from AWX's awx_job_id; leave it unset (or '') when the run is not a slice")
    return ""


def resolve_slice(value, awx_job_id=None, awx_workflow_job_id=None):
    """(slice id, run) of a run whose failover_report_slice is ``value``: ('', None) when the run is not a
    slice. ``awx`` gives ``job-<awx_job_id>``. The run is AWX's awx_workflow_job_id (one for every slice of a
    sliced job), None outside AWX. Raises SliceError for a value slice_problem refuses."""
    problem = slice_problem(value, awx_job_id)
    if problem:
        raise SliceError("failover_report_slice is %r: %s" % (value, problem))
    text = _id_text(value) if value is not None else ""
    if not text:
        return "", None
    if text == AWX:
        text = "job-%s" % _id_text(awx_job_id)
    run = _id_text(awx_workflow_job_id) if awx_workflow_job_id not in (None, "") else None
    return text, run


def suffix(slice_id):
    """What every report file name of the slice ``slice_id`` gets before its extension ('' when not sliced)."""
    return SUFFIX + slice_id if slice_id else ""


def sliced_name(base, slice_id):
    """The base file name of a report: ``fleet-report`` unsliced, ``fleet-report.slice-2`` for slice 2."""
    return base + suffix(slice_id)


def slice_files(names, base):
    """[(file name, slice id)] of the slice reports ``<base>.slice-<id>.json`` among the file ``names``, in
    slice order."""
    pattern = re.compile(r"\A%s%s(%s)\.json\Z" % (re.escape(base), re.escape(SUFFIX), ID_PATTERN))
    found = [(name, m.group(1)) for name in names for m in [pattern.match(name)] if m]
    return sorted(found, key=lambda pair: slice_order(pair[1]))


def slice_order(slice_id):
    """Sort key of slice ids: numbers by value (2 before 10), the rest as text."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", str(slice_id))]


def _hosts_word(count):
    return "%d host%s" % (count, "" if count == 1 else "s")


def scope(kind, slice_id, hosts):
    """The scope sentence of a report of ``kind`` (drift, rollout, removal) over ``hosts`` hosts: which hosts it
    covers and, for a rollout or removal, over which hosts the batches and the failure budget held. None for an
    unsliced drift report (it covers the run; it has no batches)."""
    if kind not in KINDS:
        raise SliceError("report kind %r: one of %s" % (kind, ", ".join(KINDS)))
    if not slice_id:
        if kind == "drift":
            return None
        return "run: %s held over the %s of this run" % (BUDGET, _hosts_word(hosts))
    text = "slice %s: the %s of this slice only" % (slice_id, _hosts_word(hosts))
    if kind != "drift":
        text += "; %s held within this slice, not across the fleet" % BUDGET
    return text + "; %s merges the slice reports into the fleet's" % MERGE_PLAYBOOK


def annotate(report, kind, slice_id="", run=None):
    """``report`` with what a reader and the merge need to know of its scope: ``scope`` (a sentence, see
    ``scope``) and, for a slice, ``slice`` ({id, kind, run}). An unsliced drift report is returned unchanged."""
    out = dict(report)
    text = scope(kind, slice_id, len(report.get("hosts") or []))
    if text:
        out["scope"] = text
    if slice_id:
        out["slice"] = {"id": slice_id, "kind": kind, "run": run}
    return out


def merged_fields(merged, hosts):
    """The ``scope`` and ``merged`` keys of the fleet report merged from ``merged`` (merge_slices' result), which
    has ``hosts`` hosts."""
    ids = [s["id"] for s in merged["slices"]]
    text = "fleet: %d slices merged (%s), %s" % (len(ids), ", ".join(ids), _hosts_word(hosts))
    if merged["kind"] != "drift":
        text += "; %s held within each slice, not across the fleet" % BUDGET
    return {"scope": text, "merged": {"kind": merged["kind"], "run": merged["run"], "slices": merged["slices"]}}


def _grouped(named, key):
    """{value: [source, ...]} of ``key(report)`` over the (source, report) pairs ``named``, in input order."""
    groups = {}
    for source, report in named:
        groups.setdefault(key(report), []).append(source)
    return groups


def _describe(groups, what):
    return "; ".join("%s %s: %s" % (what, value, ", ".join(sources)) for value, sources in groups.items())


def _differences(first, other):
    keys = sorted(set(first) | set(other), key=str)
    return ", ".join("%s (%r / %r)" % (k, first.get(k), other.get(k)) for k in keys if first.get(k) != other.get(k))


def _check_shape(named):
    for source, report in named:
        if not isinstance(report, dict) or "format" not in report:
            raise SliceError("%s is not a virtnet.failover fleet report (it has no format): merge only the "
                             "NAME.slice-ID.json files the playbooks write" % source)
        hosts = report.get("hosts")
        if not isinstance(hosts, list) or not all(isinstance(h, dict) and isinstance(h.get("host"), str)
                                                  for h in hosts):
            raise SliceError("%s has no list of host entries: it is not a fleet report the playbooks wrote"
                             % source)


def _check_versions(named):
    formats = _grouped(named, lambda r: r.get("format"))
    if len(formats) > 1:
        raise SliceError("the slices have different schema versions (%s): merge the reports of one run, written "
                         "by one version of the collection" % _describe(formats, "format"))
    fmt = next(iter(formats))
    if fmt != FORMAT:
        raise SliceError("the slices have the schema version %r and this collection reads %r: merge them with the "
                         "version of the collection that wrote them" % (fmt, FORMAT))


def _slice_meta(named):
    metas = []
    for source, report in named:
        meta = report.get("slice")
        if not isinstance(meta, dict) or not meta.get("id"):
            raise SliceError("%s is not a slice report: it has no slice id (its run did not set "
                             "failover_report_slice); merge only the NAME.slice-ID.json files of one sliced run"
                             % source)
        metas.append((source, meta))
    return metas


def _check_slices(metas, expected):
    kinds = _grouped(metas, lambda m: m.get("kind"))
    if len(kinds) > 1:
        raise SliceError("the slices are reports of different kinds (%s): merge the slices of one playbook's run "
                         "(drift, rollout or removal) at a time" % _describe(kinds, "kind"))
    ids = _grouped(metas, lambda m: str(m["id"]))
    twice = {i: s for i, s in ids.items() if len(s) > 1}
    if twice:
        raise SliceError("the same slice is there more than once (%s): each slice writes one report; remove "
                         "the copies or the reports of an earlier run" % _describe(twice, "slice"))
    runs = _grouped(metas, lambda m: m.get("run"))
    if len(runs) > 1:
        raise SliceError("the slices come from different runs (%s; the run is AWX's awx_workflow_job_id, none "
                         "outside AWX): merge the slices of one run; move the reports of the other runs out of "
                         "the directory" % _describe(runs, "run"))
    if expected is None or len(metas) == expected:
        return
    found = sorted(ids, key=slice_order)
    if len(metas) < expected:
        numbered = all(i.isdigit() for i in found)
        missing = [str(n) for n in range(1, expected + 1) if str(n) not in ids] if numbered else []
        gap = expected - len(metas)
        if missing:
            which = "slice%s %s %s missing" % ("s" if len(missing) > 1 else "", ", ".join(missing),
                                               "are" if len(missing) > 1 else "is")
        else:
            which = "%d slice%s missing" % (gap, "s are" if gap > 1 else " is")
        raise SliceError("%d slices expected, %d found (%s): %s. A slice whose job failed before it wrote its "
                         "report, or wrote it on another execution node (failover_report_dir must be a volume "
                         "every slice writes to); re-run the missing slice, then merge again"
                         % (expected, len(metas), ", ".join(found), which))
    raise SliceError("%d slices expected, %d found (%s): more reports than slices; reports of another run or of a "
                     "relaunched slice are in the directory: remove them, or give the number of slices the job has"
                     % (expected, len(metas), ", ".join(found)))


def _check_same(named, key, what, hint):
    first_source, first = named[0]
    for source, report in named[1:]:
        if report.get(key) != first.get(key):
            a, b = first.get(key), report.get(key)
            detail = _differences(a, b) if isinstance(a, dict) and isinstance(b, dict) else "%r / %r" % (a, b)
            raise SliceError("%s and %s have different %s (%s): %s" % (first_source, source, what, detail, hint))


def merge_slices(named_reports, expected=None):
    """Merge the slice reports of one sliced run.

    ``named_reports``: [(source, report)], each report a slice report the playbooks wrote (``source`` names it in
    messages, for example its file name); ``expected``: the number of slices of the run, or None when not known.
    Returns {kind, title, policy, run, hosts, slices}: ``hosts`` every host entry of every slice, sorted by host
    name as a single run sorts them; ``slices`` [{id, source, hosts, generated_at}] in slice order.

    Raises SliceError, saying what to do, for: no report; a report that is not a fleet report; slices of
    different schema versions, of different kinds (drift, rollout, removal), of different runs, with different
    policies or titles; a report that is not a slice's; a slice there twice; a number of slices other than
    ``expected``; a host in more than one slice."""
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 1):
        raise SliceError("the expected number of slices is %r: give a whole number from 1 up, or leave it unset"
                         % (expected,))
    named = list(named_reports)
    if not named:
        raise SliceError("there is no slice report to merge: run the sliced job with failover_report_slice set "
                         "(docs/user-guide.md, AWX / Ansible Automation Platform with job slicing)")
    _check_shape(named)
    _check_versions(named)
    metas = _slice_meta(named)
    _check_slices(metas, expected)
    _check_same(named, "policy", "policies", "a fleet report states one policy; merge the slices of one run, "
                                             "checked with the same failover_* policy variables")
    _check_same(named, "title", "titles", "merge the slices of one run, written with the same report title")
    owner, twice = {}, {}
    for source, report in named:
        for entry in report["hosts"]:
            host = entry["host"]
            if host in owner:
                twice.setdefault(host, [owner[host]]).append(source)
            else:
                owner[host] = source
    if twice:
        shown = sorted(twice)[:5]
        more = " and %d more" % (len(twice) - 5) if len(twice) > 5 else ""
        raise SliceError("a host is in more than one slice (%s%s): AWX gives each host to exactly one slice, so "
                         "one of these reports is from another run or from a relaunched slice; remove the stale "
                         "report, then merge again"
                         % ("; ".join("%s in %s" % (h, ", ".join(twice[h])) for h in shown), more))
    kind = metas[0][1].get("kind")
    slices = sorted(({"id": str(meta["id"]), "source": source, "hosts": len(report["hosts"]),
                      "generated_at": report.get("generated_at")}
                     for (source, meta), (_s, report) in zip(metas, named)), key=lambda s: slice_order(s["id"]))
    hosts = sorted((entry for _source, report in named for entry in report["hosts"]), key=lambda e: e["host"])
    return {"kind": kind, "title": named[0][1].get("title"), "policy": named[0][1].get("policy") or {},
            "run": metas[0][1].get("run"), "hosts": hosts, "slices": slices}
