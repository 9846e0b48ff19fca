# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out an ordered rename plan; undo everything on failure.

``ops`` is anything with rename(ifindex, name) and set_up(ifindex, up) -- failover_netlink.LinkSocket in production, a fake in the
unit tests (EBUSY cannot be produced on a >= 6.2 test kernel).
"""

from __future__ import annotations

import errno
import os


class RenameFailed(Exception):
    def __init__(self, msg, done):
        super().__init__(msg)
        self.done = done


def ebusy_explanation(kstate):
    """(cause, fix) for an -EBUSY on renaming an UP slave."""
    kstate = kstate or {}
    if kstate.get("patched") and kstate.get("slave_rename_ok") is False:
        return ("rename protection is on (/sys/module/failover/parameters/slave_rename_ok is N)",
                "allow live renames with 'echo 1 > /sys/module/failover/parameters/slave_rename_ok' "
                "(or virtnet.failover.module_param), or set down_rename_up: true, which takes the "
                "slave down for the rename and interrupts its traffic")
    if kstate.get("live_rename") == "unsupported":
        return ("this kernel cannot rename UP failover slaves (failover live_rename=unsupported: a kernel "
                "before 5.1 without IFF_LIVE_RENAME_OK)",
                "set down_rename_up: true (interrupts traffic on that slave while it is renamed), "
                "or boot a kernel >= 5.1")
    return ("the kernel refuses to rename this UP interface: either rename protection is on "
            "(a failover module with slave_rename_ok=0) or the kernel has no live rename for failover "
            "slaves (before 5.1 without IFF_LIVE_RENAME_OK)",
            "set slave_rename_ok=1 on the patched failover module, or set down_rename_up: true, which takes "
            "the slave down for the rename and interrupts its traffic")


def _label(info, index, old, new):
    master, role = info.get(index, (None, None))
    what = "%s of %s" % (role, master) if master else "ifindex %d" % index
    return "%s -> %s (%s)" % (old, new, what)


def execute(ops, steps, info=None, down_rename_up=False, kstate=None, error_class=OSError):
    """Run ``steps`` [(ifindex, from, to)] through ``ops``.

    ``info`` maps ifindex -> (master, role) for messages; ``error_class`` is
    the exception type whose ``code`` attribute is an errno.
    Returns the list of steps done, each (ifindex, from, to, bounced).
    On failure undoes the steps already done (in reverse) and raises
    RenameFailed with a message saying why and what to do.
    """
    info = info or {}
    done = []
    for index, old, new in steps:
        bounced = False
        try:
            try:
                ops.rename(index, new)
            except error_class as exc:
                if getattr(exc, "code", None) != errno.EBUSY:
                    raise
                if not down_rename_up:
                    cause, fix = ebusy_explanation(kstate)
                    raise RenameFailed(
                        "cannot rename UP slave %s: the kernel answered EBUSY because %s. What to do: %s."
                        % (_label(info, index, old, new), cause, fix), done)
                ops.set_up(index, False)
                bounced = True
                try:
                    ops.rename(index, new)
                finally:
                    ops.set_up(index, True)
        except RenameFailed as exc:
            undo_problems = undo(ops, done, error_class)
            raise RenameFailed(_with_undo(str(exc), done, undo_problems), [])
        except error_class as exc:
            code = getattr(exc, "code", None)
            reason = os.strerror(code) if isinstance(code, int) else str(exc)
            undo_problems = undo(ops, done, error_class)
            raise RenameFailed(_with_undo("renaming %s failed: %s" % (_label(info, index, old, new), reason),
                                          done, undo_problems), [])
        done.append((index, old, new, bounced))
    return done


def undo(ops, done, error_class=OSError):
    """Reverse ``done``; returns a list of problems (empty when all undone)."""
    problems = []
    for index, old, new, bounced in reversed(done):
        try:
            if bounced:
                ops.set_up(index, False)
                try:
                    ops.rename(index, old)
                finally:
                    ops.set_up(index, True)
            else:
                ops.rename(index, old)
        except error_class as exc:
            problems.append("could not rename %s back to %s: %s" % (new, old, exc))
    return problems


def _with_undo(msg, done, problems):
    if not done:
        return msg + " Nothing was renamed."
    if problems:
        return msg + " Undoing the %d rename(s) already done failed: %s" % (len(done), "; ".join(problems))
    return msg + " The %d rename(s) already done were undone, so nothing changed." % len(done)
