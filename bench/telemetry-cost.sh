#!/usr/bin/env bash
# Telemetry cost (issue 5, item 6): Sightline with telemetry OFF and with telemetry ON (metrics +
# /metrics scraped every second, access logs to a file, tracing exported over OTLP/HTTP to a local
# sink with every span sampled), side by side in ONE harness run per workload: both variants are
# proxies under test of the same harness invocation (bench/multi-put.mjs), so the harness's
# driver interleaves their reps (rotating order) against the same backend and load generator.
#
#   bash bench/telemetry-cost.sh                       # throughput + tls_conn_rate, 9 reps, + direct
#   bash bench/telemetry-cost.sh tls_conn_rate --reps 5
#   bash bench/telemetry-cost.sh --no-direct --reps 11 --name my-run
#   PROFILE=1 bash bench/telemetry-cost.sh --reps 3    # + node --cpu-prof of every proxy process
#   bash bench/telemetry-cost.sh tls_conn_rate --variants off,metrics,metrics+logs,metrics+tracing,on
#
# Leading words are workloads (default: throughput tls_conn_rate). Options: --reps N (measured reps,
# default 9), --warmup N (extra first reps run but left out of the summary, default 1: both
# proxies start cold, JIT and the lazily loaded OTLP exporter warm up in it), --name NAME (default
# telemetry-cost-YYYYMMDD-HHMM), --no-direct (drop the no-proxy row), --variants LIST (default
# off,on; off first, the baseline; others: on or a '+' list of metrics, logs, tracing, e.g.
# off,metrics,metrics+logs,metrics+tracing,on to split the cost); any other option goes to the
# harness (--duration, --connections, ...).
# Writes bench/results/<name>.json (harness results + a `telemetry_cost` section), <name>.md
# (the on/off table first, then the harness's tables) and <name>.log (console output).
#
# Environment: SIGHTLINE_NODE_ARGS (node flags of
# both variants; default none, as in run.sh), OTLP_PROTOCOL
# (http/protobuf (default) | http/json), SCRAPE_MS (default 1000; 0 = no scraping), PROFILE=1,
# SIGHTLINE_TRACES_SAMPLER / SIGHTLINE_TRACES_SAMPLER_ARG (OTEL_TRACES_SAMPLER[_ARG] of the tracing variants; default
# always_on), KEEP_WORK=1, SIGHTLINE_BUILD=1 (npm run build first; otherwise only when dist/ is missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HARNESS="$HERE/lib"
RESULTS_DIR="$HERE/results"
die() { echo "telemetry-cost: $*" >&2; exit 2; }
note() { echo "telemetry-cost: $*" >&2; }

NODE_BIN=$(command -v node) || die "node not found"
ORIG_ARGS="$*"
ENV_PREFIX=""
for v in PROFILE SIGHTLINE_TRACES_SAMPLER SIGHTLINE_TRACES_SAMPLER_ARG SCRAPE_MS OTLP_PROTOCOL SIGHTLINE_NODE_ARGS; do
  if [ -n "${!v+x}" ]; then ENV_PREFIX="$ENV_PREFIX$v='${!v}' "; fi
done

workloads=()
while [ $# -gt 0 ] && [[ "$1" != -* ]]; do
  [[ "$1" =~ ^(throughput|tls_conn_rate|http_rps|ws_echo_latency)$ ]] || die "'$1' is not a timed workload"
  workloads+=("$1"); shift
done
[ ${#workloads[@]} -gt 0 ] || workloads=(throughput tls_conn_rate)
reps=9
variants=off,on
warmup=1
name=""
direct=1
opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) [ $# -ge 2 ] || die "--reps needs a value"; reps=$2; shift 2 ;;
    --reps=*) reps=${1#--reps=}; shift ;;
    --warmup) [ $# -ge 2 ] || die "--warmup needs a value"; warmup=$2; shift 2 ;;
    --warmup=*) warmup=${1#--warmup=}; shift ;;
    --name) [ $# -ge 2 ] || die "--name needs a value"; name=$2; shift 2 ;;
    --name=*) name=${1#--name=}; shift ;;
    --no-direct) direct=0; shift ;;
    --variants) [ $# -ge 2 ] || die "--variants needs a value"; variants=$2; shift 2 ;;
    --variants=*) variants=${1#--variants=}; shift ;;
    --proxies*|--out*) die "$1: this script chooses the proxies and the output" ;;
    *) opts+=("$1"); shift ;;
  esac
done
name=${name:-telemetry-cost-$(date +%Y%m%d-%H%M)}
out="$RESULTS_DIR/$name.json"
LOG="$RESULTS_DIR/$name.log"
mkdir -p "$RESULTS_DIR"
: >"$LOG"
exec > >(tee -a "$LOG") 2> >(tee -a "$LOG" >&2)

