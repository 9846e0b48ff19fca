#!/usr/bin/env bash
# Installs the Debian packages of tests/host-packages.txt that are missing,
# as `make setup` (target host-packages) runs it. On a Debian 12 (bookworm)
# host it first adds bookworm-backports with a pin that takes only QEMU from
# it (tests/host-apt/), and upgrades a QEMU older than the lab's minimum:
# live migration of TCG guests needs QEMU >= 9.0 (docs/lab.md).
set -euo pipefail
cd "$(dirname "$0")/../.."

LIST=tests/host-packages.txt
APT_DIR=tests/host-apt
MIN_QEMU=1:9.0
SOURCE=/etc/apt/sources.list.d/virtnet-lab-bookworm-backports.sources
PIN=/etc/apt/preferences.d/virtnet-lab-qemu.pref
QEMU_PACKAGES=(qemu-system-x86 qemu-system-common qemu-system-data qemu-utils seabios)

installed_version() {
	dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "installed" {print $2}' || true
}

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
need_update=0
missing=()

if [ "$codename" = bookworm ]; then
	for pair in "$APT_DIR/bookworm-backports.sources:$SOURCE" "$APT_DIR/virtnet-lab-qemu.pref:$PIN"; do
		src=${pair%%:*} dst=${pair#*:}
		if ! cmp -s "$src" "$dst"; then
			if [ "$(id -u)" != 0 ]; then echo "$dst is missing or old (run make setup as root)"; exit 1; fi
			install -m 0644 "$src" "$dst"
			echo "installed $dst (QEMU for the VM lab comes from bookworm-backports)"
			need_update=1
		fi
	done
	qv=$(installed_version qemu-system-x86)
	if [ -n "$qv" ] && dpkg --compare-versions "$qv" lt "$MIN_QEMU"; then
		echo "qemu-system-x86 $qv is older than $MIN_QEMU: upgrading it from bookworm-backports"
		missing+=("${QEMU_PACKAGES[@]}")
	fi
fi

while read -r p; do
	[ -n "$(installed_version "$p")" ] || missing+=("$p")
done < <(grep -v -e '^#' -e '^$' "$LIST")

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then echo "missing Debian packages: ${missing[*]} (run make setup as root)"; exit 1; fi
	echo "installing Debian packages: ${missing[*]}"
	need_update=1
fi
if [ $need_update = 1 ]; then
	apt-get update -q
fi
if [ ${#missing[@]} -gt 0 ]; then
	prc=/usr/sbin/policy-rc.d
	if [ ! -e $prc ]; then
		printf '#!/bin/sh\nexit 101\n' >$prc
		chmod 755 $prc
		trap 'rm -f $prc' EXIT
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The lab's QEMU, whatever the host: a migration needs >= 9.0 on both sides.
qv=$(installed_version qemu-system-x86)
if [ -z "$qv" ] || dpkg --compare-versions "$qv" lt "$MIN_QEMU"; then
	echo "qemu-system-x86 ${qv:-(none)} is older than $MIN_QEMU: the VM lab cannot live-migrate TCG guests with it" >&2
	exit 1
fi

# promtool comes with Debian's prometheus server: keep the server off.
if command -v systemctl >/dev/null && systemctl is-enabled -q prometheus 2>/dev/null; then
	systemctl disable -q prometheus
	if [ -d /run/systemd/system ]; then systemctl stop prometheus; fi
fi
