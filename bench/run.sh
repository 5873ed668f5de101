#!/usr/bin/env bash
# Benchmark Sightline side by side with HAProxy, nginx, a naive Node forwarder and no proxy at all
# (direct), with the harness in bench/lib. Needs the Debian packages haproxy, nginx,
# libnginx-mod-stream, wrk, iperf3 and openssl, and `npm ci` (see bench/README.md).
#
#   bash bench/run.sh                          # selftest, then throughput tls_conn_rate
#                                              # ws_echo_latency idle_memory vs direct,node,haproxy,nginx
#   bash bench/run.sh selftest --proxies sightline
#   bash bench/run.sh throughput tls_conn_rate --proxies direct,node,sightline --reps 5 --name my-run
#   bash bench/run.sh calibrate 10             # any other harness command is passed through
#   bash bench/run.sh --help                   # the harness's commands and options
#
# Leading words are harness commands; several workloads run one after the other (each with the
# same options) and are merged into one results file bench/results/<name>.json + .md
# (<name> = --name NAME, default sightline-YYYYMMDD-HHMMSS; or --out PATH.json). A log of the whole
# run is written next to it.
#
# Environment:
#   SIGHTLINE_TELEMETRY  default|on|off|metrics,logs,tracing: the adapter's --telemetry (default: default,
#                        i.e. Sightline as users run it: no telemetry section, metrics and info logs on)
#   SIGHTLINE_NODE_ARGS  node flags for the proxy process (default none, as users run it;
#                        e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"; even empty replaces the default)
#   SIGHTLINE_LABEL      proxy name in tables (default sightline; select it with --proxies ...,NAME)
#   KEEP_WORK=1          keep the run's temp dir (its path is printed)
#   SIGHTLINE_BUILD=1    run `npm run build` first (otherwise only when dist/ is missing)
#   FORCE=1              run the workloads of the default plan even if the selftest fails
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HARNESS="$HERE/lib"
RESULTS_DIR="$HERE/results"
DEFAULT_PROXIES=direct,node,haproxy,nginx,sightline
DEFAULT_WORKLOADS=(throughput tls_conn_rate ws_echo_latency idle_memory)
WORKLOADS_RE='^(throughput|tls_conn_rate|http_rps|idle_memory|ws_echo_latency|all)$'

die() { echo "run.sh: $*" >&2; exit 2; }
note() { echo "run.sh: $*" >&2; }

NODE_BIN=$(command -v node) || die "node not found"
[ -f "$ROOT/node_modules/ws/package.json" ] || die "run npm ci first (the harness's WebSocket clients use ws)"

