#!/usr/bin/env bash
# Benchmark Sightline side by side with HAProxy, nginx, a naive Node forwarder and no proxy at all
# (direct), with the harness in bench/lib. Needs the Debian packages haproxy, nginx,
# libnginx-mod-stream, wrk, iperf3 and openssl, and `npm ci` (see bench/README.md).
#
#   bash bench/run.sh                          # selftest, then throughput tls_conn_rate
#                                              # ws_echo_latency idle_memory vs direct,node,haproxy,nginx
#   bash bench/run.sh selftest --proxies sightline
#   bash bench/run.sh throughput tls_conn_rate --proxies direct,node,sightline --reps 5 --name my-run
#   bash bench/run.sh http_rps --proxies node,sightline --before 23f5deb   # + sightline@23f5deb
#   bash bench/run.sh calibrate 10             # any other harness command is passed through
#   bash bench/run.sh --help                   # the harness's commands and options
#
# Leading words are harness commands; several workloads run one after the other (each with the
# same options) and are merged into one results file bench/results/<name>.json + .md
# (<name> = --name NAME, default sightline-YYYYMMDD-HHMMSS; or --out PATH.json). A log of the whole
# run is written next to it.
#
# --before REF (or SIGHTLINE_BEFORE=REF): a second Sightline build in the same run, named
# sightline@<short commit> (alias sightline-before in --proxies; added to --proxies when missing).
# REF is a git ref built from this checkout with git archive + tsc in the run's temp dir
# (bench/before-build.sh), or an already built directory. The results get a "before vs after"
# section. --selftest-first: the selftest of the Sightline build(s) runs first; a failure stops the
# run (FORCE=1 to go on). --control (with --before): a second copy of the before build,
# sightline@<short>-control, so control/before is an A/A of the same run (its noise floor).
# bench/before-after.sh is the wrapper for the five workloads.
#
# Environment:
#   SIGHTLINE_TELEMETRY  default|on|off|metrics,logs,tracing: the adapter's --telemetry (default: default,
#                        i.e. Sightline as users run it: no telemetry section, metrics and info logs on)
#   SIGHTLINE_NODE_ARGS  node flags for the proxy process (default none, as users run it;
#                        e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"; even empty replaces the default)
#   SIGHTLINE_LABEL      proxy name in tables (default sightline; select it with --proxies ...,NAME)
#   KEEP_WORK=1          keep the run's temp dir (its path is printed)
#   SIGHTLINE_BUILD=1    run `npm run build` first (otherwise only when dist/ is missing)
#   SIGHTLINE_VIA        library (default) | cli: the proxy process is `node bin/sightline.js start -c FILE`
#   FORCE=1              run the workloads even if the selftest (default plan, --selftest-first) fails
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

# How this run was asked for (recorded in the results; before-after.sh passes its own).
INVOCATION=${BENCH_INVOCATION:-bash bench/run.sh $*}
NODE_BIN=$(command -v node) || die "node not found"
[ -f "$ROOT/node_modules/ws/package.json" ] || die "run npm ci first (the harness's WebSocket clients use ws)"

