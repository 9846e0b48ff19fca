# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compile matrix of the patched failover module over every Debian kernel series.

    matrix.py prepare            build (or reuse) one chroot per target
    matrix.py check [--json F] [--write-docs]
                                 compile and check the module in every chroot

No VM: each target is an mmdebstrap chroot of its own suite (its own
compiler, kbuild and headers), cached under
${XDG_CACHE_HOME:-~/.cache}/virtnet-failover/kmod-chroots/NAME-HASH, where
HASH covers the target's recipe: a changed recipe builds a new chroot, an
unchanged one is reused.  Besides the headers, each chroot holds the
distribution's own net_failover.ko and failover.ko (extracted from the
kernel image package, not installed), which the probe reads to decide the
existing-slave ops lock and which the CRC check compares against.

Per target and per build variant (the probe's own choice, each mechanism
forced in turn, and both ops-lock variants where the kernel has the ops
lock): W=1 -Werror, no warnings, vermagic of the target kernel, the
mechanism and ops-lock choice the probe must make there, and the CRCs of the
three exported symbols against what the distribution's net_failover.ko
expects (where the kernel has CONFIG_MODVERSIONS).

Needs root (mmdebstrap --mode=root, chroot, a private mount namespace).
Exit status 0 when every check passed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "roles" / "kmod" / "files" / "virtnet-failover"
DOC = ROOT / "docs" / "compatibility.md"
sys.path.insert(0, str(ROOT / "molecule" / "resources" / "lab"))
import image as lab_image  # noqa: E402  (cache root and mirror of the lab images)
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import debian_chroot  # noqa: E402  (cached mmdebstrap chroots)

VALID_UNTIL_OFF = 'Acquire::Check-Valid-Until "false";'
SYMBOLS = ("failover_register", "failover_unregister", "failover_slave_unregister")


def _mirrors(suite: str, security: bool = True, backports: bool = False) -> list[str]:
    lines = [f"deb {lab_image.MIRROR} {suite} main", f"deb {lab_image.MIRROR} {suite}-updates main"]
    if security:
        lines.append(f"deb {lab_image.SECURITY} {suite}-security main")
    if backports:
        lines.append(f"deb {lab_image.MIRROR} {suite}-backports main")
    return lines


# Every Debian kernel series the mirror carries.  "mech" is the live_rename
# mechanism the probe must pick there; "ops_lock" whether the kernel has the
# netdev ops lock (6.15+), so that both locking variants are built.
TARGETS = {
    "bullseye": {"suite": "bullseye", "series": "5.10", "mirrors": _mirrors("bullseye"),
                 "release": "", "mech": "flag", "ops_lock": False, "vm": ""},
    "bookworm": {"suite": "bookworm", "series": "6.1", "mirrors": _mirrors("bookworm"),
                 "release": "", "mech": "flag", "ops_lock": False, "vm": "debian12 (default and the scenarios on its snapshot)"},
    "trixie": {"suite": "trixie", "series": "6.12", "mirrors": _mirrors("trixie"),
               "release": "", "mech": "notifier", "ops_lock": False, "vm": "debian13"},
    "trixie-backports": {"suite": "trixie", "series": "7.x", "mirrors": _mirrors("trixie", backports=True),
                         "release": "trixie-backports", "mech": "notifier", "ops_lock": True, "vm": ""},
    "forky": {"suite": "forky", "series": "7.x", "mirrors": _mirrors("forky"), "apt_options": [VALID_UNTIL_OFF],
              "release": "", "mech": "notifier", "ops_lock": True, "vm": "debian14"},
}

PACKAGES = ["kmod", "binutils", "xz-utils", "zstd"]

