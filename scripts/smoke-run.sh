#!/usr/bin/env bash
# Starts `make run` in the background, waits until it serves, runs `make smoke`
# against it and stops it again. Used by CI; handy locally too.
set -euo pipefail
cd "$(dirname "$0")/.."

data=$(mktemp -d)
log="$data/run.log"
export GALLERYSYNC_DATA_DIR="$data"
# Build first so the wait below measures start-up, not compilation.
(cd services/allinone && go build -o "$data/gallerysync" . && go build -o "$data/smoke" ./cmd/smoke)
"$data/gallerysync" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "make run exited early"; exit 1; fi
  sleep 0.2
done
if ! "$data/smoke"; then
  echo "--- make run log"; tail -n 80 "$log"; exit 1
fi
