# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM lab launcher: QEMU guests with a real virtio-net failover pair.

CLI (also usable as a library: up(), down(), down_all(), replug(), migrate(),
ssh(), status(), instance()):

    vm.py up NAME [--image IMAGE] [--memory 768] [--state-dir DIR]
        IMAGE: debian12, debian13, debian14 (image.py IMAGES), or IMAGE-converged
    vm.py down NAME | --all [--state-dir DIR]
    vm.py replug NAME [--no-wait-guest] [--state-dir DIR]
    vm.py migrate NAME [--primary-name N] [--no-probe] [--cancel-at STATE] [--fault dest-start]
    vm.py status [NAME] [--state-dir DIR]
    vm.py ssh NAME [--state-dir DIR] [-- CMD ...]
    vm.py ssh-config NAME [--state-dir DIR]

Each guest boots a qcow2 overlay of the cached image (see image.py) on a q35
machine.  Every NIC sits on its own pcie-root-port:

    rp1  standby  virtio-net-pci,id=standby0,failover=on      (guest enp1s0 / enp1s0nsby)
    rp2  primary  e1000e,id=primary0,failover_pair_id=standby0 (guest enp2s0), same MAC
    rp3  mgmt     virtio-net-pci, fixed MAC, hostfwd 127.0.0.1:PORT -> :22 (guest enp3s0)

All netdevs are QEMU user networking with restrict=on: no tap, no bridge,
no route out of the machine.  Acceleration is TCG (-accel tcg,tb-size=1024
-cpu max) unless VIRTNET_LAB_ACCEL=kvm (or auto) and a real boot under KVM
succeeded once on this host (verdict cached).

The state dir (default $VIRTNET_LAB_STATE_DIR or
${XDG_CACHE_HOME:-~/.cache}/virtnet-failover/vms) holds NAME/{overlay.qcow2,
qemu.pid, qmp.sock, instance.json} and logs/NAME.serial.log (the guest's
ttyS0, kept after down for post-mortems).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The launcher's library, one module a concern (each says what it does):
#   qemu_command  QEMU binary and version, acceleration (KVM probe), command line
#   qemu_process  start a QEMU on a free port, is it alive, stop it
#   qmp_client    QMP sessions, the failover primary plugged over QMP
#   boot_slots    host-wide admission control of boots
#   converged     the converged-snapshot cache (key, path, keep)
#   instances     state dir and records, up / down / status / ssh / qmp / save
#   guest_state   what a guest shows over SSH and on its console (guest/*.sh)
#   replug        re-plug of the primary over QMP
#   migration     live migration and its in-guest probe (guest/migration_probe*)
# This module is the CLI, and re-exports the public names of those modules so
# that `import vm` callers keep working. vm.QEMU is the binary read at import;
# the modules read qemu_command.QEMU when they run, so set that one to change it.
import image as lab_image  # noqa: E402
from boot_slots import BOOT_SLOTS, SLOT_DIR, boot_slot  # noqa: E402
from converged import CONVERGED_INPUTS, CONVERGED_SUFFIX, converged_key, converged_path  # noqa: E402
from guest_state import (GUEST_FAULT_RE, guest_failover_slaves, guest_health, guest_health_problem,  # noqa: E402
                         parse_guest_health, serial_faults)
from instances import (BOOT_TIMEOUT, SSH_OPTS, default_state_dir, down, down_all, instance, qmp,  # noqa: E402
                       require_running, save, ssh, ssh_argv, ssh_config, status, stop_migration_destination, up)
from lab_common import LabError  # noqa: E402
from migration import (CANCEL_BANDWIDTH, MIGRATION_BANDWIDTH, MIGRATION_FINAL, PROBE_ADDR, PROBE_GW,  # noqa: E402
                       PROBE_MARK, PROBE_TABLE, migrate)
from qemu_command import (FAILOVER_MAC, MIN_MIGRATION_QEMU, QEMU, TCG_CPU, TCG_TB_SIZE,  # noqa: E402
                          migration_qemu_problem, qemu_command, qemu_version)
from qmp_client import PRIMARY_DEVICE  # noqa: E402
from replug import replug  # noqa: E402

