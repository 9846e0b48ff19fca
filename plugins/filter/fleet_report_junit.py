# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report filter: report dict -> JUnit XML for CI and AWX."""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report_junit
short_description: Render a fleet drift report as JUnit XML
version_added: 1.0.0
author:
  - virtnet.failover contributors (@virtnet)
description:
  - Renders the output of P(virtnet.failover.fleet_report#filter) as a JUnit XML document, the test-result
    format CI systems and AWX/AAP artifact viewers read.
  - One C(testsuite) (the report), one C(testcase) per host (classname C(virtnet.failover.<suite>), name the
    inventory host name).
  - A host with drift gets one C(failure) per drift item; its C(type) is the drift kind, its C(message) the item's
    message, its text the subject, expected and actual values and the remedy.
  - A host that could not be checked (C(unreachable), C(failed) or any status other than C(ok), C(drift) and
    C(skipped)) gets one C(error) whose C(type) is the status; a skipped host gets C(skipped).
  - The host's kernels, DKMS version and module mechanism go to the test case's C(system-out).
options:
  _input:
    description: The report built by P(virtnet.failover.fleet_report#filter).
    type: dict
    required: true
  suite:
    description: Last part of the test cases' classname.
    type: str
    default: drift
"""

EXAMPLES = r"""
- name: Write the JUnit file of the drift check
  ansible.builtin.copy:
    content: "{{ failover_report | virtnet.failover.fleet_report_junit }}"
    dest: failover-report/fleet-report.junit.xml
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The JUnit XML document (UTF-8, with an XML declaration, ends with a newline).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import FORMAT
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_junit import junit_xml


def fleet_report_junit(report, suite="drift"):
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        raise AnsibleFilterError("fleet_report_junit expects the output of virtnet.failover.fleet_report")
    return junit_xml(report, suite=str(suite))


class FilterModule(object):
    """virtnet.failover fleet report JUnit filter."""

    def filters(self):
        return {"fleet_report_junit": fleet_report_junit}
