# shellcheck shell=sh
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Runs in a lab guest (`sh -s -- MASTER`, from migration.migrate), with
# PROBE_MARK, PROBE_ADDR and PROBE_TABLE set by the host: stops the probe that
# migration_probe_start.sh started, removes its address and routing table,
# and prints its JSON figures ("{}" and its log on stderr when it left none).
set -u
m="$1"
p=$(cat "/run/$PROBE_MARK.pid" 2>/dev/null || true)
[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
for _ in $(seq 50); do [ -s "/run/$PROBE_MARK.json" ] && break; sleep 0.1; done
ip rule del oif "$m" table "$PROBE_TABLE" 2>/dev/null
ip route flush table "$PROBE_TABLE" 2>/dev/null
ip addr del "$PROBE_ADDR/32" dev "$m" 2>/dev/null
cat "/run/$PROBE_MARK.json" 2>/dev/null || { echo '{}'; cat "/run/$PROBE_MARK.log" >&2; }
rm -f "/run/$PROBE_MARK".*
