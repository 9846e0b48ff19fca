# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the kmod integration tests: run a collection module through
ansible (ad hoc, connection local, venv binaries) and get its result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COLLECTIONS = os.path.join(ROOT, '.build', 'collections')
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


def ansible_bin():
    path = os.path.join(VENV_BIN, 'ansible')
    return path if os.path.exists(path) else shutil.which('ansible')


def run_module(name, args, check=False, diff=False, timeout=600):
    """Run virtnet.failover.<name> on localhost; return the host result dict
    (keys of the module result plus 'failed' when it failed)."""
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
               ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.minimal',
               ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='false', ANSIBLE_RETRY_FILES_ENABLED='0',
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               PATH=VENV_BIN + os.pathsep + env.get('PATH', ''))
    cmd = [ansible_bin(), 'localhost', '-i', 'localhost,', '-c', 'local',
           '-m', 'virtnet.failover.' + name, '-a', json.dumps(args)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, check=False)
    marker = proc.stdout.find(' => {')
    if marker < 0:
        raise AssertionError('no result from ansible (rc=%d)\nstdout:\n%s\nstderr:\n%s'
                             % (proc.returncode, proc.stdout, proc.stderr))
    status = proc.stdout[:marker].rsplit('|', 1)[-1].strip()
    result, _end = json.JSONDecoder().raw_decode(proc.stdout[marker + 4:])
    result['failed'] = result.get('failed', False) or status.startswith(('FAILED', 'UNREACHABLE'))
    result['_stderr'] = proc.stderr
    return result
