# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the scenario runner prints about a failed scenario: the failed tasks of its log."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "molecule" / "resources" / "lab"))
import run_scenarios  # noqa: E402

LOG = """\
TASK [virtnet.failover.kmod : Build the module] ********************************
ok: [d14-kmod]

TASK [virtnet.failover.kmod : Load it] *****************************************
fatal: [d14-kmod]: FAILED! => {"msg": "modprobe failed"}

RUNNING HANDLER [virtnet.failover.kmod : Reboot] *******************************
failed: [d14-kmod] (item=x) => {"msg": "timed out"}

PLAY RECAP *********************************************************************
"""


def test_failed_tasks_names_each_failed_task_and_its_message(tmp_path):
    log = tmp_path / "m.log"
    log.write_text(LOG)
    assert run_scenarios.failed_tasks(log).splitlines() == [
        "TASK [virtnet.failover.kmod : Load it]",
        'fatal: [d14-kmod]: FAILED! => {"msg": "modprobe failed"}',
        "RUNNING HANDLER [virtnet.failover.kmod : Reboot]",
        'failed: [d14-kmod] (item=x) => {"msg": "timed out"}',
    ]


def test_failed_tasks_says_so_when_the_log_has_none(tmp_path):
    log = tmp_path / "m.log"
    log.write_text("PLAY RECAP\n")
    assert run_scenarios.failed_tasks(log) == "(no failed task in the log)"
    assert run_scenarios.failed_tasks(tmp_path / "missing.log") == "(no log)"


def test_failed_tasks_keeps_the_last_ones_and_cuts_long_lines(tmp_path):
    log = tmp_path / "m.log"
    log.write_text("".join(f"TASK [t{i}] ***\nfatal: [h]: FAILED! => {'x' * 5000}\n" for i in range(20)))
    out = run_scenarios.failed_tasks(log, limit=3, width=100).splitlines()
    assert out[0] == "TASK [t17]" and out[-2] == "TASK [t19]"
    assert len(out) == 6 and all(len(line) <= 100 for line in out)


def polled_run(tmp_path, monkeypatch, clock):
    """A Run over tmp_path/m.log (no molecule process) whose polls see the times in clock."""
    log = tmp_path / "m.log"
    run = run_scenarios.Run.__new__(run_scenarios.Run)
    run.log, run.steps, run.tasks, run._read, run.last_action, run.end = log, [], [], 0, "starting", None
    ticks = iter(clock)
    monkeypatch.setattr(run_scenarios.time, "monotonic", lambda: next(ticks))
    return run, log


def test_step_times_follow_the_actions_molecule_starts(tmp_path, monkeypatch):
    """Each action lasts until the next one starts; the last one until the scenario ended."""
    run, log = polled_run(tmp_path, monkeypatch, [10.0, 25.0, 100.0])
    log.write_text("INFO     [s > create] Executing\nsome output\nINFO     [s > conv")
    assert run.action() == "create"
    with open(log, "a") as fh:
        fh.write("erge] Executing\n")
    assert run.action() == "converge"
    with open(log, "a") as fh:
        fh.write("INFO s ➜ verify: Executing\n")
    assert run.action() == "verify"
    run.end = 160.0
    assert run.step_times() == [("create", 15.0), ("converge", 75.0), ("verify", 60.0)]


def test_slowest_tasks_last_until_the_next_header(tmp_path, monkeypatch):
    run, log = polled_run(tmp_path, monkeypatch, [0.0, 5.0, 65.0])
    for chunk in ("INFO     [s > converge] Executing\n", "TASK [kmod : Build] ****\nok: [h]\n",
                  "RUNNING HANDLER [kmod : Reboot] ***\n"):
        with open(log, "a") as fh:
            fh.write(chunk)
        run.action()
    run.end = 95.0
    assert run.slowest_tasks(2) == [("TASK [kmod : Build] (converge)", 60.0),
                                    ("RUNNING HANDLER [kmod : Reboot] (converge)", 30.0)]


def test_fresh_dir_removes_what_an_interrupted_run_left(tmp_path):
    stale = tmp_path / "default"
    stale.mkdir()
    (stale / "changes.jsonl").write_text('{"check": true}\n')
    assert run_scenarios.fresh_dir(stale) == stale
    assert stale.is_dir() and not any(stale.iterdir())


def test_each_scenario_runs_in_its_own_empty_molecule_directory_mocked_popen(tmp_path, monkeypatch):
    # mocked: subprocess.Popen (no Molecule run); what is checked is the environment it is given
    seen = {}

    class FakePopen:  # pylint: disable=too-few-public-methods
        def __init__(self, argv, **kwargs):
            seen["argv"], seen["env"] = argv, kwargs["env"]

    monkeypatch.setattr(run_scenarios, "LOGS", tmp_path / "logs")
    monkeypatch.setattr(run_scenarios, "EPHEMERAL", tmp_path / "molecule")
    monkeypatch.setattr(run_scenarios.subprocess, "Popen", FakePopen)
    (tmp_path / "logs").mkdir()
    (tmp_path / "molecule" / "drift").mkdir(parents=True)
    (tmp_path / "molecule" / "drift" / "changes.jsonl").write_text("stale\n")
    run = run_scenarios.Run("drift", {"PATH": "/bin"})
    run.fh.close()
    assert seen["env"]["MOLECULE_EPHEMERAL_DIRECTORY"] == str(tmp_path / "molecule" / "drift")
    assert not (tmp_path / "molecule" / "drift" / "changes.jsonl").exists()
    assert seen["argv"][-3:] == ["test", "-s", "drift"]
