# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migrate plumbing of the lab launcher (molecule/resources/lab/vm.py) without a guest:
the destination's QEMU command, the primary device, bad arguments, and a real
destination QEMU that fails to start leaving nothing behind."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "molecule" / "resources" / "lab"))
import vm  # noqa: E402


def _cmd(tmp_path, **kw):
    return vm.qemu_command(tmp_path, tmp_path / "o.qcow2", tmp_path / "s.log", 2222, 768, ["-accel", "tcg"], "t", **kw)


def test_destination_command_waits_for_incoming_with_its_own_files(tmp_path):
    cmd = _cmd(tmp_path, pidfile=tmp_path / "qemu.1.pid", qmp_socket=tmp_path / "qmp.1.sock",
               incoming="unix:/tmp/m.sock")
    assert cmd[cmd.index("-incoming") + 1] == "unix:/tmp/m.sock"
    assert "-S" not in cmd  # runs as soon as the migration completes
    assert cmd[cmd.index("-pidfile") + 1] == str(tmp_path / "qemu.1.pid")
    assert f"unix:{tmp_path / 'qmp.1.sock'},server=on,wait=off" in cmd
    assert any(a.endswith("append=on") for a in cmd if a.startswith("file,id=serial0"))


def test_source_command_starts_paused_with_the_default_files(tmp_path):
    cmd = _cmd(tmp_path)
    assert "-S" in cmd and "-incoming" not in cmd
    assert cmd[cmd.index("-pidfile") + 1] == str(tmp_path / "qemu.pid")


def test_primary_has_no_option_rom_and_pairs_with_the_standby():
    # with the e1000e option ROM the destination refuses: "Unknown ramblock"
    assert vm.PRIMARY_DEVICE["romfile"] == ""
    assert vm.PRIMARY_DEVICE["failover_pair_id"] == "standby0"


@pytest.mark.parametrize("kw, msg", [({"fault": "boom"}, "unknown fault"), ({"cancel_at": "later"}, "cancel_at")])
def test_bad_arguments_are_refused_before_anything_runs(tmp_path, kw, msg):
    with pytest.raises(vm.LabError, match=msg):
        vm.migrate("nothing-here", state_dir=tmp_path, **kw)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_instance_says_how_to_start_it(tmp_path):
    with pytest.raises(vm.LabError, match="vm.py up"):
        vm.migrate("nothing-here", state_dir=tmp_path)


@pytest.mark.skipif(not (shutil.which(vm.QEMU) and shutil.which("qemu-img")),
                    reason="needs qemu-system-x86_64 and qemu-img (tests/host-packages.txt)")
def test_real_destination_that_fails_to_start_leaves_nothing(tmp_path):
    overlay = tmp_path / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(overlay), "16M"], check=True)
    d = tmp_path / "g"
    d.mkdir()
    info = {"name": "g", "overlay": str(overlay), "serial_log": str(tmp_path / "s.log"), "memory": 64,
            "accel": "tcg"}
    dest = {"pidfile": str(d / "qemu.1.pid"), "qmp_socket": str(d / "qmp.1.sock"),
            "migration_socket": str(d / "migrate.1.sock"), "pid": None}
    try:
        with pytest.raises(vm.LabError, match="failed to start.*stays on the source"):
            vm._start_destination(info, d, dest, "dest-start")
        assert dest["pid"] is None
    finally:  # a destination that did start (a broken fault injection) is stopped here, not left running
        assert not vm._stop_migration_destination({"overlay": str(overlay), "migrating_to": dest})
    assert sorted(p.name for p in d.iterdir()) == []
