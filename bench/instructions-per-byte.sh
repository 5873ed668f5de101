#!/usr/bin/env bash
# Deterministic CPU cost of forwarding: user-space instructions the proxy process executes per byte
# (valgrind callgrind), for Sightline and the naive Node forwarder of bench/lib/proxies, measured in
# the same run. Wall-clock throughput on this 2-core VM swings ±25 % between reps; instruction
# counts do not. The marginal cost between two transfer sizes excludes start-up and JIT warm-up.
#
#   bash bench/instructions-per-byte.sh [SMALL=256M] [LARGE=1G]
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${1:-256M}
LARGE=${2:-1G}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 2; }
command -v iperf3 >/dev/null || { echo "needs iperf3 (apt-get install iperf3)"; exit 2; }
[ -f dist/index.js ] || npm run build >/dev/null
work=$(mktemp -d)
IPERF_PID=""
# Only the iperf3 server this script started, by its pid.
stop_iperf() { [ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null && wait "$IPERF_PID" 2>/dev/null; IPERF_PID=""; }
trap 'stop_iperf || true; rm -rf "$work"' EXIT
port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PPORT=$(port); BPORT=$(port)

count() { # count LABEL BYTES CMD... -> prints instructions
  local label=$1 bytes=$2; shift 2
  iperf3 -s -B 127.0.0.1 -p "$BPORT" >/dev/null 2>&1 &
  IPERF_PID=$!; sleep 0.3
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$work/cg.$label.$bytes" "$@" >"$work/log.$label.$bytes" 2>&1 &
  local pid=$!
  for _ in $(seq 120); do sleep 1; ss -ltn | grep -q ":$PPORT " && break; done
  sleep 2
  iperf3 -c 127.0.0.1 -p "$PPORT" -n "$bytes" -J >/dev/null 2>&1
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  stop_iperf || true
  grep -E '^(summary|totals):' "$work/cg.$label.$bytes" | head -1 | awk '{print $2}'
}
bytes_of() { numfmt --from=iec "$1"; }

declare -A I
for who in naive sightline; do
  for size in "$SMALL" "$LARGE"; do
    if [ "$who" = naive ]; then
      I[$who.$size]=$(count "$who" "$size" node bench/lib/proxies/node-naive.mjs --mode l4 --listen "$PPORT" --host 127.0.0.1 --target "127.0.0.1:$BPORT")
    else
      I[$who.$size]=$(count "$who" "$size" node bench/sightline-l4.mjs "$PPORT" "$BPORT")
    fi
  done
done
delta=$(( $(bytes_of "$LARGE") - $(bytes_of "$SMALL") ))
node -e '
const [d, nS, nL, sS, sL] = process.argv.slice(1).map(Number);
const n = (nL - nS) / d, s = (sL - sS) / d;
console.log("| proxy | instructions at small | at large | marginal instructions per byte |");
console.log("|---|---:|---:|---:|");
console.log(`| naive Node forwarder | ${nS} | ${nL} | ${n.toFixed(4)} |`);
console.log(`| sightline | ${sS} | ${sL} | ${s.toFixed(4)} |`);
console.log(`efficiency sightline vs naive (naive instr/byte ÷ sightline instr/byte): ${(n / s).toFixed(2)}x`);
' "$delta" "${I[naive.$SMALL]}" "${I[naive.$LARGE]}" "${I[sightline.$SMALL]}" "${I[sightline.$LARGE]}"
