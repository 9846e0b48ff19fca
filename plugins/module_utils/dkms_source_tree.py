# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DKMS source tree of a module version (``/usr/src/NAME-VERSION``):
check the wanted files, compare them with what is on disk, and replace the
tree as a whole.

Wanted: a directory 0755 root:root holding exactly the given files, each a
regular file 0644 root:root with the given content. A deployment writes the
files into a new sibling directory, fsyncs them, and swaps it in with two
renames, so a run killed at any point leaves either the old tree, or no tree
and a sibling that the next run removes, never a half-written tree.

Pure Python, no Ansible imports (the dkms_source module wraps it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat

SOURCE_ROOT = '/usr/src'
DIR_MODE = 0o755
FILE_MODE = 0o644
# siblings used while swapping (the same names the role's earlier shell deploy used)
NEW_SUFFIX = '.virtnet-new'
OLD_SUFFIX = '.virtnet-old'


class SourceTreeError(ValueError):
    """Bad input: the message says what to change."""


def validate(path, files, state='present', root=SOURCE_ROOT):
    """Check the module input; raise SourceTreeError with a message that says what to do."""
    if not isinstance(path, str) or not path:
        raise SourceTreeError("path is required: the DKMS source directory, %s/NAME-VERSION" % root)
    if not os.path.isabs(path):
        raise SourceTreeError("path %r must be absolute: use %s/NAME-VERSION" % (path, root))
    clean = path.rstrip('/')
    base = os.path.basename(clean)
    if os.path.normpath(clean) != clean or os.path.dirname(clean) != root or base in ('', '.', '..') \
            or base.startswith('.'):
        raise SourceTreeError("path %r must be a directory directly under %s (%s/NAME-VERSION), without "
                              "'..' or '.' parts" % (path, root, root))
    if base.endswith((NEW_SUFFIX, OLD_SUFFIX)):
        raise SourceTreeError("path %r ends with %s or %s, the names used while swapping a tree in: "
                              "use %s/NAME-VERSION" % (path, NEW_SUFFIX, OLD_SUFFIX, root))
    if state != 'absent':
        validate_files(files)


def validate_files(files):
    """Check the wanted files; raise SourceTreeError with a message that says what to do."""
    if not isinstance(files, dict) or not files:
        raise SourceTreeError("files must be a non-empty dict of file name -> text content (the whole "
                              "source tree, dkms.conf included)")
    for name, content in files.items():
        if not isinstance(name, str) or not name or '/' in name or '\0' in name or name in ('.', '..'):
            raise SourceTreeError("file name %r is not a plain file name: give names without '/' (the tree "
                                  "is flat), not '.' or '..'" % (name,))
        if not isinstance(content, str):
            raise SourceTreeError("content of %s must be text, not %s: read it with "
                                  "lookup('ansible.builtin.file', PATH, rstrip=False)"
                                  % (name, type(content).__name__))


def sha256_text(content):
    return hashlib.sha256(content.encode('utf-8')).hexdigest()


def _sha256_file(path):
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, 'rb') as f:
        for chunk in iter(lambda: f.read(65536), b''):
            h.update(chunk)
    return h.hexdigest()


def _kind(st):
    if stat.S_ISREG(st.st_mode):
        return 'file'
    if stat.S_ISDIR(st.st_mode):
        return 'directory'
    if stat.S_ISLNK(st.st_mode):
        return 'symlink'
    return 'other'


def _entry(st):
    return {'kind': _kind(st), 'mode': '%04o' % stat.S_IMODE(st.st_mode), 'uid': st.st_uid, 'gid': st.st_gid}


