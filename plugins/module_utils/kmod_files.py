# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read kernel module files without modinfo/lsinitramfs: the .modinfo section
of an ELF .ko, initramfs images (concatenated newc cpio archives, the main one
compressed), /boot kernel configs and the next-boot kernel.

Pure Python; zstd and lz4 streams are decompressed by the tools found with
shutil.which (the standard library has no zstd/lz4 in Python 3.11)."""

from __future__ import annotations

import glob
import gzip
import lzma
import os
import re
import shutil
import struct
import subprocess
import zlib

from ansible_collections.virtnet.failover.plugins.module_utils.modprobe_policy import read_managed_file, text_options
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_dkms import (  # noqa: F401 (find_ko re-exported)
    KO_SUFFIXES,
    find_ko,
    version_key,
)


PROC_CONFIG = '/proc/config.gz'
DKMS_DIRS = ('updates/dkms', 'extra', 'updates')  # where DKMS installs a module, in search order


class FormatError(Exception):
    """A file is not in the expected format."""


# --------------------------------------------------------------------------
# ELF .modinfo


def modinfo_from_elf(data):
    """Parse the .modinfo section of an ELF relocatable object (a .ko).

    Returns {key: value}; keys that occur more than once (alias, parm,
    parmtype, depends...) map to a list of values."""
    if len(data) < 64 or data[:4] != b'\x7fELF':
        raise FormatError('not an ELF file')
    ei_class, ei_data = data[4], data[5]
    if ei_data == 1:
        end = '<'
    elif ei_data == 2:
        end = '>'
    else:
        raise FormatError('bad ELF data encoding')
    if ei_class == 2:
        shoff, = struct.unpack_from(end + 'Q', data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHH', data, 0x3A)
        sh_fmt = end + 'IIQQQQIIQQ'
    elif ei_class == 1:
        shoff, = struct.unpack_from(end + 'I', data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHH', data, 0x2E)
        sh_fmt = end + 'IIIIIIIIII'
    else:
        raise FormatError('bad ELF class')
    if shoff == 0 or shnum == 0 or shoff + shnum * shentsize > len(data):
        raise FormatError('truncated ELF section table')

    def section(i):
        f = struct.unpack_from(sh_fmt, data, shoff + i * shentsize)
        return f[0], f[4], f[5]   # sh_name, sh_offset, sh_size

    _n, str_off, str_size = section(shstrndx)
    strtab = data[str_off:str_off + str_size]
    for i in range(shnum):
        name_off, off, size = section(i)
        end_name = strtab.find(b'\0', name_off)
        if strtab[name_off:end_name] == b'.modinfo':
            return _parse_modinfo(data[off:off + size])
    raise FormatError('no .modinfo section')


def _parse_modinfo(blob):
    info = {}
    for item in blob.split(b'\0'):
        if b'=' not in item:
            continue
        k, v = item.split(b'=', 1)
        key, value = k.decode('ascii', 'replace'), v.decode('utf-8', 'replace')
        if key in info:
            if not isinstance(info[key], list):
                info[key] = [info[key]]
            info[key].append(value)
        else:
            info[key] = value
    return info


def _decompress_with_tool(tool, data):
    path = shutil.which(tool)
    if not path:
        return None
    # a pure reader with no AnsibleModule at hand: not AnsibleModule.run_command
    proc = subprocess.run([path, '-d', '-c'], input=data, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                          stderr=subprocess.DEVNULL, check=False)
    return proc.stdout if proc.returncode == 0 else None


def compression_of(path):
    for suffix, kind in (('.xz', 'xz'), ('.gz', 'gzip'), ('.zst', 'zstd')):
        if path.endswith(suffix):
            return kind
    return None


def ko_decompress(data, kind):
    """Decompress a compressed .ko (kind: xz, gzip, zstd); None if no tool."""
    if kind is None:
        return data
    if kind == 'xz':
        return lzma.decompress(data)
    if kind == 'gzip':
        return gzip.decompress(data)
    if kind == 'zstd':
        return _decompress_with_tool('zstd', data)
    return None


def read_ko(path):
    """Describe a module file: exists, compressed (None, xz, gzip, zstd),
    srcversion, version, vermagic, name, error (why the fields are missing)."""
    res = dict(path=path, exists=os.path.isfile(path), compressed=compression_of(path),
               srcversion=None, version=None, vermagic=None, name=None, error=None)
    if not res['exists']:
        return res
    try:
        with open(path, 'rb') as f:
            raw = f.read()
        data = ko_decompress(raw, res['compressed'])
        if data is None:
            res['error'] = 'no %s tool to decompress the module' % res['compressed']
            return res
        info = modinfo_from_elf(data)
    except (OSError, FormatError, lzma.LZMAError, EOFError, zlib.error) as e:
        res['error'] = str(e)
        return res
    for key in ('srcversion', 'version', 'vermagic', 'name'):
        val = info.get(key)
        res[key] = val[0] if isinstance(val, list) else val
    return res


# --------------------------------------------------------------------------
# initramfs (initramfs-tools, dracut): concatenated newc cpio archives

_MAGICS = (
    (b'\x28\xb5\x2f\xfd', 'zstd'),
    (b'\x1f\x8b', 'gzip'),
    (b'\xfd7zXZ\x00', 'xz'),
    (b'\x02\x21\x4c\x18', 'lz4'),
    (b'\x04\x22\x4d\x18', 'lz4'),
    (b'\x5d\x00\x00', 'lzma'),
    (b'BZh', 'bzip2'),
    (b'0707', 'cpio'),
)

_CHUNK = 1 << 20


class _Reader:
    """A forward-only byte reader over a file object or a decompressor."""

    def __init__(self, read_fn, initial=b''):
        self._read_fn = read_fn
        self._buf = bytearray(initial)
        self._eof = False
        self.consumed = 0

    def _fill(self, n):
        while len(self._buf) < n and not self._eof:
            chunk = self._read_fn(_CHUNK)
            if not chunk:
                self._eof = True
                break
            self._buf += chunk

    def peek(self, n):
        self._fill(n)
        return bytes(self._buf[:n])

    def read(self, n):
        self._fill(n)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        self.consumed += len(out)
        return out

    def skip(self, n):
        while n > 0:
            if not self._buf:
                self._fill(min(n, _CHUNK))
                if not self._buf:
                    return
            k = min(n, len(self._buf))
            del self._buf[:k]
            self.consumed += k
            n -= k

    def skip_zeros(self):
        while True:
            self._fill(4096)
            if not self._buf:
                return
            stripped = len(self._buf) - len(self._buf.lstrip(b'\0'))
            if stripped == 0:
                return
            self.consumed += stripped
            del self._buf[:stripped]

    def remaining(self):
        """Rest of the buffered data (used to hand over to a decompressor)."""
        out = bytes(self._buf)
        self._buf.clear()
        return out


def _cpio_entries(reader):
    """Yield (name, size, reader) for newc entries until TRAILER!!!; the
    caller must consume or skip `size` bytes (then the padding is handled)."""
    while True:
        hdr = reader.read(110)
        if len(hdr) < 110:
            return
        if hdr[:6] not in (b'070701', b'070702'):
            raise FormatError('bad cpio header magic %r' % hdr[:6])
        size = int(hdr[54:62], 16)
        namesize = int(hdr[94:102], 16)
        name = reader.read(namesize)[:-1].decode('utf-8', 'replace')
        reader.skip((4 - (110 + namesize) % 4) % 4)
        if name == 'TRAILER!!!':
            return
        yield name, size
        reader.skip((4 - size % 4) % 4)


class _StreamDecompressor:
    """read(n) over a compressed stream: stdlib for gzip/xz/lzma, the tool
    (zstd, lz4, bzip2) through a pipe otherwise."""

    def __init__(self, kind, fileobj, head):
        self.kind = kind
        self.proc = None
        self._dec = None
        self._src = fileobj
        self._head = head
        self._pending = b''
        if kind == 'gzip':
            self._dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif kind in ('xz', 'lzma'):
            self._dec = lzma.LZMADecompressor()
        else:
            tool = {'zstd': 'zstd', 'lz4': 'lz4', 'bzip2': 'bzip2'}[kind]
            path = shutil.which(tool)
            if not path:
                raise FormatError('the %s tool is needed to read this initramfs (install %s)' % (tool, tool))
            args = [path, '-d', '-c']
            if tool == 'zstd':
                args.insert(1, '-q')
            # the tool reads the file itself from the right offset: hand it
            # the open descriptor positioned at the compressed stream
            fileobj.seek(fileobj.tell() - len(head))
            # streamed: run_command would hold the whole decompressed image in memory
            self.proc = subprocess.Popen(args, stdin=fileobj, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                                         stderr=subprocess.DEVNULL)

    def read(self, n):
        if self.proc is not None:
            return self.proc.stdout.read(n)
        out = b''
        while not out:
            if getattr(self._dec, 'eof', False):
                return b''
            data = self._head or self._src.read(_CHUNK)
            self._head = b''
            if not data:
                return b''
            out = self._dec.decompress(data)
        return out

    def close(self):
        if self.proc is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()


def _match_target(name, targets):
    base = name.rsplit('/', 1)[-1]
    for t in targets:
        if base in tuple(t + suffix for suffix in KO_SUFFIXES):
            return True
    return False


def initramfs_find_module(path, modname='failover'):
    """Find <modname>.ko in an initramfs image and read its .modinfo.

    Streams the image: early (uncompressed) cpio archives first, then the
    compressed main archive, decompressed on the fly; stops at the first
    entry named <modname>.ko[.xz|.zst|.gz].

    Returns dict(path, exists, found, member (path inside the image),
    compressed_member (compression of the .ko itself), srcversion, version,
    vermagic, archives (list of {offset, compression}), error)."""
    res = dict(path=path, exists=os.path.isfile(path), found=False, member=None,
               compressed_member=None, srcversion=None, version=None, vermagic=None,
               archives=[], error=None)
    if not res['exists']:
        return res
    try:
        with open(path, 'rb') as f:
            _scan_image(f, modname, res)
    except (OSError, FormatError, lzma.LZMAError, EOFError, zlib.error, ValueError) as e:
        res['error'] = str(e)
    return res


def _scan_image(f, modname, res):
    reader = _Reader(f.read)
    while True:
        reader.skip_zeros()
        head = reader.peek(6)
        if not head:
            return
        kind = None
        for magic, k in _MAGICS:
            if head.startswith(magic):
                kind = k
                break
        if kind is None:
            raise FormatError('unknown data at offset %d of the initramfs' % reader.consumed)
        res['archives'].append(dict(offset=reader.consumed, compression=None if kind == 'cpio' else kind))
        if kind == 'cpio':
            if _scan_cpio(reader, modname, res):
                return
            continue
        # compressed: the rest of the file is one compressed stream
        offset = reader.consumed
        buffered = reader.remaining()
        f.seek(offset + len(buffered))
        dec = _StreamDecompressor(kind, f, buffered)
        try:
            inner = _Reader(dec.read)
            while True:
                inner.skip_zeros()
                if not inner.peek(6):
                    return
                if _scan_cpio(inner, modname, res):
                    return
        finally:
            dec.close()


def _scan_cpio(reader, modname, res):
    for name, size in _cpio_entries(reader):
        if _match_target(name, (modname,)):
            data = reader.read(size)
            res['found'] = True
            res['member'] = name
            kind = compression_of(name)
            res['compressed_member'] = kind
            ko = ko_decompress(data, kind)
            if ko is None:
                res['error'] = 'no %s tool to decompress %s' % (kind, name)
                return True
            info = modinfo_from_elf(ko)
            for key in ('srcversion', 'version', 'vermagic'):
                val = info.get(key)
                res[key] = val[0] if isinstance(val, list) else val
            return True
        reader.skip(size)
    return False


def initramfs_path(kernel, boot_dir='/boot'):
    """The initramfs image of a kernel: Debian/Ubuntu initrd.img-<k>, then
    dracut's initramfs-<k>.img.  Returns the first existing path, else the
    Debian name."""
    candidates = [os.path.join(boot_dir, 'initrd.img-%s' % kernel),
                  os.path.join(boot_dir, 'initramfs-%s.img' % kernel)]
    for c in candidates:
        if os.path.exists(c):
            return c
    return candidates[0]


# --------------------------------------------------------------------------
# /boot: kernel config and next boot kernel


def kernel_config_option(kernel, option='CONFIG_FAILOVER', boot_dir='/boot', modules_dir='/lib/modules'):
    """Value of a kernel config option: 'y', 'm', 'not set', or None when no
    config file was found.  Reads /boot/config-<k>, else the headers'
    .config, else (running kernel only) /proc/config.gz.
    Returns (value, source path)."""
    paths = [os.path.join(boot_dir, 'config-%s' % kernel),
             os.path.join(modules_dir, kernel, 'build', '.config'),
             os.path.join(modules_dir, kernel, 'build', 'include', 'config', 'auto.conf')]
    if kernel == os.uname().release:
        paths.append(PROC_CONFIG)
    for path in paths:
        try:
            if path.endswith('.gz'):
                with gzip.open(path, 'rt', encoding='utf-8', errors='replace') as f:
                    text = f.read()
            else:
                with open(path, 'r', encoding='utf-8', errors='replace') as f:
                    text = f.read()
        except (OSError, EOFError, zlib.error):
            continue
        m = re.search(r'^%s=(\S+)\s*$' % re.escape(option), text, re.M)
        if m:
            return m.group(1).strip('"'), path
        return 'not set', path
    return None, None


def module_builtin_listed(kernel, modname, modules_dir='/lib/modules'):
    """True/False from /lib/modules/<k>/modules.builtin (a line whose file
    name is <modname>.ko, '-' and '_' alike), None if that file is absent."""
    want = modname.replace('-', '_') + '.ko'
    try:
        with open(os.path.join(modules_dir, kernel, 'modules.builtin'), 'r', encoding='utf-8') as f:
            return any(line.strip().rsplit('/', 1)[-1].replace('-', '_') == want for line in f)
    except OSError:
        return None


def kernel_builtin(kernel, modname, boot_dir='/boot', modules_dir='/lib/modules'):
    """Whether ``kernel`` has the module built in: its config option
    CONFIG_<MODNAME> is y (see kernel_config_option), or modules.builtin lists
    <modname>.ko.  Returns (True, False or None when neither the config nor
    modules.builtin was found; config value; config source)."""
    cfg, cfg_src = kernel_config_option(kernel, config_option(modname), boot_dir, modules_dir)
    listed = module_builtin_listed(kernel, modname, modules_dir)
    builtin = True if cfg == 'y' or listed else (False if cfg is not None or listed is not None else None)
    return builtin, cfg, cfg_src


def config_option(modname):
    """The kernel config option that builds a module: CONFIG_<MODNAME> (failover: CONFIG_FAILOVER)."""
    return 'CONFIG_%s' % modname.replace('-', '_').upper()


def dkms_ko_path(kernel, modname, modules_dir='/lib/modules'):
    """The module DKMS installed for ``kernel``: the first <modname>.ko* in
    /lib/modules/<kernel>/ updates/dkms, extra or updates; None if none."""
    kdir = os.path.join(modules_dir, kernel)
    for sub in DKMS_DIRS:
        path = find_ko(os.path.join(kdir, sub), modname)
        if path:
            return path
    return None


def next_boot_kernel(root='/', boot_dir='/boot'):
    """The kernel that boots next, by Debian's convention.

    Rule: the target of the /vmlinuz symlink (kept by linux-image postinst
    and used by the boot loader configs that boot /vmlinuz), then
    /boot/vmlinuz; else the newest /boot/vmlinuz-* by version order (what
    update-grub puts first).  Returns (kernel or None, source)."""
    for link in (os.path.join(root, 'vmlinuz'), os.path.join(boot_dir, 'vmlinuz')):
        if os.path.islink(link):
            target = os.path.basename(os.readlink(link))
            if target.startswith('vmlinuz-'):
                return target[len('vmlinuz-'):], link
    images = [os.path.basename(p)[len('vmlinuz-'):] for p in glob.glob(os.path.join(boot_dir, 'vmlinuz-*'))]
    images = [k for k in images if k and not k.endswith(('.old', '.bak'))]
    if images:
        return sorted(images, key=version_key)[-1], os.path.join(boot_dir, 'vmlinuz-*')
    return None, None


def boot_kernels(boot_dir='/boot'):
    return sorted((os.path.basename(p)[len('vmlinuz-'):] for p in glob.glob(os.path.join(boot_dir, 'vmlinuz-*'))),
                  key=version_key)


def read_modprobe_conf(path):
    """A modprobe.d file as modprobe_policy.read_managed_file() reads it (path,
    exists, type, uid, gid, mode, exact content, error) and its 'options' lines
    parsed as modprobe reads them (modprobe_policy.text_options: a bare
    parameter is None)."""
    res = read_managed_file(path)
    res['options'] = text_options(res['content']) if res['content'] is not None else {}
    return res
