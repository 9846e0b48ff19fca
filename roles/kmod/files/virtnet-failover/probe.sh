#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# probe.sh SRCTREE OBJTREE OUTPUT DKMS_CONF [FORCE_MECH [KERNELRELEASE [OPS_LOCK]]]
#
# Called by Kbuild. Looks at the kernel being built for and writes OUTPUT
# (vnf_config.h) for failover.c. Features decide, never the version number
# alone, so that distribution kernels with backports get the right code:
#
#   IFF_LIVE_RENAME_OK has a #define         -> mechanism "flag"
#   IFF_NO_ADDRCONF (reuses the flag's bit 30,
#     so the flag was removed: bd039b5ea2a9) -> mechanism "notifier"
#   neither, kernel 5.1 or later (the flag came
#     with 5.1, so it was removed)            -> mechanism "notifier"
#   neither, older kernel (never had it)      -> mechanism "unsupported"
#
# Where the headers have netdev_lock_ops() (6.15 and later), the target
# kernel's own net_failover.ko decides whether failover_existing_slave_register
# takes the slave's ops lock: only if it imports netif_open (b84c5632c7b3),
# otherwise net_failover takes that lock itself and taking it here would
# deadlock. OPS_LOCK=1|0 (make VNF_OPS_LOCK=) overrides that, for a build
# without the kernel's modules (the compile check); it is refused on kernels
# without netdev_lock_ops().
#
# Messages go to stderr; a non-zero exit stops the build.

set -eu

srctree=$1
objtree=$2
output=$3
dkms_conf=$4
force=${5:-}
krel=${6:-}
ops_lock=${7:-}

die() {
	echo "virtnet-failover: $*" >&2
	exit 1
}

# Debian splits headers: include/ in linux-headers-*-common (srctree),
# include/generated/ in linux-headers-*-ARCH (objtree). Look in both.
find_header() {
	for dir in "$objtree" "$srctree"; do
		if [ -f "$dir/$1" ]; then
			echo "$dir/$1"
			return 0
		fi
	done
	return 1
}

netdevice_h=$(find_header include/linux/netdevice.h) ||
	die "include/linux/netdevice.h not found under $srctree or $objtree: install the kernel headers (Debian: linux-headers-\$(uname -r))"
failover_h=$(find_header include/net/failover.h) ||
	die "include/net/failover.h not found: this kernel has no failover infrastructure (needs 4.18 or later)"
autoconf_h=$(find_header include/generated/autoconf.h) ||
	die "include/generated/autoconf.h not found: the kernel build dir $objtree is not configured"
version_h=$(find_header include/generated/uapi/linux/version.h) ||
	version_h=$(find_header include/linux/version.h) ||
	die "linux/version.h not found under $objtree"

# A built-in failover (Ubuntu 24.04 generic: CONFIG_FAILOVER=y) cannot be
# replaced by a module; a kernel without it has no net_failover to serve.
if grep -q '^#define CONFIG_FAILOVER 1' "$autoconf_h"; then
	die "this kernel has failover built in (CONFIG_FAILOVER=y): a module cannot replace it; only kernels with CONFIG_FAILOVER=m are supported"
fi
grep -q '^#define CONFIG_FAILOVER_MODULE 1' "$autoconf_h" ||
	die "this kernel is built without CONFIG_FAILOVER: nothing to replace"

version=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$dkms_conf" | head -n 1)
[ -n "$version" ] || die "no PACKAGE_VERSION in $dkms_conf"

code=$(sed -n 's/^#define LINUX_VERSION_CODE[[:space:]]*\([0-9]*\).*/\1/p' "$version_h")
[ -n "$code" ] || die "no LINUX_VERSION_CODE in $version_h"
# KERNEL_VERSION(5, 1, 0): the first kernel with IFF_LIVE_RENAME_OK.
v5_1=$(((5 << 16) + (1 << 8)))

have() {
	grep -Eq "$1" "$2"
}

defs=""
add() {
	defs="$defs#define $1 1
"
}

have_flag=0
if have '^#define[[:space:]]+IFF_LIVE_RENAME_OK[[:space:]]' "$netdevice_h"; then
	have_flag=1
	add VNF_HAVE_IFF_LIVE_RENAME_OK
fi
# An enum member without a #define (6.2+): match the enumerator itself.
have_no_addrconf=0
if have '^[[:space:]]*IFF_NO_ADDRCONF[[:space:]]*=' "$netdevice_h"; then
	have_no_addrconf=1
	add VNF_HAVE_IFF_NO_ADDRCONF
fi
have 'netdevice_tracker[[:space:]]+dev_tracker' "$failover_h" &&
	add VNF_HAVE_FAILOVER_DEV_TRACKER
