#!/usr/bin/env bash
# `cond && ok ... || fail ...` is intended: ok() only counts and echoes, it
# cannot fail, so fail() runs exactly when cond is false.  The dkms check runs
# in a subshell under flock on purpose; its failure count is carried out by
# its exit status.
# shellcheck disable=SC2015,SC2030,SC2031
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Compile check of the patched failover module (roles/kmod/files/virtnet-failover).
#
# For every kernel headers dir installed on this host (/lib/modules/*/build):
#   - build the module out of tree, in a temp dir, with W=1 and -Werror, once
#     with the mechanism the probe picks and once per forced mechanism
#     (so every code path compiles against real headers);
#   - check modinfo (version = dkms.conf PACKAGE_VERSION, description, both
#     parameters, vermagic), the probe's mechanism for that kernel line, and
#     that the three exported symbols are EXPORT_SYMBOL_GPL with the same
#     CRCs as the kernel's own failover.ko (so net_failover binds to it).
# Then, unless VNF_SKIP_DKMS=1, prove dkms.conf with a real
#   dkms add / build / install / remove
# against the first kernel, and remove everything it added.
#
# Exit status: 0 all good, 1 on any failure (with a message saying which).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=$ROOT/roles/kmod/files/virtnet-failover
NAME=virtnet-failover
VERSION=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$SRC/dkms.conf")
SYMBOLS=(failover_register failover_unregister failover_slave_unregister)
FORCED=(notifier unsupported)
JOBS=$(nproc 2>/dev/null || echo 1)

failures=0
checks=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() {
	checks=$((checks + 1))
	echo "  ok: $*"
}

[[ -n $VERSION ]] || { echo "FAIL: no PACKAGE_VERSION in $SRC/dkms.conf" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vnf-compile.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# The mechanism a Debian/Ubuntu kernel line must get (independent of probe.sh).
expected_mech() {
	local major minor
	IFS=. read -r major minor _ <<<"$1"
	if ((major > 6 || (major == 6 && minor >= 2))); then
		echo notifier
	elif ((major > 5 || (major == 5 && minor >= 1))); then
		echo flag
	else
		echo unsupported
	fi
}

# build KVER BUILD_DIR MECH(""=probe) -> prints the build dir, returns status
build_one() {
	local kver=$1 kdir=$2 mech=$3 out
	out=$WORK/$kver-${mech:-probe}
	cp -a "$SRC/." "$out/"
	if ! make -C "$kdir" M="$out" W=1 KCFLAGS=-Werror ${mech:+VNF_FORCE_MECH=$mech} \
		-j"$JOBS" modules >"$out/build.log" 2>&1; then
		sed 's/^/    | /' "$out/build.log" >&2
		fail "$kver (${mech:-probe}): build failed"
		return 1
	fi
	# BTF skipping is kbuild's notice for header-only trees, not a compiler warning.
	if grep -i 'warning' "$out/build.log" | grep -v 'Skipping BTF generation' >&2; then
		fail "$kver (${mech:-probe}): compiler warnings"
		return 1
	fi
	if [[ ! -f $out/failover.ko ]]; then
		fail "$kver (${mech:-probe}): no failover.ko produced"
		return 1
	fi
	ok "$kver (${mech:-probe}): built with W=1 -Werror"
}

check_module() {
	local kver=$1 kdir=$2 mech=$3 out ko v sym line crc want syms
	out=$WORK/$kver-${mech:-probe}
	ko=$out/failover.ko

	v=$(modinfo -F version "$ko")
	[[ $v == "$VERSION" ]] && ok "version $v" || fail "$kver: modinfo version '$v', dkms.conf says '$VERSION'"
	modinfo -F description "$ko" | grep -q 'virtnet.failover: slave_rename_ok' &&
		ok "description names virtnet.failover" ||
		fail "$kver: modinfo description does not name virtnet.failover"
	for p in slave_rename_ok live_rename; do
		modinfo -F parm "$ko" | grep -q "^$p:" && ok "parameter $p" ||
			fail "$kver: modinfo shows no parameter $p"
	done
	v=$(modinfo -F vermagic "$ko")
	[[ $v == "$kver "* ]] && ok "vermagic $kver" || fail "$kver: vermagic '$v' is not for $kver"
	[[ $(modinfo -F license "$ko") == "GPL v2" ]] && ok "license GPL v2" || fail "$kver: license is not GPL v2"

	want=${mech:-$(expected_mech "$kver")}
	v=$(sed -n 's/^#define VNF_MECH_NAME "\(.*\)"$/\1/p' "$out/vnf_config.h")
	[[ $v == "$want" ]] && ok "live_rename mechanism $v" ||
		fail "$kver: probe chose live_rename '$v', expected '$want'"

	# nm's whole output first: with pipefail, `nm | grep -q` fails when grep
	# stops reading early and nm gets SIGPIPE.
	syms=$(nm "$ko")
	for sym in "${SYMBOLS[@]}"; do
		grep -q " __ksymtab_$sym\$" <<<"$syms" || fail "$kver: $sym is not exported (no __ksymtab_$sym)"
		line=$(awk -v s="$sym" '$2 == s' "$out/Module.symvers")
		if [[ $line != *EXPORT_SYMBOL_GPL* ]]; then
			fail "$kver: $sym is not EXPORT_SYMBOL_GPL in Module.symvers"
			continue
		fi
		crc=${line%%[[:space:]]*}
		want=$(awk -v s="$sym" '$2 == s { print $1 }' "$kdir/Module.symvers" 2>/dev/null || true)
		if [[ -z $want ]]; then
			ok "$sym exported GPL (kernel Module.symvers has no CRC to compare)"
		elif [[ $crc == "$want" ]]; then
			ok "$sym exported GPL, CRC $crc matches the kernel's"
		else
			fail "$kver: $sym CRC $crc differs from the kernel's $want: net_failover would not bind"
		fi
	done
}

shopt -s nullglob
kdirs=()
for d in /lib/modules/*/build; do
	[[ -f $d/Makefile ]] && kdirs+=("$d")
done
if ((${#kdirs[@]} == 0)); then
	echo "FAIL: no kernel headers installed (/lib/modules/*/build): 'make setup' installs linux-headers-amd64" >&2
	exit 1
