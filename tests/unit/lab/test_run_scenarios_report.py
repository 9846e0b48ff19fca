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
