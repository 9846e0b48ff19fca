# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host filter: one failover_drift result -> Prometheus text format (the host's textfile)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: failover_host_prometheus
short_description: Render one host's drift check as Prometheus metrics
version_added: 1.0.0
author:
  - virtnet.failover contributors (@virtnet)
description:
  - Renders the registered result of M(virtnet.failover.failover_drift) in the Prometheus text exposition format,
    for node_exporter's textfile collector on that host (node_exporter adds the C(instance) label).
  - "Gauges: C(virtnet_failover_check_success), C(virtnet_failover_drift_items{kind}) (every drift kind, 0 when
    none), C(virtnet_failover_patched_module_loaded), C(virtnet_failover_slave_rename_ok) (left out when the
    module does not have the parameter), C(virtnet_failover_groups), C(virtnet_failover_groups_healthy) (master
    UP, both slaves, names per policy), C(virtnet_failover_info{running_kernel,next_boot_kernel,dkms_version,mechanism})
    (value 1) and C(virtnet_failover_last_check_timestamp_seconds)."
  - Write it with M(virtnet.failover.prometheus_textfile) so node_exporter never reads half a file.
options:
  _input:
    description: The registered result of M(virtnet.failover.failover_drift).
    type: dict
    required: true
  checked_at:
    description: Time of the check in Unix seconds. Default now.
    type: float
  require_group:
    description: A host without any failover group is not healthy.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Write this host's drift metrics for node_exporter
  virtnet.failover.prometheus_textfile:
    path: /var/lib/prometheus/node-exporter/virtnet_failover.prom
    content: "{{ drift | virtnet.failover.failover_host_prometheus }}"
"""

RETURN = r"""
_value:
  description: The metrics in the text exposition format (ends with a newline).
  type: str
"""

import time

from ansible.errors import AnsibleFilterError

from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import host_metrics
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_entry import KIND_ORDER, host_entry


def failover_host_prometheus(result, checked_at=None, require_group=True):
    if not isinstance(result, dict):
        raise AnsibleFilterError("failover_host_prometheus expects the registered result of "
                                 "virtnet.failover.failover_drift, got %s" % type(result).__name__)
    entry = host_entry("localhost", result, require_group=bool(require_group))
    return host_metrics(entry, time.time() if checked_at is None else float(checked_at), KIND_ORDER)


class FilterModule(object):
    """virtnet.failover host Prometheus filter."""

    def filters(self):
        return {"failover_host_prometheus": failover_host_prometheus}
