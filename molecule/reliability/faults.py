# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability faults on one lab guest (Debian 12), driven from the controller.

Each case injects a fault into a real rollout (``playbooks/rollout.yml`` run as a subprocess
against the guest, SSH pipelining + ControlPersist), then asserts that nothing is lost and that
a rerun converges.  The guest is reused across the cases, in this order:

1. kill_compiler   the compiler (cc1) SIGKILLed inside the guest in the middle of the DKMS build:
                   the rollout fails at the DKMS step with the compiler's death in its message,
                   before modprobe.d or the initramfs; drift names the missing build.
2. build_failure   a compiler that fails (wrappers first in PATH): the rollout fails at the DKMS
                   step before touching modprobe.d or the initramfs; after a reboot the stock
                   module still runs the failover pair (so the half-done build of case 1 costs
                   the guest nothing either).
3. power_cut       QMP system_reset (no sync, a power cut) of the guest in the middle of the
                   rerun's update-initramfs: the guest boots with its network, every initramfs
                   is readable, and drift names what is half-done.
4. reboot_timeout  the rerun reboots the guest; QMP `stop` pauses it once the serial console
                   shows the reboot (no reboot seen: no pause, the case fails),
                   kmod_reboot_timeout is 30 s (the reboot task is stopped after 2 x 30 + 120 s):
                   the failed task is the reboot handler and its own message names the timeout;
                   batch 2 (a second inventory alias of the guest) never starts.  QMP `cont`.
5. converge        a rerun with the roles forced (failover_rollout_force) converges and the
                   guest runs the patched module with a working failover pair; a further
                   plain rerun takes the fast path (report: already converged), changes
                   nothing, and the drift check is clean.