if [ ! -f "$ROOT/dist/index.js" ] || [ "${SIGHTLINE_BUILD:-0}" = 1 ]; then
  note "building dist/ (npm run build)"
  (cd "$ROOT" && npm run build >&2)
fi

# ---- a snapshot of the build (as run.sh) -------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sightline-telemetry-cost-XXXXXX")
SINK_PID=""
SCRAPER_PID=""
LOADMON_PID=""
cleanup() {
  [ -n "$LOADMON_PID" ] && kill "$LOADMON_PID" 2>/dev/null || true
  # Only the helper processes this script started, by pid.
  [ -n "$SCRAPER_PID" ] && kill "$SCRAPER_PID" 2>/dev/null || true
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
  if [ "${KEEP_WORK:-0}" = 1 ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# shellcheck source=snapshot.sh
. "$HERE/snapshot.sh"
[ -f "$ROOT/node_modules/ws/package.json" ] || die "run npm ci first (the harness's WebSocket clients use ws)"
note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (2 vCPUs; other heavy work skews the figures)"

# ---- OTLP sink and /metrics scraper ---------------------------------------------------------
mkdir -p "$WORK/logs" "$WORK/admin" "$WORK/parts" "$WORK/stats"
"$NODE_BIN" "$HERE/otlp-sink.mjs" --port 0 --port-file "$WORK/stats/sink.port" --stats-file "$WORK/stats/sink.json" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$WORK/stats/sink.port" ] && break; sleep 0.1; done
[ -s "$WORK/stats/sink.port" ] || die "otlp sink did not start"
SINK_PORT=$(cat "$WORK/stats/sink.port")
# 1-minute load average every 10 s: the benchmark itself keeps about 2-3 runnable; much more means
# someone else was busy on the 2 vCPUs during the run.
(while :; do echo "$(date +%H:%M:%S) $(cut -d' ' -f1 /proc/loadavg)"; sleep 10; done) >"$WORK/stats/load.txt" &
LOADMON_PID=$!
SCRAPE_MS=${SCRAPE_MS:-1000}
admin_arg=""
if [ "$SCRAPE_MS" != 0 ]; then
  "$NODE_BIN" "$HERE/metrics-scraper.mjs" --dir "$WORK/admin" --interval "$SCRAPE_MS" --stats-file "$WORK/stats/scraper.json" &
  SCRAPER_PID=$!
  admin_arg="--admin-url-file '$WORK/admin/{mode}-{listen_port}.url'"
fi

# ---- the variants ---------------------------------------------------------------------------
# Each is a proxy under test named sightline-<variant>: off (the harness's PUT slot) and the others
# as extra PUTs of the same harness run (multi-put.mjs). A variant is on, off, or a '+' list of
# metrics, logs, tracing (e.g. metrics+logs).
ADAPTER="$SNAP/bench/sightline-bench.mjs"
NODE_ARGS=${SIGHTLINE_NODE_ARGS-}
OTLP_PROTOCOL=${OTLP_PROTOCOL:-http/protobuf}
for v in $(env | sed -n 's/^\(OTEL_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done # only the commands set OTEL_*
variant_cmd() { # variant -> shell command template for the harness
  local v=$1 parts flags="" envs=""
  case "$v" in on) parts=metrics,logs,tracing ;; off) parts="" ;; *) parts=${v//+/,} ;; esac
  [[ ",$parts," == *,tracing,* ]] && envs="env OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=$OTLP_PROTOCOL OTEL_TRACES_SAMPLER=${SIGHTLINE_TRACES_SAMPLER:-always_on}${SIGHTLINE_TRACES_SAMPLER_ARG:+ OTEL_TRACES_SAMPLER_ARG=$SIGHTLINE_TRACES_SAMPLER_ARG} OTEL_SERVICE_NAME=sightline-bench "
  [[ ",$parts," == *,logs,* ]] && flags="$flags --log-file '$WORK/logs/$v-{mode}-{listen_port}.log'"
  [[ ",$parts," == *,metrics,* ]] && [ -n "$admin_arg" ] && flags="$flags ${admin_arg//\{mode\}/$v-\{mode\}}"
  local prof=""
  [ "${PROFILE:-0}" = 1 ] && prof="--cpu-prof --cpu-prof-dir='$WORK/prof/$v'"
  # `exec` (and `exec env`) keep node itself as the measured process under the harness's /bin/sh.
  echo "exec $envs'$NODE_BIN' $NODE_ARGS $prof '$ADAPTER' --routes-json '{routes_json}' --telemetry ${parts:-off}$flags"
}
IFS=, read -r -a variant_list <<<"$variants"
[ "${variant_list[0]}" = off ] || die "--variants must start with off (the baseline)"
for v in "${variant_list[@]}"; do [[ "$v" =~ ^(on|off|(metrics|logs|tracing)(\+(metrics|logs|tracing))*)$ ]] || die "bad variant '$v'"; done

CMD_OFF=$(variant_cmd off)
export PROXY_NAME=sightline-off
export PROXY_CMD_L4="$CMD_OFF" PROXY_CMD_SNI="$CMD_OFF" PROXY_CMD_HTTP="$CMD_OFF"
export PROXY_MODES=l4,sni,http
export PROXY_CWD="$ROOT"
unset PROXY_CMD PROXY_CONFIG_TEMPLATE || true
extra_json="["
proxies="sightline-off"
note "variant sightline-off = $CMD_OFF"
for v in "${variant_list[@]:1}"; do
  c=$(variant_cmd "$v")
  note "variant sightline-$v = $c"
  extra_json="$extra_json$( [ "$extra_json" = "[" ] || echo ,)$("$NODE_BIN" -e 'process.stdout.write(JSON.stringify({name:process.argv[1],cmd:process.argv[2],modes:"l4,sni,http"}))' "sightline-$v" "$c")"
  proxies="$proxies,sightline-$v"
done
export EXTRA_PUTS="$extra_json]"
harness_reps=$((reps + warmup))
[ $direct = 1 ] && proxies="direct,$proxies"
note "OTLP sink on 127.0.0.1:$SINK_PORT ($OTLP_PROTOCOL), /metrics scraped every ${SCRAPE_MS} ms; results -> $out"

# ---- one harness invocation per workload, both variants interleaved in it --------------------
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard" 2>/dev/null || true
parts=()
failed=0
wl_times=()
for wl in "${workloads[@]}"; do
  part="$WORK/parts/$wl.json"
  note "=== $wl --proxies $proxies --reps $harness_reps (first $warmup: warm-up) ${opts[*]}"
  t0=$(date +%s)
  if (cd "$HARNESS" && BENCH_INVOKE_CWD="$HARNESS" "$NODE_BIN" "$HERE/multi-put.mjs" "$wl" --proxies "$proxies" --reps "$harness_reps" "${opts[@]}" --out "$part") && [ -f "$part" ]; then
    parts+=("$part")
  else
    note "$wl failed (continuing)"; failed=1
  fi
  wl_times+=("$wl=$(( $(date +%s) - t0 ))")
  if [ "${PROFILE:-0}" = 1 ] && [ -d "$WORK/prof" ]; then
    mkdir -p "$RESULTS_DIR/$name-prof/$wl"
    for v in "${variant_list[@]}"; do
      [ -d "$WORK/prof/$v" ] && mkdir -p "$RESULTS_DIR/$name-prof/$wl/$v" && mv "$WORK/prof/$v"/*.cpuprofile "$RESULTS_DIR/$name-prof/$wl/$v/" 2>/dev/null || true
    done
  fi
done
sleep 1.5 # the last exports of the stopped "on" proxies, one sink/scraper stats write
[ -n "$SCRAPER_PID" ] && kill "$SCRAPER_PID" 2>/dev/null && wait "$SCRAPER_PID" 2>/dev/null || true
SCRAPER_PID=""
kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null || true
SINK_PID=""
kill "$LOADMON_PID" 2>/dev/null || true
LOADMON_PID=""
note "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); 1-min load during the run (every 10 s): $(awk '{printf "%s ", $2}' "$WORK/stats/load.txt")"

[ ${#parts[@]} -gt 0 ] || { note "no results"; exit 1; }
"$NODE_BIN" "$HERE/merge-results.mjs" --out "$out" \
  --note "$BUILD_NOTE; variants $variants (tracing: OTLP $OTLP_PROTOCOL, sampler ${SIGHTLINE_TRACES_SAMPLER:-always_on}${SIGHTLINE_TRACES_SAMPLER_ARG:+ $SIGHTLINE_TRACES_SAMPLER_ARG}); node args $NODE_ARGS" "${parts[@]}"
"$NODE_BIN" "$HERE/telemetry-cost-report.mjs" --results "$out" --sink "$WORK/stats/sink.json" \
  --scraper "$WORK/stats/scraper.json" --load "$WORK/stats/load.txt" --logs "$WORK/logs" --command "${ENV_PREFIX}bash bench/telemetry-cost.sh${ORIG_ARGS:+ $ORIG_ARGS}" \
  --times "${wl_times[*]}" --warmup "$warmup" --variants "$variants"
note "wrote $out, ${out%.json}.md, $LOG"
exit $failed
