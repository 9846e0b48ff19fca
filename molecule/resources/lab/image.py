# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the VM lab's Debian guest images from Debian packages only.

    image.py build --all | debian12 | debian13 | debian14 [--force]
    image.py path NAME          print the cached qcow2 of NAME (exit 1 if not built)
    image.py key                print the lab's SSH private key path
    image.py info NAME          print the image's metadata (JSON)

Each image is a real bootable disk: MBR + extlinux + one ext4 partition at
1 MiB, booting Debian's /vmlinuz and /initrd.img symlinks, so a regenerated
initramfs and a reboot behave as on any VM.  Images are cached under
${XDG_CACHE_HOME:-~/.cache}/virtnet-failover/images/NAME-HASH/ where HASH
covers the whole recipe (this file's recipe data, package lists, hooks and
the lab's public SSH key): a recipe change builds a new image, an unchanged
recipe is never rebuilt.  Builds go to a temporary directory that is renamed
into place at the end, under a per-image lock, so two builders never collide.
Needs root (mmdebstrap --mode=root, a loop mount for extlinux).
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
SECURITY = "http://deb.debian.org/debian-security"

# The guest's management NIC (DHCP by systemd-networkd, matched on this MAC
# only).  qemu_command.py uses the same value.
MGMT_MAC = "52:54:00:00:0a:01"

PACKAGES = [
    "linux-image-amd64",
    "linux-headers-amd64",
    "dkms",
    "build-essential",
    "openssh-server",
    "python3",
    "python3-pyroute2",
    "systemd-sysv",
    "udev",
    "iproute2",
    "ethtool",
    "initramfs-tools",
    "kmod",
    "zstd",
]

# Second kernel flavour, downloaded (not installed) into /root/kernel-update/
# for a kernel-update fault test.
KERNEL_UPDATE_PACKAGES = ["linux-image-cloud-amd64", "linux-headers-cloud-amd64"]

# Modules the initramfs carries (MODULES=list): the failover stack as Debian's
# default initramfs has it, plus what mounting the root disk needs.
INITRAMFS_MODULES = [
    "failover",
    "net_failover",
    "virtio_net",
    "e1000e",
    "virtio_pci",
    "virtio_blk",
    "ext4",
    "crc32c_generic",
]

IMAGES = {
    "debian12": {"suite": "bookworm", "kernel_series": "6.1"},
    "debian13": {"suite": "trixie", "kernel_series": "6.12"},
    # forky's Release files on the mirror are past their Valid-Until date.
    "debian14": {"suite": "forky", "kernel_series": "7.2", "apt_options": ['Acquire::Check-Valid-Until "false";']},
}

DISK_SLACK_MIB = 1536  # free space in the root fs (DKMS builds, kernel update)

HOST_TOOLS = {
    "mmdebstrap": "mmdebstrap",
    "mkfs.ext4": "e2fsprogs",
    "sfdisk": "fdisk",
    "extlinux": "extlinux",
    "qemu-img": "qemu-utils",
    "ssh-keygen": "openssh-client",
    "mount": "mount",
}
MBR_BIN = Path("/usr/lib/syslinux/mbr/mbr.bin")  # syslinux-common

INITRAMFS_CONF = """\
# virtnet lab: small module list and a fast compressor, so that
# update-initramfs takes seconds under TCG instead of minutes.  The list in
# /etc/initramfs-tools/modules keeps failover, net_failover, virtio_net and
# e1000e in the initramfs, as Debian's default MODULES=most does.
MODULES=list
COMPRESS=zstd
COMPRESSLEVEL=1
RESUME=none
"""

MGMT_NETWORK = f"""\
# virtnet lab management NIC (QEMU user networking, SSH through hostfwd).
[Match]
MACAddress={MGMT_MAC}

[Link]
RequiredForOnline=yes

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
"""

FAILOVER_NETWORK = """\
# virtnet lab: bring every net_failover master admin-UP at boot, without any
# address.  Matches the master only (udev ID_NET_DRIVER=net_failover); the
# standby (virtio_net) and primary (e1000e) slaves stay unmanaged.
[Match]
Driver=net_failover

[Link]
ActivationPolicy=up
RequiredForOnline=no

[Network]
LinkLocalAddressing=no
IPv6AcceptRA=no
DHCP=no
"""

SSHD_CONF = """\
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
"""

KERNEL_UPDATE_README = """\
Kernel-update fault test material (virtnet lab).

The .deb files here are a second kernel flavour (linux-image-cloud-amd64,
linux-headers-cloud-amd64 and the version-specific dependencies that were not
installed), downloaded at image build time and NOT installed.  Install them
offline with:

    apt-get install --no-download /root/kernel-update/*.deb
or  dpkg -i /root/kernel-update/*.deb

(the guest never reaches a network).  Installing them adds a new kernel for
which DKMS builds its modules and initramfs-tools builds an initramfs.
"""

# Units that only cost boot time in a throwaway test VM.
MASK_UNITS = [
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "apt-daily.service",
    "apt-daily-upgrade.service",
    "man-db.timer",
    "man-db.service",
    "e2scrub_all.timer",
    "e2scrub_all.service",
    "e2scrub_reap.service",
    "fstrim.timer",
    "logrotate.timer",
    "dpkg-db-backup.timer",
    "systemd-networkd-wait-online.service",
    "systemd-timesyncd.service",
    "systemd-binfmt.service",
    "proc-sys-fs-binfmt_misc.automount",
    "networking.service",
    "ifupdown-pre.service",
    "ifupdown-wait-online.service",
    "getty-static.service",
]

# Modules udev would autoload on a q35/TCG guest that only cost boot time
# (each module load is slow under TCG) and that no test needs.
BLACKLIST_MODULES = [
    "kvm", "kvm_amd", "kvm_intel", "irqbypass", "ccp", "cfg80211", "rfkill",
    "iTCO_wdt", "iTCO_vendor_support", "intel_pmc_bxt", "lpc_ich", "i2c_i801",
    "i2c_smbus", "pcspkr", "serio_raw", "psmouse", "evdev", "joydev",
    "efi_pstore", "ahci", "libahci", "libata", "powernow_k8", "acpi_cpufreq",
    "crct10dif_pclmul", "crc32_pclmul", "ghash_clmulni_intel", "sha512_ssse3",
    "sha256_ssse3", "sha1_ssse3", "aesni_intel", "polyval_clmulni", "sm4_aesni_avx_x86_64",
    "intel_rapl_msr", "intel_rapl_common", "qemu_fw_cfg", "bochs",
]

DPKG_EXCLUDES = [
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
]

ESSENTIAL_HOOK = r"""
set -eu
root="$1"
mkdir -p "$root/etc/initramfs-tools/conf.d"
cat > "$root/etc/initramfs-tools/conf.d/virtnet-lab.conf" <<'EOF'
@INITRAMFS_CONF@EOF
"""

CUSTOMIZE_HOOK = r"""
set -eu
root="$1"
echo "I: virtnet lab: configuring the guest"
printf '%s\n' @INITRAMFS_MODULES@ > "$root/etc/initramfs-tools/modules"
echo "@HOSTNAME@" > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t@HOSTNAME@\n' > "$root/etc/hosts"
printf 'LABEL=vmroot\t/\text4\terrors=remount-ro\t0\t1\n' > "$root/etc/fstab"
mkdir -p "$root/etc/systemd/network" "$root/etc/ssh/sshd_config.d"
cat > "$root/etc/systemd/network/10-virtnet-mgmt.network" <<'EOF'
@MGMT_NETWORK@EOF
cat > "$root/etc/systemd/network/20-virtnet-failover.network" <<'EOF'
@FAILOVER_NETWORK@EOF
cat > "$root/etc/ssh/sshd_config.d/virtnet-lab.conf" <<'EOF'
@SSHD_CONF@EOF
install -d -m 0700 "$root/root/.ssh"
echo "@PUBKEY@" > "$root/root/.ssh/authorized_keys"
chmod 0600 "$root/root/.ssh/authorized_keys"
printf 'blacklist %s\n' @BLACKLIST_MODULES@ > "$root/etc/modprobe.d/virtnet-lab-blacklist.conf"
chroot "$root" systemctl enable systemd-networkd.service ssh.service
chroot "$root" systemctl mask @MASK_UNITS@
rm -f "$root/etc/cron.daily/man-db" "$root/etc/cron.weekly/man-db"
# a busy shared host can slow a TCG guest 10x: no watchdog kills, long timeouts
mkdir -p "$root/etc/systemd/system.conf.d" "$root/etc/systemd/system/systemd-journald.service.d" "$root/etc/systemd/system/systemd-udevd.service.d"
printf '[Manager]\nDefaultTimeoutStartSec=900s\nDefaultTimeoutStopSec=120s\nRuntimeWatchdogSec=off\n' > "$root/etc/systemd/system.conf.d/virtnet-lab.conf"
printf '[Service]\nWatchdogSec=0\n' > "$root/etc/systemd/system/systemd-journald.service.d/virtnet-lab.conf"
printf '[Service]\nWatchdogSec=0\n' > "$root/etc/systemd/system/systemd-udevd.service.d/virtnet-lab.conf"
# journald: keep the journal in RAM, the serial log is kept on the host
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$root/etc/systemd/journald.conf.d/virtnet-lab.conf"
echo "I: virtnet lab: downloading (not installing) the kernel-update debs"
mkdir -p "$root/root/kernel-update/partial"
chroot "$root" apt-get install -q -y --download-only --no-install-recommends \
    -o Dir::Cache::Archives=/root/kernel-update/ @KERNEL_UPDATE_PACKAGES@
rm -rf "$root/root/kernel-update/partial" "$root/root/kernel-update/lock"
rm -f "$root/etc/resolv.conf"
cat > "$root/root/kernel-update/README" <<'EOF'
@KERNEL_UPDATE_README@EOF
ls "$root/root/kernel-update"
echo "I: virtnet lab: regenerating the initramfs (MODULES=list, zstd -1)"
chroot "$root" update-initramfs -u -k all
for f in vmlinuz initrd.img; do
    test -e "$root/$f" || { echo "E: /$f symlink missing" >&2; exit 1; }
done
"""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "virtnet-failover" / "images"


def key_path() -> Path:
    return cache_root() / "ssh" / "id_ed25519"


def ensure_key() -> Path:
    key = key_path()
    if key.exists() and key.with_suffix(".pub").exists():
        return key
    key.parent.mkdir(parents=True, exist_ok=True)
    with locked(key.parent / ".lock"):
        if not key.exists():
            tmp = key.parent / f".tmp-key-{os.getpid()}"
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "virtnet-lab", "-f", str(tmp)],
                check=True,
            )
            os.rename(str(tmp) + ".pub", str(key) + ".pub")
            os.rename(tmp, key)
    return key