fi

for kdir in "${kdirs[@]}"; do
	kver=$(basename "$(dirname "$kdir")")
	echo "== $kver ($kdir)"
	for mech in "" "${FORCED[@]}"; do
		build_one "$kver" "$kdir" "$mech" && check_module "$kver" "$kdir" "$mech"
	done
done

# The builds happened in $WORK: the source tree must hold no build output.
leftover=$(find "$SRC" \( -name '*.o' -o -name '*.ko' -o -name '*.cmd' -o -name 'vnf_config.h' \
	-o -name Module.symvers -o -name modules.order -o -name '*.mod*' \) -print)
[[ -z $leftover ]] && ok "source tree is clean" || fail "build output in the source tree: $leftover"

dkms_check() {
	local kver=$1 usrsrc=/usr/src/$NAME-$VERSION t0 t1 ko
	echo "== dkms add/build/install/remove $NAME/$VERSION for $kver"
	if ! command -v dkms >/dev/null; then
		fail "dkms is not installed ('make setup' installs it)"
		return
	fi
	if [[ $(id -u) != 0 ]]; then
		fail "the dkms check needs root (VNF_SKIP_DKMS=1 skips it)"
		return
	fi
	if [[ -e $usrsrc ]] || dkms status -m "$NAME" -v "$VERSION" 2>/dev/null | grep -q .; then
		fail "$NAME/$VERSION is already known to dkms or $usrsrc exists: not touching another install (remove it with 'dkms remove $NAME/$VERSION --all; rm -rf $usrsrc')"
		return
	fi
	cp -a "$SRC" "$usrsrc"
	t0=$(date +%s)
	if dkms add -m "$NAME" -v "$VERSION" >"$WORK/dkms.log" 2>&1 &&
		dkms build -m "$NAME" -v "$VERSION" -k "$kver" >>"$WORK/dkms.log" 2>&1 &&
		dkms install -m "$NAME" -v "$VERSION" -k "$kver" >>"$WORK/dkms.log" 2>&1; then
		t1=$(date +%s)
		ok "dkms add+build+install in $((t1 - t0)) s"
		ko=$(find "/lib/modules/$kver/updates/dkms" -name 'failover.ko*' 2>/dev/null | head -n 1)
		[[ -n $ko ]] && ok "installed $ko" || fail "dkms install put no failover.ko under /lib/modules/$kver/updates/dkms"
		dkms status -m "$NAME" -v "$VERSION" -k "$kver" | grep -q installed &&
			ok "dkms status: installed" || fail "dkms status does not say installed"
		v=$(modinfo -k "$kver" -F version failover 2>/dev/null || true)
		[[ $v == "$VERSION" ]] && ok "depmod resolves 'failover' for $kver to the dkms copy" ||
			fail "modinfo -k $kver failover reports version '$v', not the dkms copy"
	else
		sed 's/^/    | /' "$WORK/dkms.log" >&2
		fail "dkms add/build/install failed for $kver"
	fi
	dkms remove -m "$NAME" -v "$VERSION" --all >>"$WORK/dkms.log" 2>&1 || fail "dkms remove failed"
	rm -rf "$usrsrc"
	if dkms status -m "$NAME" 2>/dev/null | grep -q . ||
		[[ -n $(find "/lib/modules/$kver/updates/dkms" -name 'failover.ko*' 2>/dev/null) ]]; then
		fail "dkms remove left $NAME behind"
	else
		ok "dkms remove left nothing behind"
	fi
}

