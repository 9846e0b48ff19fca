# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""modprobe_policy: which modprobe.d files modprobe reads (kmod's rule) and
the failover options in them that the module ignores at load time."""

from __future__ import annotations

import os

from ansible_collections.virtnet.failover.plugins.module_utils import modprobe_policy as mp


def tree(base, files):
    dirs = [os.path.join(str(base), d.lstrip('/')) for d in mp.MODPROBE_DIRS]
    for rel, text in files.items():
        path = os.path.join(str(base), rel.lstrip('/'))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as fh:
            fh.write(text)
    return dirs


def p(base, rel):
    return os.path.join(str(base), rel.lstrip('/'))


def test_config_files_kmod_order_and_shadowing(tmp_path):
    dirs = tree(tmp_path, {
        '/etc/modprobe.d/b.conf': '', '/lib/modprobe.d/b.conf': 'options failover bogus=1\n',
        '/usr/lib/modprobe.d/a.conf': '', '/run/modprobe.d/c.conf': '', '/etc/modprobe.d/notes.txt': '',
        '/etc/modprobe.d/.hidden.conf': '', '/usr/local/lib/modprobe.d/d.conf': '',
    })
    os.makedirs(p(tmp_path, '/etc/modprobe.d/dir.conf'))
    assert mp.config_files(dirs) == [p(tmp_path, '/usr/lib/modprobe.d/a.conf'), p(tmp_path, '/etc/modprobe.d/b.conf'),
                                     p(tmp_path, '/run/modprobe.d/c.conf'),
                                     p(tmp_path, '/usr/local/lib/modprobe.d/d.conf')]
    assert mp.config_files([p(tmp_path, '/nowhere')]) == []


def test_module_options_lines(tmp_path):
    dirs = tree(tmp_path, {'/etc/modprobe.d/x.conf': (
        '# options failover commented=1\n'
        'options failover slave_rename_ok=1 live_rename\n'
        'options net_failover whatever=1\n'
        'options \tfailover slave-rename-ok="y es" \\\n'
        '  extra=2\n'
        'install failover /bin/true\n'
        'options failover\n')})
    opts = mp.module_options(mp.config_files(dirs), 'failover')
    path = p(tmp_path, '/etc/modprobe.d/x.conf')
    assert [(o['path'], o['line'], o['name'], o['value']) for o in opts] == [
        (path, 2, 'slave_rename_ok', '1'), (path, 2, 'live_rename', None),
        (path, 4, 'slave-rename-ok', 'y es'), (path, 4, 'extra', '2')]


def test_bad_option_items(tmp_path):
    dirs = tree(tmp_path, {'/etc/modprobe.d/virtnet-failover.conf': 'options failover slave_rename_ok=1\n',
                           '/etc/modprobe.d/old.conf': (
                               'options failover slave_rename_ok=bogus\n'
                               'options failover live_rename=flag\n'
                               'options failover slave_rename_ok slave-rename-ok=off renmae_ok=1 # note\n'
                               'options failover slave_rename_ok=\n')})
    items = mp.bad_option_items(mp.module_options(mp.config_files(dirs), 'failover'), 'failover',
                                '/etc/modprobe.d/virtnet-failover.conf')
    old = p(tmp_path, '/etc/modprobe.d/old.conf')
    assert [(i['kind'], i['subject'], i['actual']) for i in items] == [
        ('modprobe_bad_option', old + ':1', 'slave_rename_ok=bogus'),
        ('modprobe_bad_option', old + ':2', 'live_rename=flag'),
        ('modprobe_bad_option', old + ':3', 'renmae_ok=1'),
        ('modprobe_bad_option', old + ':3', '#'),
        ('modprobe_bad_option', old + ':3', 'note'),
        ('modprobe_bad_option', old + ':4', 'slave_rename_ok='),
    ]
    assert 'not a boolean the kernel takes' in items[0]['message'] and old in items[0]['remedy']
    assert 'read-only' in items[1]['message']
    assert 'unknown parameter renmae_ok=1' in items[2]['message']
    assert all(set(i) == {'kind', 'subject', 'expected', 'actual', 'message', 'remedy'} for i in items)


def test_modprobe_file_items_verdicts():
    path = '/etc/modprobe.d/virtnet-failover.conf'
    missing = dict(exists=False, content=None, options={})
    assert [i['actual'] for i in mp.modprobe_file_items(path, 'failover', True, None, missing)] == ['missing']
    have = dict(exists=True, content='options failover slave_rename_ok=yes\n',
                options={'failover': {'slave_rename_ok': 'yes'}})
    assert mp.modprobe_file_items(path, 'failover', True, None, have) == []
    assert [i['expected'] for i in mp.modprobe_file_items(path, 'failover', False, None, have)] == [
        'options failover slave_rename_ok=0']
    assert mp.modprobe_file_items(path, 'failover', None, None, have) == []
    assert len(mp.modprobe_file_items(path, 'failover', True, 'options failover slave_rename_ok=1', have)) == 1
    none = dict(exists=True, content='# empty\n', options={})
    assert [i['actual'] for i in mp.modprobe_file_items(path, 'failover', True, None, none)] == [
        'no slave_rename_ok option']


def test_modprobe_file_content_is_what_the_kernel_reads_as_the_wanted_value(tmp_path):
    from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import read_modprobe_conf
    path = tmp_path / 'virtnet-failover.conf'
    for wanted in (True, False):
        text = mp.modprobe_file_content('failover', wanted, 'virtnet-failover', '1.2.3')
        assert text.startswith('# Managed by virtnet.failover.kmod') and text.endswith('slave_rename_ok=%d\n' % int(wanted))
        assert '(virtnet-failover 1.2.3, DKMS)' in text
        path.write_text(text)
        read = read_modprobe_conf(str(path))
        assert read['options'] == {'failover': {'slave_rename_ok': str(int(wanted))}}
        # the role's file passes the drift check, the exact-content one included
        assert mp.modprobe_file_items(str(path), 'failover', wanted, None, read) == []
        assert mp.modprobe_file_items(str(path), 'failover', wanted, text, read) == []
        assert len(mp.modprobe_file_items(str(path), 'failover', not wanted, None, read)) == 1


def test_bare_slave_rename_ok_means_true_as_the_kernel_reads_it(tmp_path):
    from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import read_modprobe_conf
    path = tmp_path / 'virtnet-failover.conf'
    path.write_text('options failover slave_rename_ok\n')
    read = read_modprobe_conf(str(path))
    assert read['options'] == {'failover': {'slave_rename_ok': None}}
    assert mp.modprobe_file_items(str(path), 'failover', True, None, read) == []
    items = mp.modprobe_file_items(str(path), 'failover', False, None, read)
    assert [(i['expected'], i['actual']) for i in items] == [('options failover slave_rename_ok=0', 'slave_rename_ok')]
    # a later line overrides an earlier one, as the kernel applies them in order
    path.write_text('options failover slave_rename_ok=0\noptions failover slave_rename_ok=1\n')
    assert mp.modprobe_file_items(str(path), 'failover', True, None, read_modprobe_conf(str(path))) == []


def test_file_is_current_needs_content_owner_mode_and_a_regular_file(tmp_path):
    content = mp.modprobe_file_content('failover', True, 'virtnet-failover', '1.0')
    path = tmp_path / 'virtnet-failover.conf'
    me = dict(uid=os.getuid(), gid=os.getgid())
    assert not mp.file_is_current(str(path), content, **me)  # missing
    path.write_text(content)
    path.chmod(0o644)
    assert mp.file_is_current(str(path), content, **me)
    assert not mp.file_is_current(str(path), content.replace('=1', '=0'), **me)  # other content
    assert not mp.file_is_current(str(path), content, uid=me['uid'] + 1, gid=me['gid'])  # other owner
    path.chmod(0o664)
    assert not mp.file_is_current(str(path), content, **me)  # other mode
    path.chmod(0o644)
    link = tmp_path / 'link.conf'
    link.symlink_to(path)
    assert not mp.file_is_current(str(link), content, **me)  # a link is replaced by a file