@contextlib.contextmanager
def locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another builder holding {path}")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def recipe(name: str, pubkey: str) -> dict:
    spec = IMAGES[name]
    suite = spec["suite"]
    subst = {
        "@INITRAMFS_CONF@": INITRAMFS_CONF,
        "@INITRAMFS_MODULES@": " ".join(INITRAMFS_MODULES),
        "@HOSTNAME@": f"{name}-lab",
        "@MGMT_NETWORK@": MGMT_NETWORK,
        "@FAILOVER_NETWORK@": FAILOVER_NETWORK,
        "@SSHD_CONF@": SSHD_CONF,
        "@PUBKEY@": pubkey.strip(),
        "@MASK_UNITS@": " ".join(MASK_UNITS),
        "@BLACKLIST_MODULES@": " ".join(BLACKLIST_MODULES),
        "@KERNEL_UPDATE_PACKAGES@": " ".join(KERNEL_UPDATE_PACKAGES),
        "@KERNEL_UPDATE_README@": KERNEL_UPDATE_README,
    }
    hooks = {"essential": ESSENTIAL_HOOK, "customize": CUSTOMIZE_HOOK}
    for k, text in hooks.items():
        for a, b in subst.items():
            text = text.replace(a, b)
        hooks[k] = text
    extra = {"apt_options": spec["apt_options"]} if spec.get("apt_options") else {}
    return {
        **extra,
        "format": 1,
        "name": name,
        "suite": suite,
        "variant": "important",
        "mirrors": [
            f"deb {MIRROR} {suite} main",
            f"deb {MIRROR} {suite}-updates main",
            f"deb {SECURITY} {suite}-security main",
        ],
        "packages": PACKAGES,
        "kernel_update_packages": KERNEL_UPDATE_PACKAGES,
        "initramfs_modules": INITRAMFS_MODULES,
        "dpkg_excludes": DPKG_EXCLUDES,
        "disk_slack_mib": DISK_SLACK_MIB,
        "mgmt_mac": MGMT_MAC,
        "hooks": hooks,
        "extlinux": extlinux_conf(),
    }


