# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection against every ansible-core release it supports.

    matrix.py prepare           build (or reuse) the chroot and one virtualenv per release
    matrix.py check [--json F]  run the checks of every release; exit 0 when all passed
    matrix.py versions          print the supported releases, oldest first

The oldest supported release is the one ``requirements.txt`` pins: the
host's .venv runs it, and `make lint sanity units integration` are its
checks.  Every newer release up to the newest listed in RELEASES runs here,
in a cached Debian trixie chroot (Python 3.13: these releases need Python
3.12 or newer, which Debian 12 hosts do not have), each in a virtualenv of
its own, built from ``requirements-<release>.txt`` (every package pinned).
Per release:

- ``sanity``: ``ansible-test sanity`` over a copy of the tree, as `make sanity`;
- ``units``: the collection's unit tests (tests/unit/plugins);
- ``drift``: tests/integration/test_playbooks_drift.py, real ``ansible-playbook``
  drift runs over stand-in failover groups in network namespaces.

Needs root (mmdebstrap, chroot, mount and network namespaces) and PyPI (the
virtualenvs and ansible-test's sanity virtualenvs).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import debian_chroot  # noqa: E402  (cached mmdebstrap chroots)
from debian_chroot import lab_image  # noqa: E402  (cache root and mirror of the lab images)

# Newer releases than the host's, each in the chroot: release -> its pinned
# requirements file (next to this file).
RELEASES = {
    "2.20": "requirements-2.20.txt",
    "2.21": "requirements-2.21.txt",
}
PYTHON = "3.13"

RECIPE = {
    "format": 1,
    "suite": "trixie",
    "variant": "minbase",
    "mirrors": [f"deb {lab_image.MIRROR} trixie main", f"deb {lab_image.MIRROR} trixie-updates main",
                f"deb {lab_image.SECURITY} trixie-security main"],
    # git and rsync for ansible-test's copy of the tree, iproute2 for the
    # namespaces, openssh-client for the drift run's unreachable host,
    # shellcheck for its sanity test, the rest for unit tests that read real
    # tools' output.
    "packages": ["python3", "python3-venv", "ca-certificates", "git", "rsync", "iproute2", "openssh-client",
                 "shellcheck", "ethtool", "kmod", "zstd", "xz-utils", "lz4"],
}
SANITY_COPY = "/tmp/vnf-sanity/ansible_collections/virtnet/failover"
# Unit tests that compare the collection with the host's own tools rather
# than with ansible-core; `make units` runs them on the host, where
# tests/host-packages.txt installs those tools.  Not run in the chroot, and
# the matrix says so in its output.
HOST_TOOL_TESTS = {
    "tests/unit/plugins/module_utils/test_kmod_dkms.py::test_read_tree_agrees_with_dkms_status": "needs dkms",
    "tests/unit/plugins/module_utils/test_kmod_files.py::test_kernel_config_from_real_headers":
        "needs the host's kernel headers",
}
CHECKS = ("sanity", "units", "drift")


def log(msg: str) -> None:
    print(f"[core-matrix {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def cache_root() -> Path:
    return lab_image.cache_root().parent / "core-chroots"


def host_release() -> str:
    """The ansible-core release requirements.txt pins (major.minor)."""
    m = re.search(r"^ansible-core==(\d+\.\d+)\.\d+$", (ROOT / "requirements.txt").read_text(), re.M)
    if not m:
        raise SystemExit("requirements.txt pins no ansible-core==X.Y.Z")
    return m.group(1)


def pinned_core(release: str) -> str:
    """The exact ansible-core version requirements-RELEASE.txt pins."""
    text = (HERE / RELEASES[release]).read_text()
    m = re.search(r"^ansible-core==(\S+)$", text, re.M)
    if not m:
        raise SystemExit(f"{RELEASES[release]} pins no ansible-core")
    return m.group(1)


def venv_dir(release: str) -> str:
    """The virtualenv's path inside the chroot, keyed by its requirements."""
    digest = hashlib.sha256((HERE / RELEASES[release]).read_bytes()).hexdigest()[:12]
    return f"/opt/ansible-core-{release}-{digest}"


def _in_chroot(root: Path, script: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LC_ALL": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "PIP_CERT": debian_chroot.HOST_CA_BUNDLE}
    return debian_chroot.run(root, script, binds=(str(ROOT),), network=True, env=env, timeout=timeout)


def _tail(res: subprocess.CompletedProcess, lines: int = 60) -> str:
    return "\n".join("    | " + line for line in (res.stdout + res.stderr).splitlines()[-lines:])


def prepare() -> tuple[Path, dict]:
    """The chroot and every release's virtualenv; returns (chroot, seconds per step)."""
    log("chroot: Debian trixie with Python " + PYTHON)
    root, secs = debian_chroot.build(cache_root(), "trixie-python", RECIPE, "trixie-python")
    timings = {"chroot": secs}
    for release, reqs in RELEASES.items():
        venv = venv_dir(release)
        if (root / venv.lstrip("/") / ".complete").exists():
            timings[f"venv {release}"] = 0.0
            continue
        log(f"{release}: virtualenv {venv} from {reqs}")
        t0 = time.monotonic()
        script = (f"set -e; rm -rf {venv}; python3 -m venv {venv}; "
                  f"{venv}/bin/pip install -q --disable-pip-version-check --no-deps -r {shlex.quote(str(HERE / reqs))}; "
                  f"{venv}/bin/pip check; touch {venv}/.complete")
        res = _in_chroot(root, script)
        if res.returncode != 0:
            print(_tail(res), file=sys.stderr)
            raise SystemExit(f"{release}: could not build the virtualenv from {reqs}")
        timings[f"venv {release}"] = round(time.monotonic() - t0, 1)
    return root, timings


def check_scripts(release: str) -> dict[str, str]:
    """The shell script of each check of RELEASE, run inside the chroot."""
    venv = venv_dir(release)
    src = shlex.quote(str(ROOT))
    return {
        "sanity": (f"set -e; rm -rf /tmp/vnf-sanity; mkdir -p {SANITY_COPY}; "
                   f"cd {src}; git -c safe.directory='*' ls-files -co --exclude-standard -z "
                   f"| rsync -a --from0 --files-from=- ./ {SANITY_COPY}/; "
                   f"{venv}/bin/python tests/tools/install_ansible_test_get_pip.py; "
                   f"cd {SANITY_COPY}; git init -q; git add -A; "
                   f"{venv}/bin/ansible-test sanity --venv --python {PYTHON} --color no"),
        "units": (f"cd {src}; {venv}/bin/python -m pytest -q -rs -p no:cacheprovider tests/unit/plugins "
                  + " ".join(f"--deselect {shlex.quote(test)}" for test in HOST_TOOL_TESTS)),
        "drift": (f"cd {src}; VIRTNET_INTEGRATION_REQUIRED=1 {venv}/bin/python -m pytest -q -rs "
                  "-p no:cacheprovider tests/integration/test_playbooks_drift.py"),
    }


def versions_in(res: subprocess.CompletedProcess) -> str:
    m = re.search(r"^ansible \[core ([^\]]+)\]", res.stdout, re.M)
    return m.group(1) if m else ""


def check(root: Path) -> list[dict]:
    rows = []
    for test, why in HOST_TOOL_TESTS.items():
        log(f"units: not run in the chroot ({why}; `make units` runs it on the host): {test}")
    for release in RELEASES:
        venv = venv_dir(release)
        version = versions_in(_in_chroot(root, f"{venv}/bin/ansible --version", timeout=120))
        if version != pinned_core(release):
            rows.append({"release": release, "check": "version", "passed": False, "seconds": 0,
                         "detail": f"the virtualenv runs ansible-core {version or '?'}, "
                                   f"{RELEASES[release]} pins {pinned_core(release)}"})
            continue
        for name, script in check_scripts(release).items():
            log(f"{release} ({version}): {name}")
            t0 = time.monotonic()
            res = _in_chroot(root, script)
            row = {"release": release, "ansible_core": version, "check": name, "passed": res.returncode == 0,
                   "seconds": round(time.monotonic() - t0, 1)}
            summary = [line for line in res.stdout.splitlines() if re.match(r"^\d+ passed|^=+ .*(passed|failed)", line)]
            row["detail"] = summary[-1].strip("= ") if summary else ""
            if res.returncode != 0:
                print(_tail(res), file=sys.stderr)
                log(f"FAIL: ansible-core {version}: {name} exit {res.returncode}")
            else:
                skipped = [line for line in res.stdout.splitlines() if line.startswith("SKIPPED")]
                for line in skipped:
                    print(f"    {line}")
                log(f"ok: ansible-core {version}: {name} ({row['seconds']} s) {row['detail']}")
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare")
    c = sub.add_parser("check")
    c.add_argument("--json", type=Path, help="write the results here")
    sub.add_parser("versions")
    args = ap.parse_args(argv)
    if args.cmd == "versions":
        print(" ".join([host_release(), *RELEASES]))
        return 0
    if os.geteuid() != 0:
        print("core-matrix: needs root (mmdebstrap, chroot, mount and network namespaces)", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    root, timings = prepare()
    if args.cmd == "prepare":
        log(f"ready: {root} ({timings})")
        return 0
    rows = check(root)
    failed = [r for r in rows if not r["passed"]]
    result = {"host_release": host_release(), "releases": list(RELEASES), "prepare_seconds": timings,
              "checks": rows, "total_seconds": round(time.monotonic() - t0, 1),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    log(f"{len(rows) - len(failed)} of {len(rows)} checks passed over ansible-core "
        f"{', '.join(sorted({r.get('ansible_core', r['release']) for r in rows}))} "
        f"in {result['total_seconds']} s (ansible-core {host_release()} is checked on the host)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
