# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity virtual environment without pip and then
runs a "get-pip" script fetched from a CI file host that this project's
machines cannot reach.  This script does the same job with what every
CPython ships: ``ensurepip`` installs the bundled pip, then that pip
installs the exact packages ansible-test asked for (e.g. ``pip==24.2``)
from the package index configured for pip.  `make sanity` copies it into
ansible-test's cache under the name ansible-test looks for.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys

# ansible-test runs this with a scrubbed environment (no PIP_CERT, no
# SSL_CERT_FILE), and the pip it bootstraps trusts only its bundled CA list.
# Point the new virtual environment's pip at the system CA bundle so that
# hosts behind a TLS-inspecting proxy still reach the index.
SYSTEM_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def main() -> int:
    # get-pip accepts these flags; plain pip install does not.
    skipped = {"--no-setuptools", "--no-wheel"}
    args = [arg for arg in sys.argv[1:] if arg not in skipped]
    bundle = next((path for path in SYSTEM_CA_BUNDLES if os.path.exists(path)), None)
    if bundle:
        with open(os.path.join(sys.prefix, "pip.conf"), "w", encoding="utf-8") as conf:
            conf.write(f"[global]\ncert = {bundle}\n")
    ensurepip.bootstrap(upgrade=True)
    # ensurepip leaves PIP_CONFIG_FILE=/dev/null behind, which would hide the
    # configuration written above (and the host's own pip configuration).
    env = {key: value for key, value in os.environ.items() if key not in ("PIP_CONFIG_FILE", "ENSUREPIP_OPTIONS")}
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args], env=env)


if __name__ == "__main__":
    sys.exit(main())
