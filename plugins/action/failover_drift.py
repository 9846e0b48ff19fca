# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of virtnet.failover.failover_drift: with ``from_play_vars: true``, fills in the options the task does
not give from the failover_* play variables (plugin_utils/play_variables.py), then runs the module on the host.

Without ``from_play_vars`` it runs the module with the task's options, as a module without an action would.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.virtnet.failover.plugins.plugin_utils.play_variables import (
    PlayVariableError,
    play_options,
)

MODULE = "virtnet.failover.failover_drift"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        try:
            from_play_vars = boolean(args.pop("from_play_vars", False), strict=True)
        except TypeError:
            result.update(failed=True, msg="from_play_vars must be a boolean (true or false), not %r"
                          % (self._task.args["from_play_vars"],))
            return result
        if from_play_vars:
            try:
                args = play_options(args, task_vars, self._templar.template)
            except PlayVariableError as exc:
                result.update(failed=True, msg=str(exc))
                return result
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                                         wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # the module's temporary directory on the host
        return result
