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


def observed(content, exists=True, type_='file', uid=0, gid=0, mode=0o644, error=None):
    """A read_managed_file() result without a file."""
    if not exists:
        return dict(path='x', exists=False, type=None, uid=None, gid=None, mode=None, content=None, error=None)
    return dict(path='x', exists=True, type=type_, uid=uid, gid=gid, mode=mode, content=content, error=error)


def test_managed_file_mismatch_is_exact():
    want = mp.modprobe_file_content('failover', True, 'virtnet-failover', '1.0')
    assert mp.managed_file_mismatch(observed(want), want) == []
    assert mp.managed_file_mismatch(observed(None, exists=False), want) == ['missing']
    assert mp.managed_file_mismatch(observed(want, type_='link'), want) == ['a symbolic link, not a regular file']
    assert mp.managed_file_mismatch(observed(None, error='Permission denied'), want) == [
        'unreadable: Permission denied']
    # the kernel reads yes as 1, the role still writes 1: a difference
    assert mp.managed_file_mismatch(observed(want.replace('ok=1\n', 'ok=yes\n')), want) == ['other content']
    assert mp.managed_file_mismatch(observed(want.rstrip('\n')), want) == ['other content']
    assert mp.managed_file_mismatch(observed(want, uid=1000, mode=0o600), want) == [
        'owner 1000:0, not 0:0', 'mode 0600, not 0644']
    # content not known: presence, type, owner and mode only
    assert mp.managed_file_mismatch(observed('anything'), None) == []
    assert mp.managed_file_mismatch(observed('anything', mode=0o666), None) == ['mode 0666, not 0644']


def test_wanted_content_needs_a_value_and_a_version():
    assert mp.wanted_content('failover', True, 'virtnet-failover', '1.0') == mp.modprobe_file_content(
        'failover', True, 'virtnet-failover', '1.0')
    assert mp.wanted_content('failover', None, 'virtnet-failover', '1.0') is None
    assert mp.wanted_content('failover', False, 'virtnet-failover', None) is None


def test_modprobe_file_items_verdicts():
    path = '/etc/modprobe.d/virtnet-failover.conf'
    want = mp.modprobe_file_content('failover', True, 'virtnet-failover', '1.0')
    items = mp.modprobe_file_items(path, want, observed(None, exists=False))
    assert [(i['kind'], i['subject'], i['actual']) for i in items] == [('modprobe_file', path, 'missing')]
    assert mp.modprobe_file_items(path, want, observed(want)) == []
    yes = want.replace('slave_rename_ok=1\n', 'slave_rename_ok=yes\n')
    items = mp.modprobe_file_items(path, want, observed(yes))
    assert [(i['expected'], i['actual']) for i in items] == [(want, yes)]
    assert items[0]['message'] == ("%s is not the file the kmod role writes: other content (line 4 is "
                                   "'options failover slave_rename_ok=yes', the role writes "
                                   "'options failover slave_rename_ok=1')" % path)
    assert 'rollout' in items[0]['remedy'] and 'rewrite' not in items[0]['remedy']
    assert 'writes it again' in items[0]['remedy'] and 'initramfs' in items[0]['remedy']
    items = mp.modprobe_file_items(path, want, observed(want.rstrip('\n')))
    assert items[0]['message'].endswith("other content (line 4 ends in '', the role writes '\\n')")
    items = mp.modprobe_file_items(path, want, observed(want + 'options virtio_net napi_tx=1\n'))
    assert items[0]['message'].endswith("other content (line 5 is extra: 'options virtio_net napi_tx=1')")
    items = mp.modprobe_file_items(path, want, observed(want, mode=0o600))
    assert [(i['expected'], i['actual']) for i in items] == [(want, 'mode 0600, not 0644')]
    assert mp.modprobe_file_items(path, None, observed('# empty\n')) == []


def test_modprobe_file_content_is_what_the_kernel_reads_as_the_wanted_value(tmp_path):
    from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import read_modprobe_conf
    path = tmp_path / 'virtnet-failover.conf'
    for wanted in (True, False):
        text = mp.modprobe_file_content('failover', wanted, 'virtnet-failover', '1.2.3')
        assert text.startswith('# Managed by virtnet.failover.kmod') and text.endswith('slave_rename_ok=%d\n' % int(wanted))
        assert '(virtnet-failover 1.2.3, DKMS)' in text
        path.write_text(text)
        path.chmod(0o644)
        read = read_modprobe_conf(str(path))
        assert read['options'] == {'failover': {'slave_rename_ok': str(int(wanted))}}
        assert mp.param_bool(read['options']['failover']['slave_rename_ok']) is wanted
        if (read['uid'], read['gid']) == mp.FILE_OWNER:  # the unit tests run as root
            assert mp.modprobe_file_items(str(path), text, read) == []
        other = mp.modprobe_file_content('failover', not wanted, 'virtnet-failover', '1.2.3')
        assert len(mp.modprobe_file_items(str(path), other, read)) == 1


def test_read_managed_file_keeps_the_exact_bytes(tmp_path):
    from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import read_modprobe_conf
    path = tmp_path / 'virtnet-failover.conf'
    path.write_bytes(b'options failover slave_rename_ok\r\n')
    read = read_modprobe_conf(str(path))
    assert read['content'] == 'options failover slave_rename_ok\r\n'  # CRLF kept: the role writes LF
    assert read['options'] == {'failover': {'slave_rename_ok': None}}  # a bare name (the kernel sets true)
    assert read['type'] == 'file' and read['mode'] == path.stat().st_mode & 0o7777
    assert read_modprobe_conf(str(tmp_path / 'none.conf'))['type'] is None


def test_file_is_current_needs_content_owner_mode_and_a_regular_file(tmp_path, monkeypatch):
    monkeypatch.setattr(mp, 'FILE_OWNER', (os.getuid(), os.getgid()))
    content = mp.modprobe_file_content('failover', True, 'virtnet-failover', '1.0')
    path = tmp_path / 'virtnet-failover.conf'
    assert not mp.file_is_current(str(path), content)  # missing
    path.write_text(content)
    path.chmod(0o644)
    assert mp.file_is_current(str(path), content)
    assert not mp.file_is_current(str(path), content.replace('=1', '=0'))  # other content
    monkeypatch.setattr(mp, 'FILE_OWNER', (os.getuid() + 1, os.getgid()))
    assert not mp.file_is_current(str(path), content)  # other owner
    monkeypatch.setattr(mp, 'FILE_OWNER', (os.getuid(), os.getgid()))
    path.chmod(0o664)
    assert not mp.file_is_current(str(path), content)  # other mode
    path.chmod(0o644)
    link = tmp_path / 'link.conf'
    link.symlink_to(path)
    assert not mp.file_is_current(str(link), content)  # a link is replaced by a file
