# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cache of converged snapshots.

The default (Debian 12) and debian13 scenarios converge a fresh guest with
the kmod role and then save its disk (`vm.py save`) as a qcow2 overlay of
the base image, keyed by the base image and a hash of everything that
decides the converged state (roles/, plugins/, playbooks/).  Scenarios
whose subject is not the first install (drift, migration, remove,
fleet, rename_disabled) boot `IMAGE-converged`: the same state without another
5-minute DKMS build + initramfs + reboot under TCG.  Their converge still
runs the real rollout (which must then change no DKMS build).  Without a
snapshot for this code they boot the base image and converge from scratch.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import image as lab_image

CONVERGED_SUFFIX = "-converged"
CONVERGED_INPUTS = ("roles", "plugins", "playbooks")


def converged_key() -> str:
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[3]
    for top in CONVERGED_INPUTS:
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def converged_path(image: str) -> Path:
    base_dir = lab_image.image_dir(image)
    return lab_image.cache_root() / "converged" / f"{base_dir.name}-{converged_key()}.qcow2"


def snapshot_usable(snap: Path, base: Path) -> bool:
    """True if snap exists and is an overlay of base."""
    if not (snap.exists() and base.exists()):
        return False
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(snap)], capture_output=True, text=True, check=False)
    with contextlib.suppress(ValueError):
        return out.returncode == 0 and json.loads(out.stdout).get("backing-filename") == str(base)
    return False


def keep_snapshot(overlay: Path, dest: Path, image: str) -> None:
    """Copy a powered-off guest's overlay to dest (atomically), and remove
    snapshots of the image older than an hour."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}")
    shutil.copyfile(overlay, tmp)
    os.replace(tmp, dest)
    for old in dest.parent.glob(f"{image}-*.qcow2"):
        if old != dest and old.stat().st_mtime < time.time() - 3600:
            with contextlib.suppress(OSError):
                old.unlink()