# ---- arguments: leading commands, then options (run.sh consumes --name and --out) -------------
cmds=()
while [ $# -gt 0 ] && [[ "$1" != -* ]]; do cmds+=("$1"); shift; done
opts=()
name=""
out=""
have_proxies=0
while [ $# -gt 0 ]; do
  case "$1" in
    --name) [ $# -ge 2 ] || die "--name needs a value"; name=$2; shift 2 ;;
    --name=*) name=${1#--name=}; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --proxies|--proxies=*) have_proxies=1; opts+=("$1"); shift ;;
    *) opts+=("$1"); shift ;;
  esac
done

passthrough=0
default_plan=0
if [[ " ${cmds[*]} ${opts[*]} " =~ \ (-h|--help|help)\  ]]; then
  exec "$NODE_BIN" "$HARNESS/cli.mjs" --help
fi
if [ ${#cmds[@]} -eq 0 ]; then
  default_plan=1
  cmds=("${DEFAULT_WORKLOADS[@]}")
elif ! [[ "${cmds[0]}" =~ $WORKLOADS_RE ]]; then
  passthrough=1 # selftest, calibrate, versions, report, compare, ...
else
  for c in "${cmds[@]}"; do [[ "$c" =~ $WORKLOADS_RE ]] || die "'$c' is not a workload (mix harness commands in separate runs)"; done
fi
if [ $have_proxies -eq 0 ] && [ $passthrough -eq 0 -o "${cmds[0]}" = selftest ]; then
  opts+=(--proxies "$DEFAULT_PROXIES")
fi

# ---- build, freeze it ------------------------------------------------------------------------
if [ ! -f "$ROOT/dist/index.js" ] || [ "${SIGHTLINE_BUILD:-0}" = 1 ]; then
  note "building dist/ (npm run build)"
  (cd "$ROOT" && npm run build >&2)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sightline-bench-XXXXXX")
cleanup() { if [ "${KEEP_WORK:-0}" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# ---- snapshot of the build ---------------------------------------------------------------------
# dist/ may be rebuilt while a benchmark runs; every proxy instance of this run loads the same code
# from a copy (the adapter keeps importing ../dist/index.js relative to itself).
# shellcheck source=snapshot.sh
. "$HERE/snapshot.sh"

# ---- the sightline proxy (bench/lib/proxies.mjs, sightlineDef) -----------------------------------
TELEMETRY=${SIGHTLINE_TELEMETRY:-default}
export SIGHTLINE_ADAPTER="$SNAP/bench/sightline-bench.mjs"
export SIGHTLINE_TELEMETRY=$TELEMETRY
# No node flags by default: Sightline paces its own GC (README, "Throughput and GC"), so the
# benchmark starts node as a user would. SIGHTLINE_NODE_ARGS adds some (e.g. --trace-gc).
SIGHTLINE_DEFAULT_NODE_ARGS=""
export SIGHTLINE_NODE_ARGS=${SIGHTLINE_NODE_ARGS-$SIGHTLINE_DEFAULT_NODE_ARGS}
# No proxy under test from a command template in this script (telemetry-cost.sh uses those).
unset PROXY_CMD PROXY_CMD_L4 PROXY_CMD_SNI PROXY_CMD_HTTP PROXY_NAME PROXY_MODES PROXY_CONFIG_TEMPLATE || true

# The open-files limit up to the hard limit: idle_memory needs 2 fds per proxied connection.
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard" 2>/dev/null || true

bench() { (cd "$HARNESS" && BENCH_INVOKE_CWD="$PWD" "$NODE_BIN" "$HARNESS/cli.mjs" "$@"); }

if [ $passthrough -eq 1 ]; then
  bench "${cmds[@]}" "${opts[@]}"
  exit $?
fi

# ---- workloads: one harness run each, merged into one results file --------------------------
stamp=$(date +%Y%m%d-%H%M%S)
if [ -n "$out" ]; then
  case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
  case "$out" in *.json) ;; *) out="$out.json" ;; esac
else
  out="$RESULTS_DIR/${name:-sightline-$stamp}.json"
fi
mkdir -p "$(dirname "$out")"
LOG="${out%.json}.log"
: >"$LOG"
note "results -> $out (+ .md, .log)"

run_logged() { bench "$@" > >(tee -a "$LOG") 2> >(tee -a "$LOG" >&2); }

if [ $default_plan -eq 1 ]; then
  note "selftest first"
  if ! run_logged selftest "${opts[@]}"; then
    if [ "${FORCE:-0}" = 1 ]; then note "selftest failed; FORCE=1: benchmarking anyway"
    else note "selftest failed: not benchmarking (FORCE=1 to override); see $LOG"; exit 1; fi
  fi
fi

parts=()
failed=0
for wl in "${cmds[@]}"; do
  part="$WORK/parts/$wl.json"
  mkdir -p "$WORK/parts"
  note "=== $wl ${opts[*]}"
  if run_logged "$wl" "${opts[@]}" --out "$part" && [ -f "$part" ]; then
    parts+=("$part")
  else
    note "$wl failed (continuing)"
    failed=1
  fi
done
wait || true

if [ ${#parts[@]} -eq 0 ]; then note "no results"; exit 1; fi
"$NODE_BIN" "$HERE/merge-results.mjs" --out "$out" --note "$BUILD_NOTE; telemetry $TELEMETRY; node args $SIGHTLINE_NODE_ARGS" "${parts[@]}"
note "wrote $out, ${out%.json}.md, $LOG"
exit $failed
