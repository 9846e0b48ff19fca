#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_textfile
short_description: Write a node_exporter textfile-collector file atomically
version_added: 1.0.0
description:
  - Writes O(content) to O(path) for node_exporter's textfile collector so that the collector never reads half a
    file. The content goes to a temporary file in the same directory whose name does not end in C(.prom) (the
    collector ignores it), is flushed to disk, and is then renamed over O(path).
  - Nothing is written, and no change is reported, when the file already has O(content).
  - The directory must exist (it is node_exporter's C(--collector.textfile.directory)); the module does not create
    it, so a mistyped directory fails with a clear message instead of filling a directory nobody reads.
  - O(content) must be in the Prometheus text exposition format (well-formed HELP and TYPE comments, samples with a
    metric name, optional labels and a numeric value). node_exporter drops a file it cannot parse whole, so such
    content fails with the lines at fault and nothing is written.
  - Render the content with P(virtnet.failover.failover_host_prometheus#filter) or
    P(virtnet.failover.fleet_report_prometheus#filter).
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the old and the new content.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with a writable textfile-collector directory.
options:
  path:
    description: The file to write, an absolute path whose name ends in C(.prom) (the suffix the textfile collector reads).
    type: path
    required: true
  content:
    description: The metrics, in the Prometheus text exposition format. A missing final newline is added.
    type: str
    required: true
  mode:
    description: Permissions of the file.
    type: raw
    default: "0644"
seealso:
  - module: virtnet.failover.failover_drift
"""

EXAMPLES = r"""
- name: Write this host's drift metrics for node_exporter
  virtnet.failover.prometheus_textfile:
    path: /var/lib/prometheus/node-exporter/virtnet_failover.prom
    content: "{{ drift | virtnet.failover.failover_host_prometheus }}"
"""

RETURN = r"""
path:
  description: The file written (or that would be written in check mode).
  returned: always
  type: str
  sample: /var/lib/prometheus/node-exporter/virtnet_failover.prom
size:
  description: Bytes of the content.
  returned: always
  type: int
  sample: 1843
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import exposition_problems


def read(path):
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True),
            mode=dict(type="raw", default="0644"),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    directory = os.path.dirname(path) or "."
    if not os.path.isabs(path):
        module.fail_json(msg="path %s must be absolute: give the full path in node_exporter's textfile directory"
                         % path, path=path, size=0)
    if not path.endswith(".prom"):
        module.fail_json(msg="path %s must end in .prom: node_exporter's textfile collector reads only *.prom files"
                         % path, path=path, size=0)
    if not os.path.isdir(directory):
        module.fail_json(msg="directory %s does not exist: give the directory node_exporter reads "
                         "(its --collector.textfile.directory) or create it first" % directory, path=path, size=0)
    content = module.params["content"]
    problems = exposition_problems(content)
    if problems:
        module.fail_json(msg="content is not in the Prometheus text format, so node_exporter would drop the file: %s; "
                         "nothing was written" % "; ".join(problems), path=path, size=0)
    if not content.endswith("\n"):
        content += "\n"
    data = to_bytes(content)
    before = read(path)
    changed = before != data
    result = dict(changed=changed, path=path, size=len(data))
    if module._diff:
        result["diff"] = {"before_header": path, "after_header": path,
                          "before": "" if before is None else to_text(before), "after": content}
    if changed and not module.check_mode:
        write_atomically(module, path, data)
    if os.path.exists(path) and not module.check_mode:
        file_args = module.load_file_common_arguments(dict(path=path, mode=module.params["mode"]))
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