def read_tree(path):
    """What is at ``path`` (symlinks not followed).

    Returns None when nothing is there, else {'kind', 'mode', 'uid', 'gid',
    'files': {name: {'kind', 'mode', 'uid', 'gid', 'sha256' (regular files)}}}.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    tree = _entry(st)
    tree['files'] = {}
    if tree['kind'] != 'directory':
        return tree
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        e = _entry(os.lstat(full))
        if e['kind'] == 'file':
            e['sha256'] = _sha256_file(full)
        tree['files'][name] = e
    return tree


def tree_mtime(path):
    """The newest modification time of the tree at ``path`` and its entries
    (a deployment swaps a new directory in, so it is the time of the last
    deployment); None when nothing is there."""
    try:
        times = [os.lstat(path).st_mtime]
        times += [os.lstat(os.path.join(path, n)).st_mtime for n in os.listdir(path)]
    except OSError:
        return None
    return max(times)


def leftovers(path):
    """Swap siblings of ``path`` left by a killed run."""
    return [p for p in (path + NEW_SUFFIX, path + OLD_SUFFIX) if os.path.lexists(p)]


def _owner_differs(e, uid, gid):
    return (e['uid'], e['gid']) != (uid, gid)


def compare(tree, files, uid=0, gid=0, stale=()):
    """What differs between ``tree`` (read_tree) and the wanted ``files``.

    Returns a list of {'what', 'name', 'have', 'want'}; ``what`` is one of
    missing (the directory or a file is not there), type (not a directory /
    not a regular file), changed (content), mode, owner, extra (a file that is
    not wanted) and leftover (a swap sibling of a killed run). ``name`` is the
    file name, '.' for the directory itself, or the leftover's path.
    Empty list: nothing to do.
    """
    want_owner = '%d:%d' % (uid, gid)
    out = []

    def add(what, name, have, want):
        out.append({'what': what, 'name': name, 'have': have, 'want': want})

    if tree is None:
        add('missing', '.', None, 'directory')
    elif tree['kind'] != 'directory':
        add('type', '.', tree['kind'], 'directory')
    else:
        if tree['mode'] != '%04o' % DIR_MODE:
            add('mode', '.', tree['mode'], '%04o' % DIR_MODE)
        if _owner_differs(tree, uid, gid):
            add('owner', '.', '%d:%d' % (tree['uid'], tree['gid']), want_owner)
        have = tree['files']
        for name in sorted(files):
            e = have.get(name)
            if e is None:
                add('missing', name, None, 'file')
                continue
            if e['kind'] != 'file':
                add('type', name, e['kind'], 'file')
                continue
            if e['sha256'] != sha256_text(files[name]):
                add('changed', name, e['sha256'], sha256_text(files[name]))
            if e['mode'] != '%04o' % FILE_MODE:
                add('mode', name, e['mode'], '%04o' % FILE_MODE)
            if _owner_differs(e, uid, gid):
                add('owner', name, '%d:%d' % (e['uid'], e['gid']), want_owner)
        for name in sorted(set(have) - set(files)):
            add('extra', name, have[name]['kind'], None)
    for p in stale:
        add('leftover', p, 'present', None)
    return out


def listing(tree=None, files=None, uid=0, gid=0):
    """One line per entry, ``sha256 mode uid:gid name``, for --diff: of a tree
    read from disk, or of the wanted ``files``."""
    if files is not None:
        head = 'directory %04o %d:%d .' % (DIR_MODE, uid, gid)
        return '\n'.join([head] + ['%s %04o %d:%d %s' % (sha256_text(files[n]), FILE_MODE, uid, gid, n)
                                   for n in sorted(files)]) + '\n'
    if tree is None:
        return ''
    lines = ['%s %s %d:%d .' % (tree['kind'], tree['mode'], tree['uid'], tree['gid'])]
    for n, e in sorted(tree['files'].items()):
        lines.append('%s %s %d:%d %s' % (e.get('sha256', e['kind']), e['mode'], e['uid'], e['gid'], n))
    return '\n'.join(lines) + '\n'


def plan(path, files, state='present', uid=0, gid=0):
    """Read what is at ``path`` and decide.

    Returns {'differs': compare() entries (with state=absent: one 'present'
    entry per path to remove), 'files': file names after the change,
    'before' / 'after': listing() texts for --diff}. Nothing to do when
    'differs' is empty.
    """
    tree = read_tree(path)
    stale = leftovers(path)
    before = listing(tree)
    if state == 'absent':
        differs = [{'what': 'present', 'name': p, 'have': 'present', 'want': None}
                   for p in ([path] if tree is not None else []) + stale]
        return {'differs': differs, 'files': [], 'before': before, 'after': ''}
    differs = compare(tree, files, uid, gid, stale)
    if not differs:
        return {'differs': [], 'files': sorted(tree['files']), 'before': before, 'after': before}
    return {'differs': differs, 'files': sorted(files), 'before': before, 'after': listing(files=files, uid=uid, gid=gid)}


def apply(path, files, state='present', uid=0, gid=0):
    """Carry out a plan whose 'differs' was not empty."""
    if state == 'absent':
        remove(path)
    else:
        deploy(path, files, uid, gid)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def deploy(path, files, uid=0, gid=0):
    """Write ``files`` to a new sibling directory and swap it in for ``path``."""
    new, old = path + NEW_SUFFIX, path + OLD_SUFFIX
    for p in (new, old):
        _remove(p)
    os.mkdir(new, DIR_MODE)
    os.chmod(new, DIR_MODE)
    os.chown(new, uid, gid)
    for name in sorted(files):
        fd = os.open(os.path.join(new, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        with os.fdopen(fd, 'wb') as f:
            f.write(files[name].encode('utf-8'))
            f.flush()
            os.fchmod(f.fileno(), FILE_MODE)
            os.fchown(f.fileno(), uid, gid)
            os.fsync(f.fileno())
    _fsync_dir(new)
    if os.path.lexists(path):
        os.rename(path, old)
    os.rename(new, path)
    _fsync_dir(os.path.dirname(path))
    _remove(old)
    _fsync_dir(os.path.dirname(path))


def remove(path):
    """Remove the tree and any swap sibling; True when something was removed."""
    found = [p for p in [path] + leftovers(path) if os.path.lexists(p)]
    for p in found:
        _remove(p)
    if found:
        _fsync_dir(os.path.dirname(path))
    return bool(found)
