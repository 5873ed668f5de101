#!/usr/bin/env bash
# Run the shared proxy-bench harness with Sightline plugged in as the proxy under test.
#
#   bash bench/run.sh                          # selftest, then throughput tls_conn_rate
#                                              # ws_echo_latency idle_memory vs direct,node,haproxy,nginx
#   bash bench/run.sh selftest --proxies sightline
#   bash bench/run.sh throughput tls_conn_rate --proxies direct,node,sightline --reps 5 --name my-run
#   bash bench/run.sh calibrate 10             # any other harness command is passed through
#
# Leading words are harness commands; several workloads run one after the other (each with the
# same options) and are merged into one results file bench/results/<name>.json + .md
# (<name> = --name NAME, default sightline-YYYYMMDD-HHMMSS; or --out PATH.json). A log of the whole
# run is written next to it.
#
# Environment:
#   SHARED_BENCH         harness to copy (default: <repo>/../shared/bench); it is never written to
#   SIGHTLINE_TELEMETRY  on|off, passed to the adapter's --telemetry (default off)
#   SIGHTLINE_NODE_ARGS  extra node flags for the proxy process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
#   SIGHTLINE_LABEL      proxy name in tables (default sightline; select it with --proxies ...,put)
#   KEEP_WORK=1          keep the temp copy of the harness (its path is printed)
#   SIGHTLINE_BUILD=1    run `npm run build` first (otherwise only when dist/ is missing)
#   FORCE=1              run the workloads of the default plan even if the selftest fails
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
RESULTS_DIR="$HERE/results"
DEFAULT_PROXIES=direct,node,haproxy,nginx,sightline
DEFAULT_WORKLOADS=(throughput tls_conn_rate ws_echo_latency idle_memory)
WORKLOADS_RE='^(throughput|tls_conn_rate|http_rps|idle_memory|ws_echo_latency|all)$'

die() { echo "run.sh: $*" >&2; exit 2; }
note() { echo "run.sh: $*" >&2; }

[ -f "$SHARED_BENCH/bench.sh" ] || die "no harness at $SHARED_BENCH (set SHARED_BENCH)"
SHARED_BENCH=$(cd "$SHARED_BENCH" && pwd)
NODE_BIN=$(command -v node) || die "node not found"

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

# ---- build, copy the harness ----------------------------------------------------------------
if [ ! -f "$ROOT/dist/index.js" ] || [ "${SIGHTLINE_BUILD:-0}" = 1 ]; then
  note "building dist/ (npm run build)"
  (cd "$ROOT" && npm run build >&2)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sightline-bench-XXXXXX")
cleanup() { if [ "${KEEP_WORK:-0}" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# ---- snapshot of the build ---------------------------------------------------------------------
# Others rebuild dist/ while benchmarks run; every proxy instance of this run loads the same code
# from a copy (the adapter keeps importing ../dist/index.js relative to itself).
# shellcheck source=snapshot.sh
. "$HERE/snapshot.sh"

# ---- the PROXY_CMD contract -------------------------------------------------------------------
TELEMETRY=${SIGHTLINE_TELEMETRY:-off}
ADAPTER="$SNAP/bench/sightline-bench.mjs"
# `exec` so the measured process tree is node itself, and SIGTERM reaches it directly.
# No node flags by default: Sightline paces its own GC (README, "Throughput and GC"), so the
# benchmark starts node as a user would. SIGHTLINE_NODE_ARGS adds some (e.g. --trace-gc).
SIGHTLINE_DEFAULT_NODE_ARGS=""
PROXY_CMD_TPL="exec '$NODE_BIN' ${SIGHTLINE_NODE_ARGS-$SIGHTLINE_DEFAULT_NODE_ARGS} '$ADAPTER' --routes-json '{routes_json}' --telemetry $TELEMETRY"
export PROXY_NAME=${SIGHTLINE_LABEL:-sightline}
export PROXY_CMD_L4="$PROXY_CMD_TPL"
export PROXY_CMD_SNI="$PROXY_CMD_TPL"
export PROXY_CMD_HTTP="$PROXY_CMD_TPL"
export PROXY_MODES=l4,sni,http
export PROXY_CWD="$ROOT"
unset PROXY_CMD PROXY_CONFIG_TEMPLATE || true

bench() { (cd "$WORK/bench" && BENCH_INVOKE_CWD="$WORK/bench" ./bench.sh "$@"); }

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
note "results -> $out (+ .md, .log); harness copy in $WORK/bench"

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
"$NODE_BIN" "$HERE/merge-results.mjs" --bench-dir "$WORK/bench" --out "$out" --note "$BUILD_NOTE; telemetry $TELEMETRY; node args ${SIGHTLINE_NODE_ARGS-$SIGHTLINE_DEFAULT_NODE_ARGS}" "${parts[@]}"
note "wrote $out, ${out%.json}.md, $LOG"
exit $failed
