# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a fleet report as files and write them into one directory on the controller, in-process.

The directory and any missing parent are created with mode 0755; each file is written to a
temporary file beside it and renamed over the old one (a reader never sees half a file), only when
its content differs, and is given ``mode`` in any case.  Returns the paths written.
"""

from __future__ import annotations

import json
import os

from ansible_collections.virtnet.failover.plugins.filter.fleet_report_markdown import fleet_report_markdown
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
