# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report filter: report dict -> Prometheus text format (fleet summary)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report_prometheus
short_description: Render the fleet summary of a drift report as Prometheus metrics
version_added: 1.0.0
author:
  - virtnet.failover contributors (@virtnet)
description:
  - Renders the output of P(virtnet.failover.fleet_report#filter) in the Prometheus text exposition format, for
    node_exporter's textfile collector on the controller.
  - "Gauges: C(virtnet_failover_fleet_hosts{status}) (ok, drift, unreachable, failed, other: always present),
    C(virtnet_failover_fleet_drift_hosts{kind}) (every drift kind, 0 when none), C(virtnet_failover_fleet_drift_items),
    C(virtnet_failover_fleet_clean), C(virtnet_failover_fleet_host_drift_items{host}),
    C(virtnet_failover_fleet_host_checked{host}) and C(virtnet_failover_fleet_last_check_timestamp_seconds)."
  - The report of one slice of a sliced run (it has the key C(slice), see M(virtnet.failover.fleet_report_files))
    gives every sample the label C(slice), its slice id, so that the files of the slices and the merged fleet's
    file (M(virtnet.failover.fleet_report_merge), no such label) never export the same series.
  - Write it with M(virtnet.failover.prometheus_textfile) so node_exporter never reads half a file.
options:
  _input:
    description: The report built by P(virtnet.failover.fleet_report#filter).
    type: dict
    required: true
  checked_at:
    description: Time of the check in Unix seconds. Default now.
    type: float
"""

EXAMPLES = r"""
- name: Write the fleet summary for node_exporter on the controller
  virtnet.failover.prometheus_textfile:
    path: /var/lib/prometheus/node-exporter/virtnet_failover_fleet.prom
    content: "{{ failover_report | virtnet.failover.fleet_report_prometheus }}"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The metrics in the text exposition format (ends with a newline).
  type: str
"""

import time

from ansible.errors import AnsibleFilterError

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import FORMAT
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_entry import KIND_ORDER
from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import fleet_metrics


def fleet_report_prometheus(report, checked_at=None):
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        raise AnsibleFilterError("fleet_report_prometheus expects the output of virtnet.failover.fleet_report")
    return fleet_metrics(report, time.time() if checked_at is None else float(checked_at), KIND_ORDER)


class FilterModule(object):
    """virtnet.failover fleet report Prometheus filter."""

    def filters(self):
        return {"fleet_report_prometheus": fleet_report_prometheus}
