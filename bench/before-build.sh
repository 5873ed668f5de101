# Sourced by run.sh when --before REF (or SIGHTLINE_BEFORE=REF) is given: a second Sightline build
# for the same run, frozen in $WORK/sightline-before like snapshot.sh freezes the current one.
#
# REF is a git ref of this repository (commit, branch, tag: it needs a git checkout), exported with
# `git archive` into $WORK/before-src (nothing is added to the repository: no worktree, no branch),
# given the repository's node_modules (a symlink) and compiled with its own tsconfig.build.json.
# REF may also be a directory that is already built: a checkout with dist/ and bin/, or a dist/
# directory (then bin/ comes from its parent, or from this repository).
#
# Needs: BEFORE (the ref), ROOT, HERE, WORK (removed by run.sh's cleanup), `note` and `die`.
# Sets BEFORE_BUILD_PID while the compiler runs (run.sh's cleanup ends it by that pid) and exports
# SIGHTLINE_BEFORE_ADAPTER, SIGHTLINE_BEFORE_LABEL, SIGHTLINE_BEFORE_REF, SIGHTLINE_BEFORE_NOTE
# (read by bench/lib/proxies.mjs beforeDef and recorded in the results' settings.before); with
# BEFORE_CONTROL=1 also SIGHTLINE_CONTROL_ADAPTER and SIGHTLINE_CONTROL_LABEL (a copy of the before
# build: the A/A control, proxies.mjs controlDef).
BSNAP="$WORK/sightline-before"
before_root=""
if [ -d "$BEFORE" ]; then
  bdir=$(cd "$BEFORE" && pwd)
  if [ -f "$bdir/dist/index.js" ]; then before_root=$bdir; bdist=$bdir/dist
  elif [ -f "$bdir/index.js" ] && [ -f "$bdir/cli/main.js" ]; then bdist=$bdir; before_root=$(dirname "$bdir")
  else die "--before $BEFORE: a directory must be a built checkout (dist/index.js) or a dist/ directory"; fi
  bbin="$before_root/bin"; [ -f "$bbin/sightline.js" ] || bbin="$ROOT/bin"
  short=$(git -C "$before_root" rev-parse --short HEAD 2>/dev/null || basename "$bdir")
  SIGHTLINE_BEFORE_NOTE="before: directory $bdir (dist built $(date -r "$bdist/index.js" '+%Y-%m-%dT%H:%M:%S%z'), bin from $bbin)"
  mkdir -p "$BSNAP/bench"
  cp -r "$bdist" "$BSNAP/dist"
  cp -r "$bbin" "$BSNAP/bin"
  if [ -f "$before_root/package.json" ]; then cp "$before_root/package.json" "$BSNAP/package.json"; else cp "$ROOT/package.json" "$BSNAP/package.json"; fi
else
  git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 || die "--before $BEFORE: $ROOT is not a git checkout (a git ref needs one; or pass a built directory)"
  commit=$(git -C "$ROOT" rev-parse --verify --quiet "$BEFORE^{commit}") || die "--before $BEFORE: not a commit in $ROOT"
  short=$(git -C "$ROOT" rev-parse --short "$commit")
  src="$WORK/before-src"
  mkdir -p "$src"
  git -C "$ROOT" archive --format=tar "$commit" | tar -x -C "$src" || die "--before $BEFORE: git archive $short failed"
  [ -f "$src/tsconfig.build.json" ] || die "--before $BEFORE: $short has no tsconfig.build.json (cannot build it)"
  ln -s "$ROOT/node_modules" "$src/node_modules"
  note "building the before build $short ($BEFORE) in $src"
  blog="$WORK/before-build.log"
  # In the background with its pid recorded, so that run.sh's cleanup can end it on Ctrl-C.
  (cd "$src" && exec "$NODE_BIN" "$ROOT/node_modules/typescript/bin/tsc" -p tsconfig.build.json) >"$blog" 2>&1 &
  BEFORE_BUILD_PID=$!
  if ! wait "$BEFORE_BUILD_PID"; then
    BEFORE_BUILD_PID=""
    first=$(grep -m1 -E 'error|Error' "$blog" || head -1 "$blog")
    nerr=$(grep -c 'error TS' "$blog" || true)
    die "--before $BEFORE: $short does not build ($nerr TypeScript error(s); first: ${first:-no output})"
  fi
  BEFORE_BUILD_PID=""
  [ -f "$src/dist/index.js" ] && [ -f "$src/bin/sightline.js" ] || die "--before $BEFORE: $short built no dist/index.js or has no bin/sightline.js"
  SIGHTLINE_BEFORE_NOTE="before: $BEFORE = commit $short, built from git (git archive + tsc -p tsconfig.build.json, node_modules of this checkout)"
  mkdir -p "$BSNAP/bench"
  mv "$src/dist" "$BSNAP/dist"
  cp -r "$src/bin" "$BSNAP/bin"
  cp "$src/package.json" "$BSNAP/package.json"
  rm -rf "$src"
fi
ln -s "$ROOT/node_modules" "$BSNAP/node_modules"
# The current adapter for both builds: both get the same generated configuration.
cp "$HERE/sightline-bench.mjs" "$BSNAP/bench/sightline-bench.mjs"
export SIGHTLINE_BEFORE_ADAPTER="$BSNAP/bench/sightline-bench.mjs"
export SIGHTLINE_BEFORE_LABEL="sightline@$short"
export SIGHTLINE_BEFORE_REF="$BEFORE"
export SIGHTLINE_BEFORE_NOTE
note "$SIGHTLINE_BEFORE_NOTE; proxy name $SIGHTLINE_BEFORE_LABEL (alias sightline-before)"
if [ "${BEFORE_CONTROL:-0}" = 1 ]; then
  # The A/A control: the same before build in its own copy (separate files, separate processes).
  cp -r "$BSNAP" "$WORK/sightline-control"
  export SIGHTLINE_CONTROL_ADAPTER="$WORK/sightline-control/bench/sightline-bench.mjs"
  export SIGHTLINE_CONTROL_LABEL="sightline@$short-control"
  note "A/A control: a copy of the before build, proxy name $SIGHTLINE_CONTROL_LABEL (alias sightline-control)"
fi
