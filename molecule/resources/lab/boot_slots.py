# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-wide admission control of lab guest boots (flock()ed slot files)."""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path

from lab_common import log

BOOT_SLOTS = int(os.environ.get("VIRTNET_LAB_BOOT_SLOTS", str(max(1, os.cpu_count() or 1))))
SLOT_DIR = Path(tempfile.gettempdir()) / "virtnet-lab-boot-slots"


@contextlib.contextmanager
def boot_slot(name: str):
    """Host-wide admission control: at most BOOT_SLOTS guests boot at once.

    Booting is the CPU-heavy phase under TCG; many guests booting together on
    a small host stretch each boot past systemd's and udev's timeouts.  Every
    user of this launcher (all scenarios, the demo, the benchmarks, manual
    runs) shares the slots, which are flock()ed files (released by the kernel
    if the holder dies).  VIRTNET_LAB_BOOT_SLOTS overrides the count.
    """
    SLOT_DIR.mkdir(exist_ok=True)
    t0 = time.monotonic()
    said = False
    while True:
        for i in range(BOOT_SLOTS):
            fh = open(SLOT_DIR / f"slot{i}.lock", "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            if said:
                log(f"{name}: got a boot slot after {time.monotonic() - t0:.0f}s")
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        if not said:
            log(f"{name}: waiting for a boot slot ({BOOT_SLOTS} guests are booting)")
            said = True
        time.sleep(1)