6. kernel_update   install the second kernel baked into the image (/root/kernel-update/*.deb;
                   an image without it fails the case):
                   DKMS builds for it (AUTOINSTALL), drift is clean; removing that build makes
                   the drift check report dkms_next_kernel for it (exit 2) and changes nothing.

Writes a JSON report (cases, assertions, seconds) to --report.  Exit 1 on the first failed
assertion (the message says which), 0 when every case passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "molecule", "resources", "lab"))
import vm  # noqa: E402  pylint: disable=wrong-import-position,import-error

BIN = os.path.dirname(sys.executable)
ROLLOUT = os.path.join(ROOT, "playbooks", "rollout.yml")
DRIFT = os.path.join(ROOT, "playbooks", "drift.yml")
CALLBACKS = os.path.join(ROOT, "bench", "callback_plugins")
# cc1 compiling the module's own source (the DKMS build tree's failover.c), not kbuild's cc-option probes
GUEST_COMPILE = r"[c]c1 .*failover\.c"
WRAPPED = ("gcc", "cc", "gcc-12", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-gcc-12")
STANDIN = "rel-batch2"
REBOOT_HANDLER = "Reboot to load the wanted failover module"  # roles/kmod/handlers/main.yml
REBOOT_MARKERS = ("Restarting system", "SYSLINUX")  # kernel reboot line; boot loader of the next boot


def is_reboot_handler(task: dict) -> bool:
    """True for the kmod role's reboot handler in the timing callback's task list.

    The callback names a role's task "ROLE : NAME" (virtnet.failover.kmod : Reboot to ...)."""
    return (bool(task.get("handler")) and task.get("name", "").rpartition(" : ")[2] == REBOOT_HANDLER
            and task.get("action", "").endswith("reboot"))


class CaseFailed(AssertionError):
    pass


def kill_tree(pid):
    """SIGKILL pid and every descendant (Ansible's workers start sessions of their own, so a
    process-group kill would miss them): what a cancelled CI job or an OOM kill does."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    todo, tree = [pid], []
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return tree


class Driver:
    def __init__(self, name, state_dir, workdir):
        self.name = name
        self.state_dir = state_dir
        self.info = vm.instance(name, state_dir=state_dir)
        if not self.info:
            raise SystemExit("no lab instance %s in %s" % (name, state_dir))
        self.work = workdir
        self.report = {"guest": name, "cases": [], "started": time.time()}
        self.case = None
        self.proc = None

    # ------------------------------------------------------------------ plumbing
    def sh(self, script, timeout=600, check=True):
        argv = vm.ssh_argv(self.info, "sh", "-c", shlex.quote(script))
        for _attempt in range(6):  # ssh itself fails with 255 (e.g. banner timeout on a loaded host)
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
            if proc.returncode != 255:
                break
            time.sleep(5)
        if check and proc.returncode != 0:
            raise CaseFailed("guest command failed (%d): %s\n%s" % (proc.returncode, script, proc.stderr[-2000:]))
        return proc.stdout

    def check(self, what, ok, detail=""):
        self.case["assertions"].append({"what": what, "ok": bool(ok), "detail": str(detail)[:500]})
        print("  [%s] %s%s" % ("ok" if ok else "FAIL", what, (" -- " + str(detail)[:300]) if not ok and detail else ""),
              flush=True)
        if not ok:
            raise CaseFailed("%s: %s (%s)" % (self.case["name"], what, detail))

    def inventory(self, standin=False, **hostvars):
        host = {"ansible_host": self.info["address"], "ansible_port": self.info["port"], "ansible_user": "root",
                "ansible_ssh_private_key_file": self.info["identity_file"],
                "ansible_python_interpreter": "/usr/bin/python3"}
        host.update(hostvars)
        hosts = {self.name: host}
        if standin:
            hosts[STANDIN] = dict(host)
        path = os.path.join(self.work, "inventory-%s.json" % ("2" if standin else "1"))
        with open(path, "w") as fh:
            json.dump({"all": {"hosts": hosts, "vars": {"failover_become": False}}}, fh)
        return path

    def env(self, timing):
        cp = os.path.join(tempfile.gettempdir(), "vnfo-rel-cp")
        os.makedirs(cp, exist_ok=True)
        return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
                    ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                    ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_RETRY_FILES_ENABLED="false",
                    ANSIBLE_PIPELINING="True", ANSIBLE_TIMEOUT="60", ANSIBLE_SSH_CONTROL_PATH_DIR=cp,
                    ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=600s -o UserKnownHostsFile=/dev/null "
                                     "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
                    ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="vnfo_timing",
                    VNFO_TIMING_FILE=timing, PYTHONUNBUFFERED="1", PATH=BIN + os.pathsep + os.environ.get("PATH", ""))

    def playbook(self, playbook, inventory, extra=None, kill_when=None, on_line=None, timeout=3600, tag="run",
                 then=None):
        """Run a playbook as a subprocess (own process group).

        kill_when: a guest shell test polled every second; when it succeeds, then() is called
        (if given) and the whole ansible-playbook process tree gets SIGKILL.
        on_line: callback per output line.  Returns dict(rc, killed, seconds, output, timing).
        """
        timing = os.path.join(self.work, "%s.timing.json" % tag)
        if os.path.exists(timing):
            os.remove(timing)
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook,
               "-e", json.dumps(dict({"failover_report_dir": os.path.join(self.work, "report")}, **(extra or {})))]
        t0 = time.monotonic()
        log = open(os.path.join(self.work, "%s.log" % tag), "w+")  # pylint: disable=consider-using-with
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=self.env(timing), start_new_session=True)
        self.proc = proc

        def reader():
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if on_line:
                    on_line(line.rstrip("\n"))

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        killed = None
        last_poll = 0.0
        while proc.poll() is None:
            if kill_when and time.monotonic() - last_poll > 1.0:
                last_poll = time.monotonic()
                try:
                    out = subprocess.run(vm.ssh_argv(self.info, "sh", "-c", shlex.quote(kill_when)),
                                         capture_output=True, text=True, timeout=60, check=False)
                except subprocess.TimeoutExpired:
                    continue
                if out.returncode == 0:
                    killed = time.monotonic() - t0
                    if then:
                        then()
                    kill_tree(proc.pid)
                    proc.wait()
                    break
            if time.monotonic() - t0 > timeout:
                kill_tree(proc.pid)
                raise CaseFailed("%s did not finish within %d s" % (playbook, timeout))
            time.sleep(0.3)
        thread.join(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
        data = {}
        if os.path.exists(timing):
            with open(timing) as fh:
                data = json.load(fh)
        return {"rc": proc.returncode, "killed": killed, "seconds": round(time.monotonic() - t0, 1),
                "output": output, "timing": data}

    def drift_items(self):
        """This guest's drift items in the fleet report of the last drift run."""
        report = os.path.join(self.work, "report", "fleet-report.json")
        if not os.path.exists(report):
            return []
        with open(report) as fh:
            hosts = json.load(fh).get("hosts", [])
        return [i for h in hosts if h.get("host") == self.name for i in h.get("drift") or []]

    def drift_kinds(self, tag):
        """Run the drift check; (rc, sorted kinds of this guest's items, items)."""
        run = self.playbook(DRIFT, self.inventory(), tag=tag)
        items = self.drift_items()
        return run["rc"], sorted({i["kind"] for i in items}), items

    def failed_task(self, run):
        """The first failed task of this guest in a run (the timing callback's record), or {}."""
        failed = [t for t in run["timing"].get("tasks", []) if t["status"] == "failed" and t["host"] == self.name]
        return failed[0] if failed else {}

    def wait_quiet(self, pattern, timeout=900):
        """Wait until no guest process matches pattern (a killed run's remote step may go on)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.sh("pgrep -f %s >/dev/null && echo busy || echo quiet" % shlex.quote(pattern),
                       check=False).strip() == "quiet":
                return round(time.monotonic() - t0, 1)
            time.sleep(2)
        raise CaseFailed("guest still runs %s after %d s" % (pattern, timeout))

    def wait_reboot(self, old_boot_id, timeout=900):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            try:
                out = subprocess.run(vm.ssh_argv(self.info, "cat", "/proc/sys/kernel/random/boot_id"),
                                     capture_output=True, text=True, timeout=30, check=False)
            except subprocess.TimeoutExpired:
                continue
            if out.returncode == 0 and out.stdout.strip() and out.stdout.strip() != old_boot_id:
                return round(time.monotonic() - t0, 1)
            time.sleep(3)
        raise CaseFailed("guest did not come back within %d s" % timeout)

    # ------------------------------------------------------------------ guest state
    def state(self):
        script = r"""
set +e
echo "modprobe=$(sha256sum /etc/modprobe.d/virtnet-failover.conf 2>/dev/null | cut -c1-16)"
for f in /boot/initrd.img-*; do echo "initrd $f $(sha256sum "$f" | cut -c1-16)"; done
echo "param_live_rename=$(cat /sys/module/failover/parameters/live_rename 2>/dev/null || echo stock)"
echo "param_slave_rename_ok=$(cat /sys/module/failover/parameters/slave_rename_ok 2>/dev/null || echo none)"
echo "master_driver=$(ethtool -i enp1s0 2>/dev/null | sed -n 's/^driver: //p')"
echo "slaves=$(ls /sys/class/net/enp1s0/ 2>/dev/null | sed -n 's/^lower_//p' | sort | tr '\n' ',')"
echo "dkms=$(dkms status -m virtnet-failover 2>/dev/null | tr '\n' ';')"
echo "kernel=$(uname -r)"
echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
"""
        out = {}
        for line in self.sh(script).splitlines():
            if line.startswith("initrd "):
                _i, path, digest = line.split(" ", 2)
                out.setdefault("initrd", {})[path] = digest
            elif "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
        return out

    def assert_pair(self, st, patched=None):
        self.check("failover master enp1s0 runs net_failover", st.get("master_driver") == "net_failover", st)
        slaves = [s for s in st.get("slaves", "").split(",") if s]
        self.check("the failover pair has both slaves (standby + primary)", len(slaves) == 2, slaves)
        if patched is True:
            self.check("the patched module is loaded (live_rename=flag)", st.get("param_live_rename") == "flag", st)
        elif patched is False:
            self.check("the stock module is loaded", st.get("param_live_rename") == "stock", st)

    def begin(self, name, what):
        print("\n== case %s: %s" % (name, what), flush=True)
        self.case = {"name": name, "what": what, "assertions": [], "start": time.monotonic()}

    def end(self, **extra):
        self.case["seconds"] = round(time.monotonic() - self.case.pop("start"), 1)
        self.case.update(extra)
        self.report["cases"].append(self.case)
        print("  -> %s passed in %.0f s" % (self.case["name"], self.case["seconds"]), flush=True)

    # ------------------------------------------------------------------ cases
    def build_failure(self):
        self.begin("build_failure", "DKMS build fails (failing compiler first in PATH)")
        before = self.state()
        self.assert_pair(before, patched=False)
        wrappers = "; ".join("printf '#!/bin/sh\\necho vnfo: injected compiler failure >&2\\nexit 1\\n' "
                             "> /usr/local/bin/%s; chmod 755 /usr/local/bin/%s" % (w, w) for w in WRAPPED)
        self.sh(wrappers)
        try:
            run = self.playbook(ROLLOUT, self.inventory(), {"failover_reboot": "if_needed"}, tag="build_failure")
        finally:
            self.sh("rm -f " + " ".join("/usr/local/bin/%s" % w for w in WRAPPED))
        self.check("the rollout fails", run["rc"] != 0, run["rc"])
        failed = self.failed_task(run)
        self.check("the failing task is the DKMS build", "dkms" in failed.get("action", ""), failed)
        self.check("the message carries the build log (the injected compiler failure)",
                   "injected compiler failure" in failed.get("msg", ""), failed.get("msg", "")[-600:])
        after = self.state()
        self.check("modprobe.d untouched", after.get("modprobe") == before.get("modprobe"),
                   (before.get("modprobe"), after.get("modprobe")))
        self.check("initramfs untouched", after.get("initrd") == before.get("initrd"))
        self.assert_pair(after, patched=False)
        boot = after["boot_id"]
        self.sh("systemctl reboot", check=False)
        secs = self.wait_reboot(boot)
        after_boot = self.state()
        self.assert_pair(after_boot, patched=False)
        self.end(rollout_seconds=run["seconds"], reboot_seconds=secs)

    def kill_compiler(self):
        self.begin("kill_compiler", "the compiler (cc1) SIGKILLed inside the guest in the middle of the DKMS build")
        before = self.state()
        self.assert_pair(before, patched=False)
        # A watcher inside the guest (a poll over SSH is too slow for one compile under TCG): it SIGKILLs
        # the compiler of the module's own source, once, then leaves the time in a marker file.
        marker = "/tmp/vnfo-cc1-killed"
        watch = ("while ! pkill -KILL -f %s; do sleep 0.3; done; date +%%s > %s"
                 % (shlex.quote(GUEST_COMPILE), marker))
        self.sh("rm -f %s; setsid timeout 1800 sh -c %s >/dev/null 2>&1 </dev/null &" % (marker, shlex.quote(watch)))
        try:
            run = self.playbook(ROLLOUT, self.inventory(), {"failover_reboot": "if_needed"}, tag="kill_compiler")
        finally:
            self.sh("pkill -f %s || true" % shlex.quote("[w]hile ! pkill -KILL -f"), check=False)
        killed = self.sh("cat %s 2>/dev/null || true" % marker).strip()
        self.check("cc1 compiling the module was SIGKILLed inside the guest while the rollout ran", killed, run["rc"])
        self.check("the rollout fails", run["rc"] != 0, run["rc"])
        failed = self.failed_task(run)
        self.check("the failing task is the DKMS build", "dkms" in failed.get("action", ""), failed)
        self.check("its message carries the build log with the compiler's death (gcc: Killed signal)",
                   "terminated program cc1" in failed.get("msg", ""), failed.get("msg", "")[-600:])
        after = self.state()
        self.check("modprobe.d untouched", after.get("modprobe") == before.get("modprobe"),
                   (before.get("modprobe"), after.get("modprobe")))
        self.check("initramfs untouched", after.get("initrd") == before.get("initrd"))
        self.assert_pair(after, patched=False)
        self.check("no DKMS build of the running kernel is installed", "installed" not in after.get("dkms", ""),
                   after.get("dkms"))
        rc, kinds, items = self.drift_kinds("drift_kill_compiler")
        self.check("drift fails (exit 2) and names the missing build of the running kernel",
                   rc == 2 and "dkms_running_kernel" in kinds, (rc, kinds))
        self.check("... and exactly the state of a host the rollout has not reached: no build, the stock "
                   "module, no option file, slave names not yet the policy's",
                   kinds == ["dkms_running_kernel", "modprobe_file", "module_not_patched", "slave_name"], kinds)
        self.end(rollout_seconds=run["seconds"], drift_kinds=kinds,
                 dkms_after=after.get("dkms"))

    def power_cut(self):
        self.begin("power_cut", "power cut (QMP system_reset, no sync) in the middle of update-initramfs")
        before = self.state()
        cut = {}

        def reset():
            vm.qmp(self.name, "system_reset", state_dir=self.state_dir)
            cut["t"] = time.monotonic()

        run = self.playbook(ROLLOUT, self.inventory(), {"failover_reboot": "if_needed"}, tag="power_cut",
                            kill_when="pgrep -f '[m]kinitramfs|[u]pdate-initramfs' >/dev/null", then=reset)
        self.check("the guest was reset while update-initramfs ran", run["killed"] is not None and "t" in cut,
                   run["rc"])
        secs = self.wait_reboot(before["boot_id"])
        after = self.state()
        self.assert_pair(after)
        # update-initramfs writes /boot/initrd.img-KERNEL.new and renames it when done: a cut leaves
        # that temporary file behind (empty or partial), never a broken image of an installed kernel
        bad = self.sh("for k in $(ls /lib/modules); do f=/boot/initrd.img-$k; "
                      "lsinitramfs \"$f\" >/dev/null 2>&1 || echo \"$f\"; done").split()
        self.check("the initramfs of every installed kernel is readable", not bad, bad)
        leftover = self.sh("ls /boot/initrd.img-*.new 2>/dev/null || true").split()
        rc, kinds, items = self.drift_kinds("drift_power_cut")
        # the initramfs was never replaced; the rest depends on what the page cache lost and on the
        # steps the rollout had not reached (the slave_names role comes after the kmod role)
        half_done = {"initramfs", "module_not_patched", "dkms_running_kernel", "modprobe_file", "param_value",
                     "slave_name"}
        self.check("drift fails (exit 2), names the stale initramfs and nothing the rollout could not have left",
                   rc == 2 and "initramfs" in kinds and set(kinds) <= half_done, (rc, kinds))
        self.end(cut_after=round(run["killed"], 1), boot_seconds=secs, drift_kinds=kinds, leftover=leftover,
                 loaded=after.get("param_live_rename"), dkms_after=after.get("dkms"))

    def reboot_timeout(self):
        self.begin("reboot_timeout", "guest paused (QMP stop) right after the reboot starts, small timeout")
        inv = self.inventory(standin=True, kmod_reboot_timeout=30)
        paused = {}
        serial = self.info.get("serial_log")

        def pause_when_rebooting():
            # Right after the reboot starts: the kernel's "reboot: Restarting system" (or the
            # boot loader banner of the next boot) appears on the serial console.  No marker
            # within 300 s: no pause at all (the case then fails on "paused during the reboot").
            if not serial or not os.path.exists(serial):
                paused["no_marker"] = "no serial log %r" % serial
                return
            offset = os.path.getsize(serial)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 300:
                with open(serial, "rb") as fh:
                    fh.seek(offset)
                    new = fh.read().decode("utf-8", "replace")
                found = [m for m in REBOOT_MARKERS if m in new]
                if found:
                    paused["marker"] = found[0]
                    break
                time.sleep(0.2)
            else:
                paused["no_marker"] = "no %s on the serial console within 300 s" % " / ".join(REBOOT_MARKERS)
                return
            vm.qmp(self.name, "stop", state_dir=self.state_dir)
            paused["t"] = time.monotonic()
            paused["waited"] = round(time.monotonic() - t0, 1)
            print("  (guest paused through QMP stop, %.1f s after the reboot handler started)" % paused["waited"],
                  flush=True)

        def on_line(line):
            if REBOOT_HANDLER in line and "thread" not in paused:
                paused["thread"] = threading.Thread(target=pause_when_rebooting, daemon=True)
                paused["thread"].start()

        boot = self.state()["boot_id"]
        try:
            run = self.playbook(ROLLOUT, inv, {"failover_reboot": "if_needed", "failover_rollout_serial": 1},
                                on_line=on_line, tag="reboot_timeout")
        finally:
            if "thread" in paused:
                paused["thread"].join(timeout=330)
            if "t" in paused:
                vm.qmp(self.name, "cont", state_dir=self.state_dir)
        self.check("the reboot handler started (its banner in the output)", "thread" in paused)
        self.check("the guest was paused during the reboot (QMP stop after the serial console showed %s)"
                   % " / ".join(REBOOT_MARKERS), "t" in paused and paused.get("marker"),
                   paused.get("no_marker", paused))
        self.check("the rollout fails", run["rc"] != 0, run["rc"])
        failed = [t for t in run["timing"].get("tasks", []) if t["status"] in ("failed", "unreachable")
                  and t["host"] == self.name]
        self.check("the failed task is the reboot handler", failed and is_reboot_handler(failed[0]),
                   [(t["name"], t["action"], t["handler"]) for t in failed])
        limit = 2 * 30 + 120
        self.check("the reboot handler's own message names the timeout",
                   "Timed out after %d second" % limit in failed[0]["msg"]
                   or "(timeout=30)" in failed[0]["msg"] and "Timed out waiting for" in failed[0]["msg"],
                   failed[0]["msg"][:300])
        batch2 = [t["name"] for t in run["timing"].get("tasks", []) if t["host"] == STANDIN
                  and t.get("play") == "Roll out in batches"]
        batch1 = [t["name"] for t in run["timing"].get("tasks", []) if t["host"] == self.name
                  and t.get("play") == "Roll out in batches"]
        self.check("batch 1 (%s) ran" % self.name, bool(batch1))
        self.check("batch 2 (%s) did not start" % STANDIN, not batch2, batch2)
        secs = self.wait_reboot(boot)
        self.end(rollout_seconds=run["seconds"], resumed_reboot_seconds=secs, paused_after=paused.get("waited"))

    def converge(self):
        self.begin("converge", "rerun (roles forced) converges; the guest runs the patched module with a working pair")
        run = self.playbook(ROLLOUT, self.inventory(), {"failover_reboot": "if_needed", "failover_rollout_force": True},
                            tag="converge")
        self.check("the rerun succeeds", run["rc"] == 0, run["output"][-2000:])
        st = self.state()
        self.assert_pair(st, patched=True)
        self.check("slave_rename_ok=Y", st.get("param_slave_rename_ok") == "Y", st)
        again = self.playbook(ROLLOUT, self.inventory(), {"failover_reboot": "if_needed"}, tag="converge2")
        changed = again["timing"].get("recap", {}).get(self.name, {}).get("changed")
        self.check("a further rerun changes nothing", again["rc"] == 0 and changed == 0,
                   [t["name"] for t in again["timing"].get("tasks", []) if t["changed"] and t["host"] == self.name])
        report = os.path.join(self.work, "report", "rollout-report.json")
        hosts = json.load(open(report))["hosts"] if os.path.exists(report) else []
        self.check("the further rerun took the fast path (report: already converged)",
                   [h.get("status") for h in hosts] == ["ok"] and "already converged" in hosts[0].get("message", ""),
                   hosts)
        drift = self.playbook(DRIFT, self.inventory(), tag="drift_clean")
        self.check("drift reports the guest clean", drift["rc"] == 0, drift["output"][-1500:])
        self.end(rollout_seconds=run["seconds"], rerun_seconds=again["seconds"], drift_seconds=drift["seconds"])

    def kernel_update(self):
        self.begin("kernel_update", "second kernel installed: DKMS AUTOINSTALL, drift sees a removed build")
        debs = self.sh("ls /root/kernel-update/*.deb 2>/dev/null || true").split()
        self.check("the image carries the second kernel (/root/kernel-update/*.deb, baked by image.py); "
                   "rebuild the image (make images) if it is missing", bool(debs), debs)
        running = self.state()["kernel"]
        self.sh("DEBIAN_FRONTEND=noninteractive dpkg -i /root/kernel-update/*.deb >/tmp/vnfo-kupdate.log 2>&1 "
                "|| { tail -40 /tmp/vnfo-kupdate.log; exit 1; }", timeout=3600)
        new = self.sh("ls /lib/modules | grep -vx %s | sort -V | tail -1" % shlex.quote(running)).strip()
        self.check("a second kernel is installed", bool(new) and new != running, new)
        status = self.sh("dkms status -m virtnet-failover -k %s" % shlex.quote(new))
        self.check("DKMS built and installed the module for %s (AUTOINSTALL)" % new, "installed" in status, status)
        drift = self.playbook(DRIFT, self.inventory(), tag="drift_kupdate")
        self.check("drift is clean with the build present", drift["rc"] == 0, drift["output"][-1500:])
        version = self.sh("sed -n 's/^PACKAGE_VERSION=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}$/\\1/p' "
                          "/usr/src/virtnet-failover-*/dkms.conf | head -1").strip()
        self.sh("dkms remove virtnet-failover/%s -k %s" % (shlex.quote(version), shlex.quote(new)))
        drift = self.playbook(DRIFT, self.inventory(), tag="drift_missing")
        report = os.path.join(self.work, "report", "fleet-report.json")
        kinds = open(report).read() if os.path.exists(report) else drift["output"]
        self.check("drift fails and reports dkms_next_kernel", drift["rc"] != 0 and "dkms_next_kernel" in kinds,
                   kinds[-1500:])
        self.check("the drift item names the new kernel %s" % new, new in kinds, kinds[-1500:])
        status = self.sh("dkms status -m virtnet-failover -k %s" % shlex.quote(new))
        self.check("the drift check changed nothing (still no build for %s)" % new, "installed" not in status, status)
        self.end(new_kernel=new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--instance", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--cases", default="kill_compiler,build_failure,power_cut,reboot_timeout,converge,kernel_update")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vnfo-rel-")
    drv = Driver(args.instance, args.state_dir, work)
    rc = 0
    try:
        for case in args.cases.split(","):
            getattr(drv, case)()
    except CaseFailed as exc:
        print("\nFAILED: %s\n(logs in %s)" % (exc, work))
        drv.case["seconds"] = round(time.monotonic() - drv.case.pop("start", time.monotonic()), 1)
        drv.case["failed"] = str(exc)[:2000]
        drv.report["cases"].append(drv.case)
        rc = 1
    except BaseException:
        if drv.proc and drv.proc.poll() is None:
            kill_tree(drv.proc.pid)
        raise
    drv.report["seconds"] = round(time.time() - drv.report.pop("started"), 1)
    with open(args.report, "w") as fh:
        json.dump(drv.report, fh, indent=1)
    print("\nreliability: %d case(s), %s, %.0f s; report %s"
          % (len(drv.report["cases"]), "all passed" if rc == 0 else "FAILED", drv.report["seconds"], args.report))
    return rc


if __name__ == "__main__":
    sys.exit(main())
