# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a fleet report as files and write them into one directory on the controller, in-process; read the
slice reports of a sliced run back and merge them into the fleet's report.

The directory and any missing parent are created with mode 0755; each file is written to a
temporary file beside it and renamed over the old one (a reader never sees half a file), only when
its content differs, and is given ``mode`` in any case.  Returns the paths written.
"""

from __future__ import annotations

import json
import os

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import report_from_entries
from ansible_collections.virtnet.failover.plugins.filter.fleet_report_markdown import fleet_report_markdown
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_slices import (
    SliceError,
    merge_slices,
    merged_fields,
    slice_files,
    sliced_name,
)
from ansible_collections.virtnet.failover.plugins.module_utils.managed_files import write_atomic


class ReportFilesError(ValueError):
    """Bad input: the message says what to change."""


def validate(directory, files):
    if not isinstance(directory, str) or not os.path.isabs(directory):
        raise ReportFilesError("dest %r must be an absolute directory path (failover_report_dir is made absolute "
                               "by the playbooks)" % (directory,))
    if not isinstance(files, dict) or not files:
        raise ReportFilesError("files must be a non-empty mapping of file name to content")
    for name, content in files.items():
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise ReportFilesError("file name %r must be a plain name inside dest, without '/'" % (name,))
        if not isinstance(content, str):
            raise ReportFilesError("the content of %s must be text, got %s" % (name, type(content).__name__))


def report_files(name, report):
    """The files of one report: ``name``.json (sorted keys, indent 2) and ``name``.md (for people)."""
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ReportFilesError("report name %r must be a plain file name without '/' and not starting with '.'"
                               % (name,))
    text = json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n"
    return {name + ".json": text, name + ".md": fleet_report_markdown(report)}


def make_dirs(directory, mode=0o755):
    """mkdir -p ``directory``, each created level with ``mode`` (umask not applied)."""
    missing = []
    path = directory
    while not os.path.isdir(path):
        if os.path.lexists(path):
            raise ReportFilesError("%s exists but is not a directory: move it away or choose another "
                                   "failover_report_dir" % path)
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        os.mkdir(path)
        os.chmod(path, mode)


def _same(path, data):
    try:
        with open(path, "rb") as fh:
            return fh.read() == data
    except FileNotFoundError:
        return False


def write_files(directory, files, mode=0o644):
    """Create ``directory`` and write ``files`` ({name: text}) into it; the paths whose content changed."""
    validate(directory, files)
    make_dirs(directory)
    written = []
    for name in sorted(files):
        path = os.path.join(directory, name)
        data = files[name].encode("utf-8")
        if not _same(path, data):
            write_atomic(path, data, mode, root_owned=False)
            written.append(path)
        os.chmod(path, mode)
    return written


def read_slice_reports(directory, name):
    """[(file name, report)] of the slice reports ``<name>.slice-<id>.json`` in ``directory``, in slice order.
    Raises ReportFilesError for a directory that cannot be read and for a file that is not JSON."""
    if not isinstance(directory, str) or not os.path.isabs(directory):
        raise ReportFilesError("src %r must be an absolute directory path (failover_report_dir is made absolute by "
                               "the playbooks)" % (directory,))
    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise ReportFilesError("cannot read the slice reports in %s: %s; failover_report_dir must be the directory "
                               "the slices wrote to" % (directory, exc.strerror or exc)) from None
    out = []
    for file_name, _slice_id in slice_files(names, name):
        path = os.path.join(directory, file_name)
        try:
            with open(path, encoding="utf-8") as fh:
                out.append((file_name, json.load(fh)))
        except (OSError, ValueError) as exc:
            raise ReportFilesError("%s is not a readable JSON report (%s): re-run its slice, or move it away"
                                   % (path, exc)) from None
    if not out:
        raise ReportFilesError("no slice report %s.slice-ID.json in %s: run the sliced job with "
                               "failover_report_slice set and failover_report_dir pointing there (docs/user-guide.md, "
                               "AWX / Ansible Automation Platform with job slicing)" % (name, directory))
    return out


def remove_slice_files(directory, name, slice_ids):
    """Remove the report files of the slices ``slice_ids`` from ``directory``: ``<name>.slice-<id>`` .json, .md
    and .junit.xml (those the slices wrote there). The paths removed."""
    removed = []
    for slice_id in slice_ids:
        for ext in (".json", ".md", ".junit.xml"):
            path = os.path.join(directory, sliced_name(name, slice_id) + ext)
            if os.path.isfile(path):
                os.unlink(path)
                removed.append(path)
    return removed


def merged_report(named_reports, expected=None, generated_at=None):
    """The fleet report merged from the slice reports ``named_reports`` ([(source, report)]) of one sliced run:
    the hosts of every slice, and the summary, grouping and host lists computed from them as for a single run;
    with ``scope`` and ``merged`` (the slices: id, source, hosts, generated_at). Raises ReportFilesError when the
    slices do not belong together (module_utils/fleet_report_slices.merge_slices says why)."""
    try:
        merged = merge_slices(named_reports, expected)
    except SliceError as exc:
        raise ReportFilesError(str(exc)) from None
    report = report_from_entries(merged["hosts"], policy=merged["policy"], generated_at=generated_at,
                                 title=merged["title"])
    report.update(merged_fields(merged, len(report["hosts"])))
    return report
