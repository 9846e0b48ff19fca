# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migrate plumbing of the lab launcher (molecule/resources/lab/vm.py, migration.py) without a guest:
the destination's QEMU command, the primary device, bad arguments, and a real
destination QEMU that fails to start leaving nothing behind."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "molecule" / "resources" / "lab"))
import instances  # noqa: E402
import migration  # noqa: E402
import qemu_command  # noqa: E402
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
            migration._start_destination(info, d, dest, "dest-start")
        assert dest["pid"] is None
    finally:  # a destination that did start (a broken fault injection) is stopped here, not left running
        assert not vm.stop_migration_destination({"overlay": str(overlay), "migrating_to": dest})
    assert sorted(p.name for p in d.iterdir()) == []


@pytest.mark.parametrize("version, refused", [((7, 2, 22), True), ((8, 2, 0), True), ((9, 0, 0), False),
                                              ((10, 0, 2), False)])
def test_qemu_older_than_9_is_refused_for_migration_with_the_remedy(version, refused):
    problem = vm.migration_qemu_problem(version)
    assert bool(problem) == refused
    if refused:
        assert "03bfc2188f06" in problem and "make setup" in problem and "bookworm-backports" in problem


def test_migrate_refuses_an_old_qemu_before_anything_runs(tmp_path, monkeypatch):
    fake = tmp_path / "qemu-7.2"
    fake.write_text("#!/bin/sh\necho 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)'\n")
    fake.chmod(0o755)
    d = tmp_path / "vms" / "g"
    d.mkdir(parents=True)
    monkeypatch.setattr(qemu_command, "QEMU", str(fake))
    monkeypatch.delenv("VIRTNET_LAB_ALLOW_LOSSY_MIGRATION", raising=False)
    with pytest.raises(vm.LabError, match="QEMU 7.2.22 loses guest writes.*make setup"):
        vm.migrate("g", state_dir=tmp_path / "vms")
    assert list(d.iterdir()) == []  # refused before the instance is even read


def test_migrate_refuses_a_destination_qemu_other_than_the_source_mocked_process(tmp_path, monkeypatch):
    """The instance's QEMU process is mocked (pid_alive): the check runs before anything is started."""
    monkeypatch.setattr(instances, "pid_alive", lambda pid, overlay: True)
    d = tmp_path / "vms" / "g"
    d.mkdir(parents=True)
    (d / "instance.json").write_text('{"name": "g", "pid": 1, "qemu": "/opt/other/qemu"}')
    monkeypatch.setattr(qemu_command, "QEMU", "qemu-system-x86_64")
    with pytest.raises(vm.LabError, match="same QEMU on both sides"):
        vm.migrate("g", state_dir=tmp_path / "vms")


def test_the_lab_qemu_is_new_enough_to_migrate():
    """make setup installs a QEMU >= 9.0 (bookworm-backports on Debian 12): the migration scenario needs it."""
    if not shutil.which(vm.QEMU):
        pytest.fail(f"{vm.QEMU} is missing: make setup installs it (tests/host-packages.txt)")
    assert vm.migration_qemu_problem(vm.qemu_version()) == ""


BOOT = {"boot_id": "b1", "faults": ["[    0.5] WARNING: old boot-time line"]}


@pytest.mark.parametrize("after, want", [
    ({"boot_id": "b1", "faults": BOOT["faults"]}, ""),
    ({"boot_id": "", "faults": []}, "did not answer SSH"),
    ({"boot_id": "b2", "faults": []}, "rebooted"),
    ({"boot_id": "b1", "faults": BOOT["faults"] + ["[  99.1] general protection fault: 0000 [#1]"]},
     "general protection fault"),
    # the ring buffer dropped the old line: only lines never seen count
    ({"boot_id": "b1", "faults": ["[  99.2] BUG: unable to handle page fault"]}, "BUG: unable"),
])
def test_guest_health_problem_names_what_a_migration_broke(after, want):
    problem = vm.guest_health_problem(BOOT, after)
    assert (want in problem) if want else problem == ""


@pytest.mark.parametrize("line, fault", [
    ("[ 12.3] Oops: general protection fault, probably for non-canonical address", True),
    ("[ 12.3] BUG: kernel NULL pointer dereference, address: 0000000000000008", True),
    ("[ 12.3] WARNING: CPU: 0 PID: 1 at kernel/time/timer.c:1700 __run_timers+0x1/0x2", True),
    ("[ 12.3] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!", True),
    ("[ 12.3] rcu: INFO: rcu_preempt self-detected stall on CPU", True),
    ("[ 12.3] Call Trace:", True),
    ("[ 12.3] virtio_net virtio0 enp1s0: failover primary slave:enp2s0 registered", False),
    ("[ 12.3] e1000e 0000:02:00.0 enp2s0: NIC Link is Up 1000 Mbps Full Duplex", False),
    ("[ 12.3] systemd[1]: DEBUG: something", False),
])
def test_the_fault_pattern_matches_kernel_faults_only(line, fault):
    assert bool(re.search(vm.GUEST_FAULT_RE, line)) == fault


def test_guest_health_output_is_parsed_into_boot_id_slaves_and_faults():
    out = ("2e126725-864b\n"
           "slave enp1s0nsby virtio_net enp1s0 0x1003\n"
           "slave enp1s0npri e1000e enp1s0 0x1002\n"
           "fault [  249.6] BUG: unable to handle page fault for address: 0000003a23fddc6a\n")
    h = vm.parse_guest_health(out)
    assert h["boot_id"] == "2e126725-864b"
    assert h["slaves"] == [
        {"name": "enp1s0nsby", "driver": "virtio_net", "master": "enp1s0", "master_up": True},
        {"name": "enp1s0npri", "driver": "e1000e", "master": "enp1s0", "master_up": False},
    ]
    assert h["faults"] == ["[  249.6] BUG: unable to handle page fault for address: 0000003a23fddc6a"]
    assert vm.parse_guest_health("") == {"boot_id": "", "faults": [], "slaves": []}


def _serial(tmp_path, *states):
    log = tmp_path / "serial.log"
    log.write_text("".join("%s primary %s %s\n" % (vm.PROBE_MARK, n, m) for n, m in states))
    return {"name": "g", "serial_log": str(log)}


def test_the_primary_counts_as_named_only_after_it_was_unplugged(tmp_path):
    """A probe line written before the unplug (a slow probe start) is not the migrated primary."""
    out = {"resumed_at_monotonic": time.monotonic()}
    info = _serial(tmp_path, ("enp1s0npri", "enp1s0"), ("-", "-"), ("eth0", "enp1s0"), ("enp1s0npri", "enp1s0"))
    migration._wait_primary_on_serial(info, 0, "enp1s0npri", 5, out)
    assert out["primary"] == "enp1s0npri" and "probe_error" not in out
    out = {"resumed_at_monotonic": time.monotonic()}
    migration._wait_primary_on_serial(_serial(tmp_path, ("enp1s0npri", "enp1s0")), 0, "enp1s0npri", 0.3, out)
    assert "primary" not in out and "not enslaved as enp1s0npri" in out["probe_error"]
