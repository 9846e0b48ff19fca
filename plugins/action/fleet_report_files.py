# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of virtnet.failover.fleet_report_files: builds the fleet report and writes it on the controller.

Runs in Ansible's worker process, without a module run: the report is built by the same code as the
virtnet.failover.fleet_report filter, given its scope (and, for a slice of a sliced run, its slice id and file
names: module_utils/fleet_report_slices.py), rendered as JSON and Markdown, and written with
plugin_utils/report_files.write_files.
"""

from __future__ import annotations

import datetime

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import fleet_report
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_slices import (
    KINDS,
    SliceError,
    annotate,
    resolve_slice,
    sliced_name,
    suffix,
)
from ansible_collections.virtnet.failover.plugins.plugin_utils.report_files import (
    ReportFilesError,
    report_files,
    write_files,
)

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    name=dict(type="str", required=True),
    results=dict(type="dict", required=True),
    hosts=dict(type="list", elements="str"),
    title=dict(type="str", default="Failover fleet drift report"),
    policy=dict(type="dict"),
    facts=dict(type="raw"),
    require_group=dict(type="bool", default=True),
    kind=dict(type="str", default="drift", choices=list(KINDS)),
    slice=dict(type="raw"),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        generated_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        task_vars = task_vars or {}
        try:
            # failover_report_slice: awx reads AWX's own job variables (extra vars of every AWX job)
            awx = [self._templar.template(task_vars.get(name)) for name in ("awx_job_id", "awx_workflow_job_id")]
            slice_id, run = resolve_slice(args["slice"], *awx)
            report = fleet_report(args["results"], args["hosts"], policy=args["policy"], generated_at=generated_at,
                                  title=args["title"], facts=args["facts"], require_group=args["require_group"])
            report = annotate(report, args["kind"], slice_id, run)
            name = sliced_name(args["name"], slice_id)
            files = report_files(name, report)
            written = [] if self._task.check_mode else write_files(args["dest"], files)
        except (AnsibleFilterError, ReportFilesError, SliceError, OSError) as exc:
            result.update(failed=True, msg="cannot write the fleet report: %s" % exc)
            return result
        # the report files are output of the run, not a change of any host
        result.update(changed=False, report=report, written=written, name=name, suffix=suffix(slice_id),
                      slice=slice_id)
        if self._task.check_mode:
            result["msg"] = "check mode: the report was built, nothing was written (set check_mode: false to write it)"
        return result