# Runs in mmdebstrap's customize phase: the target's headers, then the
# distribution's failover.ko and net_failover.ko from its kernel image
# package (downloaded and unpacked, never installed: no initramfs, no boot).
CUSTOMIZE_HOOK = r"""
set -eu
root="$1"
chroot "$root" apt-get install -q -y --no-install-recommends @RELEASE_OPT@ linux-headers-amd64
krel=$(ls "$root/usr/src" | sed -n 's/^linux-headers-\(.*-amd64\)$/\1/p' | sort -V | tail -n 1)
test -n "$krel" || { echo "E: no linux-headers-*-amd64 installed" >&2; exit 1; }
mkdir -p "$root/tmp/kimage"
# The modules are in linux-image-KREL (5.10 - 6.12), or in linux-modules-KREL
# (7.x, which linux-image-KREL depends on); not every name exists everywhere.
for pkg in "linux-image-$krel" "linux-modules-$krel"; do
    chroot "$root" sh -c "cd /tmp/kimage && apt-get download -q @RELEASE_OPT@ $pkg" || true
done
for deb in "$root"/tmp/kimage/*.deb; do
    dpkg-deb --fsys-tarfile "$deb" |
        tar -x -C "$root" --wildcards '*/kernel/drivers/net/net_failover.ko*' '*/kernel/net/core/failover.ko*' 2>/dev/null || true
done
rm -rf "$root/tmp/kimage"
test -n "$(find "$root/lib/modules/$krel/kernel/drivers/net" -name 'net_failover.ko*' 2>/dev/null)" ||
    { echo "E: no net_failover.ko in linux-image-$krel or linux-modules-$krel" >&2; exit 1; }
chroot "$root" apt-get clean
rm -f "$root/etc/resolv.conf"
echo "$krel" > "$root/etc/vnf-kernel-release"
"""


