# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files for node_exporter's textfile collector: where one may go, and how it
is written so that the collector never reads half a file.

Used by the prometheus_textfile module and by failover_drift's
``textfile_dir``: both refuse the same paths with the same messages and
write the same way.
"""

from __future__ import annotations

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import exposition_problems


def refusal(path, content):
    """Why ``content`` must not be written to ``path`` (a message that says what to do), or None."""
    directory = os.path.dirname(path) or "."
    if not os.path.isabs(path):
        return "path %s must be absolute: give the full path in node_exporter's textfile directory" % path
    if not path.endswith(".prom"):
        return "path %s must end in .prom: node_exporter's textfile collector reads only *.prom files" % path
    if not os.path.isdir(directory):
        return ("directory %s does not exist: give the directory node_exporter reads "
                "(its --collector.textfile.directory) or create it first" % directory)
    problems = exposition_problems(content)
    if problems:
        return ("content is not in the Prometheus text format, so node_exporter would drop the file: %s; "
                "nothing was written" % "; ".join(problems))
    return None


def as_bytes(content):
    """The bytes of the file: ``content`` with a final newline."""
    return to_bytes(content if content.endswith("\n") else content + "\n")


def read(path):
    """The current bytes of ``path``, None when it does not exist."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def write_atomically(module, path, data):
    """Temporary file (no .prom suffix) in the same directory, fsync, rename over ``path``."""
    directory, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_if_changed(module, path, data, mode="0644", changed=None):
    """Write ``data`` to ``path`` unless it holds it already, then set ``mode`` (nothing in check mode).

    Returns whether the file changed (content or mode); ``changed`` overrides the content comparison.
    """
    if changed is None:
        changed = read(path) != data
    if module.check_mode:
        return changed
    if changed:
        write_atomically(module, path, data)
    file_args = module.load_file_common_arguments(dict(path=path, mode=mode))
    return module.set_fs_attributes_if_different(file_args, changed)
