# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dkms_source_tree: input checks, comparison, plan and the swap, on real
directories under tmp_path (owner cases need root: they chown to nobody)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import dkms_source_tree as st

FILES = {'dkms.conf': 'PACKAGE_NAME="x"\nPACKAGE_VERSION="1.0"\n', 'x.c': 'int x;\n', 'Makefile': 'obj-m := x.o\n'}
NOBODY = 65534
ME = (os.getuid(), os.getgid())
root_only = pytest.mark.skipif(os.geteuid() != 0, reason='owner checks chown files: they need root')


def whats(differs):
    return sorted((d['what'], d['name']) for d in differs)


def deployed(tmp_path, files=None):
    path = str(tmp_path / 'x-1.0')
    st.deploy(path, files or FILES, *ME)
    return path


@pytest.mark.parametrize('path, files, words', [
    ('usr/src/x-1.0', FILES, 'must be absolute'),
    ('/usr/src', FILES, 'directly under /usr/src'),
    ('/usr/src/a/b', FILES, 'directly under /usr/src'),
    ('/usr/src/../etc', FILES, 'directly under /usr/src'),
    ('/usr/src/x/../y', FILES, 'directly under /usr/src'),
    ('/tmp/x-1.0', FILES, 'directly under /usr/src'),
    ('/usr/src/.x', FILES, 'directly under /usr/src'),
    ('/usr/src/x-1.0.virtnet-new', FILES, 'names used while swapping'),
    ('/usr/src/x-1.0', {}, 'non-empty dict'),
    ('/usr/src/x-1.0', None, 'non-empty dict'),
    ('/usr/src/x-1.0', {'a/b.c': 'x'}, 'without \'/\''),
    ('/usr/src/x-1.0', {'..': 'x'}, 'not \'.\' or \'..\''),
    ('/usr/src/x-1.0', {'.': 'x'}, 'not \'.\' or \'..\''),
    ('/usr/src/x-1.0', {'x.c': b'bytes'}, 'must be text'),
    ('/usr/src/x-1.0', {'x.c': 1}, 'must be text'),
])
def test_bad_input_is_refused_with_what_to_do(path, files, words):
    with pytest.raises(st.SourceTreeError) as e:
        st.validate(path, files)
    assert words in str(e.value)


def test_good_input_and_absent_without_files():
    st.validate('/usr/src/virtnet-failover-1.0.0', FILES)
    st.validate('/usr/src/virtnet-failover-1.0.0/', FILES)
    st.validate('/usr/src/virtnet-failover-1.0.0', None, state='absent')


def test_nothing_there_is_one_missing_directory(tmp_path):
    path = str(tmp_path / 'x-1.0')
    assert st.read_tree(path) is None
    assert st.compare(None, FILES) == [{'what': 'missing', 'name': '.', 'have': None, 'want': 'directory'}]


def test_deploy_writes_exactly_the_files_then_nothing_differs(tmp_path):
    path = deployed(tmp_path)
    assert sorted(os.listdir(path)) == sorted(FILES)
    for name, text in FILES.items():
        with open(os.path.join(path, name), encoding='utf-8') as f:
            assert f.read() == text
        assert oct(os.stat(os.path.join(path, name)).st_mode & 0o7777) == '0o644'
    assert oct(os.stat(path).st_mode & 0o7777) == '0o755'
    assert os.listdir(str(tmp_path)) == ['x-1.0']  # no sibling left
    assert st.compare(st.read_tree(path), FILES, *ME) == []
    assert st.plan(path, FILES, uid=ME[0], gid=ME[1])['differs'] == []


def test_changed_missing_extra_mode_and_type(tmp_path):
    path = deployed(tmp_path)
    with open(os.path.join(path, 'x.c'), 'w', encoding='utf-8') as f:
        f.write('int y;\n')
    os.unlink(os.path.join(path, 'Makefile'))
    with open(os.path.join(path, 'stale.c'), 'w', encoding='utf-8') as f:
        f.write('old\n')
    os.chmod(os.path.join(path, 'dkms.conf'), 0o600)
    os.chmod(path, 0o775)
    differs = st.compare(st.read_tree(path), FILES, *ME)
    assert whats(differs) == [('changed', 'x.c'), ('extra', 'stale.c'), ('missing', 'Makefile'),
                              ('mode', '.'), ('mode', 'dkms.conf')]
    changed = [d for d in differs if d['what'] == 'changed'][0]
    assert changed['want'] == st.sha256_text('int x;\n') and changed['have'] == st.sha256_text('int y;\n')
    # a file wanted as a regular file that is a symlink or a directory
    os.unlink(os.path.join(path, 'x.c'))
    os.symlink('/etc/hostname', os.path.join(path, 'x.c'))
    os.mkdir(os.path.join(path, 'Makefile'))
    assert ('type', 'x.c') in whats(st.compare(st.read_tree(path), FILES, *ME))
    assert ('type', 'Makefile') in whats(st.compare(st.read_tree(path), FILES, *ME))


