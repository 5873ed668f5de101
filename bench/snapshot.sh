# Sourced by run.sh and telemetry-cost.sh: a frozen build in $WORK/sightline (dist/, package.json,
# the adapter), so every proxy instance of a run loads the same code even if dist/ is rebuilt
# meanwhile; described in $BUILD_NOTE. The harness itself (bench/lib) runs in place.
# Needs: ROOT (the repo), HERE (bench/), WORK (the run's temp dir), a `note` function.
SNAP="$WORK/sightline"
mkdir -p "$SNAP/bench"
cp -r "$ROOT/dist" "$SNAP/dist"
cp "$ROOT/package.json" "$SNAP/package.json"
ln -s "$ROOT/node_modules" "$SNAP/node_modules"
cp "$HERE/sightline-bench.mjs" "$SNAP/bench/sightline-bench.mjs"
cp -r "$ROOT/bin" "$SNAP/bin" # --via cli runs bin/sightline.js
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain -- src 2>/dev/null | wc -l | tr -d ' ')
dist_time=$(date -r "$ROOT/dist/index.js" '+%Y-%m-%dT%H:%M:%S%z')
newest_src=$(find "$ROOT/src" -name '*.ts' -newer "$ROOT/dist/index.js" 2>/dev/null | head -3 | sed "s#$ROOT/##" | tr '\n' ' ')
BUILD_NOTE="sightline HEAD $commit, $dirty uncommitted file(s) under src/, dist built $dist_time${newest_src:+ (src newer than dist: $newest_src)}"
note "$BUILD_NOTE"
