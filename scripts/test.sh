#!/usr/bin/env bash
# Runs every edgetrace test: formatting, clippy (native and wasm32), native unit/integration/doc
# tests, the golden files checked by an independent protobuf decoder, the package build,
# wasm-bindgen-test in Node and in headless Chromium, and the node:test suites of the built
# package (Node, workerd via Miniflare, Chromium via playwright-core, a real MLflow).
# Installs what is missing first. One MLflow is started for the run and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export WRANGLER_SEND_METRICS=false

step() { printf '\n[test] === %s ===\n' "$*"; }
T0=$(date +%s)

step "setup"
scripts/setup.sh --browser

MLFLOW_PID=""
RUN_DIR=$(mktemp -d)
cleanup() {
  # A step that fails before MLflow is waited for leaves its starter running: wait for it (it
  # gives up within 300 s) to learn MLflow's process id, so the server is stopped all the same.
  if [ -z "$MLFLOW_PID" ] && [ -n "${MLFLOW_STARTER:-}" ]; then
    wait "$MLFLOW_STARTER" 2>/dev/null || true
    MLFLOW_PID=$(sed -n 's/^MLFLOW_PID=//p' "$RUN_DIR/mlflow.env" 2>/dev/null | head -n 1)
  fi
  if [ -n "$MLFLOW_PID" ]; then kill -- -"$MLFLOW_PID" 2>/dev/null || true; fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

# MLflow takes a minute to start; start it now and let the Rust steps run meanwhile.
step "starting MLflow in the background"
MLFLOW_PORT=$(node scripts/free-port.mjs)
scripts/mlflow.sh "$RUN_DIR/mlflow" "$MLFLOW_PORT" >"$RUN_DIR/mlflow.env" 2>"$RUN_DIR/mlflow.progress" &
MLFLOW_STARTER=$!

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native, all targets)"
cargo clippy --all-targets -- -D warnings

step "clippy (wasm32: the lib, the wasm-bindgen tests, each feature set the build uses)"
cargo clippy --target wasm32-unknown-unknown --lib --test wasm_bindings_in_node --test wasm_bindings_in_chromium -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --features ingest -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --features llm-module -- -D warnings
# The browser's two cores: plain exports (src/abi.rs) instead of wasm-bindgen.
cargo clippy --target wasm32-unknown-unknown --lib --features size,protobuf-only,c-abi -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --features size,c-abi -- -D warnings
# The benchmarks' spike core (bench/lib/bound-pkgs.mjs), never shipped.
cargo clippy --target wasm32-unknown-unknown --lib --features bench-spike -- -D warnings

step "native unit, integration and doc tests"
cargo test

step "fuzz: every cargo-fuzz target for 10 s, saved regressions replayed first"
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
scripts/fuzz.sh "${FUZZ_SECONDS:-10}"

step "golden files decoded by opentelemetry-proto (Python)"
.venv/bin/python tests/python/check_golden.py

step "build the npm package"
node scripts/build.mjs

step "bundle the demo page with Vite (www/ → www/dist, used by the demo tests)"
node scripts/demo-stack.mjs --build-only
export DEMO_PAGE_BUILT=1

step "wasm-bindgen-test in Node"
cargo test --target wasm32-unknown-unknown --test wasm_bindings_in_node

step "wasm-bindgen-test in headless Chromium"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test wasm_bindings_in_chromium

step "waiting for MLflow"
if ! wait "$MLFLOW_STARTER"; then cat "$RUN_DIR/mlflow.progress" >&2; exit 1; fi
cat "$RUN_DIR/mlflow.progress" >&2
# shellcheck disable=SC1090
. "$RUN_DIR/mlflow.env"
export MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT"

step "the ingest Worker bundles for Cloudflare: wrangler deploy --dry-run (direct and queue mode)"
(cd ingest && ../node_modules/.bin/wrangler deploy --dry-run --outdir "$RUN_DIR/wrangler-direct" >"$RUN_DIR/wrangler.log" 2>&1 \
  && ../node_modules/.bin/wrangler deploy --dry-run --env queue --outdir "$RUN_DIR/wrangler-queue" >>"$RUN_DIR/wrangler.log" 2>&1) \
  || { cat "$RUN_DIR/wrangler.log" >&2; exit 1; }
grep -q "TRACE_QUEUE" "$RUN_DIR/wrangler.log" && ls "$RUN_DIR"/wrangler-direct/*.wasm "$RUN_DIR"/wrangler-queue/worker.js >/dev/null

step "node:test suites: the package, the ingest service and the demo (Node, workerd, Chromium, Next.js, MLflow)"
mapfile -t SUITES < <(find tests/node tests/workerd tests/browser tests/ingest tests/www tests/next -name node_modules -prune -o -name '*.test.mjs' -print 2>/dev/null | sort)
node --test --test-concurrency=2 "${SUITES[@]}"

step "under Node 24 LTS (.tools) too: the package's Node suites (async context frames instead of async hooks) and the ingest service's Node adapter and relay logic"
.tools/node24/bin/node --test --test-concurrency=2 tests/node/*.test.mjs tests/ingest/node_adapter_serves_the_same_service.test.mjs \
  tests/ingest/direct_relays_are_shared_by_requests_in_flight.test.mjs tests/ingest/queue_messages_are_grouped_by_experiment_and_size.test.mjs

# 30 s a phase here (INGEST_LOAD_SECONDS to change it): the check is that every accepted span is
# relayed, no error MLflow did not cause, memory bounded; bench/run.mjs measures 60 s phases.
step "load: the ingest Worker in workerd under bounded load, ${INGEST_LOAD_SECONDS:-30} s a phase (local sink, pass-through baseline, real MLflow)"
node bench/ingest_load.mjs --duration "${INGEST_LOAD_SECONDS:-30}" --check

step "benchmarks: one short round of everything (checks the harness; no timing is asserted)"
node bench/run.mjs --quick

step "the core against the fused spike in wasm (bench/wasm-core.mjs, a short run: checks what each makes; no timing is asserted)"
cargo fmt --manifest-path bench/wasm-core/Cargo.toml -- --check
node bench/wasm-core.mjs 200 3

if [ -f tests/types/tsconfig.json ]; then
  step "TypeScript: tsc --noEmit --strict on a usage file"
  node_modules/.bin/tsc -p tests/types/tsconfig.json
  # A Worker typed with @cloudflare/workers-types, as wrangler's templates type one.
  node_modules/.bin/tsc -p tests/types/tsconfig.worker.json
fi

step "all tests passed in $(($(date +%s) - T0)) s"
