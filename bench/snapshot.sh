# Sourced by run.sh and telemetry-cost.sh: a writable copy of the harness in $WORK/bench, and a
# frozen build: dist/ (every proxy instance of the run loads the same build, even if dist/ is
# rebuilt meanwhile) and the adapter in $WORK/sightline, described in $BUILD_NOTE.
# Needs: ROOT (the repo), HERE (bench/), SHARED_BENCH, WORK (the run's temp dir), a `note` function.
cp -r "$SHARED_BENCH" "$WORK/bench"
chmod -R u+w "$WORK/bench"
# The harness's only dependency is ws; reuse the repo's copy when it is the pinned version
# (bench.sh runs `npm install` otherwise).
want_ws=$(sed -n '/"node_modules\/ws"/,/}/s/.*"version": *"\([^"]*\)".*/\1/p' "$WORK/bench/package-lock.json" | head -1)
have_ws=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$ROOT/node_modules/ws/package.json" 2>/dev/null | head -1 || true)
if [ -n "$want_ws" ] && [ "$want_ws" = "$have_ws" ] && [ ! -e "$WORK/bench/node_modules/ws" ]; then
  mkdir -p "$WORK/bench/node_modules"
  cp -r "$ROOT/node_modules/ws" "$WORK/bench/node_modules/ws"
fi
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