__all__ = [
    "BOOT_SLOTS", "BOOT_TIMEOUT", "CANCEL_BANDWIDTH", "CONVERGED_INPUTS", "CONVERGED_SUFFIX", "FAILOVER_MAC",
    "GUEST_FAULT_RE", "LabError", "MIGRATION_BANDWIDTH", "MIGRATION_FINAL", "MIN_MIGRATION_QEMU", "PRIMARY_DEVICE",
    "PROBE_ADDR", "PROBE_GW", "PROBE_MARK", "PROBE_TABLE", "QEMU", "SLOT_DIR", "SSH_OPTS", "TCG_CPU", "TCG_TB_SIZE",
    "boot_slot", "converged_key", "converged_path", "default_state_dir", "down", "down_all", "guest_failover_slaves",
    "guest_health", "guest_health_problem", "instance", "main", "migrate", "migration_qemu_problem",
    "parse_guest_health", "qemu_command", "qemu_version", "qmp", "replug", "require_running", "save",
    "serial_faults", "ssh", "ssh_argv", "ssh_config", "status", "stop_migration_destination", "up",
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", type=Path, default=None, help="instance state dir (default: %(default)s)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS)
    p = sub.add_parser("up", parents=[common], help="boot an instance and wait for SSH; prints JSON")
    p.add_argument("name")
    p.add_argument("--image", default="debian12",
                   choices=sorted(lab_image.IMAGES) + [i + CONVERGED_SUFFIX for i in sorted(lab_image.IMAGES)])
    p.add_argument("--memory", type=int, default=768, help="MiB (default 768)")
    p.add_argument("--timeout", type=float, default=BOOT_TIMEOUT)
    p = sub.add_parser("down", parents=[common], help="stop an instance, remove overlay and state")
    p.add_argument("name", nargs="?")
    p.add_argument("--all", action="store_true", help="every instance of the state dir")
    p = sub.add_parser("replug", parents=[common], help="QMP device_del + device_add of the primary")
    p.add_argument("name")
    p.add_argument("--no-wait-guest", action="store_true", help="do not wait for the guest to enslave it")
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("migrate", parents=[common],
                       help="live-migrate to a new QEMU on this host (the record then points at it); prints JSON")
    p.add_argument("name")
    p.add_argument("--primary-name", default=None,
                   help="wait until the guest has enslaved the new primary under this name")
    p.add_argument("--no-probe", action="store_true", help="no in-guest ping and primary timing")
    p.add_argument("--cancel-at", default=None, choices=["setup", "wait-unplug", "active", "device"],
                   help="fault: migrate_cancel when the source reaches this state")
    p.add_argument("--fault", default=None, choices=["dest-start"],
                   help="fault: the destination QEMU fails to start")
    p.add_argument("--timeout", type=float, default=300)
    p = sub.add_parser("save", parents=[common], help="power off and keep the disk as the converged snapshot")
    p.add_argument("name")
    p = sub.add_parser("status", parents=[common], help="JSON status (with peak RSS) of instances")
    p.add_argument("name", nargs="?")
    p = sub.add_parser("ssh", parents=[common], help="ssh into an instance: vm.py ssh NAME -- CMD")
    p.add_argument("name")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("ssh-config", parents=[common], help="print an ssh_config stanza")
    p.add_argument("name")
    p = sub.add_parser("qmp", parents=[common], help="run one QMP command: vm.py qmp NAME CMD [JSON-ARGS]")
    p.add_argument("name")
    p.add_argument("qmp_command")
    p.add_argument("arguments", nargs="?", default="{}")
    args = ap.parse_args(argv)
    sd = args.state_dir
    try:
        if args.cmd == "up":
            print(json.dumps(up(args.name, args.image, args.memory, sd, timeout=args.timeout), indent=2))
        elif args.cmd == "down":
            if args.all:
                down_all(sd)
            elif args.name:
                down(args.name, sd)
            else:
                ap.error("down needs NAME or --all")
        elif args.cmd == "replug":
            print(json.dumps(replug(args.name, sd, wait_guest=not args.no_wait_guest, timeout=args.timeout)))
        elif args.cmd == "migrate":
            print(json.dumps(migrate(args.name, sd, timeout=args.timeout, cancel_at=args.cancel_at, fault=args.fault,
                                     probe=not args.no_probe, primary_name=args.primary_name)))
        elif args.cmd == "status":
            print(json.dumps(status(args.name, sd), indent=2))
        elif args.cmd == "save":
            print(save(args.name, sd))
        elif args.cmd == "ssh":
            cmd = list(args.command)
            while cmd[:1] and cmd[0].startswith("--state-dir"):
                # REMAINDER swallowed an option written after NAME
                if "=" in cmd[0]:
                    sd = Path(cmd.pop(0).split("=", 1)[1])
                elif len(cmd) > 1:
                    cmd.pop(0)
                    sd = Path(cmd.pop(0))
                else:
                    break
            info = require_running(args.name, sd)
            cmd = cmd[1:] if cmd[:1] == ["--"] else cmd
            tty = not cmd and sys.stdin.isatty()
            os.execvp("ssh", ssh_argv(info, *cmd, tty=tty))
        elif args.cmd == "ssh-config":
            print(ssh_config(require_running(args.name, sd)), end="")
        elif args.cmd == "qmp":
            print(json.dumps(qmp(args.name, args.qmp_command, json.loads(args.arguments), sd), indent=2))
    except LabError as exc:
        print(f"vm.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