def log(msg: str) -> None:
    print(f"[matrix {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def cache_root() -> Path:
    return lab_image.cache_root().parent / "kmod-chroots"


def recipe(name: str) -> dict:
    t = TARGETS[name]
    release_opt = f"-t {t['release']}" if t["release"] else ""
    return {
        "format": 1,
        "name": name,
        "suite": t["suite"],
        "mirrors": t["mirrors"],
        "apt_options": t.get("apt_options", []),
        "packages": PACKAGES,
        "hook": CUSTOMIZE_HOOK.replace("@RELEASE_OPT@", release_opt),
    }


def chroot_dir(name: str) -> Path:
    return debian_chroot.chroot_dir(cache_root(), name, recipe(name))


def prepare(name: str) -> tuple[Path, float]:
    """Build TARGET's chroot unless the cache has it; returns (dir, seconds)."""
    t = TARGETS[name]
    log(f"{name}: chroot of {t['suite']} (headers{' from ' + t['release'] if t['release'] else ''})")
    return debian_chroot.build(cache_root(), name, recipe(name), name)


def in_chroot(root: Path, script: str) -> subprocess.CompletedProcess:
    """Run SCRIPT (sh) in ROOT with /dev and /proc, in a private mount namespace."""
    return debian_chroot.run(root, script)


def dump_modversions(ko: Path) -> dict[str, str]:
    """CRCs a (possibly compressed) module expects: {symbol: 0x...}."""
    with tempfile.NamedTemporaryFile(suffix=".ko") as fh:
        opener = {".xz": ["xz", "-dc"], ".zst": ["zstd", "-qdc"], ".gz": ["gzip", "-dc"]}.get(ko.suffix, ["cat"])
        subprocess.run([*opener, str(ko)], stdout=fh, check=True)
        out = subprocess.run(["modprobe", "--dump-modversions", fh.name],
                             capture_output=True, text=True, check=False).stdout
    crcs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            crcs[parts[1]] = "0x%08x" % int(parts[0], 16)
    return crcs


def variants(name: str) -> list[dict]:
    t = TARGETS[name]
    out = [{"label": "probe", "vars": {}}]
    mechs = ["notifier", "unsupported"] + (["flag"] if t["mech"] == "flag" else [])
    out += [{"label": f"mech={m}", "vars": {"VNF_FORCE_MECH": m}} for m in mechs]
    if t["ops_lock"]:
        out += [{"label": f"ops_lock={v}", "vars": {"VNF_OPS_LOCK": v}} for v in ("0", "1")]
    return out


class Target:
    def __init__(self, name: str, root: Path):
        self.name = name
        self.t = TARGETS[name]
        self.root = root
        self.krel = (root / "etc" / "vnf-kernel-release").read_text().strip()
        self.failures: list[str] = []
        self.passed = 0
        self.row: dict = {"target": name, "series": self.t["series"], "kernel": self.krel}

    def ok(self, msg: str) -> None:
        self.passed += 1
        print(f"  ok: {msg}")

    def fail(self, msg: str) -> None:
        self.failures.append(msg)
        print(f"FAIL: {self.name} ({self.krel}): {msg}", file=sys.stderr)

    def module_file(self, rel: str) -> Path | None:
        base = self.root / "lib" / "modules" / self.krel / "kernel" / rel
        for suffix in ("", ".xz", ".zst", ".gz"):
            p = base.with_name(base.name + suffix)
            if p.exists():
                return p
        return None

    def build(self, variant: dict) -> Path | None:
        work = self.root / "tmp" / f"vnf-{variant['label'].replace('=', '-')}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(SRC, work)
        make_vars = " ".join(f"{k}={v}" for k, v in variant["vars"].items())
        script = (f"make -C /usr/src/linux-headers-{self.krel} M=/tmp/{work.name} W=1 KCFLAGS=-Werror "
                  f"{make_vars} -j2 modules")
        res = in_chroot(self.root, script)
        logtext = res.stdout + res.stderr
        label = variant["label"]
        if res.returncode != 0:
            print("\n".join("    | " + line for line in logtext.splitlines()[-40:]), file=sys.stderr)
            self.fail(f"{label}: build failed")
            return None
        warnings = [line for line in logtext.splitlines()
                    if "warning" in line.lower() and "Skipping BTF generation" not in line]
        if warnings:
            print("\n".join("    | " + line for line in warnings), file=sys.stderr)
            self.fail(f"{label}: compiler warnings")
            return None
        self.ok(f"{label}: built with W=1 -Werror")
        return work

    def config(self, work: Path) -> dict:
        text = (work / "vnf_config.h").read_text()
        mech = re.search(r'#define VNF_MECH_NAME "(\w+)"', text)
        return {"mech": mech.group(1) if mech else "", "ops_lock": "VNF_EXISTING_SLAVE_OPS_LOCK" in text}

    def check_crcs(self, work: Path) -> str:
        nf = self.module_file("drivers/net/net_failover.ko")
        if not nf:
            self.fail("the distribution's net_failover.ko is missing from the chroot")
            return "missing"
        wanted = {s: c for s, c in dump_modversions(nf).items() if s in SYMBOLS}
        ours = {}
        for line in (work / "Module.symvers").read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[1] in SYMBOLS:
                ours[parts[1]] = parts[0]
        if not wanted:
            self.ok("the distribution's net_failover.ko carries no symbol CRCs (no CONFIG_MODVERSIONS)")
            return "no modversions"
        bad = {s: (c, ours.get(s)) for s, c in wanted.items() if ours.get(s) != c}
        if bad:
            self.fail(f"CRCs differ from what net_failover.ko expects: {bad}")
            return "differ"
        self.ok(f"CRCs of {sorted(wanted)} match what net_failover.ko expects")
        return "match"

    def check(self) -> dict:
        print(f"== {self.name}: {self.krel} ({self.t['suite']}{', ' + self.t['release'] if self.t['release'] else ''})")
        gcc = in_chroot(self.root, "gcc -dumpversion").stdout.strip()
        self.row["gcc"] = gcc
        built = []
        for variant in variants(self.name):
            work = self.build(variant)
            if not work:
                continue
            built.append(variant["label"])
            vermagic = subprocess.run(["modinfo", "-F", "vermagic", str(work / "failover.ko")],
                                      capture_output=True, text=True, check=False).stdout.strip()
            if vermagic.startswith(self.krel + " "):
                self.ok(f"{variant['label']}: vermagic {self.krel}")
            else:
                self.fail(f"{variant['label']}: vermagic '{vermagic}'")
            cfg = self.config(work)
            if variant["label"] == "probe":
                self.row["mech"] = cfg["mech"]
                self.row["ops_lock"] = cfg["ops_lock"]
                if cfg["mech"] == self.t["mech"]:
                    self.ok(f"probe picks live_rename={cfg['mech']}")
                else:
                    self.fail(f"probe picks live_rename={cfg['mech']}, expected {self.t['mech']}")
                if cfg["ops_lock"] == self.t["ops_lock"]:
                    self.ok(f"probe {'takes' if cfg['ops_lock'] else 'does not take'} the ops lock on the "
                            "existing-slave path")
                else:
                    self.fail(f"probe chose ops lock {cfg['ops_lock']}, expected {self.t['ops_lock']} "
                              "(the kernel's netdev ops lock, 6.15+)")
                self.row["crc"] = self.check_crcs(work)
            elif "VNF_FORCE_MECH" in variant["vars"]:
                forced = variant["vars"]["VNF_FORCE_MECH"]
                if cfg["mech"] == forced:
                    self.ok(f"{variant['label']}: vnf_config.h names live_rename={forced}")
                else:
                    self.fail(f"{variant['label']}: vnf_config.h names live_rename={cfg['mech']}, forced {forced}")
            elif "VNF_OPS_LOCK" in variant["vars"]:
                want = variant["vars"]["VNF_OPS_LOCK"] == "1"
                if cfg["ops_lock"] == want:
                    self.ok(f"{variant['label']}: existing-slave path {'takes' if want else 'does not take'} the ops lock")
                else:
                    self.fail(f"{variant['label']}: vnf_config.h ops lock {cfg['ops_lock']}, wanted {want}")
            shutil.rmtree(work, ignore_errors=True)
        self.row["built"] = built
        self.row["passed"] = self.passed
        self.row["failures"] = self.failures
        return self.row


def render_table(rows: list[dict], cold: float, warm: float, when: str) -> str:
    lines = [
        "| Debian suite | kernel | gcc | live_rename (probe) | existing-slave ops lock | builds (W=1 -Werror) "
        "| CRCs vs the distribution's net_failover.ko | VM behaviour (Molecule) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        status = "all passed" if not r["failures"] else f"**{len(r['failures'])} failed**"
        lines.append(
            f"| {r['target']} | {r['kernel']} | {r.get('gcc', '?')} | {r.get('mech', '?')} | "
            f"{'taken' if r.get('ops_lock') else 'not taken'} | {', '.join(r.get('built', []))} ({status}) | "
            f"{r.get('crc', '?')} | {TARGETS[r['target']]['vm'] or '-'} |"
        )
    lines += [
        "",
        f"Generated by `make kmod-matrix` (`tests/kmod/matrix.py check --write-docs`) on {when}: "
        f"chroots {cold:.0f} s (0 s when cached), compile checks {warm:.0f} s.",
    ]
    return "\n".join(lines)


BEGIN, END = "<!-- kmod-matrix:begin -->", "<!-- kmod-matrix:end -->"


def write_docs(table: str) -> None:
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC} has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("targets", nargs="*", default=list(TARGETS))
    c = sub.add_parser("check")
    c.add_argument("targets", nargs="*", default=list(TARGETS))
    c.add_argument("--json", type=Path, default=ROOT / ".build" / "kmod-matrix.json")
    c.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("matrix.py needs root (mmdebstrap --mode=root, chroot, unshare -m): run it through 'make kmod-matrix' as root")
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        ap.error(f"unknown target(s) {unknown}; choose from {list(TARGETS)}")
    t0 = time.monotonic()
    roots = {}
    cold = 0.0
    for name in args.targets:
        roots[name], secs = prepare(name)
        cold += secs
        log(f"{name}: chroot {roots[name]} ({'built in %.0f s' % secs if secs else 'cached'})")
    if args.cmd == "prepare":
        return 0
    t1 = time.monotonic()
    rows = [Target(name, roots[name]).check() for name in args.targets]
    warm = time.monotonic() - t1
    failures = sum(len(r["failures"]) for r in rows)
    passed = sum(r["passed"] for r in rows)
    result = {"rows": rows, "chroot_seconds": round(cold, 1), "check_seconds": round(warm, 1),
              "total_seconds": round(time.monotonic() - t0, 1),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    table = render_table(rows, cold, warm, result["date"])
    print(table)
    if args.write_docs:
        write_docs(table)
    print(f"kmod-matrix: {passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
