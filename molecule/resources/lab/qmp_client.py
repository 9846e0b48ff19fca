# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""QMP sessions with a lab guest's QEMU (qemu.qmp from the venv), and the
failover primary that is plugged over QMP."""
from __future__ import annotations

import asyncio
import contextlib

from qemu_command import FAILOVER_MAC

PRIMARY_DEVICE = {
    "driver": "e1000e",
    "id": "primary0",
    "netdev": "n1",
    "mac": FAILOVER_MAC,
    "bus": "rp2",
    "failover_pair_id": "standby0",
    # no option ROM: its RAM block exists only where the ROM was loaded, and a
    # migration destination refuses an unknown one ("Unknown ramblock")
    "romfile": "",
}


async def qmp_session(info: dict, coro_fn, timeout: float = 30):
    """Connect to info["qmp_socket"] and return ``await coro_fn(client)``."""
    from qemu.qmp import QMPClient  # the venv provides qemu.qmp

    qmp = QMPClient(info["name"])
    await asyncio.wait_for(qmp.connect(info["qmp_socket"]), 10)
    try:
        return await asyncio.wait_for(coro_fn(qmp), timeout)
    finally:
        with contextlib.suppress(Exception):
            await qmp.disconnect()


def qmp_quit(qmp_socket: str) -> None:
    """Ask the QEMU of this QMP socket to quit (raises when it does not answer)."""
    async def go(q):
        await q.execute("quit")

    asyncio.run(qmp_session({"name": "quit", "qmp_socket": qmp_socket}, go, 5))


def plug_primary_at_start(info: dict) -> None:
    """device_add the primary while QEMU is still paused (-S), then cont.

    A failover primary given with -device keeps its command-line options in
    QEMU for good, so its id can never be device_add-ed again after an
    unplug ("Duplicate ID").  Added over QMP, the options go away with the
    device, and virtio-net accepts a primary of the same id again: that is
    what makes replug() repeatable.  QEMU keeps it hidden until the guest
    acks VIRTIO_NET_F_STANDBY, exactly as with -device.
    """

    async def go(q):
        await q.execute("device_add", dict(PRIMARY_DEVICE))
        await q.execute("cont")

    asyncio.run(qmp_session(info, go, 30))
