# shellcheck shell=sh
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Runs in a lab guest (the SSH command of guest_state.guest_failover_slaves):
# one line per enslaved interface, "NAME DRIVER MASTER".
for n in /sys/class/net/*; do
  [ -e "$n/master" ] || continue
  echo "$(basename "$n") $(basename "$(readlink -f "$n/device/driver")") $(basename "$(readlink -f "$n/master")")"
done
