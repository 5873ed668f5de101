#!/usr/bin/env bash
# Before/after benchmark of two Sightline builds in ONE run (issue 12: "the benchmark ratios in one
# run before and after stay within noise"): the current checkout (after, `sightline`) and a git
# ref built from this repository (before, `sightline@<short>`), side by side with the naive Node
# forwarder, HAProxy and nginx, over the five workloads, reps interleaved. Both Sightline builds run
# as users run them: the real CLI (`node bin/sightline.js start -c FILE`), default telemetry, no
# node flags, the same generated configuration. The selftest of both builds runs first. A second
# copy of the before build (sightline@<short>-control) runs too: control/before is the A/A of the
# same run, i.e. what "within noise" looks like that day (--no-control leaves it out: 1/6 faster).
#
#   bash bench/before-after.sh <before-ref> [reps] [--name NAME] [--no-control] [run.sh options...]
#   bash bench/before-after.sh 23f5deb                 # reps 3: about 12 min (see bench/README.md)
#   bash bench/before-after.sh 23f5deb 2 --name aa --duration 2 --conns 3000   # a short A/A check
#
# Writes bench/results/before-after-<NAME>.{json,md,log} (NAME default: <short ref>-YYYYMMDD-HHMMSS);
# the .md and the end of the console output have the "Before vs after" table and the spread
# between reps. The before ref needs a git checkout (git archive + tsc into the run's temp dir,
# removed at the end). dist/ of the checkout is rebuilt first (SIGHTLINE_BUILD=0 to skip that).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "before-after.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] && [[ "$1" != -* ]] || die "usage: bash bench/before-after.sh <before-ref> [reps] [--name NAME] [--no-control] [run.sh options...]"
ref=$1; shift
reps=3
if [ $# -ge 1 ] && [[ "$1" =~ ^[0-9]+$ ]]; then reps=$1; shift; fi
[ "$reps" -ge 1 ] || die "reps must be at least 1"
name=""
control=(--control)
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) [ $# -ge 2 ] || die "--name needs a value"; name=$2; shift 2 ;;
    --name=*) name=${1#--name=}; shift ;;
    --no-control) control=(); shift ;;
    --before|--before=*|--proxies|--proxies=*|--reps|--reps=*|--selftest-first) die "$1 is set by this script" ;;
    *) rest+=("$1"); shift ;;
  esac
done
# Fail fast, before anything is built: the ref must be a commit of this checkout (or a directory).
if [ ! -d "$ref" ]; then
  git -C "$HERE/.." rev-parse --verify --quiet "$ref^{commit}" >/dev/null || die "--before $ref: not a commit in $(cd "$HERE/.." && pwd) (the before build is made from git: run this in a git checkout)"
fi
if [ -z "$name" ]; then
  short=$(git -C "$HERE/.." rev-parse --short "$ref^{commit}" 2>/dev/null || echo "$ref" | tr -c 'A-Za-z0-9._-\n' '_')
  name="$short-$(date +%Y%m%d-%H%M%S)"
fi

# As users run Sightline: the CLI, default telemetry, no node flags; the current tree rebuilt.
export SIGHTLINE_VIA=cli SIGHTLINE_TELEMETRY=default SIGHTLINE_NODE_ARGS=""
export SIGHTLINE_BUILD=${SIGHTLINE_BUILD:-1}
unset SIGHTLINE_LABEL SIGHTLINE_BEFORE || true

export BENCH_INVOCATION="bash bench/before-after.sh $ref $reps --name $name${control[*]+ ${control[*]}}${rest[*]+ ${rest[*]}}"
started=$(date +%s)
set +e
bash "$HERE/run.sh" throughput tls_conn_rate http_rps ws_echo_latency idle_memory \
  --proxies node,haproxy,nginx,sightline,sightline-before --before "$ref" --reps "$reps" --selftest-first ${control[@]+"${control[@]}"} \
  --name "before-after-$name" ${rest[@]+"${rest[@]}"}
rc=$?
set -e
echo "before-after.sh: exit $rc after $(( $(date +%s) - started )) s; results bench/results/before-after-$name.{json,md,log}" >&2
exit $rc
