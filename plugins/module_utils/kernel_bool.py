# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one boolean parser of the collection: the kernel's own rule.

A ``bool`` module parameter (``slave_rename_ok``) is parsed by the kernel
with ``kstrtobool()`` (lib/kstrtox.c), both at load time (modprobe.d
``options`` lines) and when /sys/module/<m>/parameters/<p> is written.  So
every place that judges such a value (drift, the kmod role's verify, the
rollout fast path, module_param) must parse it the same way, or a value the
kernel takes is reported as drift, or the reverse.

kstrtobool looks at the first one or two characters only:
first y/Y/t/T/1 -> true, n/N/f/F/0 -> false, o/O followed by n/N -> true,
by f/F -> false; anything else (also an empty string) is -EINVAL.  A bool
parameter given without ``=value`` (``options failover slave_rename_ok``)
is set to true (the patched module calls ``kstrtobool(val ? val : "1")``,
as the kernel's param_set_bool does).  Pure Python, no Ansible imports.
"""

from __future__ import annotations

_TRUE_FIRST = frozenset('yYtT1')
_FALSE_FIRST = frozenset('nNfF0')


def kstrtobool(text):
    """True/False as the kernel's kstrtobool() parses ``text``; None where
    the kernel returns -EINVAL (None, empty, or any other spelling)."""
    if not isinstance(text, str) or not text:
        return None
    first = text[0]
    if first in _TRUE_FIRST:
        return True
    if first in _FALSE_FIRST:
        return False
    if first in 'oO' and len(text) > 1:
        if text[1] in 'nN':
            return True
        if text[1] in 'fF':
            return False
    return None


def param_bool(value, given=True):
    """A bool module parameter as the kernel sets it: ``given`` is False for
    a bare ``name`` without ``=`` (which means true), else ``value`` goes
    through kstrtobool()."""
    if not given:
        return True
    return kstrtobool(value)


def to_bool(value):
    """A value from Ansible (Python bool, 0/1 int, or text) as a kernel bool:
    Python bools and the ints 0/1 as they are, text through kstrtobool();
    None for anything the kernel would refuse."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {1: True, 0: False}.get(value)
    if value is None:
        return None
    return kstrtobool(str(value))
