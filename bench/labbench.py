# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab-VM helpers shared by bench_rollout_cost.py and bench_converged.py.

A guest is booted with molecule/resources/lab/vm.py in a state dir of its own (so it never
collides with Molecule's or a teammate's guests) and always stopped at the end unless kept
on purpose (``--keep``).  Playbooks run against it over SSH with pipelining and
ControlPersist; the vnfo_timing callback (bench/callback_plugins) records per-task durations,
changes and the recap as JSON.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "molecule", "resources", "lab"))
sys.path.insert(0, HERE)

from benchlib import BIN, ansible_env, timed  # noqa: E402

STATE_DIR = os.environ.get("VNFO_BENCH_STATE_DIR", "/tmp/vnfo-bench-vms")
SKIP = 3  # exit status: could not run here (reason printed last)


def lab():
    import vm  # molecule/resources/lab/vm.py  pylint: disable=import-outside-toplevel
    return vm


def image_ready(image):
    try:
        import image as lab_image  # pylint: disable=import-outside-toplevel
        # IMAGE-converged boots the converged snapshot when there is one, the base image otherwise
        base = image[:-len("-converged")] if image.endswith("-converged") else image
        return (lab_image.image_dir(base) / "disk.qcow2").exists()
    except Exception:  # noqa: BLE001  pylint: disable=broad-except
        return False


def cannot_run(res, args):
    """SKIP, with RES written and the reason printed, when quick mode is on or
    the lab image ARGS.image is not built; None when the lab can run."""
    if args.quick:
        reason = "--quick (needs a lab VM)"
    elif not image_ready(args.image):
        reason = "lab image %s is not built (make images)" % args.image
    else:
        return None
    res.write(args.json)
    print("skipped: " + reason)
    return SKIP


def up(name, image="debian12"):
    return lab().up(name, image=image, state_dir=STATE_DIR)


def down(name):
    try:
        lab().down(name, state_dir=STATE_DIR)
    except Exception as exc:  # noqa: BLE001  pylint: disable=broad-except
        print("warning: could not stop %s: %s" % (name, exc))


def instance(name):
    return lab().instance(name, state_dir=STATE_DIR)


def guest(info, script, timeout=300):
    """Run a shell script on the guest; return stdout (raises on failure)."""
    argv = lab().ssh_argv(info, "sh", "-c", shlex.quote(script))
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError("guest command failed (%d): %s\n%s" % (proc.returncode, script, proc.stderr))
    return proc.stdout


def write_inventory(info, path, extra_hosts=None, **hostvars):
    host = {"ansible_host": info["address"], "ansible_port": info["port"], "ansible_user": "root",
            "ansible_ssh_private_key_file": info["identity_file"], "ansible_python_interpreter": "/usr/bin/python3"}
    host.update(hostvars)
    hosts = {info["name"]: host}
    hosts.update(extra_hosts or {})
    with open(path, "w") as fh:
        json.dump({"all": {"hosts": hosts, "vars": {"failover_become": False}}}, fh)
    return path


def ssh_env(timing_file=None, **extra):
    cp = os.path.join(tempfile.gettempdir(), "vnfo-bench-cp")
    os.makedirs(cp, exist_ok=True)
    env = ansible_env(
        ANSIBLE_PIPELINING="True",
        # ServerAliveInterval: a connection the guest dropped while it rebooted (QEMU user networking keeps
        # the host side open) fails in a minute instead of holding the reboot task until its timeout
        ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=600s -o ServerAliveInterval=15 "
                         "-o ServerAliveCountMax=4 -o UserKnownHostsFile=/dev/null "
                         "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
        ANSIBLE_SSH_CONTROL_PATH_DIR=cp, ANSIBLE_TIMEOUT="60",
        ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="vnfo_timing",
        **extra)
    if timing_file:
        env["VNFO_TIMING_FILE"] = timing_file
    return env


def run_playbook(playbook, inventory, workdir, extra_vars=None, check=False, tag="run", timeout=7200):
    """Run a playbook; return (wall, cpu, rc, timing dict, output)."""
    timing = os.path.join(workdir, "%s.timing.json" % tag)
    if os.path.exists(timing):
        os.remove(timing)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook]
    for k, v in (extra_vars or {}).items():
        cmd += ["-e", json.dumps({k: v})]
    if check:
        cmd.append("--check")
    wall, cpu, proc = timed(cmd, env=ssh_env(timing), timeout=timeout, cwd=workdir)
    data = {"tasks": [], "recap": {}}
    if os.path.exists(timing):
        with open(timing) as fh:
            data = json.load(fh)
    return wall, cpu, proc.returncode, data, proc.stdout + proc.stderr


# Tasks that run on the controller only (no module call on the guest).
CONTROLLER_ACTIONS = {
    "ansible.builtin.set_fact", "ansible.builtin.assert", "ansible.builtin.debug", "ansible.builtin.include_tasks",
    "ansible.builtin.include_role", "ansible.builtin.import_tasks", "ansible.builtin.meta", "ansible.builtin.fail",
    "ansible.builtin.include_vars", "ansible.builtin.set_stats", "ansible.builtin.validate_argument_spec",
    "set_fact", "assert", "debug", "include_tasks", "include_role", "meta", "fail", "include_vars", "set_stats",
    "validate_argument_spec",
    "virtnet.failover.fleet_report_files"}  # an action plugin that writes on the controller, no module run


def task_counts(timing, host):
    """(tasks walked, tasks run, module calls on the guest) of one host in a timing JSON."""
    mine = [t for t in timing.get("tasks", []) if t["host"] == host]
    ran = [t for t in mine if t["status"] != "skipped"]
    guest = [t for t in ran if t["action"] not in CONTROLLER_ACTIONS]
    return len(mine), len(ran), len(guest)


def slowest(timing, host, n=8):
    """The n slowest tasks of a host: 'name (action) 1.2 s'."""
    mine = sorted((t for t in timing.get("tasks", []) if t["host"] == host and t["status"] != "skipped"),
                  key=lambda t: -t["seconds"])[:n]
    return ["%s (%s) %.1f s" % (t["name"], t["action"].rsplit(".", 1)[-1], t["seconds"]) for t in mine]


def step_times(timing, host):
    """Seconds per rollout step (DKMS, initramfs, reboot, other) for one host from the timing JSON."""
    out = {"dkms": 0.0, "initramfs": 0.0, "reboot": 0.0, "other": 0.0}
    for t in timing.get("tasks", []):
        if t["host"] != host or t["status"] == "skipped":
            continue
        name = t["name"].lower()
        if t["action"].endswith("dkms") and t["action"] != "ansible.builtin.command":
            out["dkms"] += t["seconds"]
        elif "initramfs" in name and ("rebuild" in name or "update-initramfs" in name) and t["changed"]:
            out["initramfs"] += t["seconds"]
        elif t["action"] in ("ansible.builtin.reboot", "reboot"):
            out["reboot"] += t["seconds"]
        else:
            out["other"] += t["seconds"]
    return out
