# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the lab launcher (vm.py) shares: its error, its
progress log on stderr, and the guest-side code in guest/, read at run time."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

GUEST_DIR = Path(__file__).resolve().parent / "guest"


class LabError(RuntimeError):
    """A lab operation failed; the message says what to do."""


def log(msg: str) -> None:
    print(f"[vm] {msg}", file=sys.stderr, flush=True)


def guest_code(name: str, **variables: str) -> str:
    """The text of guest/NAME, after shell assignments of VARIABLES (for the guest's shell)."""
    assignments = "".join(f"{key}={shlex.quote(str(value))}\n" for key, value in variables.items())
    return assignments + (GUEST_DIR / name).read_text()
