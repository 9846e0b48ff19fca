# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record every changed task of every playbook run of a Molecule scenario.

The lab scenarios enable this callback (ansible.cfg via molecule.yml).  Each
ansible-playbook run appends one JSON line to
``$VNFO_CHANGES_FILE`` (default ``$MOLECULE_EPHEMERAL_DIRECTORY/changes.jsonl``):

    {"playbook": "converge.yml", "check": true, "changed": {"host": ["task", ...]},
     "hosts": ["host", ...], "failed": false, "seconds": 312.5,
     "slowest": [["task", seconds], ...]}

verify playbooks read it to compare what a check-mode run predicted with
what the real converge then did, and to assert that a check-mode run on a
converged host reports no change.  Only Ansible's own ``changed`` status is
recorded, nothing the role says about itself.
"""
from __future__ import annotations

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: vnfo_changes
type: aggregate
short_description: record the changed tasks of each playbook run (lab scenarios)
description:
  - Appends one JSON line per playbook run to E(VNFO_CHANGES_FILE) or
    E(MOLECULE_EPHEMERAL_DIRECTORY)/changes.jsonl.
requirements:
  - enable in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vnfo_changes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._playbook = ""
        self._changed: dict[str, list[str]] = {}
        self._hosts: set[str] = set()
        self._failed = False
        self._t0 = time.monotonic()
        self._task_t0 = self._t0
        self._task_name = ""
        self._durations: dict[str, float] = {}

    def v2_playbook_on_start(self, playbook) -> None:
        self._playbook = os.path.basename(playbook._file_name)

    def _task_done(self) -> None:
        if self._task_name:
            seconds = time.monotonic() - self._task_t0
            self._durations[self._task_name] = self._durations.get(self._task_name, 0.0) + seconds

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        self._task_done()
        self._task_name, self._task_t0 = task.get_name(), time.monotonic()

    def v2_playbook_on_handler_task_start(self, task) -> None:
        self.v2_playbook_on_task_start(task, False)

    def _record(self, result, changed: bool | None = None) -> None:
        host = result._host.get_name()
        self._hosts.add(host)
        if changed if changed is not None else result._result.get("changed", False):
            self._changed.setdefault(host, []).append(result._task.get_name())

    def v2_runner_on_ok(self, result) -> None:
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        if not ignore_errors:
            self._failed = True
        self._record(result)

    def v2_runner_item_on_ok(self, result) -> None:
        # loop items are summarised by v2_runner_on_ok of the whole task
        pass

    def v2_playbook_on_stats(self, stats) -> None:
        self._task_done()
        path = os.environ.get("VNFO_CHANGES_FILE")
        if not path:
            eph = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
            if not eph:
                return
            path = os.path.join(eph, "changes.jsonl")
        line = {
            "playbook": self._playbook,
            "check": bool(context.CLIARGS.get("check", False)),
            "changed": self._changed,
            "hosts": sorted(self._hosts),
            "failed": self._failed,
            "seconds": round(time.monotonic() - self._t0, 1),
            # wall time of the slowest tasks (all hosts of the task together)
            "slowest": [[name, round(sec, 1)] for name, sec in
                        sorted(self._durations.items(), key=lambda kv: -kv[1])[:10]],
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, sort_keys=True) + "\n")