# dkms_builtin_check KVER: real dkms, given a headers tree that builds
# failover in (CONFIG_FAILOVER=y), must skip the build (dkms.conf's
# BUILD_EXCLUSIVE), not try it and record a failure. The tree is a symlink
# copy of KVER's headers with .config and autoconf.h saying =y, installed
# as a made-up kernel /lib/modules/KVER-vnfbuiltin, and removed afterwards.
dkms_builtin_check() {
	local real=$1 fake=$1-vnfbuiltin usrsrc=/usr/src/$NAME-$VERSION tree rc out
	echo "== dkms skips a kernel with failover built in ($fake, CONFIG_FAILOVER=y)"
	if [[ -e /lib/modules/$fake ]]; then
		fail "/lib/modules/$fake exists already: not touching it (remove it by hand)"
		return
	fi
	tree=$WORK/headers-$fake
	cp -as "$(readlink -f "/lib/modules/$real/build")/." "$tree/"
	rm -f "$tree/.config" "$tree/include/generated/autoconf.h" "$tree/include/config/auto.conf"
	sed 's/^CONFIG_FAILOVER=m$/CONFIG_FAILOVER=y/' "/lib/modules/$real/build/.config" >"$tree/.config"
	sed 's/^#define CONFIG_FAILOVER_MODULE 1$/#define CONFIG_FAILOVER 1/' \
		"/lib/modules/$real/build/include/generated/autoconf.h" >"$tree/include/generated/autoconf.h"
	if ! grep -qx 'CONFIG_FAILOVER=y' "$tree/.config"; then
		fail "could not make a CONFIG_FAILOVER=y tree from $real (its .config has no CONFIG_FAILOVER=m)"
		return
	fi
	mkdir -p "/lib/modules/$fake"
	ln -s "$tree" "/lib/modules/$fake/build"
	cp -a "$SRC" "$usrsrc"
	rc=0
	{ dkms add -m "$NAME" -v "$VERSION" && out=$(dkms build -m "$NAME" -v "$VERSION" -k "$fake" 2>&1); } \
		>>"$WORK/dkms.log" 2>&1 || rc=$?
	printf '%s\n' "${out:-}" | sed 's/^/    | /'
	# dkms 3.x exits 77 ("skipped") for a BUILD_EXCLUSIVE mismatch.
	[[ $rc == 77 ]] && ok "dkms build exit status 77 (skipped)" ||
		fail "dkms build for $fake exited $rc, expected 77 (skipped)"
	[[ ${out:-} == *BUILD_EXCLUSIVE* ]] && ok "dkms names BUILD_EXCLUSIVE as the reason" ||
		fail "dkms output for $fake does not name BUILD_EXCLUSIVE"
	# Status lines of a kernel name it ("NAME/VERSION, KVER, ARCH: built");
	# the module-level "NAME/VERSION: added" line does not.
	[[ $(dkms status -m "$NAME" -v "$VERSION" -k "$fake" 2>/dev/null) != *"$fake"* ]] &&
		ok "dkms status records no build for $fake" ||
		fail "dkms status records something for $fake: $(dkms status -m "$NAME" -v "$VERSION" -k "$fake")"
	[[ ! -d /var/lib/dkms/$NAME/$VERSION/$fake ]] && ok "no build directory for $fake" ||
		fail "dkms left a build (failure) record under /var/lib/dkms/$NAME/$VERSION/$fake"
	dkms remove -m "$NAME" -v "$VERSION" --all >>"$WORK/dkms.log" 2>&1 || true
	rm -rf "$usrsrc" "/lib/modules/$fake"
}

if [[ ${VNF_SKIP_DKMS:-0} == 1 ]]; then
	echo "== dkms check skipped: VNF_SKIP_DKMS=1"
else
	(
		# Serialise with other users of the same dkms name on this host.
		flock -w 300 9 || { echo "FAIL: could not lock /tmp/$NAME-dkms.lock" >&2; exit 1; }
		failures=0
		dkms_check "$(basename "$(dirname "${kdirs[0]}")")"
		dkms_builtin_check "$(basename "$(dirname "${kdirs[0]}")")"
		exit $((failures > 0))
	) 9>"/tmp/$NAME-dkms.lock" || failures=$((failures + 1))
fi

if ((failures > 0)); then
	echo "compile-check: $failures failure(s), $checks check(s) passed" >&2
	exit 1
fi
echo "compile-check: all $checks checks passed"
