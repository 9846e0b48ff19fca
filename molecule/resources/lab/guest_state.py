# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a running lab guest shows over SSH (its failover slaves, boot id and
kernel faults; the scripts are in guest/) and on its serial console, and what
went wrong with it between two reads."""
from __future__ import annotations

import contextlib
import re
import subprocess

from instances import ssh_argv
from lab_common import guest_code

# What a migration that corrupted guest memory leaves: an Oops, a BUG, a
# warning, a lockup or a stall in the guest kernel's log, or a reboot (a
# panic reboots the guest, so its boot id changes and the Oops is only on
# the serial console).
GUEST_FAULT_RE = (r"Oops|\bBUG\b|WARNING:|general protection fault|Kernel panic|soft lockup|hard LOCKUP"
                  r"|rcu.*stall|list_(add|del) corruption|Call Trace")
IFF_UP = 0x1


def guest_failover_slaves(info: dict) -> list[dict]:
    """The guest's enslaved interfaces: name, driver and master of each."""
    r = subprocess.run(ssh_argv(info, guest_code("failover_slaves.sh")), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60, check=False)
    out = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.append({"name": parts[0], "driver": parts[1], "master": parts[2]})
    return out


def parse_guest_health(out: str) -> dict:
    """guest/health.sh's output: boot id, failover slaves (with their master's UP flag), kernel fault lines."""
    lines = out.splitlines()
    health: dict = {"boot_id": lines[0].strip() if lines else "", "faults": [], "slaves": []}
    for line in lines[1:]:
        kind, _sep, rest = line.partition(" ")
        if kind == "fault":
            health["faults"].append(rest)
        elif kind == "slave" and len(rest.split()) == 4:
            name, driver, master, flags = rest.split()
            with contextlib.suppress(ValueError):
                health["slaves"].append({"name": name, "driver": driver, "master": master,
                                         "master_up": bool(int(flags, 16) & IFF_UP)})
    return health


def guest_health(info: dict, timeout: float = 60) -> dict:
    """The guest's boot id, failover slaves and the fault lines of its kernel log, in one SSH call; boot_id
    is "" when the guest does not answer SSH."""
    try:
        r = subprocess.run(ssh_argv(info, guest_code("health.sh", FAULT_RE=GUEST_FAULT_RE)), capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return parse_guest_health("")
    return parse_guest_health(r.stdout if r.returncode == 0 else "")


def guest_health_problem(before: dict, after: dict) -> str:
    """What went wrong with the guest between two guest_health() reads, or ""."""
    if not after["boot_id"]:
        return "the guest did not answer SSH (a crashed guest panics and reboots)"
    if after["boot_id"] != before["boot_id"]:
        return (f"the guest rebooted (boot id {before['boot_id']} -> {after['boot_id']}): its kernel crashed, "
                "the Oops is in the serial log")
    old = before["faults"]
    new = after["faults"][len(old):] if after["faults"][:len(old)] == old else \
        [line for line in after["faults"] if line not in old]
    if new:
        return "the guest kernel logged: " + " | ".join(new[:10])
    return ""


def serial_faults(info: dict, offset: int, n: int = 20) -> list[str]:
    """The fault lines the guest wrote to its serial console since offset."""
    try:
        with open(info["serial_log"], "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
    except OSError:
        return []
    pat = re.compile(GUEST_FAULT_RE)
    return [line.strip() for line in text.splitlines() if pat.search(line)][:n]
