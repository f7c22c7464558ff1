#!/usr/bin/env bash
# Starts MLflow (SQLite under DATA_DIR) on 127.0.0.1:PORT in its own process group, waits for
# /health with progress, and prints "MLFLOW_PID=<pid>". Stop it with: kill -- -<pid>
#   scripts/mlflow.sh DATA_DIR PORT
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?data dir}
PORT=${2:?port}
mkdir -p "$DATA"
setsid .venv/bin/mlflow server --backend-store-uri "sqlite:///$(cd "$DATA" && pwd)/mlflow.db" \
  --default-artifact-root "$(cd "$DATA" && pwd)/artifacts" --host 127.0.0.1 --port "$PORT" --workers 1 \
  >"$DATA/mlflow.log" 2>&1 &
PID=$!
start=$(date +%s)
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "[mlflow] exited; last lines of $DATA/mlflow.log:" >&2
    tail -20 "$DATA/mlflow.log" >&2
    exit 1
  fi
  now=$(date +%s)
  if [ $((now - start)) -gt 300 ]; then echo "[mlflow] not healthy after 300 s" >&2; kill -- -"$PID"; exit 1; fi
  if [ $(((now - start) % 10)) = 0 ]; then echo "[mlflow] starting at http://127.0.0.1:$PORT ($((now - start)) s)" >&2; fi
  sleep 1
done
echo "[mlflow] ready at http://127.0.0.1:$PORT after $(($(date +%s) - start)) s" >&2
echo "MLFLOW_PID=$PID"
