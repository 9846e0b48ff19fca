# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of virtnet.failover.fleet_report_merge: merges the slice reports of a sliced run into the fleet report
and writes it on the controller.

Runs in Ansible's worker process, without a module run: reads the slice reports with
plugin_utils/report_files.read_slice_reports, merges them with merged_report (the checks and the union of the
hosts: module_utils/fleet_report_slices.py; the summary: the fleet_report filter's code) and writes JSON and
Markdown with the same writer and the same rendering as virtnet.failover.fleet_report_files.
"""

from __future__ import annotations

import datetime
import os

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase

from ansible_collections.virtnet.failover.plugins.plugin_utils.report_files import (
    ReportFilesError,
    merged_report,
    read_slice_reports,
    remove_slice_files,
    report_files,
    write_files,
)

ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    name=dict(type="str", required=True),
    slices=dict(type="int"),
    dest=dict(type="path"),
    remove_slices=dict(type="bool", default=False),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        generated_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        dest = args["dest"] or args["src"]
        try:
            if "/" in args["name"] or args["name"] in ("", ".", ".."):
                raise ReportFilesError("name %r must be the base name of the reports (for example fleet-report), "
                                       "without '/'" % (args["name"],))
            named = read_slice_reports(args["src"], args["name"])
            report = merged_report(named, expected=args["slices"], generated_at=generated_at)
            files = report_files(args["name"], report)
            written = [] if self._task.check_mode else write_files(dest, files)
            # only once the fleet's report is written: it keeps each slice's id, hosts and time (merged.slices)
            removed = remove_slice_files(args["src"], args["name"], [s["id"] for s in report["merged"]["slices"]]) \
                if args["remove_slices"] and not self._task.check_mode else []
        except (AnsibleFilterError, ReportFilesError, OSError) as exc:
            result.update(failed=True, msg="cannot merge the slice reports, nothing was written: %s" % exc)
            return result
        # the report files are output of the run, not a change of any host
        result.update(changed=False, report=report, written=written, name=args["name"], suffix="", slice="",
                      kind=report["merged"]["kind"],
                      merged=[os.path.join(args["src"], source) for source, _report in named], removed=removed)
        if self._task.check_mode:
            result["msg"] = "check mode: the report was merged, nothing was written (set check_mode: false to write it)"
        return result
