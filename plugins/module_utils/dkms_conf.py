# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reader of a dkms.conf's simple assignments (a bash fragment), without the rest of the DKMS code.

The dkms module and kmod_dkms use it through kmod_dkms; the dkms_identity lookup imports only this file, so
templating its value costs each Ansible worker one small import.
"""

from __future__ import annotations

import re

_CONF_RE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?\s*=\s*(.*?)\s*$')


def _unquote(value):
    if value.startswith(('"', "'")):
        end = value.find(value[0], 1)
        rest = value[end + 1:].strip() if end > 0 else None
        if rest == '' or (rest and rest.startswith('#')):  # "value" or "value" # comment
            return value[1:end]
        return value
    return value.split(' #', 1)[0].strip()


def read_dkms_conf(path):
    """Read the simple assignments of a dkms.conf (a bash fragment).

    Returns {KEY: value} and {KEY: {index: value}} for array entries.  Values
    that use shell expansion are returned as written; callers treat values
    containing '$' or '`' as unknown.
    """
    scalars, arrays = {}, {}
    with open(path, 'r', encoding='utf-8', errors='replace') as f:
        for line in f:
            if line.lstrip().startswith('#'):
                continue
            m = _CONF_RE.match(line)
            if not m:
                continue
            key, idx, value = m.group(1), m.group(2), _unquote(m.group(3))
            if idx is None:
                scalars[key] = value
            else:
                arrays.setdefault(key, {})[int(idx)] = value
    return scalars, arrays


def is_literal(value):
    return value is not None and not any(c in value for c in '$`#')
