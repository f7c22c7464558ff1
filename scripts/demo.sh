#!/usr/bin/env bash
# The main job: installs what is missing, builds the package, starts MLflow (SQLite under .data/),
# runs the traced example, prints where to see its traces, and keeps MLflow running until Ctrl-C.
#   scripts/demo.sh            (MLflow on 127.0.0.1:5000, or MLFLOW_PORT)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${MLFLOW_PORT:-5000}
say() { printf '[demo] %s\n' "$*"; }

scripts/setup.sh
say "building the npm package"
node scripts/build.mjs

MLFLOW_PID=""
cleanup() {
  if [ -n "$MLFLOW_PID" ]; then
    say "stopping MLflow (pid $MLFLOW_PID)"
    kill -- -"$MLFLOW_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; then
  say "port $PORT already answers /health; set MLFLOW_PORT to use another port" >&2
  exit 1
fi
say "starting MLflow on http://127.0.0.1:$PORT (data in .data/mlflow; first start takes about a minute)"
eval "$(scripts/mlflow.sh .data/mlflow "$PORT")"

EXP=$(curl -sf "http://127.0.0.1:$PORT/api/2.0/mlflow/experiments/get-by-name?experiment_name=edgetrace-demo" \
  | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["experiment"]["experiment_id"])' 2>/dev/null || true)
if [ -z "$EXP" ]; then
  EXP=$(curl -sf -X POST -H 'content-type: application/json' -d '{"name":"edgetrace-demo"}' \
    "http://127.0.0.1:$PORT/api/2.0/mlflow/experiments/create" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')
fi
say "experiment edgetrace-demo: id $EXP"

say "running examples/nested-agent.mjs"
node examples/nested-agent.mjs "http://127.0.0.1:$PORT" "$EXP"

say "MLflow UI: http://127.0.0.1:$PORT/#/experiments/$EXP/traces"
say "MLflow is running; press Ctrl-C to stop it"
while kill -0 "$MLFLOW_PID" 2>/dev/null; do sleep 1; done
