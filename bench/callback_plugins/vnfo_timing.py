# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark helper callback: per-task timings, results and the recap as JSON.

Enabled by the benchmarks and the reliability scenario only (ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=vnfo_timing); writes to the file named by VNFO_TIMING_FILE.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: vnfo_timing
type: aggregate
short_description: Write per-task durations, status and the play recap to a JSON file (benchmarks)
description:
  - Used by bench/ and the reliability scenario; not part of the collection's plugins.
requirements:
  - environment variable VNFO_TIMING_FILE
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vnfo_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.path = os.environ.get("VNFO_TIMING_FILE")
        self.tasks = []
        self.current = {}
        self.started = time.time()
        self.play = ""

    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()

    def _start(self, task, handler=False):
        self.current[task._uuid] = {"name": task.get_name(), "action": task.action, "handler": handler,
                                    "start": time.time()}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task, handler=True)

    def _end(self, result, status):
        task = result._task
        default = {"name": task.get_name(), "action": task.action, "start": self.started}
        info = self.current.get(task._uuid, default)
        res = result._result or {}
        self.tasks.append({"name": info["name"], "action": info["action"], "handler": info.get("handler", False),
                           "play": self.play,
                           "host": result._host.get_name(), "status": status,
                           "changed": bool(res.get("changed")),
                           "seconds": round(time.time() - info["start"], 3),
                           "module_seconds": res.get("elapsed_seconds"),  # modules that time their own body
                           "msg": str(res.get("msg", ""))[:2000] if status in ("failed", "unreachable") else ""})

    def v2_runner_on_ok(self, result):
        self._end(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._end(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._end(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        recap = {h: stats.summarize(h) for h in sorted(stats.processed.keys())}
        if self.path:
            with open(self.path, "w") as fh:
                json.dump({"tasks": self.tasks, "recap": recap, "seconds": round(time.time() - self.started, 3)},
                          fh, indent=1)