# ---- arguments: leading commands, then options (run.sh consumes --name and --out) -------------
cmds=()
while [ $# -gt 0 ] && [[ "$1" != -* ]]; do cmds+=("$1"); shift; done
opts=()
name=""
out=""
proxies=""
before=${SIGHTLINE_BEFORE:-}
selftest_first=0
control=0
while [ $# -gt 0 ]; do
  case "$1" in
    --before) [ $# -ge 2 ] || die "--before needs a git ref or a built directory"; before=$2; shift 2 ;;
    --before=*) before=${1#--before=}; shift ;;
    --selftest-first) selftest_first=1; shift ;;
    --control) control=1; shift ;;
    --name) [ $# -ge 2 ] || die "--name needs a value"; name=$2; shift 2 ;;
    --name=*) name=${1#--name=}; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --proxies) [ $# -ge 2 ] || die "--proxies needs a value"; proxies=$2; shift 2 ;;
    --proxies=*) proxies=${1#--proxies=}; shift ;;
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
if [ -z "$proxies" ] && [ $passthrough -eq 0 -o "${cmds[0]}" = selftest ]; then
  proxies=$DEFAULT_PROXIES
fi
if [ -n "$before" ] && [ -n "$proxies" ] && ! [[ ",$proxies," =~ ,(sightline-before|sightline@[^,]*), ]]; then
  proxies="$proxies,sightline-before"
fi
[ $control -eq 0 ] || [ -n "$before" ] || die "--control needs --before REF"
if [ $control -eq 1 ] && [ -n "$proxies" ] && ! [[ ",$proxies," =~ ,(sightline-control|sightline@[^,]*-control), ]]; then
  proxies="$proxies,sightline-control"
fi
if [ -n "$proxies" ]; then opts+=(--proxies "$proxies"); fi

# ---- build, freeze it ------------------------------------------------------------------------
if [ ! -f "$ROOT/dist/index.js" ] || [ "${SIGHTLINE_BUILD:-0}" = 1 ]; then
  note "building dist/ (npm run build)"
  (cd "$ROOT" && npm run build >&2)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sightline-bench-XXXXXX")
BEFORE_BUILD_PID=""
cleanup() {
  # The before build's compiler, if it still runs (by its pid; the harness stops its own processes).
  if [ -n "$BEFORE_BUILD_PID" ]; then kill "$BEFORE_BUILD_PID" 2>/dev/null || true; wait "$BEFORE_BUILD_PID" 2>/dev/null || true; fi
  if [ -n "${BENCH_PID:-}" ]; then kill -TERM "$BENCH_PID" 2>/dev/null || true; wait "$BENCH_PID" 2>/dev/null || true; fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- snapshot of the build ---------------------------------------------------------------------
# dist/ may be rebuilt while a benchmark runs; every proxy instance of this run loads the same code
# from a copy (the adapter keeps importing ../dist/index.js relative to itself).
# shellcheck source=snapshot.sh
. "$HERE/snapshot.sh"
export SIGHTLINE_BUILD_NOTE=$BUILD_NOTE
unset SIGHTLINE_BEFORE_ADAPTER SIGHTLINE_BEFORE_LABEL SIGHTLINE_BEFORE_REF SIGHTLINE_BEFORE_NOTE || true
unset SIGHTLINE_CONTROL_ADAPTER SIGHTLINE_CONTROL_LABEL || true
if [ -n "$before" ]; then
  BEFORE=$before
  BEFORE_CONTROL=$control
  # shellcheck source=before-build.sh
  . "$HERE/before-build.sh"
fi

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

# The harness runs in the background with its pid recorded: a TERM to this script ends it by that
# pid (cleanup), and it stops every process it started by their pids.
BENCH_PID=""
bench() {
  (cd "$HARNESS" && BENCH_INVOKE_CWD="$PWD" exec "$NODE_BIN" "$HARNESS/cli.mjs" "$@") &
  BENCH_PID=$!
  local rc=0
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=""
  return $rc
}

if [ $passthrough -eq 1 ]; then
  rc=0
  bench "${cmds[@]}" "${opts[@]}" || rc=$?
  exit $rc
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

if [ $default_plan -eq 1 ] || [ $selftest_first -eq 1 ]; then
  st_opts=("${opts[@]}")
  if [ $selftest_first -eq 1 ]; then
    # Only the Sightline build(s): the other proxies are the harness's own and do not change.
    st_opts+=(--proxies "${SIGHTLINE_LABEL:-sightline}${before:+,sightline-before}")
  fi
  note "selftest first"
  if ! run_logged selftest "${st_opts[@]}"; then
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
"$NODE_BIN" "$HERE/merge-results.mjs" --out "$out" --note "$BUILD_NOTE${SIGHTLINE_BEFORE_NOTE:+; $SIGHTLINE_BEFORE_NOTE}; telemetry $TELEMETRY; node args $SIGHTLINE_NODE_ARGS; via ${SIGHTLINE_VIA:-library}; invoked as: $INVOCATION" "${parts[@]}" 2> >(tee -a "$LOG" >&2)
note "wrote $out, ${out%.json}.md, $LOG"
exit $failed
