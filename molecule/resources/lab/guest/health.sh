# shellcheck shell=sh
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Runs in a lab guest (the SSH command of guest_state.guest_health), with
# FAULT_RE set by the host: the boot id, then "slave NAME DRIVER MASTER
# MASTER_FLAGS" per enslaved interface, then "fault LINE" per kernel log line
# that matches FAULT_RE.
cat /proc/sys/kernel/random/boot_id
for n in /sys/class/net/*; do
  [ -e "$n/master" ] || continue
  m=$(basename "$(readlink -f "$n/master")")
  echo "slave $(basename "$n") $(basename "$(readlink -f "$n/device/driver")") $m $(cat "/sys/class/net/$m/flags")"
done
dmesg | grep -E "$FAULT_RE" | sed 's/^/fault /' || true
