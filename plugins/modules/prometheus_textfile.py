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
    details: Reports whether the file would change; writes nothing.
  diff_mode:
    support: full
    details: Shows the old and the new content.
  platform:
    support: full
    details: Any POSIX host with a writable textfile-collector directory.
extends_documentation_fragment:
  - virtnet.failover.attributes
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

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.virtnet.failover.plugins.module_utils.textfile_collector import (
    as_bytes,
    read,
    refusal,
    write_if_changed,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True),
            mode=dict(type="raw", default="0644"),
        ),
        supports_check_mode=True,
    )
    path, content = module.params["path"], module.params["content"]
    refused = refusal(path, content)
    if refused:
        module.fail_json(msg=refused, path=path, size=0)
    data = as_bytes(content)
    before = read(path)
    result = dict(changed=before != data, path=path, size=len(data))
    if module._diff:
        result["diff"] = {"before_header": path, "after_header": path,
                          "before": "" if before is None else to_text(before), "after": to_text(data)}
    result["changed"] = write_if_changed(module, path, data, module.params["mode"], changed=result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
