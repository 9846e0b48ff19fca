# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover module's modprobe configuration judged against the policy.

Two drift kinds come from here (failover_drift reports them, the kmod role's
verify asserts on the first through kmod_info):

- ``modprobe_file``: the file the kmod role writes is not exactly what the
  role would write there (managed_file_mismatch(), the one verdict the role's
  plan also reads, kmod_plan's ``modprobe_current``): missing, not a regular
  file, other content (a byte of difference is enough: another spelling of
  the same value, a comment, spacing, another module's options), or another
  owner or mode.  The role owns the file and rewrites it on any difference,
  so a host whose file differs is not converged;
- ``modprobe_bad_option``: an ``options <module> ...`` line anywhere in the
  configuration modprobe reads, or a ``<module>.<parameter>`` word of the
  kernel command line, gives a parameter the module ignores at load time:
  an unknown name, a ``slave_rename_ok`` value kstrtobool() refuses, or any
  value for the read-only ``live_rename``;
- ``boot_param``: the ``slave_rename_ok`` the module gets at its next load
  is not the policy's, and comes from another modprobe.d file or the kernel
  command line, not from the role's file.

Values are judged with kernel_bool, the kernel's own rule.  Which files
modprobe reads follows kmod: every ``*.conf`` in MODPROBE_DIRS, a file
name in an earlier directory hiding the same name in later ones, parsed in
file name order; a line ending in a backslash continues on the next one; a
line starting with ``#`` is a comment (a ``#`` later in a line is not: the
words after it reach the kernel as parameters).  modprobe passes the
module the parameters of every ``options`` line in that order, then those of
the kernel command line (kmod reads ``/proc/cmdline`` last), and the kernel
keeps the last value of a parameter.  Pure Python.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.virtnet.failover.plugins.module_utils.kernel_bool import param_bool

# The directories kmod (modprobe) reads, in precedence order.
MODPROBE_DIRS = ('/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/lib/modprobe.d',
                 '/usr/lib/modprobe.d')

# Parameters of the patched failover module: the writable bool and the read-only report.
RENAME_PARAM = 'slave_rename_ok'
READ_ONLY_PARAM = 'live_rename'
MODULE_PARAMS = (RENAME_PARAM, READ_ONLY_PARAM)

ROLLOUT = "run the virtnet.failover.rollout playbook for this host"
# The kernel command line of the running boot: modprobe reads module parameters from it too.
CMDLINE = "/proc/cmdline"


# The owner and mode of the file the kmod role writes (its copy task: root:root 0644).
FILE_OWNER = (0, 0)
FILE_MODE = 0o644


def modprobe_file_attributes():
    """FILE_OWNER and FILE_MODE as the role's copy task takes them (kmod_plan's modprobe_file_attributes)."""
    return {"owner": FILE_OWNER[0], "group": FILE_OWNER[1], "mode": "%04o" % FILE_MODE}


def modprobe_file_content(module, slave_rename_ok, dkms_name, dkms_version):
    """The content of the modprobe.d file the kmod role writes."""
    return (
        "# Managed by virtnet.failover.kmod: local changes are overwritten.\n"
        "# Options of the patched %s module (%s %s, DKMS).\n"
        "# %s=1: UP failover slaves may be renamed; 0: such renames fail with EBUSY.\n"
        "options %s %s=%d\n"
        % (module, dkms_name, dkms_version, RENAME_PARAM, module, RENAME_PARAM, int(bool(slave_rename_ok))))


def wanted_content(module, slave_rename_ok, dkms_name, dkms_version):
    """modprobe_file_content(), or None when it cannot be told (no wanted value or no DKMS version)."""
    if slave_rename_ok is None or not dkms_version:
        return None
    return modprobe_file_content(module, slave_rename_ok, dkms_name, dkms_version)


def drift_item(kind, subject, expected, actual, message, remedy):
    """One drift item, the shape failover_drift returns."""
    return {"kind": kind, "subject": subject, "expected": expected, "actual": actual,
            "message": message, "remedy": remedy}


def read_managed_file(path):
    """What managed_file_mismatch() judges of ``path``: ``type`` (file, link,
    other; None when missing), ``uid``, ``gid``, ``mode`` (of the path itself,
    a link not followed), ``content`` (the exact text, line ends kept; None
    when not a readable regular file) and ``error``; ``exists``: a regular
    file, a link to one too."""
    res = dict(path=path, exists=os.path.isfile(path), type=None, uid=None, gid=None, mode=None, content=None,
               error=None)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return res
    except OSError as exc:
        res.update(type='other', error=exc.strerror or str(exc))
        return res
    res.update(uid=st.st_uid, gid=st.st_gid, mode=stat.S_IMODE(st.st_mode),
               type='file' if stat.S_ISREG(st.st_mode) else 'link' if stat.S_ISLNK(st.st_mode) else 'other')
    if res['exists']:
        try:
            with open(path, 'r', encoding='utf-8', errors='replace', newline='') as fh:
                res['content'] = fh.read()
        except OSError as exc:
            res['error'] = exc.strerror or str(exc)
    return res


def managed_file_mismatch(observed, content):
    """THE verdict on the file the kmod role writes: why ``observed``
    (read_managed_file()) is not what the role would write, as a list of
    short reasons; empty when the role would change nothing.  ``content``:
    the exact text the role writes (wanted_content()), None when it is not
    known (then only the file's presence, type, owner and mode are judged).

    failover_drift (kind ``modprobe_file``), the role's verify (kmod_info's
    ``modprobe_conf.drift``) and the role's plan (kmod_plan's
    ``modprobe_current``, on which the role rewrites the file) all read it,
    so a host the drift check finds clean is one the role leaves alone, and
    the reverse.  Exact bytes, on purpose: the role owns the file, and a
    value the kernel takes the same (``yes`` for ``1``) is still a hand
    edit the next run overwrites."""
    if observed['type'] is None:
        return ['missing']
    if observed['type'] != 'file':
        return ['a symbolic link, not a regular file' if observed['type'] == 'link' else 'not a regular file']
    if observed['error']:
        return ['unreadable: %s' % observed['error']]
    out = []
    if content is not None and observed['content'] != content:
        out.append('other content')
    if (observed['uid'], observed['gid']) != FILE_OWNER:
        out.append('owner %d:%d, not %d:%d' % ((observed['uid'], observed['gid']) + FILE_OWNER))
    if observed['mode'] != FILE_MODE:
        out.append('mode %04o, not %04o' % (observed['mode'], FILE_MODE))
    return out


def _lines(text):
    """The lines of ``text``, each with its '\\n' (the last one without, when the text does not end in one)."""
    parts = text.split('\n')
    return [part + '\n' for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def first_difference(actual, wanted):
    """Where the text ``actual`` first differs from ``wanted``, for people (1-based line numbers)."""
    have, want = _lines(actual), _lines(wanted)
    for number, (a, w) in enumerate(zip(have, want), 1):
        if a == w:
            continue
        a_body, w_body = a.rstrip('\r\n'), w.rstrip('\r\n')
        if a_body == w_body:
            return 'line %d ends in %r, the role writes %r' % (number, a[len(a_body):], w[len(w_body):])
        return 'line %d is %r, the role writes %r' % (number, a_body, w_body)
    if len(have) > len(want):
        return 'line %d is extra: %r' % (len(want) + 1, have[len(want)].rstrip('\r\n'))
    if len(have) < len(want):
        return 'line %d is missing: %r' % (len(have) + 1, want[len(have)].rstrip('\r\n'))
    return 'no difference'


def modprobe_file_items(path, content, observed):
    """Drift of the file the kmod role writes (kind ``modprobe_file``): one
    item when managed_file_mismatch() finds a reason.  ``observed``:
    read_managed_file(path) (kmod_files.read_modprobe_conf() gives it);
    ``content``: wanted_content(), or None when not known."""
    why = managed_file_mismatch(observed, content)
    if not why:
        return []
    remedy = ("%s: the kmod role owns %s and writes it again (root:root %04o, local changes are overwritten), "
              "then rebuilds the initramfs" % (ROLLOUT, path, FILE_MODE))
    if why == ['missing']:
        return [drift_item("modprobe_file", path, "present", "missing",
                           "%s is missing: the module loads with its built-in default at the next boot" % path,
                           remedy)]
    expected = content if content is not None else "a regular file, root:root %04o" % FILE_MODE
    if 'other content' in why:
        actual = observed['content']
        detail = first_difference(observed['content'], content)
        why = [w if w != 'other content' else 'other content (%s)' % detail for w in why]
    else:
        actual = "; ".join(why)
    return [drift_item("modprobe_file", path, expected, actual,
                       "%s is not the file the kmod role writes: %s" % (path, "; ".join(why)), remedy)]


def config_files(dirs=MODPROBE_DIRS):
    """The modprobe.d files modprobe reads, in the order it parses them:
    every ``*.conf`` (not hidden) of ``dirs``, sorted by file name, a name in
    an earlier directory hiding the same name in later ones."""
    chosen = {}
    for directory in dirs:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if name.startswith('.') or not name.endswith('.conf') or name in chosen:
                continue
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                continue
            chosen[name] = path
    return [chosen[name] for name in sorted(chosen)]


def _logical_lines(text):
    """(first line number, line) with backslash-continued lines joined."""
    pending, start = None, 0
    for number, line in enumerate(text.split('\n'), 1):
        if pending is None:
            start, pending = number, ''
        if line.endswith('\\'):
            pending += line[:-1]
            continue
        yield start, pending + line
        pending = None
    if pending:
        yield start, pending


def _split_params(text):
    """The kernel's split of a parameter string (next_arg): words apart at
    whitespace outside double quotes; (name, value or None when no '=')."""
    words, word, quoted, started = [], '', False, False
    for ch in text:
        if ch == '"':
            quoted, started = not quoted, True
            continue
        if ch.isspace() and not quoted:
            if started:
                words.append(word)
            word, started = '', False
            continue
        word += ch
        started = True
    if started:
        words.append(word)
    params = []
    for w in words:
        name, sep, value = w.partition('=')
        params.append((name, value if sep else None))
    return params


def _option_lines(text):
    """(line number, module with '_' for '-', [(name, value or None)]) of
    each ``options`` line of a modprobe.d file, as modprobe and the kernel read it."""
    for number, line in _logical_lines(text):
        if not line or line[0] == '#':
            continue
        words = line.split(None, 2)
        if len(words) < 3 or words[0] != 'options':
            continue
        yield number, words[1].replace('-', '_'), _split_params(words[2])


def text_options(text):
    """{module: {parameter: value, or None for a bare name}} of one file's
    ``options`` lines; a later line overrides an earlier one."""
    out = {}
    for _number, module, params in _option_lines(text):
        out.setdefault(module, {}).update(params)
    return out


def module_options(files, module):
    """Every parameter ``options <module>`` lines in ``files`` give:
    dicts of path, line, name (as written), value (None without '=')."""
    base = module.replace('-', '_')
    found = []
    for path in files:
        try:
            with open(path, 'r', encoding='utf-8', errors='replace') as fh:
                text = fh.read()
        except OSError:
            continue
        for number, mod, params in _option_lines(text):
            if mod == base:
                found += [{"path": path, "line": number, "name": name, "value": value} for name, value in params]
    return found


def cmdline_words(text):
    """The words of a kernel command line as the kernel splits them: blanks separate, double quotes keep
    blanks inside a word and are dropped; a ``--`` word ends the kernel's part (the rest goes to init)."""
    words, cur, quoted, started = [], [], False, False
    for ch in text:
        if ch == '"':
            quoted, started = not quoted, True
        elif ch.isspace() and not quoted:
            if started:
                words.append(''.join(cur))
            cur, started = [], False
        else:
            cur.append(ch)
            started = True
    if started:
        words.append(''.join(cur))
    return words[:words.index('--')] if '--' in words else words


def cmdline_options(text, module, source=CMDLINE):
    """The ``<module>.<parameter>[=value]`` words of a kernel command line, in module_options()'s shape (path
    ``source``, line None); '-' and '_' are alike in the module name, as modprobe reads them."""
    base = module.replace('-', '_')
    found = []
    for word in cmdline_words(text):
        key, eq, value = word.partition('=')
        mod, dot, name = key.partition('.')
        if dot and name and mod.replace('-', '_') == base:
            found.append({"path": source, "line": None, "name": name, "value": value if eq else None})
    return found


def _subject(option):
    return option["path"] if option["line"] is None else "%s:%d" % (option["path"], option["line"])


def _shown(option):
    return option["name"] if option["value"] is None else "%s=%s" % (option["name"], option["value"])


def bad_option_items(options, module, modprobe_file=None):
    """Items (kind ``modprobe_bad_option``) for the parameters of
    module_options() that the module ignores at load time."""
    items = []
    for opt in options:
        subject = _subject(opt)
        name = opt["name"].replace('-', '_')  # the kernel treats '-' and '_' in parameter names alike
        remedy = ("remove or fix %s.%s on the kernel command line (the boot loader's configuration)"
                  % (module, opt["name"]) if opt["line"] is None else "remove or fix the option in %s" % opt["path"])
        if modprobe_file:
            remedy += " (the kmod role writes %s=1 or 0 in %s)" % (RENAME_PARAM, modprobe_file)
        if name == RENAME_PARAM:
            if param_bool(opt["value"], given=opt["value"] is not None) is not None:
                continue
            items.append(drift_item(
                "modprobe_bad_option", subject, "%s=1 or %s=0" % (RENAME_PARAM, RENAME_PARAM), _shown(opt),
                "%s gives %s %s, which is not a boolean the kernel takes (1/0, y/n, yes/no, on/off, true/false): "
                "the module ignores it at load time and keeps its default" % (subject, module, _shown(opt)),
                remedy))
        elif name == READ_ONLY_PARAM:
            items.append(drift_item(
                "modprobe_bad_option", subject, "no %s option (read-only)" % READ_ONLY_PARAM, _shown(opt),
                "%s gives %s %s, but %s is read-only (it reports the rename mechanism): the module ignores "
                "the value" % (subject, module, _shown(opt), READ_ONLY_PARAM), remedy))
        else:
            items.append(drift_item(
                "modprobe_bad_option", subject, "only %s (parameters: %s)" % (RENAME_PARAM, ", ".join(MODULE_PARAMS)),
                _shown(opt),
                "%s gives %s the unknown parameter %s: the kernel ignores it at load time"
                % (subject, module, _shown(opt)), remedy))
    return items


def boot_options(module, dirs=MODPROBE_DIRS, cmdline=CMDLINE):
    """Every parameter the module gets at its next load, in the order modprobe passes them: the ``options``
    lines of every modprobe.d file (module_options()), then the kernel command line (cmdline_options())."""
    options = module_options(config_files(dirs), module)
    try:
        with open(cmdline, 'r', encoding='utf-8', errors='replace') as fh:
            options += cmdline_options(fh.read(), module, cmdline)
    except OSError:
        pass
    return options


def boot_param_items(options, module, wanted, modprobe_file):
    """An item (kind ``boot_param``) when something overrides ``modprobe_file``'s ``slave_rename_ok``: a
    modprobe.d file that modprobe reads after it, or the kernel command line, gives a value the kernel takes
    and that is not ``wanted``, so the module would not get the policy at its next load even with the role's
    file as the policy wants it (modprobe_file_items() judges that file itself).

    ``options``: boot_options(). The role's file counts with ``wanted`` at its place in modprobe's order
    (files by name), whatever it holds now; without a role file (``modprobe_file`` empty) every source counts."""
    if wanted is None:
        return []
    role = os.path.basename(modprobe_file) if modprobe_file else None
    winner, value = None, None
    for opt in options:
        if opt["name"].replace('-', '_') != RENAME_PARAM or opt["path"] == modprobe_file:
            continue
        if role and opt["line"] is not None and os.path.basename(opt["path"]) < role:
            continue  # read before the role's file, which then sets the policy's value
        parsed = param_bool(opt["value"], given=opt["value"] is not None)
        if parsed is not None:
            winner, value = opt, parsed
    if winner is None or value == bool(wanted):
        return []
    where = "the kernel command line" if winner["line"] is None else _subject(winner)
    after = ", which modprobe reads after %s," % modprobe_file if modprobe_file else ""
    return [drift_item(
        "boot_param", _subject(winner), "%s=%d (the policy)" % (RENAME_PARAM, int(bool(wanted))), _shown(winner),
        "%s%s gives %s %s, the value the module takes at its next load, so the policy's %s=%d does not "
        "apply at boot" % (where, after, module, _shown(winner), RENAME_PARAM, int(bool(wanted))),
        ("remove %s.%s from the kernel command line (the boot loader's configuration), then reboot"
         % (module, winner["name"]) if winner["line"] is None else
         "remove the option from %s (the kmod role writes %s in %s)" % (winner["path"], RENAME_PARAM, modprobe_file)))]


def file_is_current(path, content):
    """Whether ``path`` is already the file the kmod role writes with
    ``content`` (managed_file_mismatch() finds nothing): the role's plan."""
    return not managed_file_mismatch(read_managed_file(path), content)
