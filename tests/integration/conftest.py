# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the namespace integration tests (root, real netlink).

``lab``          a fresh network namespace (unique name), always deleted.
``ansible_run``  runs virtnet.failover modules through ansible-playbook
                 (connection: local, the venv's binaries) and returns the
                 registered results.
Set VIRTNET_PYROUTE2_PYTHONS to a colon-separated list of extra Python
interpreters (e.g. venvs with pyroute2 0.7.2 and 0.8.1) to run the
interpreter-parametrized tests with them as well.

A test whose prerequisites are missing (root, iproute2, dkms, kernel headers)
is skipped with the reason.  With VIRTNET_INTEGRATION_REQUIRED=1 (set by the
Makefile's integration target, so by make test) every such skip is reported
as a failure instead, with the same reason: the test command cannot pass
while the integration tier did not run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
from ansible_env import ANSIBLE_PLAYBOOK, collections_path, playbook_env  # noqa: E402
from netns_lab import created_lab  # noqa: E402


def pythons():
    extra = [p for p in os.environ.get("VIRTNET_PYROUTE2_PYTHONS", "").split(":") if p]
    return [sys.executable] + extra


REQUIRED = os.environ.get("VIRTNET_INTEGRATION_REQUIRED") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under VIRTNET_INTEGRATION_REQUIRED=1 a skip is a failure that names its reason."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRED and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = ("%s: skipped, but VIRTNET_INTEGRATION_REQUIRED=1 (make test) needs every integration "
                           "test to run. %s. Run as root after make setup (tests/host-packages.txt), or run "
                           "pytest without VIRTNET_INTEGRATION_REQUIRED to allow skips." % (item.nodeid, reason))


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0 or not shutil.which("ip"):
        skip = pytest.mark.skip(reason="namespace integration tests need root and iproute2 (ip)")
        for item in items:
            item.add_marker(skip)


@pytest.fixture
def lab():
    yield from created_lab("vnfot")


class AnsibleRunner:
    """Runs module tasks in one playbook; each task's registered result is returned."""

    def __init__(self, python=sys.executable):
        self.python = python
        self.last_stdout = ""

    def many(self, tasks):
        """tasks: list of dicts {module, args, check, diff}; returns list of results."""
        tmp = tempfile.mkdtemp(prefix="vnfo-play-")
        try:
            play_tasks = []
            for n, task in enumerate(tasks):
                play_tasks.append({
                    "name": "Task %d" % n,
                    task["module"]: task.get("args") or {},
                    "register": "r%d" % n,
                    "ignore_errors": True,
                    "check_mode": bool(task.get("check")),
                    "diff": bool(task.get("diff")),
                })
            out = os.path.join(tmp, "results.json")
            play_tasks.append({
                "name": "Save the results",
                "ansible.builtin.copy": {"content": "{{ [%s] | to_json }}" % ", ".join("r%d" % n for n in range(len(tasks))),
                                         "dest": out, "mode": "0600"},
                "check_mode": False,
                "diff": False,
            })
            play = [{"name": "virtnet.failover integration", "hosts": "localhost", "connection": "local",
                     "gather_facts": False, "vars": {"ansible_python_interpreter": self.python},
                     "tasks": play_tasks}]
            path = os.path.join(tmp, "play.yml")
            with open(path, "w") as fh:
                json.dump(play, fh)  # JSON is YAML
            env = playbook_env(collections_path(), ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
            proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", path], env=env,
                                  capture_output=True, text=True, timeout=600, check=False)
            self.last_stdout = proc.stdout + proc.stderr
            if not os.path.exists(out):
                raise AssertionError("the playbook produced no results:\n%s" % self.last_stdout[-4000:])
            with open(out) as fh:
                results = json.load(fh)
            return results
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def one(self, module, args=None, check=False, diff=False):
        return self.many([{"module": module, "args": args, "check": check, "diff": diff}])[0]

    def info(self, **args):
        return self.one("virtnet.failover.failover_info", args)

    def slave_name(self, check=False, diff=False, **args):
        return self.one("virtnet.failover.failover_slave_name", args, check=check, diff=diff)


@pytest.fixture
def ansible_run():
    return AnsibleRunner()


@pytest.fixture(params=pythons(), ids=lambda p: "python=" + p)
def ansible_any_python(request):
    return AnsibleRunner(request.param)
