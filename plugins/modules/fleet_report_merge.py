#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_report_merge
short_description: Merge the slice reports of a sliced run into one fleet report on the controller
version_added: 1.1.0
description:
  - A sliced run (AWX/Automation Platform job slicing) runs a playbook of the collection once per slice, each run on
    its part of the inventory; with C(failover_report_slice) set, each writes its report as C(NAME.slice-ID.json)
    and C(NAME.slice-ID.md) (M(virtnet.failover.fleet_report_files)).
  - This module reads every C(NAME.slice-ID.json) in O(src), checks that they are the slices of one run, and writes
    the fleet report C(NAME.json) and C(NAME.md) into O(dest), in the same format as the report of one run over
    every host of the slices; RV(report) returns it. The playbook C(virtnet.failover.merge_reports) calls it, then
    writes the JUnit file and the Prometheus fleet textfile of a drift check from RV(report), as the drift
    playbook does.
  - "The merged report has the host entries of the slices as they are, sorted by host name; its summary,
    C(by_kind), C(problem_hosts), C(not_ok), C(not_done) and C(clean) are computed from them by the same code as
    for one run (P(virtnet.failover.fleet_report#filter)). It adds C(scope) (a sentence) and C(merged) (C(kind),
    C(run), and C(slices): C(id), C(source), C(hosts), C(generated_at) of each slice)."
  - "It refuses, writing nothing: no slice report in O(src); a file that is not a fleet report, or not a slice's
    (no slice id); slices of different schema versions (C(format)), of different kinds (drift, rollout, removal),
    of different runs (AWX's C(awx_workflow_job_id)), with different policies or titles; the same slice twice; a
    host in more than one slice; and, with O(slices), any other number of slices than O(slices), naming the missing
    slice when the ids are 1 to O(slices)."
  - The files are written as M(virtnet.failover.fleet_report_files) writes them (temporary file renamed over the
    old one, only when the content differs, mode C(0644)); the task never reports C(changed).
  - This is an action plugin. It always runs on the controller, inside Ansible's worker process, and starts no
    module process.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: partial
    details:
      - In check mode the reports are read, checked and merged, and nothing is written; give the task
        C(check_mode=false) to write the files in a check-mode play.
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.attributes.action
  - virtnet.failover.attributes.controller
options:
  src:
    description: The directory the slices wrote their reports to (their C(failover_report_dir)), an absolute path.
    type: path
    required: true
  name:
    description:
      - Base name of the reports, for example V(fleet-report) (drift), V(rollout-report) or V(removal-report).
        The slice reports are C(NAME.slice-ID.json); the merged report is C(NAME.json) and C(NAME.md).
    type: str
    required: true
  slices:
    description:
      - The number of slices of the run (the job template's C(job_slice_count)); any other number of slice reports
        is refused. Unset, the slices found are merged, however many.
    type: int
  dest:
    description: The directory to write the merged report into, an absolute path. Default O(src).
    type: path
  remove_slices:
    description:
      - Once the merged report is written, remove the files of the merged slices from O(src)
        (C(NAME.slice-ID.json), C(.md) and C(.junit.xml)), so that the next run's slices do not lie beside them (with
        C(failover_report_slice=awx) the slice ids are AWX job ids, new every run, and the merge refuses slices of
        different runs). The merged report keeps each slice's id, number of hosts and time (C(merged.slices)).
      - Nothing is removed when the merge is refused, nor in check mode.
    type: bool
    default: false
notes:
  - The merged report records the time of the merge (C(generated_at), UTC); each slice's time is in
    C(merged.slices).
  - A sliced run's slices run apart, possibly on different execution nodes; O(src) must be a directory every slice
    wrote to (a shared volume), and the merge runs after the last slice, for example as the next node of an AWX
    workflow (run it always, not only on success, since a drift check fails on drift).
seealso:
  - module: virtnet.failover.fleet_report_files
  - plugin: virtnet.failover.fleet_report
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Merge the 3 slices of a sliced drift check
  virtnet.failover.fleet_report_merge:
    src: /srv/failover-report
    name: fleet-report
    slices: 3
  register: merged
  check_mode: false

- name: Hosts that drifted or could not be checked, over the whole fleet
  ansible.builtin.debug:
    msg: "{{ merged.report.not_ok }}"

- name: The JUnit file of the merged drift check
  ansible.builtin.copy:
    content: "{{ merged.report | virtnet.failover.fleet_report_junit }}"
    dest: /srv/failover-report/fleet-report.junit.xml
    mode: "0644"
"""

RETURN = r"""
report:
  description:
    - The merged report, in the format of P(virtnet.failover.fleet_report#filter) (format, title, generated_at,
      policy, clean, summary, hosts, by_kind, problem_hosts, not_ok, not_done), with C(scope) and C(merged).
  returned: success
  type: dict
written:
  description: The files whose content changed (written this run); empty in check mode.
  returned: success
  type: list
  elements: str
  sample: [/srv/failover-report/fleet-report.json, /srv/failover-report/fleet-report.md]
name:
  description: The base name of the files written (O(name)).
  returned: success
  type: str
  sample: fleet-report
suffix:
  description:
    - Always empty; the merged files carry no slice suffix, as the files of one run
      (RV(virtnet.failover.fleet_report_files#module:suffix)).
  returned: success
  type: str
  sample: ""
slice:
  description: Always empty; the merged report is the fleet's, not a slice's.
  returned: success
  type: str
  sample: ""
kind:
  description: What the slices are reports of, V(drift), V(rollout) or V(removal).
  returned: success
  type: str
  sample: drift
removed:
  description: The slice files removed (O(remove_slices)).
  returned: success
  type: list
  elements: str
  sample: [/srv/failover-report/fleet-report.slice-1.json, /srv/failover-report/fleet-report.slice-1.md]
merged:
  description: The slice reports merged, in slice order.
  returned: success
  type: list
  elements: str
  sample: [/srv/failover-report/fleet-report.slice-1.json, /srv/failover-report/fleet-report.slice-2.json]
"""