def test_a_final_newline_counts(tmp_path):
    path = deployed(tmp_path)
    files = dict(FILES, **{'x.c': 'int x;'})
    assert whats(st.compare(st.read_tree(path), files, *ME)) == [('changed', 'x.c')]


def test_symlink_at_path_is_replaced_not_followed(tmp_path):
    target = tmp_path / 'elsewhere'
    target.mkdir()
    (target / 'keep').write_text('keep\n')
    path = str(tmp_path / 'x-1.0')
    os.symlink(str(target), path)
    assert whats(st.compare(st.read_tree(path), FILES, *ME)) == [('type', '.')]
    st.deploy(path, FILES, *ME)
    assert not os.path.islink(path) and sorted(os.listdir(path)) == sorted(FILES)
    assert (target / 'keep').read_text() == 'keep\n'  # the symlink's target is untouched


def test_leftovers_of_a_killed_run_differ_and_are_removed(tmp_path):
    path = deployed(tmp_path)
    os.mkdir(path + st.NEW_SUFFIX)
    (tmp_path / ('x-1.0' + st.NEW_SUFFIX) / 'half.c').write_text('half')
    os.mkdir(path + st.OLD_SUFFIX)
    p = st.plan(path, FILES, uid=ME[0], gid=ME[1])
    assert whats(p['differs']) == [('leftover', path + st.NEW_SUFFIX), ('leftover', path + st.OLD_SUFFIX)]
    st.apply(path, FILES, uid=ME[0], gid=ME[1])
    assert os.listdir(str(tmp_path)) == ['x-1.0']
    assert st.plan(path, FILES, uid=ME[0], gid=ME[1])['differs'] == []


def test_killed_between_the_renames_next_run_deploys(tmp_path):
    """The state a kill between the two renames leaves: no tree, the old one aside."""
    path = deployed(tmp_path)
    os.rename(path, path + st.OLD_SUFFIX)
    assert whats(st.plan(path, FILES, uid=ME[0], gid=ME[1])['differs']) == \
        [('leftover', path + st.OLD_SUFFIX), ('missing', '.')]
    st.apply(path, FILES, uid=ME[0], gid=ME[1])
    assert os.listdir(str(tmp_path)) == ['x-1.0']


@root_only
def test_owner_differs_for_the_directory_and_a_file(tmp_path):
    path = str(tmp_path / 'x-1.0')
    st.deploy(path, FILES)
    assert st.compare(st.read_tree(path), FILES) == []
    os.chown(os.path.join(path, 'x.c'), NOBODY, NOBODY)
    os.chown(path, 0, NOBODY)
    differs = st.compare(st.read_tree(path), FILES)
    assert [(d['what'], d['name'], d['have'], d['want']) for d in differs] == \
        [('owner', '.', '0:%d' % NOBODY, '0:0'), ('owner', 'x.c', '%d:%d' % (NOBODY, NOBODY), '0:0')]
    st.deploy(path, FILES)
    tree = st.read_tree(path)
    assert (tree['uid'], tree['gid']) == (0, 0)
    assert {(e['uid'], e['gid']) for e in tree['files'].values()} == {(0, 0)}


def test_plan_listing_for_diff(tmp_path):
    path = str(tmp_path / 'x-1.0')
    p = st.plan(path, FILES, uid=ME[0], gid=ME[1])
    assert p['before'] == '' and p['files'] == sorted(FILES)
    assert p['after'].splitlines()[0] == 'directory 0755 %d:%d .' % ME
    assert '%s 0644 %d:%d x.c' % ((st.sha256_text('int x;\n'),) + ME) in p['after'].splitlines()
    st.apply(path, FILES, uid=ME[0], gid=ME[1])
    p = st.plan(path, FILES, uid=ME[0], gid=ME[1])
    assert p['before'] == p['after'] and p['before'].count('\n') == len(FILES) + 1


def test_absent_removes_tree_and_leftovers(tmp_path):
    path = deployed(tmp_path)
    os.mkdir(path + st.OLD_SUFFIX)
    p = st.plan(path, None, state='absent')
    assert whats(p['differs']) == [('present', path), ('present', path + st.OLD_SUFFIX)]
    st.apply(path, None, state='absent')
    assert os.listdir(str(tmp_path)) == []
    assert st.plan(path, None, state='absent')['differs'] == []


def test_tree_mtime_is_the_newest_of_the_tree_and_its_entries(tmp_path):
    path = str(tmp_path / 'virtnet-failover-1.0.0')
    assert st.tree_mtime(path) is None
    st.deploy(path, FILES, *ME)
    for name in FILES:
        os.utime(os.path.join(path, name), (1000, 1000))
    os.utime(path, (2000, 2000))
    assert st.tree_mtime(path) == 2000
    os.utime(os.path.join(path, sorted(FILES)[0]), (3000, 3000))  # a file rewritten in place
    assert st.tree_mtime(path) == 3000
