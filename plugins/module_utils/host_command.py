# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command on the managed host and read all it wrote.

The modules whose decisions parse a command's output (``dkms status``,
the package query, ``mokutil``) run it here rather than with
AnsibleModule.run_command.  ansible-core 2.19's run_command waits on the
pipes with a one-second select(); when that select() times out and the
command writes its output and exits before the loop asks whether it is
still running, the loop ends without reading the pipes: rc 0 and an empty
stdout.  On slow hosts (TCG guests, a busy VM) commands take more than a
second and it happens (here: about 1 call in 25 on a Debian 14 guest
beside two other guests, never in 60 direct runs).  A ``dkms status``
read as empty makes a fresh install look like a failed one; an empty
package list would make every package look missing.  subprocess.run
reads both pipes to the end (communicate) before it returns.  Pure
Python, no Ansible imports.
"""

from __future__ import annotations

import os
import subprocess

C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}


def run(argv, env_update=None, timeout=None):
    """(rc, stdout, stderr) of ``argv`` run with stdin from /dev/null and the
    environment plus ``env_update`` (default the C locale); text decoded
    as UTF-8 with replacement.  A command that cannot start gives rc 127
    and the reason in stderr, like a shell."""
    env = dict(os.environ)
    env.update(C_LOCALE if env_update is None else env_update)
    try:
        # not AnsibleModule.run_command: it can lose a command's output (above)
        proc = subprocess.run(  # pylint: disable=ansible-bad-function
            [str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, timeout=timeout, check=False)
    except OSError as exc:
        return 127, '', '%s: %s' % (argv[0], exc.strerror or exc)
    except subprocess.TimeoutExpired as exc:
        return 124, (exc.stdout or b'').decode('utf-8', 'replace'), 'timed out after %ss' % timeout
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')
