# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cached Debian chroots for the host-side matrices (tests/kmod/matrix.py,
tests/ansible_core/matrix.py), and running a script inside one.

A chroot is built once by mmdebstrap from a *recipe* (suite, mirrors, apt
options, packages, customize hook, variant) and kept under
``CACHE/NAME-HASH``, HASH covering the recipe: a changed recipe builds a new
chroot and removes the older ones of the same name, an unchanged one is
reused.  The build goes to a temporary directory renamed into place only
when mmdebstrap succeeded, under a lock, so a killed build leaves no chroot
that looks finished.  Needs root.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "molecule" / "resources" / "lab"))
import image as lab_image  # noqa: E402  (lock, recipe hash, streaming runner, dpkg excludes)

HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def chroot_dir(cache: Path, name: str, recipe: dict) -> Path:
    return cache / f"{name}-{lab_image.recipe_hash(recipe)}"


def build(cache: Path, name: str, recipe: dict, log_prefix: str) -> tuple[Path, float]:
    """NAME's chroot for RECIPE, built unless cached; returns (dir, seconds spent)."""
    final = chroot_dir(cache, name, recipe)
    t0 = time.monotonic()
    with lab_image.locked(cache / f".{name}.lock"):
        if final.is_dir():
            return final, 0.0
        # A killed build leaves its temporary dir; under the lock no other
        # build of NAME runs. Never remove a tree with a mount inside
        # (mmdebstrap unmounts on its way out, this makes sure).
        mounts = Path("/proc/mounts").read_text()
        for stale in cache.glob(f".tmp-{name}-*"):
            if re.fullmatch(r"\.tmp-" + re.escape(name) + r"-[a-z0-9_]{8}", stale.name) and str(stale) not in mounts:
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=cache))
        try:
            cmd = ["mmdebstrap", f"--variant={recipe.get('variant', 'buildd')}", "--mode=root",
                   "--format=directory", "--include=" + ",".join(recipe["packages"])]
            if recipe.get("hook"):
                cmd.append("--customize-hook=" + recipe["hook"])
            cmd += [f"--aptopt={o}" for o in recipe.get("apt_options", [])]
            cmd += [f"--dpkgopt={o}" for o in lab_image.DPKG_EXCLUDES]
            cmd += [recipe["suite"], str(tmp / "root")] + recipe["mirrors"]
            lab_image.run(cmd, log_prefix, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"})
            # Older chroots of this name only: NAME-HASH (trixie-* would
            # also match trixie-backports-*).
            for old in cache.glob(f"{name}-*"):
                if old != final and re.fullmatch(re.escape(name) + r"-[0-9a-f]{16}", old.name):
                    shutil.rmtree(old, ignore_errors=True)
            os.rename(tmp / "root", final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final, round(time.monotonic() - t0, 1)


def run(root: Path, script: str, binds: tuple[str, ...] = (), network: bool = False,
        env: dict | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run SCRIPT (sh) in ROOT, in a private mount namespace, with /dev and
    /proc; BINDS are host directories mounted at the same path inside;
    NETWORK adds /sys, an empty /run (for ``ip netns``), the host's
    resolv.conf and CA bundle (for PyPI, also behind a TLS-inspecting proxy
    whose CA only the host trusts).  The host's network namespace is shared."""
    # ROOT bound onto itself: inside, / is then a mount point, which
    # `ip -n` (it remounts / as a slave in a mount namespace of its own) needs.
    mounts = ["set -e", "mount --make-rprivate /", f"mount --bind {shlex.quote(str(root))} {shlex.quote(str(root))}",
              f"mount --rbind /dev {shlex.quote(str(root))}/dev",
              f"mount -t proc proc {shlex.quote(str(root))}/proc"]
    for path in binds:
        inside = shlex.quote(str(root) + path)
        mounts += [f"mkdir -p {inside}", f"mount --bind {shlex.quote(path)} {inside}"]
    if network:
        mounts += [f"mount --rbind /sys {shlex.quote(str(root))}/sys",
                   f"mount -t tmpfs tmpfs {shlex.quote(str(root))}/run",
                   f"touch {shlex.quote(str(root))}/etc/resolv.conf",
                   f"mount --bind /etc/resolv.conf {shlex.quote(str(root))}/etc/resolv.conf"]
        if os.path.isfile(HOST_CA_BUNDLE):
            inside = shlex.quote(str(root) + HOST_CA_BUNDLE)
            mounts += [f"mkdir -p $(dirname {inside})", f"touch {inside}", f"mount --bind {HOST_CA_BUNDLE} {inside}"]
    outer = "; ".join(mounts) + f"; exec chroot {shlex.quote(str(root))} /bin/sh -c \"$1\""
    return subprocess.run(["unshare", "-m", "sh", "-c", outer, "sh", script], capture_output=True, text=True,
                          check=False, env=env, timeout=timeout)
