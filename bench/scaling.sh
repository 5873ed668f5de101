#!/usr/bin/env bash
# 1 worker against 2 (issue 13): the same workloads through `sightline start --workers 1` and
# `--workers 2` (the real CLI, bench/scaling-put.mjs), both proxies under test of ONE harness
# invocation per workload (bench/multi-put.mjs), reps interleaved. The load generator and the
# backends share the machine's cores with the proxy, so the report (scaling-report.mjs) gives the
# scaling factor, the proxy CPU used, and a model of a larger machine from per-CPU-second figures.
#
#   bash bench/scaling.sh [--reps 5] [--workloads throughput,tls_conn_rate,http_rps] [--name NAME]
#
# Environment: KEEP_WORK=1. The harness is bench/lib (see bench/README.md for the Debian packages).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HARNESS="$HERE/lib"
RESULTS_DIR="$HERE/results"
die() { echo "scaling.sh: $*" >&2; exit 2; }
note() { echo "scaling.sh: $*" >&2; }

reps=5
workloads=throughput,tls_conn_rate,http_rps
name="scaling-$(date +%Y%m%d-%H%M)"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
NODE_BIN=$(command -v node) || die "node not found"
[ -f "$ROOT/dist/cli/cluster/primary.js" ] || (cd "$ROOT" && npm run build >&2)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sightline-scaling-XXXXXX")
cleanup() { if [ "${KEEP_WORK:-0}" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
# shellcheck source=snapshot.sh
. "$HERE/snapshot.sh"
cp "$HERE/scaling-put.mjs" "$SNAP/bench/scaling-put.mjs"
[ -f "$ROOT/node_modules/ws/package.json" ] || die "run npm ci first (the harness's WebSocket clients use ws)"

PUT="$SNAP/bench/scaling-put.mjs"
cmd() { echo "exec '$NODE_BIN' '$PUT' --routes-json '{routes_json}' --workers $1"; }
export PROXY_NAME=sightline-w1
C1=$(cmd 1)
export PROXY_CMD_L4="$C1" PROXY_CMD_SNI="$C1" PROXY_CMD_HTTP="$C1"
export PROXY_MODES=l4,sni,http
export PROXY_CWD="$ROOT"
unset PROXY_CMD PROXY_CONFIG_TEMPLATE || true
EXTRA_PUTS=$("$NODE_BIN" -e 'process.stdout.write(JSON.stringify([{name:"sightline-w2",cmd:process.argv[1],modes:"l4,sni,http"}]))' "$(cmd 2)")
export EXTRA_PUTS
out="$RESULTS_DIR/$name.json"
mkdir -p "$RESULTS_DIR" "$WORK/parts"
note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard" 2>/dev/null || true
parts=()
IFS=, read -r -a wls <<<"$workloads"
for wl in "${wls[@]}"; do
  part="$WORK/parts/$wl.json"
    # Enough parallel work for two workers: 4 iperf3 streams (one stream is one connection, on one
  # worker), and a 2-worker nginx backend so the backend is not the single-core limit.
  case "$wl" in throughput) extra=(--streams 4) ;; *) extra=(--backend-workers 2) ;; esac
  note "=== $wl --proxies direct,sightline-w1,sightline-w2 --reps $reps ${extra[*]}"
  if (cd "$HARNESS" && BENCH_INVOKE_CWD="$HARNESS" "$NODE_BIN" "$HERE/multi-put.mjs" "$wl" --proxies direct,sightline-w1,sightline-w2 --reps "$reps" "${extra[@]}" --out "$part") && [ -f "$part" ]; then
    parts+=("$part")
  else note "$wl failed (continuing)"; fi
done
note "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ ${#parts[@]} -gt 0 ] || { note "no results"; exit 1; }
"$NODE_BIN" "$HERE/merge-results.mjs" --bench-dir "$HARNESS" --out "$out" --note "$BUILD_NOTE; sightline start --workers 1 vs 2 (real CLI)" "${parts[@]}"
"$NODE_BIN" "$HERE/scaling-report.mjs" --results "$out" --cpus "$(nproc)" >>"${out%.json}.md"
note "wrote $out, ${out%.json}.md"
