# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DKMS package name and version of the patched failover module.

The collection's own dkms.conf (roles/kmod/files/virtnet-failover/dkms.conf)
is their single source: the kmod role and the playbooks read them through
the virtnet.failover.dkms_identity lookup, which calls ``read_identity``.
dkms.conf is parsed by dkms_conf.read_dkms_conf, the reader the dkms module
uses too.
"""

from __future__ import annotations

import os

from ansible_collections.virtnet.failover.plugins.module_utils.dkms_conf import is_literal, read_dkms_conf

# field of the identity -> dkms.conf variable
FIELDS = {"name": "PACKAGE_NAME", "version": "PACKAGE_VERSION"}

# plugins/plugin_utils/ -> the collection root
COLLECTION_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SHIPPED_DKMS_CONF = os.path.join(COLLECTION_ROOT, "roles", "kmod", "files", "virtnet-failover", "dkms.conf")


class DkmsIdentityError(Exception):
    pass


def read_identity(path=SHIPPED_DKMS_CONF):
    """``{"name": PACKAGE_NAME, "version": PACKAGE_VERSION}`` of the dkms.conf at ``path``.

    Raises DkmsIdentityError, saying what to fix, when the file cannot be read
    or a value is missing or is not a plain word (shell expansion, spaces).
    """
    try:
        scalars, _arrays = read_dkms_conf(path)
    except OSError as exc:
        raise DkmsIdentityError("cannot read the DKMS configuration %s (%s): reinstall the virtnet.failover collection "
                                "(the file ships in it), or pass the path of a readable dkms.conf" % (path, exc.strerror or exc))
    identity = {}
    for field, key in FIELDS.items():
        value = scalars.get(key)
        if not value:
            raise DkmsIdentityError("%s sets no %s: add a line %s=\"...\" to it" % (path, key, key))
        if not is_literal(value) or any(c.isspace() or c in "\"'" for c in value):
            raise DkmsIdentityError("%s: %s=%s is not a plain value (no shell expansion, quotes inside, spaces or '#'): "
                                    "write it as %s=\"1.0.0\"" % (path, key, value, key))
        identity[field] = value
    return identity
