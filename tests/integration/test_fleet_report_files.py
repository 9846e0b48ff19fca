# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.fleet_report_files through real ``ansible-playbook`` runs on localhost:
the report it returns is the report it writes, the task never reports a change, check mode builds
the report and writes nothing, and bad input fails with what to change, writing nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from ansible_env import ANSIBLE_PLAYBOOK, collections_path, playbook_env

RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", re.M)

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the report
      virtnet.failover.fleet_report_files:
{args}
      register: written
{task_keys}
    - name: Save what the task returned
      ansible.builtin.copy:
        content: "{{{{ written | to_json }}}}"
        dest: "{out}"
        mode: "0644"
      check_mode: false
"""

GOOD_ARGS = {
    "name": "fleet-report",
    "title": "Test report",
    "hosts": ["vm1", "vm2", "vm3"],
    "results": {"vm1": {"drift": [], "changed": False},
                "vm2": {"drift": [{"kind": "slave_name", "subject": "eth7", "expected": "enp2s0nsby",
                                   "actual": "eth7", "message": "renamed", "remedy": "rename it"}]}},
    "policy": {"standby_template": "{master}nsby"},
}


def run_play(tmp_path, args, check=False, task_keys=""):
    out = tmp_path / "returned.json"
    if out.exists():
        out.unlink()
    play = tmp_path / "play.yml"
    arg_lines = "\n".join("        %s: %s" % (k, json.dumps(v)) for k, v in args.items())
    play.write_text(PLAY.format(args=arg_lines, out=out, task_keys=task_keys))
    env = playbook_env(collections_path(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
           str(play)] + (["--check"] if check else [])
    proc = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    returned = json.loads(out.read_text()) if out.exists() else None
    (recap,) = [tuple(int(g) for g in m.groups()) for m in RECAP.finditer(proc.stdout)] or [None]
    return proc.returncode, output, returned, recap


def test_writes_the_report_it_returns_and_never_reports_changed(tmp_path):
    dest = tmp_path / "a" / "report"
    args = dict(GOOD_ARGS, dest=str(dest))
    rc, output, returned, recap = run_play(tmp_path, args)
    assert rc == 0, output[-3000:]
    assert returned["changed"] is False and recap[1] == 1  # only the copy of the test changed
    assert sorted(returned["written"]) == [str(dest / "fleet-report.json"), str(dest / "fleet-report.md")]
    report = returned["report"]
    assert json.loads((dest / "fleet-report.json").read_text()) == report
    assert report["title"] == "Test report" and report["policy"] == GOOD_ARGS["policy"]
    assert report["summary"]["hosts"] == 3 and report["summary"]["drift"] == 1
    assert [h["status"] for h in report["hosts"]] == ["ok", "drift", "unreachable"]  # vm3 gave no result
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["generated_at"])
    assert "# Test report" in (dest / "fleet-report.md").read_text()
    assert oct(os.stat(dest).st_mode & 0o777) == "0o755"
    assert oct(os.stat(dest / "fleet-report.md").st_mode & 0o777) == "0o644"

    # a second run: both files carry its own generated_at (a file whose content is the same is not
    # written again: test_report_files.py), and the task still reports no change
    rc, output, returned, recap = run_play(tmp_path, args)
    assert rc == 0, output[-3000:]
    assert returned["changed"] is False and recap[1] == 1
    assert json.loads((dest / "fleet-report.json").read_text()) == returned["report"]


def test_check_mode_builds_the_report_and_writes_nothing(tmp_path):
    dest = tmp_path / "report"
    rc, output, returned, recap = run_play(tmp_path, dict(GOOD_ARGS, dest=str(dest)), check=True)
    assert rc == 0, output[-3000:]
    assert not dest.exists()
    assert returned["written"] == [] and returned["changed"] is False
    assert returned["report"]["summary"]["drift"] == 1
    assert "nothing was written" in returned["msg"]


@pytest.mark.parametrize("change, text", [
    ({"dest": "relative/dir"}, "must be an absolute directory path"),
    ({"name": "../escape"}, "plain file name"),
    ({"results": "not a mapping"}, "results"),
    ({"facts": "not a mapping"}, "facts must be a mapping"),
    ({"bogus": 1}, "bogus"),
])
def test_bad_input_fails_with_what_to_change_and_writes_nothing(tmp_path, change, text):
    dest = tmp_path / "report"
    args = dict(GOOD_ARGS, dest=str(dest))
    args.update(change)
    rc, output, returned, recap = run_play(tmp_path, args, task_keys="      ignore_errors: true")
    assert rc == 0, output[-3000:]
    assert returned["failed"] is True and text in returned["msg"], returned
    assert not dest.exists() and not (tmp_path / "relative").exists()
