#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_report_files
short_description: Write the fleet report files into a directory on the controller
version_added: 1.0.0
description:
  - Creates O(dest) (and any missing parent, mode C(0755)) and writes each of O(files) into it with mode C(0644),
    on the controller, inside Ansible's worker process, without starting a module process. The drift, rollout and
    remove playbooks use it for the JSON and Markdown fleet reports.
  - Each file is written to a temporary file beside it and renamed over the old one, only when its content differs;
    its mode is set in any case.
  - This is an action plugin; it always runs on the controller, whatever host the task runs for.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: none
    description:
      - In check mode nothing is written and the task is reported as skipped; give the task C(check_mode=false)
        to write the report in a check-mode play.
  diff_mode:
    support: none
    description: No diff.
  platform:
    support: full
    platforms: posix
    description: The controller.
options:
  dest:
    description: The directory to write into, an absolute path.
    type: path
    required: true
  files:
    description: File name (no C(/)) to text content.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the JSON and Markdown report
  virtnet.failover.fleet_report_files:
    dest: /var/lib/failover-report
    files:
      fleet-report.json: "{{ failover_report | to_nice_json(indent=2) }}\n"
      fleet-report.md: "{{ failover_report | virtnet.failover.fleet_report_markdown }}"
  check_mode: false
"""

RETURN = r"""
written:
  description: The files whose content changed (written this run).
  returned: success
  type: list
  elements: str
  sample: [/var/lib/failover-report/fleet-report.json]
"""
