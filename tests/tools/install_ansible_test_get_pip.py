# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put ansible_test_get_pip.py where the running Python's ansible-test looks
for its pip bootstrap script: ~/.ansible/test/cache/get_pip_<version>.py,
once for every pip version that ansible-test release pins.

    python tests/tools/install_ansible_test_get_pip.py

Run with the Python whose ansible-core will run ``ansible-test sanity``
(`make sanity` on the host, tests/ansible_core/matrix.py in its chroot).
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

STAND_IN = Path(__file__).with_name("ansible_test_get_pip.py")


def pinned_pip_versions() -> list[str]:
    # imported here: only the interpreter whose ansible-test runs sanity has it
    import ansible_test  # pylint: disable=import-outside-toplevel

    source = (Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
    return sorted(set(re.findall(r"pip=.(\d+\.\d+)", source)))


def main() -> int:
    versions = pinned_pip_versions()
    if not versions:
        print("ansible-test pins no pip version: its pip bootstrap changed, update this script", file=sys.stderr)
        return 1
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in versions:
        target = cache / f"get_pip_{version.replace('.', '_')}.py"
        shutil.copyfile(STAND_IN, target)
        target.chmod(0o644)
    print(f"ansible-test pip bootstrap for pip {', '.join(versions)} in {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