def extlinux_conf() -> str:
    return textwrap.dedent(
        """\
        SERIAL 0 115200
        DEFAULT debian
        PROMPT 0
        TIMEOUT 0
        LABEL debian
          LINUX /vmlinuz
          INITRD /initrd.img
          APPEND {append}
        """
    ).format(append=" ".join(KERNEL_ARGS))


# Kernel command line of the lab guests (long udev/systemd timeouts keep
# boots alive on a busy TCG host).
KERNEL_ARGS = (
    "root=LABEL=vmroot", "ro", "console=ttyS0,115200n8", "net.ifnames=1", "panic=10", "quiet",
    "udev.event_timeout=900", "rd.udev.event_timeout=900", "systemd.default_device_timeout_sec=900",
)


def recipe_hash(rec: dict) -> str:
    blob = json.dumps(rec, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def image_dir(name: str) -> Path:
    key = ensure_key()
    rec = recipe(name, key.with_suffix(".pub").read_text())
    return cache_root() / f"{name}-{recipe_hash(rec)}"


T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[image {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def check_host_tools() -> None:
    missing = [f"{tool} (Debian package {pkg})" for tool, pkg in HOST_TOOLS.items() if not shutil.which(tool)]
    if not MBR_BIN.exists():
        missing.append(f"{MBR_BIN} (Debian package syslinux-common)")
    if missing:
        sys.exit("image.py: missing host tools: " + ", ".join(missing) + "; install them with apt-get install (or run `make setup`)")
    if os.geteuid() != 0:
        sys.exit("image.py: building images needs root (mmdebstrap --mode=root and a loop mount)")


def run(cmd: list[str], prefix: str, **kw) -> None:
    """Run cmd, streaming its output lines with a prefix; a heartbeat line
    every 20 s of silence shows that a long step is still progressing."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", **kw)
    assert proc.stdout
    lines: queue.Queue = queue.Queue()

    def reader() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    t0 = time.monotonic()
    while True:
        try:
            line = lines.get(timeout=20)
        except queue.Empty:
            log(f"{prefix}: ... still running ({time.monotonic() - t0:.0f}s)")
            continue
        if line is None:
            break
        line = line.rstrip()
        if line:
            log(f"{prefix}: {line}")
    if proc.wait() != 0:
        raise SystemExit(f"image.py: {cmd[0]} failed with exit code {proc.returncode}")


def build(name: str, force: bool = False) -> Path:
    check_host_tools()
    key = ensure_key()
    rec = recipe(name, key.with_suffix(".pub").read_text())
    final = cache_root() / f"{name}-{recipe_hash(rec)}"
    with locked(cache_root() / f".{name}.lock"):
        if (final / "disk.qcow2").exists() and not force:
            log(f"{name}: cached at {final} (recipe unchanged)")
            gc(name, final)
            return final
        t_start = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=cache_root()))
        os.chmod(tmp, 0o755)  # apt's _apt user must reach the chroot
        try:
            _build_into(tmp, rec, t_start)
            if final.exists():
                shutil.rmtree(final)
            os.chmod(tmp, 0o755)
            os.rename(tmp, final)
        except BaseException:
            _cleanup_tmp(tmp)
            raise
        gc(name, final)
    meta = json.loads((final / "meta.json").read_text())
    log(f"{name}: done in {meta['build_seconds']:.0f}s -> {final / 'disk.qcow2'} ({meta['qcow2_mib']} MiB qcow2)")
    return final


def gc(name: str, keep: Path) -> None:
    """Drop older images of NAME (other recipe hashes) no running VM uses."""
    for old in cache_root().glob(f"{name}-*"):
        if old != keep and old.is_dir() and not old.name.startswith("."):
            if _in_use(old / "disk.qcow2"):
                log(f"{name}: keeping stale image {old.name}: a running VM still uses it")
                continue
            log(f"{name}: removing stale image {old.name}")
            shutil.rmtree(old, ignore_errors=True)


def _in_use(path: Path) -> bool:
    """True if any process has path open (a running VM's backing file)."""
    target = str(path)
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return True
        except OSError:
            continue
    return False


def _cleanup_tmp(tmp: Path) -> None:
    mnt = tmp / "mnt"
    if mnt.exists() and os.path.ismount(mnt):
        subprocess.run(["umount", "-l", str(mnt)], check=False)
    shutil.rmtree(tmp, ignore_errors=True)


def _build_into(tmp: Path, rec: dict, t_start: float) -> None:
    name = rec["name"]
    rootfs = tmp / "rootfs"
    rootfs.mkdir()
    timings = {}
    log(f"{name}: mmdebstrap {rec['suite']} ({len(rec['packages'])} packages) into {rootfs}")
    cmd = [
        "mmdebstrap",
        f"--variant={rec['variant']}",
        "--mode=root",
        "--format=directory",
        "--include=" + ",".join(rec["packages"]),
        "--essential-hook=" + rec["hooks"]["essential"],
        "--customize-hook=" + rec["hooks"]["customize"],
    ]
    for opt in rec["dpkg_excludes"]:
        cmd.append(f"--dpkgopt={opt}")
    for opt in rec.get("apt_options", []):
        cmd.append(f"--aptopt={opt}")
    cmd += [rec["suite"], str(rootfs)] + rec["mirrors"]
    t = time.monotonic()
    run(cmd, "mmdebstrap", env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"})
    timings["rootfs_seconds"] = round(time.monotonic() - t, 1)

    kernels = sorted(p.name[len("vmlinuz-"):] for p in (rootfs / "boot").glob("vmlinuz-*"))
    rootfs_mib = int(subprocess.run(["du", "-sm", "-x", str(rootfs)], capture_output=True, text=True, check=True).stdout.split()[0])
    size_mib = rootfs_mib + rec["disk_slack_mib"]
    log(f"{name}: rootfs {rootfs_mib} MiB, kernel(s) {kernels}; making a {size_mib} MiB ext4")

    t = time.monotonic()
    part = tmp / "part.ext4"
    run(
        ["mkfs.ext4", "-q", "-F", "-L", "vmroot", "-O", "^64bit,^metadata_csum,^orphan_file", "-E", "root_owner=0:0",
         "-d", str(rootfs), str(part), f"{size_mib}M"],
        "mkfs",
    )
    shutil.rmtree(rootfs)
    mnt = tmp / "mnt"
    mnt.mkdir()
    run(["mount", "-o", "loop", str(part), str(mnt)], "mount")
    try:
        (mnt / "boot" / "extlinux").mkdir(parents=True, exist_ok=True)
        (mnt / "boot" / "extlinux" / "extlinux.conf").write_text(rec["extlinux"])
        run(["extlinux", "--install", str(mnt / "boot" / "extlinux")], "extlinux")
    finally:
        run(["umount", str(mnt)], "umount")
    raw = tmp / "disk.raw"
    with open(raw, "wb") as fh:
        fh.write(MBR_BIN.read_bytes())
        fh.truncate((size_mib + 1) * 1024 * 1024)
    subprocess.run(["sfdisk", "-q", str(raw)], input="label: dos\nstart=2048, type=83, bootable\n", text=True, check=True)
    run(["dd", f"if={part}", f"of={raw}", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"], "dd")
    part.unlink()
    run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(tmp / "disk.qcow2")], "qemu-img")
    raw.unlink()
    timings["disk_seconds"] = round(time.monotonic() - t, 1)
    qcow2_mib = round((tmp / "disk.qcow2").stat().st_size / 2**20)
    meta = {
        "name": name,
        "suite": rec["suite"],
        "hash": recipe_hash(rec),
        "kernels": kernels,
        "rootfs_mib": rootfs_mib,
        "disk_virtual_mib": size_mib + 1,
        "qcow2_mib": qcow2_mib,
        "build_seconds": round(time.monotonic() - t_start, 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mgmt_mac": rec["mgmt_mac"],
        **timings,
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    (tmp / "recipe.json").write_text(json.dumps(rec, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (or reuse) images")
    b.add_argument("names", nargs="*", metavar="NAME", help=" | ".join(IMAGES))
    b.add_argument("--all", action="store_true")
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    p = sub.add_parser("path", help="print the cached qcow2 path")
    p.add_argument("name", choices=list(IMAGES))
    i = sub.add_parser("info", help="print the image metadata")
    i.add_argument("name", choices=list(IMAGES))
    sub.add_parser("key", help="print the lab SSH private key path")
    args = ap.parse_args(argv)
    if args.cmd == "build":
        names = list(IMAGES) if args.all or not args.names else args.names
        unknown = [n for n in names if n not in IMAGES]
        if unknown:
            ap.error(f"unknown image(s) {unknown}; choose from {list(IMAGES)} or --all")
        for n in names:
            build(n, force=args.force)
        return 0
    if args.cmd == "key":
        print(ensure_key())
        return 0
    d = image_dir(args.name)
    if not (d / "disk.qcow2").exists():
        print(f"image.py: {args.name} is not built (run: image.py build {args.name})", file=sys.stderr)
        return 1
    if args.cmd == "path":
        print(d / "disk.qcow2")
    else:
        print((d / "meta.json").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
