# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A set of files (and the directories holding them) brought to a wanted
state in one pass: each with its content, mode and root ownership, or
absent.  plan() compares and changes nothing; apply() writes each changed
file to a temporary file in its directory, fsyncs it and renames it over
the old one, so a reader (udev running the helper) never sees a half
written file.  Pure Python, no Ansible imports."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile


class ManagedFilesError(ValueError):
    """Bad input: the message says what to change."""


def wanted_file(path, content, mode):
    return dict(path=path, content=content, mode=mode, kind='file')


def wanted_dir(path, mode=0o755):
    return dict(path=path, content=None, mode=mode, kind='dir')


def wanted_absent(path):
    return dict(path=path, content=None, mode=None, kind='absent')


def validate(entries):
    seen = set()
    for e in entries:
        path = e['path']
        if not isinstance(path, str) or not os.path.isabs(path) or os.path.normpath(path) != path or path == '/':
            raise ManagedFilesError("path %r must be an absolute, normalized path below / (no '..', '.', "
                                    "double or trailing '/')" % (path,))
        if path in seen:
            raise ManagedFilesError("path %s is given twice" % path)
        seen.add(path)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(65536), b''):
            h.update(chunk)
    return h.hexdigest()


def _text(path):
    try:
        with open(path, 'r', encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def plan(entries):
    """The changes needed, in order: a list of {path, kind, action, why,
    before (old text of a changed file, '' when new)}; empty when nothing
    differs.  Actions: mkdir, chmod, write, remove."""
    validate(entries)
    out = []
    for e in entries:
        path, kind = e['path'], e['kind']
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if kind == 'absent':
            if st is not None:
                out.append(dict(path=path, kind=kind, action='remove', why='present', before=''))
            continue
        want_fmt = stat.S_IFDIR if kind == 'dir' else stat.S_IFREG
        if st is None:
            out.append(dict(path=path, kind=kind, action='mkdir' if kind == 'dir' else 'write', why='missing',
                            before=''))
            continue
        if stat.S_IFMT(st.st_mode) != want_fmt:
            raise ManagedFilesError("%s exists but is not a %s: move it away, then run again"
                                    % (path, 'directory' if kind == 'dir' else 'regular file'))
        if kind == 'file' and _sha256(path) != hashlib.sha256(e['content'].encode('utf-8')).hexdigest():
            out.append(dict(path=path, kind=kind, action='write', why='content', before=_text(path)))
        elif stat.S_IMODE(st.st_mode) != e['mode'] or st.st_uid != 0 or st.st_gid != 0:
            out.append(dict(path=path, kind=kind, action='chmod', why='mode %04o owner %d:%d'
                            % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), before=''))
    return out


def write_atomic(path, data, mode, root_owned=True):
    """Write ``data`` (bytes) to a temporary file beside ``path``, fsync it, give it ``mode`` (and root
    ownership), rename it over ``path`` and fsync the directory: a reader sees the old or the new file."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if root_owned:
            os.chown(tmp, 0, 0)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def apply(entries, changes):
    """Carry out plan(entries)'s changes."""
    by_path = dict((e['path'], e) for e in entries)
    for c in changes:
        e = by_path[c['path']]
        if c['action'] == 'remove':
            if os.path.isdir(c['path']) and not os.path.islink(c['path']):
                shutil.rmtree(c['path'])
            else:
                os.unlink(c['path'])
        elif c['action'] == 'mkdir':
            os.mkdir(c['path'], e['mode'])
            os.chown(c['path'], 0, 0)
            os.chmod(c['path'], e['mode'])
        elif c['action'] == 'write':
            write_atomic(c['path'], e['content'].encode('utf-8'), e['mode'])
        else:
            os.chown(c['path'], 0, 0)
            os.chmod(c['path'], e['mode'])


def diff(entries, changes):
    """Ansible's diff list: one before/after per changed path."""
    by_path = dict((e['path'], e) for e in entries)
    out = []
    for c in changes:
        e = by_path[c['path']]
        after = e['content'] if c['action'] == 'write' else ''
        if c['action'] == 'remove':
            before = '%s (%s)\n' % (c['path'], 'present')
            after = ''
        elif c['action'] in ('mkdir', 'chmod'):
            before = '' if c['action'] == 'mkdir' else '%s: %s\n' % (c['path'], c['why'])
            after = '%s: %s mode %04o owner 0:0\n' % (c['path'], e['kind'], e['mode'])
        else:
            before = c['before']
        out.append(dict(before_header=c['path'], after_header=c['path'], before=before, after=after))
    return out
