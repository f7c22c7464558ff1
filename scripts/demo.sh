#!/usr/bin/env bash
# The main job: installs what is missing, builds the package and the ingest service, starts MLflow
# (SQLite under .data/), runs the Node example, then the demo stack: the mock model server (or
# OpenAI when OPENAI_API_KEY is set), the ingest service and the demo Worker in local workerd, and
# the demo chat page (www/, bundled by Vite). Prints each URL. Ctrl-C (or SIGTERM) stops everything.
#   scripts/demo.sh
# Environment: MLFLOW_PORT (default 5000), DEMO_DATA_DIR (default .data), DEMO_SKIP_BUILD=1 to
# reuse pkg/ as built. The stack's own ports: page 5173, ingest 8787, Worker 8788, model 8790.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
  "") ;;
  *) echo "scripts/demo.sh takes no arguments (see --help); the settings are environment variables" >&2; exit 2 ;;
esac
PORT=${MLFLOW_PORT:-5000}
DATA=${DEMO_DATA_DIR:-.data}
export WRANGLER_SEND_METRICS=false
say() { printf '[demo] %s\n' "$*"; }

if [ "${DEMO_SKIP_BUILD:-}" != 1 ]; then
  scripts/setup.sh
  say "building the npm package and the ingest service"
  node scripts/build.mjs
elif [ ! -f pkg/node.js ] || [ ! -d ingest/build ]; then
  echo "[demo] DEMO_SKIP_BUILD=1 reuses pkg/ and ingest/build as built, and there are none yet: run scripts/demo.sh without it once" >&2
  exit 1
fi

MLFLOW_PID=""
STACK_PID=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$STACK_PID" ] && kill -0 "$STACK_PID" 2>/dev/null; then
    kill -TERM "$STACK_PID" 2>/dev/null || true
    wait "$STACK_PID" 2>/dev/null || true
  fi
  if [ -n "$MLFLOW_PID" ]; then
    say "stopping MLflow (pid $MLFLOW_PID)"
    kill -- -"$MLFLOW_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 -- -"$MLFLOW_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- -"$MLFLOW_PID" 2>/dev/null || true
  fi
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; then
  say "port $PORT already answers /health; set MLFLOW_PORT to use another port" >&2
  exit 1
fi
say "starting MLflow on http://127.0.0.1:$PORT (data in $DATA/mlflow; the first start takes about a minute)"
eval "$(scripts/mlflow.sh "$DATA/mlflow" "$PORT")"

EXP=$(curl -sf "http://127.0.0.1:$PORT/api/2.0/mlflow/experiments/get-by-name?experiment_name=edgetrace-demo" \
  | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["experiment"]["experiment_id"])' 2>/dev/null || true)
if [ -z "$EXP" ]; then
  EXP=$(curl -sf -X POST -H 'content-type: application/json' -d '{"name":"edgetrace-demo"}' \
    "http://127.0.0.1:$PORT/api/2.0/mlflow/experiments/create" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')
fi
say "experiment edgetrace-demo: id $EXP"

say "running examples/nested-agent.mjs (a Node app traced straight to MLflow)"
node examples/nested-agent.mjs "http://127.0.0.1:$PORT" "$EXP"

say "starting the demo stack"
STACK_ARGS=()
if [ "${DEMO_SKIP_BUILD:-}" = 1 ]; then STACK_ARGS+=(--no-build); fi
node scripts/demo-stack.mjs "http://127.0.0.1:$PORT" "${STACK_ARGS[@]}" &
STACK_PID=$!
wait "$STACK_PID"
