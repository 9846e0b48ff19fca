# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-guest probe of a live migration (python3 of the lab image).

Started by migration_probe_start.sh as `python3 PROBE MARK MASTER GW OUT`:
every 20 ms it reads which e1000e is enslaved and under which name, and
writes each change to the serial console (the host timestamps it there);
every 100 ms it sends an ICMP echo from the failover master MASTER to the
user network's gateway GW and counts replies.  On SIGTERM it waits a last
second for replies in flight and writes its figures as JSON to OUT.
"""
import json
import os
import select
import signal
import socket
import struct
import sys
import time


def primary():
    """(name, master) of the enslaved e1000e, or ("-", "-")."""
    for n in sorted(os.listdir("/sys/class/net")):
        p = "/sys/class/net/" + n
        try:
            if os.path.basename(os.readlink(p + "/device/driver")) == "e1000e":
                return n, os.path.basename(os.readlink(p + "/master"))
        except OSError:
            continue
    return "-", "-"


def csum(b):
    """The internet checksum of b."""
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF


def main():
    mark, master, gw, out = sys.argv[1:5]
    sk = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, master.encode())
    ident = os.getpid() & 0xFFFF
    tty = open("/dev/ttyS0", "w")
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    sent, got, last_reply, max_gap, seq, tick, last = {}, set(), None, 0.0, 0, 0, None
    t_end = None
    while True:
        now = time.monotonic()
        if stop and t_end is None:
            t_end = now + 1.0  # a last second for replies in flight
        if t_end is not None and now >= t_end:
            break
        cur = primary()
        if cur != last:
            tty.write("%s primary %s %s\n" % (mark, cur[0], cur[1]))
            tty.flush()
            if last is None:
                open(out + ".ready", "w").close()  # the first state is on the console: the host may measure from here
            last = cur
        if tick % 5 == 0 and t_end is None:
            seq = (seq + 1) & 0xFFFF
            h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"vnfo" * 8
            pkt = h[:2] + struct.pack("!H", csum(h)) + h[4:]
            try:
                sk.sendto(pkt, (gw, 0))
            except OSError:
                pass  # no route while the master has no slave: a loss
            sent[seq] = now
        tick += 1
        while select.select([sk], [], [], 0)[0]:
            data = sk.recv(2048)
            icmp = data[(data[0] & 15) * 4:]
            typ, _c, _s, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if typ == 0 and rid == ident and rseq in sent and rseq not in got:
                got.add(rseq)
                if last_reply is not None:
                    max_gap = max(max_gap, now - last_reply)
                last_reply = now
        time.sleep(0.02)
    with open(out, "w") as fh:
        json.dump({"sent": len(sent), "received": len(got), "lost": len(sent) - len(got),
                   "max_reply_gap_ms": round(max_gap * 1000)}, fh)


if __name__ == "__main__":
    main()
