# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hot re-plug of a lab guest's failover primary over QMP (`vm.py replug`)."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from guest_state import guest_failover_slaves
from instances import require_running
from lab_common import LabError, log
from qmp_client import PRIMARY_DEVICE, qmp_session


def replug(name: str, state_dir: Path | None = None, wait_guest: bool = True, timeout: float = 120) -> dict:
    """Unplug the primary (device_del, wait DEVICE_DELETED) and plug it back
    (device_add of the same e1000e, same id/MAC/root port)."""
    from qemu.qmp import EventListener, ExecuteError

    info = require_running(name, state_dir)
    times: dict = {}

    async def go(q):
        t0 = time.monotonic()
        present = {p["name"] for p in await q.execute("qom-list", {"path": "/machine/peripheral"})}
        if "primary0" in present:
            listener = EventListener(("DEVICE_DELETED",))
            with q.listen(listener):
                try:
                    await q.execute("device_del", {"id": "primary0"})
                except ExecuteError as exc:
                    raise LabError(f"{name}: device_del primary0 failed: {exc}") from exc
                async for ev in listener:
                    if ev.get("data", {}).get("device") == "primary0":
                        break
            times["unplug_seconds"] = round(time.monotonic() - t0, 1)
        else:
            # hidden (guest has not acked the standby yet) or a previous
            # replug stopped between device_del and device_add
            log(f"{name}: primary0 is not plugged; plugging it")
            times["unplug_seconds"] = None
        t1 = time.monotonic()
        for attempt in range(40):
            try:
                await q.execute("device_add", dict(PRIMARY_DEVICE))
                break
            except ExecuteError as exc:
                if "Duplicate ID" not in str(exc) or attempt == 39:
                    raise LabError(f"{name}: device_add primary0 failed: {exc}") from exc
                await asyncio.sleep(0.5)
        times["plug_seconds"] = round(time.monotonic() - t1, 1)

    try:
        asyncio.run(qmp_session(info, go, timeout))
    except asyncio.TimeoutError as exc:
        raise LabError(f"{name}: the guest did not release primary0 within {timeout}s") from exc
    if wait_guest:
        t2 = time.monotonic()
        deadline = t2 + timeout
        while True:
            slaves = guest_failover_slaves(info)
            if any(s["driver"] == "e1000e" for s in slaves):
                break
            if time.monotonic() > deadline:
                raise LabError(f"{name}: the guest did not enslave the re-plugged primary within {timeout}s: {slaves}")
            time.sleep(1)
        times["guest_seconds"] = round(time.monotonic() - t2, 1)
        times["slaves"] = slaves
    log(f"{name}: primary0 re-plugged {times}")
    return times
