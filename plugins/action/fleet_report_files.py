# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of virtnet.failover.fleet_report_files: writes on the controller, in the worker process."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.virtnet.failover.plugins.plugin_utils.report_files import ReportFilesError, write_files


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("dest", "files"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - self._VALID_ARGS)
        if unknown or "dest" not in args or "files" not in args:
            result.update(failed=True, msg="fleet_report_files takes dest and files (both required); got %s"
                          % (", ".join(sorted(args)) or "nothing"))
            return result
        if self._task.check_mode:
            result.update(changed=False, skipped=True,
                          msg="check mode: nothing written (set check_mode: false on the task to write the report)")
            return result
        try:
            written = write_files(args["dest"], args["files"])
        except (ReportFilesError, OSError) as exc:
            result.update(failed=True, msg="cannot write the report files: %s" % exc)
            return result
        result.update(changed=bool(written), written=written)
        return result