have '^static inline void netdev_hold\(' "$netdevice_h" &&
	add VNF_HAVE_NETDEV_HOLD
have '^static inline void dev_hold_track\(' "$netdevice_h" &&
	add VNF_HAVE_DEV_HOLD_TRACK

if [ "$have_flag" = 1 ]; then
	mech=flag
elif [ "$have_no_addrconf" = 1 ] || [ "$code" -ge "$v5_1" ]; then
	mech=notifier
else
	mech=unsupported
fi

# The netdev ops lock (6.15+): where netdev_lock_ops() is declared.
have_lock_ops=0
if lock_h=$(find_header include/net/netdev_lock.h); then
	add VNF_HAVE_NETDEV_LOCK_H
	have '^static inline void netdev_lock_ops\(' "$lock_h" && have_lock_ops=1
fi
have '^static inline void netdev_lock_ops\(' "$netdevice_h" && have_lock_ops=1
[ "$have_lock_ops" = 0 ] || add VNF_HAVE_NETDEV_LOCK_OPS

# imports FILE SYMBOL: does the (possibly compressed) module import SYMBOL?
imports() {
	elf="$output.ko.$$"
	case "$1" in
	*.xz) xz -dc "$1" >"$elf" ;;
	*.zst) zstd -qdc "$1" >"$elf" ;;
	*.gz) gzip -dc "$1" >"$elf" ;;
	*) cp "$1" "$elf" ;;
	esac || { rm -f "$elf"; die "cannot decompress $1"; }
	syms=$(nm -u "$elf") || { rm -f "$elf"; die "nm cannot read $1 (install binutils)"; }
	rm -f "$elf"
	printf '%s\n' "$syms" | grep -Eq "[[:space:]]U[[:space:]]+$2\$"
}

case "$ops_lock" in
"")
	if [ "$have_lock_ops" = 1 ]; then
		# VNF_MODULES_ROOT exists for the probe's own tests.
		kdir=${VNF_MODULES_ROOT:-/lib/modules}/$krel/kernel/drivers/net
		nf=""
		for f in "$kdir/net_failover.ko" "$kdir/net_failover.ko.xz" \
			"$kdir/net_failover.ko.zst" "$kdir/net_failover.ko.gz"; do
			[ -n "$krel" ] && [ -f "$f" ] && nf=$f && break
		done
		[ -n "$nf" ] ||
			die "kernel ${krel:-?} has the netdev ops lock, and whether failover may take it depends on its own net_failover.ko, which is not installed under $kdir: install the kernel image package of ${krel:-this kernel} (or build with VNF_OPS_LOCK=1 if its net_failover imports netif_open, 0 if not)"
		if imports "$nf" netif_open; then
			ops_lock=1
		else
			ops_lock=0
		fi
	else
		ops_lock=0
	fi
	;;
0) ;;
1)
	[ "$have_lock_ops" = 1 ] ||
		die "VNF_OPS_LOCK=1 needs netdev_lock_ops(), which these headers lack"
	;;
*) die "VNF_OPS_LOCK must be 0 or 1, not '$ops_lock'" ;;
esac
[ "$ops_lock" = 0 ] || add VNF_EXISTING_SLAVE_OPS_LOCK

case "$force" in
"") ;;
notifier | unsupported) mech=$force ;;
flag)
	[ "$have_flag" = 1 ] ||
		die "VNF_FORCE_MECH=flag needs IFF_LIVE_RENAME_OK, which these headers lack"
	mech=flag
	;;
*) die "VNF_FORCE_MECH must be flag, notifier or unsupported, not '$force'" ;;
esac

case "$mech" in
flag) token=VNF_MECH_FLAG ;;
notifier) token=VNF_MECH_NOTIFIER ;;
unsupported) token=VNF_MECH_UNSUPPORTED ;;
esac

tmp="$output.tmp.$$"
{
	echo "/* SPDX-License-Identifier: GPL-2.0 */"
	echo "/* Generated by probe.sh from $netdevice_h; do not edit. */"
	echo "#ifndef _VNF_CONFIG_H"
	echo "#define _VNF_CONFIG_H"
	echo "#define VNF_VERSION \"$version\""
	echo "#define VNF_MECH $token"
	echo "#define VNF_MECH_NAME \"$mech\""
	[ -z "$force" ] || echo "#define VNF_MECH_FORCED 1"
	printf '%s' "$defs"
	echo "#endif"
} >"$tmp"

if [ -f "$output" ] && cmp -s "$tmp" "$output"; then
	rm -f "$tmp"
else
	mv -f "$tmp" "$output"
	echo "virtnet-failover $version: live_rename mechanism '$mech'${force:+ (forced)}," \
		"existing-slave ops lock $ops_lock, for kernel code $code ($netdevice_h)" >&2
fi
