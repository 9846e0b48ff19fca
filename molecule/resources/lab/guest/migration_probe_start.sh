# shellcheck shell=sh
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Runs in a lab guest (the SSH command of migration.migrate), with PROBE_PY
# (guest/migration_probe.py), PROBE_MARK, PROBE_ADDR, PROBE_GW and
# PROBE_TABLE set by the host: gives the failover master a temporary address
# and routing table, starts the probe in the background, waits until it has
# written its first state to the serial console, and prints the master's name.
set -eu
m=""
for n in /sys/class/net/*; do
  [ -e "$n/master" ] || continue
  [ "$(basename "$(readlink -f "$n/device/driver")")" = virtio_net ] && m=$(basename "$(readlink -f "$n/master")")
done
[ -n "$m" ] || { echo "no failover master with a virtio_net standby" >&2; exit 1; }
ip addr replace "$PROBE_ADDR/32" dev "$m"
ip rule del oif "$m" table "$PROBE_TABLE" 2>/dev/null || true
ip rule add oif "$m" table "$PROBE_TABLE"
ip route replace "$PROBE_GW" dev "$m" table "$PROBE_TABLE"
rm -f "/run/$PROBE_MARK.json" "/run/$PROBE_MARK.json.ready"
printf '%s' "$PROBE_PY" > "/run/$PROBE_MARK.py"
setsid python3 "/run/$PROBE_MARK.py" "$PROBE_MARK" "$m" "$PROBE_GW" "/run/$PROBE_MARK.json" \
  </dev/null >"/run/$PROBE_MARK.log" 2>&1 &
echo $! > "/run/$PROBE_MARK.pid"
for _ in $(seq 300); do [ -e "/run/$PROBE_MARK.json.ready" ] && break; sleep 0.1; done
[ -e "/run/$PROBE_MARK.json.ready" ] || { echo "the probe did not start: $(cat "/run/$PROBE_MARK.log")" >&2; exit 1; }
echo "$m"
