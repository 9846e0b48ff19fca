# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/host_command.run with real commands."""
from __future__ import annotations

from ansible_collections.virtnet.failover.plugins.module_utils import host_command


def test_output_written_just_before_exit_after_a_slow_start_is_read_whole():
    # the shape that loses output in ansible-core 2.19's run_command: nothing for over a
    # second (its select() times out), then output and exit at once
    script = "sleep 1.2; i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; echo err >&2"
    rc, out, err = host_command.run(["sh", "-c", script])
    assert rc == 0 and out.splitlines() == ["line%d" % i for i in range(2000)] and err == "err\n"


def test_c_locale_stdin_closed_and_exit_codes():
    rc, out, _err = host_command.run(["sh", "-c", "echo $LC_ALL $LANG; cat; exit 3"])
    assert (rc, out) == (3, "C C\n")  # stdin is /dev/null: cat ends at once
    rc, out, _err = host_command.run(["sh", "-c", "echo $LC_ALL"], env_update={"LC_ALL": "POSIX"})
    assert out == "POSIX\n"


def test_command_that_cannot_start_and_timeout():
    rc, out, err = host_command.run(["/nonexistent/vnfo-cmd", "x"])
    assert rc == 127 and out == "" and err.startswith("/nonexistent/vnfo-cmd: ")
    rc, _out, err = host_command.run(["sleep", "5"], timeout=0.3)
    assert rc == 124 and err == "timed out after 0.3s"
