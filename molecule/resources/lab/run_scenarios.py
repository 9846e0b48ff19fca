# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Molecule scenarios, N at a time, and summarise.

    run_scenarios.py [--jobs N] all | SCENARIO [SCENARIO ...]

`all` means every molecule/*/molecule.yml except molecule/resources.  Each
scenario runs `molecule test -s NAME` with its output in
.build/logs/molecule-NAME.log and its VMs in .build/lab-state/NAME (exported
as VIRTNET_LAB_STATE_DIR, which the shared create/destroy playbooks use).
A one-line progress message per scenario, a summary table at the end, the
tail of every failed log, and a non-zero exit if any scenario failed.
Interrupting (Ctrl-C, SIGTERM) stops the running scenarios and their VMs
(vm.py down --all on every state dir), so no QEMU is left behind.

Each scenario has a time limit (--timeout SECONDS, default 3000, or
VIRTNET_SCENARIO_TIMEOUT; --timeout-for NAME=SECONDS for one scenario).  A
scenario over its limit is stopped (its molecule process group gets SIGTERM,
then SIGKILL), its guests are stopped (vm.py down --all), and it fails by
name ("TIMEOUT after ...", exit code 124) with the tail of its log.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
LOGS = ROOT / ".build" / "logs"
STATE = ROOT / ".build" / "lab-state"
# Molecule's own directory per scenario (inventory, changes.jsonl of the check-mode prediction), emptied
# before each run: Molecule's default (~/.ansible/tmp/molecule.HASH.NAME, HASH from the checkout's
# directory name) is shared by two checkouts of the same name and outlives an interrupted run.
EPHEMERAL = ROOT / ".build" / "molecule"
VM_PY = HERE / "vm.py"
T0 = time.monotonic()
# "INFO     [lab > create] Executing" (no tty) or "INFO lab ➜ create: Executing"
ACTION_RE = re.compile(r"(?:\[\S+ > (\w+)\]|\S+ \S+ (\w+):) Executing")


def say(msg: str) -> None:
    print(f"[{fmt(time.monotonic() - T0):>7}] {msg}", flush=True)


def fmt(sec: float) -> str:
    m, s = divmod(int(sec), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


# The scenarios whose verify saves a converged snapshot (vm.py save), by the
# platform image that boots it.  A scenario with such an image waits while
# its producer is pending or running in the same run, so it boots the fresh
# snapshot instead of converging a base image from scratch.
PRODUCERS = {"debian12-converged": "default", "debian13-converged": "debian13"}
IMAGE_RE = re.compile(r"^\s*image:\s*[\"']?([\w.-]+)", re.M)


def discover() -> list[str]:
    names = (p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml") if p.parent.name != "resources")
    # default and debian13 first: they save the converged snapshots others boot
    return sorted(names, key=lambda n: (n not in ("default", "debian13"), n))


@functools.cache
def needs(name: str) -> frozenset[str]:
    """The producer scenarios whose snapshot scenario `name` boots (read once per scenario)."""
    try:
        text = (ROOT / "molecule" / name / "molecule.yml").read_text()
    except OSError:
        return frozenset()
    return frozenset({PRODUCERS[i] for i in IMAGE_RE.findall(text) if i in PRODUCERS} - {name})


def next_ready(pending: list[str], busy: set[str]) -> str | None:
    """First pending scenario none of whose producers is pending or busy."""
    for n in pending:
        if not needs(n) & (busy | set(pending)):
            return n
    return None


def fresh_dir(path: Path) -> Path:
    """`path` as a new empty directory (whatever an earlier run left there is removed)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


class Run:
    def __init__(self, name: str, env: dict) -> None:
        self.name = name
        self.log = LOGS / f"molecule-{name}.log"
        self.state = STATE / name
        self.ephemeral = fresh_dir(EPHEMERAL / name)
        self.start = time.monotonic()
        self.end: float | None = None
        self.rc: int | None = None
        self.last_action = "starting"
        self.last_report = self.start
        self.steps: list[tuple[str, float]] = []  # (Molecule action, when it started)
        self.tasks: list[tuple[str, float]] = []  # (Ansible task header, when it was first seen)
        self._read = 0  # bytes of the log already scanned for actions
        molecule = Path(sys.executable).parent / "molecule"
        self.fh = open(self.log, "w")
        self.proc = subprocess.Popen(
            [str(molecule), "test", "-s", name],
            cwd=ROOT,
            stdout=self.fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**env, "VIRTNET_LAB_STATE_DIR": str(self.state), "MOLECULE_EPHEMERAL_DIRECTORY": str(self.ephemeral)},
            start_new_session=True,
        )

    def action(self) -> str:
        """The Molecule action running now; records when each one started (scans only new log lines)."""
        try:
            with open(self.log, "rb") as fh:
                fh.seek(self._read)
                chunk = fh.read()
        except OSError:
            return self.last_action
        whole = chunk[:chunk.rfind(b"\n") + 1]  # a line still being written waits for the next call
        self._read += len(whole)
        now = time.monotonic()
        for line in whole.decode(errors="replace").splitlines():
            m = ACTION_RE.search(line)
            if m:
                self.last_action = m.group(1) or m.group(2)
                self.steps.append((self.last_action, now))
                self.tasks.append((f"molecule {self.last_action}", now))
            elif line.startswith(("TASK [", "RUNNING HANDLER [")):
                self.tasks.append((line.rstrip(" *"), now))
        return self.last_action

    def slowest_tasks(self, n: int = 15) -> list[tuple[str, float]]:
        """The n longest Ansible tasks (each lasts until the next header in the log), longest first."""
        ends = [when for _task, when in self.tasks[1:]] + [self.end or time.monotonic()]
        spans = [(f"{name} ({action})", end - start)
                 for (name, start), end, action in zip(self.tasks, ends, self._action_of_tasks())]
        return sorted(spans, key=lambda x: -x[1])[:n]

    def _action_of_tasks(self) -> list[str]:
        out, current = [], "starting"
        for name, _when in self.tasks:
            if name.startswith("molecule "):
                current = name.split(" ", 1)[1]
            out.append(current)
        return out

    def step_times(self) -> list[tuple[str, float]]:
        """(action, seconds) of each Molecule action, in order, as seen by polling the log."""
        ends = [when for _step, when in self.steps[1:]] + [self.end or time.monotonic()]
        return [(name, end - start) for (name, start), end in zip(self.steps, ends)]

    def poll(self) -> bool:
        if self.rc is None:
            rc = self.proc.poll()
            if rc is not None:
                self.rc, self.end = rc, time.monotonic()
                self.fh.close()
        return self.rc is not None

    def stop(self) -> None:
        if self.proc.poll() is None:
            with_pg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with_pg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.rc = self.rc if self.rc is not None else 130
        self.end = self.end or time.monotonic()
        if not self.fh.closed:
            self.fh.close()

    @property
    def wall(self) -> float:
        return (self.end or time.monotonic()) - self.start


def with_pg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def vms_down(state: Path) -> str:
    """Stop every VM of a state dir; returns what vm.py reported (empty: nothing left)."""
    if not state.exists():
        return ""
    r = subprocess.run([sys.executable, str(VM_PY), "down", "--all", "--state-dir", str(state)],
                       capture_output=True, text=True, check=False)
    return (r.stdout + r.stderr).strip()


def tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def failed_tasks(path: Path, limit: int = 12, width: int = 1500) -> str:
    """The task headers and `fatal:`/`failed:` lines of an Ansible log: why it failed."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    out: list[str] = []
    task = ""
    for line in lines:
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.rstrip(" *")
        elif line.startswith(("fatal: ", "failed: ")) or "MODULE FAILURE" in line:
            out += [task, line[:width]] if task else [line[:width]]
            task = ""
    return "\n".join(out[-2 * limit:]) or "(no failed task in the log)"


TIMED_OUT = 124  # the exit code of timeout(1)


def limits(default: int, overrides: list[str]) -> dict[str, int]:
    """{scenario: seconds} from --timeout-for NAME=SECONDS; "" maps to the default."""
    out = {"": default}
    for item in overrides:
        name, sep, secs = item.partition("=")
        if not sep or not name or not secs.isdigit() or int(secs) <= 0:
            raise SystemExit(f"run_scenarios: --timeout-for wants NAME=SECONDS (a positive integer), got {item!r}")
        out[name] = int(secs)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", "-j", type=int, default=int(os.environ.get("JOBS", "2")))
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("VIRTNET_SCENARIO_TIMEOUT", "3000")),
                    help="time limit per scenario in seconds (default 3000)")
    ap.add_argument("--timeout-for", action="append", default=[], metavar="NAME=SECONDS",
                    help="time limit of one scenario (repeatable)")
    ap.add_argument("scenarios", nargs="*", default=["all"])
    args = ap.parse_args()
    limit = limits(args.timeout, args.timeout_for)
    known = discover()
    names: list[str] = []
    for s in args.scenarios:
        for n in (known if s == "all" else s.split()):
            if n not in known:
                print(f"run_scenarios: unknown scenario {n!r}; known: {', '.join(known)}", file=sys.stderr)
                return 2
            if n not in names:
                names.append(n)
    if not names:
        print("run_scenarios: no scenarios found under molecule/", file=sys.stderr)
        return 2
    LOGS.mkdir(parents=True, exist_ok=True)
    STATE.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    coll = ROOT / ".build" / "collections"
    link = coll / "ansible_collections" / "virtnet" / "failover"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(coll))
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env.setdefault("PY_COLORS", "0")

    pending = list(names)
    running: list[Run] = []
    done: list[Run] = []

    def interrupt(signum, _frame):
        say(f"interrupted by signal {signum}: stopping {len(running)} scenario(s) and their VMs")
        for r in running:
            r.stop()
        for n in names:
            out = vms_down(STATE / n)
            if out:
                say(f"{n}: {out}")
        print("run_scenarios: interrupted; no VM left behind", file=sys.stderr)
        os._exit(130)

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)

    say(f"running {len(names)} scenario(s), {args.jobs} at a time: {' '.join(names)} (logs in {LOGS})")
    while pending or running:
        while pending and len(running) < max(1, args.jobs):
            nxt = next_ready(pending, {r.name for r in running})
            if nxt is None:  # everything left waits for a snapshot being made
                break
            pending.remove(nxt)
            r = Run(nxt, env)
            running.append(r)
            say(f"{r.name}: started (log {r.log.relative_to(ROOT)})")
        time.sleep(2)
        for r in list(running):
            r.action()
            if r.poll():
                r.action()
                running.remove(r)
                done.append(r)
                leftover = vms_down(r.state)
                if leftover:
                    say(f"{r.name}: cleaned up VMs left by the scenario: {leftover}")
                say(f"{r.name}: {'PASSED' if r.rc == 0 else f'FAILED (rc {r.rc})'} in {fmt(r.wall)}")
            elif r.wall > limit.get(r.name, limit[""]):
                cap = fmt(limit.get(r.name, limit[""]))
                say(f"{r.name}: TIMEOUT after {fmt(r.wall)} (limit {cap}) in {r.action()}: stopping it and its VMs")
                r.stop()
                r.rc = TIMED_OUT
                running.remove(r)
                done.append(r)
                leftover = vms_down(r.state)
                say(f"{r.name}: FAILED (TIMEOUT) in {fmt(r.wall)}" + (f"; stopped VMs: {leftover}" if leftover else ""))
            elif time.monotonic() - r.last_report >= 60:
                r.last_report = time.monotonic()
                say(f"{r.name}: {r.action()} ({fmt(r.wall)})")

    total = time.monotonic() - T0
    w = max(len("scenario"), *(len(r.name) for r in done))
    print()
    print(f"{'scenario':<{w}}  result   wall time")
    print(f"{'-' * w}  -------  ---------")
    order = {n: i for i, n in enumerate(names)}
    for r in sorted(done, key=lambda r: order[r.name]):
        result = "passed" if r.rc == 0 else "TIMEOUT" if r.rc == TIMED_OUT else "FAILED"
        print(f"{r.name:<{w}}  {result:<7}  {fmt(r.wall):>9}")
    print(f"{'total':<{w}}  {'':<7}  {fmt(total):>9}")
    print("\nwall time per Molecule action (polled every 2 s):")
    for r in sorted(done, key=lambda r: order[r.name]):
        print(f"{r.name:<{w}}  " + ", ".join(f"{a} {fmt(t)}" for a, t in r.step_times()))
        (LOGS / f"times-{r.name}.json").write_text(json.dumps(
            {"wall_s": round(r.wall, 1), "actions": [[a, round(t, 1)] for a, t in r.step_times()],
             "slowest_tasks": [[a, round(t, 1)] for a, t in r.slowest_tasks()]}, indent=1))
    print(f"(the slowest tasks of each scenario: {(LOGS / 'times-NAME.json').relative_to(ROOT)})")
    failed = [r for r in done if r.rc != 0]
    for r in failed:
        why = f"TIMEOUT after {fmt(r.wall)}" if r.rc == TIMED_OUT else f"rc {r.rc}"
        print(f"\n===== {r.name}: {why}; tail of {r.log.relative_to(ROOT)} =====")
        print(tail(r.log))
    # Last, so that a CI page showing only the end of the output still says why.
    for r in failed:
        print(f"\n===== {r.name}: the failed tasks in {r.log.relative_to(ROOT)} =====")
        print(failed_tasks(r.log))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
