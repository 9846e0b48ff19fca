#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_report_files
short_description: Build the fleet report and write it as JSON and Markdown on the controller
version_added: 1.0.0
description:
  - Builds the fleet report from the per-host results with the same code as the
    P(virtnet.failover.fleet_report#filter) filter, and returns it as RV(report).
  - Writes it into O(dest) as C(NAME.json) (sorted keys, indented by 2) and C(NAME.md)
    (P(virtnet.failover.fleet_report_markdown#filter)). O(dest) and any missing parent are created with mode
    C(0755); the files get mode C(0644).
  - With O(slice), the run is one slice of a sliced run (AWX/Automation Platform job slicing) and the files are
    C(NAME.slice-ID.json) and C(NAME.slice-ID.md), so that the slices, which write to one directory, never
    overwrite each other's report; M(virtnet.failover.fleet_report_merge) merges them into C(NAME.json) and
    C(NAME.md).
  - The report states its scope (key C(scope), a sentence, also shown in the Markdown) for a rollout or a removal
    (O(kind)), that is over which hosts the batches and the failure budget held, the run's or the slice's; and for
    any slice. A slice's report also has the key C(slice) (C(id), C(kind), C(run)).
  - Each file is written to a temporary file beside it and renamed over the old one, only when its content differs.
    The files are output of the run, not a change of a host, so the task never reports C(changed).
  - This is an action plugin. It always runs on the controller, inside Ansible's worker process, whatever host the
    task runs for, and starts no module process. The drift, rollout and remove playbooks use it for their reports.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: partial
    details:
      - In check mode the report is built and returned, and nothing is written; give the task C(check_mode=false) to write the files in a check-mode play.
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.attributes.action
  - virtnet.failover.attributes.controller
options:
  dest:
    description: The directory to write into, an absolute path.
    type: path
    required: true
  name:
    description: Base name of the files (C(NAME.json), C(NAME.md)); a plain file name without C(/).
    type: str
    required: true
  results:
    description:
      - Mapping of inventory host name to its result (a registered M(virtnet.failover.failover_drift) result, a
        record with a C(status) key, or null when the host gave none); as the input of
        P(virtnet.failover.fleet_report#filter).
    type: dict
    required: true
  hosts:
    description:
      - Every host the run targeted (for example C(ansible_play_hosts_all)). Hosts missing from O(results) count as
        unreachable. Default the keys of O(results).
    type: list
    elements: str
  title:
    description: Title of the report.
    type: str
    default: Failover fleet drift report
  policy:
    description: The policy checked (shown in the report as given).
    type: dict
  facts:
    description:
      - Mapping of host name to a M(virtnet.failover.failover_drift) result read for the facts only, or a list of
        such mappings; see the C(facts) option of P(virtnet.failover.fleet_report#filter).
    type: raw
  require_group:
    description: A host without any failover group is not healthy (C(groups_healthy) of its entry).
    type: bool
    default: true
  kind:
    description:
      - What the report is of; recorded in a slice's report (the merge refuses slices of different kinds) and
        deciding its scope sentence. The drift, rollout and remove playbooks give V(drift), V(rollout) and
        V(removal).
    type: str
    choices: [drift, rollout, removal]
    default: drift
  slice:
    description:
      - The slice id of this run when it is one slice of a sliced run (the playbooks pass C(failover_report_slice)),
        or empty (or null) when it is not.
      - 1 to 64 letters, digits, C(-) or C(_), starting with a letter or digit; a whole number is read as text.
      - V(awx) takes it from AWX's job variables, C(job-) and C(awx_job_id) (every slice of an AWX sliced job is its
        own job, with its own id), and records C(awx_workflow_job_id) as the run of the slice (the workflow job
        AWX makes of a sliced job, one for all its slices). It fails when there is no C(awx_job_id).
      - Any other value fails, writing nothing.
    type: raw
notes:
  - The report records the time it was built (C(generated_at), UTC).
seealso:
  - module: virtnet.failover.fleet_report_merge
  - plugin: virtnet.failover.fleet_report
    plugin_type: filter
  - plugin: virtnet.failover.fleet_report_markdown
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check every host
  virtnet.failover.failover_drift:
  register: drift
  ignore_errors: true

- name: Write the fleet report on the controller
  virtnet.failover.fleet_report_files:
    dest: /var/lib/failover-report
    name: fleet-report
    hosts: "{{ ansible_play_hosts_all }}"
    results: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars)
                 | map(attribute='drift', default=none))) }}"
  run_once: true
  check_mode: false
  register: fleet

- name: Hosts whose next boot would load the stock module
  ansible.builtin.debug:
    msg: "{{ fleet.report.by_kind.dkms_next_kernel | default([]) }}"
  run_once: true
"""

RETURN = r"""
report:
  description:
    - The report, as returned by P(virtnet.failover.fleet_report#filter) (format, title, generated_at,
      policy, clean, summary, hosts, by_kind, problem_hosts, not_ok, not_done).
    - "With C(scope) (a sentence) for a rollout, a removal and a slice; with C(slice) (C(id), C(kind), C(run): AWX's
      C(awx_workflow_job_id) or null) for a slice."
  returned: success
  type: dict
written:
  description: The files whose content changed (written this run); empty in check mode.
  returned: success
  type: list
  elements: str
  sample: [/var/lib/failover-report/fleet-report.json]
name:
  description: The base name of the files written, O(name) with the slice's suffix RV(suffix).
  returned: success
  type: str
  sample: fleet-report.slice-2
suffix:
  description:
    - What every report file name of this run gets before its extension, C(.slice-ID) for a slice, empty
      otherwise; the drift playbook gives it to its JUnit file and its fleet textfile too.
  returned: success
  type: str
  sample: .slice-2
slice:
  description: The slice id (O(slice) resolved; empty when the run is not a slice).
  returned: success
  type: str
  sample: "2"
"""
