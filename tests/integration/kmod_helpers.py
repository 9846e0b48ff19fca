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


def run_tasks(tasks, workdir, timeout=900):
    """Run several tasks in ONE ansible-playbook process (ansible start-up
    costs seconds on a busy host) and return one result per task.

    Each task is a dict: {'module': name, 'args': {...}, 'check': bool,
    'diff': bool} for a virtnet.failover module (run with ignore_errors, so
    failures are returned), or {'snapshot': [name, kernel]} for a snapshot of
    the DKMS state taken between tasks (see snapshot())."""
    import yaml  # ansible depends on PyYAML
    play_tasks = []
    regs = []
    for i, t in enumerate(tasks):
        reg = 'r%d' % i
        regs.append(reg)
        if 'snapshot' in t:
            play_tasks.append({'name': 'snapshot %d' % i,
                               'ansible.builtin.command': {'argv': [sys.executable, os.path.abspath(__file__),
                                                                    'snapshot'] + list(t['snapshot'])},
                               'register': reg, 'changed_when': False})
            continue
        play_tasks.append({'name': 'task %d' % i, 'virtnet.failover.' + t['module']: t['args'],
                           'check_mode': bool(t.get('check')), 'diff': bool(t.get('diff')),
                           'register': reg, 'ignore_errors': True})
    out = os.path.join(str(workdir), 'results.json')
    play_tasks.append({'name': 'dump results', 'ansible.builtin.copy': {
        'content': '{{ [%s] | to_json }}' % ', '.join(regs), 'dest': out, 'mode': '0600'},
        'check_mode': False})
    book = os.path.join(str(workdir), 'play.yml')
    with open(book, 'w') as f:
        yaml.safe_dump([{'name': 'kmod test', 'hosts': 'localhost', 'gather_facts': False,
                         'tasks': play_tasks}], f, sort_keys=False)
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
               ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, PATH=VENV_BIN + os.pathsep + env.get('PATH', ''))
    if os.path.exists(out):
        os.unlink(out)
    pb = os.path.join(VENV_BIN, 'ansible-playbook')
    proc = subprocess.run([pb if os.path.exists(pb) else 'ansible-playbook', '-i', 'localhost,', '-c', 'local',
                           book], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False)
    if not os.path.exists(out):
        raise AssertionError('playbook did not finish (rc=%d):\n%s' % (proc.returncode, proc.stdout[-6000:]))
    with open(out) as f:
        results = json.load(f)
    for t, r in zip(tasks, results):
        if 'snapshot' in t:
            r['snapshot'] = json.loads(r['stdout'])
        r.setdefault('failed', False)
    return results


def snapshot(name, kernel, ko_name=None):
    """Everything a dkms action could change for `name`: dkms status, the
    DKMS tree (paths, link targets, sizes, mtimes), /usr/src copies and the
    installed module files of `kernel`."""
    st = subprocess.run(['dkms', 'status', '-m', name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, check=False).stdout
    tree = []
    roots = ['/var/lib/dkms/' + name] + ['/usr/src/' + d for d in sorted(os.listdir('/usr/src'))
                                         if d.startswith(name + '-')]
    upd = os.path.join('/lib/modules', kernel, 'updates', 'dkms')
    if os.path.isdir(upd):
        roots.append(upd)
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for n in sorted(dirnames + filenames):
                p = os.path.join(dirpath, n)
                s = os.lstat(p)
                tree.append([p, os.readlink(p) if os.path.islink(p) else None, s.st_size, s.st_mtime_ns])
    return {'status': st, 'tree': sorted(tree)}


if __name__ == '__main__':
    if sys.argv[1] == 'snapshot':
        print(json.dumps(snapshot(sys.argv[2], sys.argv[3])))
