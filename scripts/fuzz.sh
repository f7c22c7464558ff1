#!/usr/bin/env bash
# Fuzzes edgetrace's parsers of untrusted input with cargo-fuzz (libFuzzer): the SSE parser, the
# model-response parsers and the OTLP JSON and protobuf decoders (fuzz/README.md says what each
# target checks). Each target runs for SECONDS (default 60) from its committed seeds
# (fuzz/corpus/<target>), its saved crashes (fuzz/regressions/<target>) and what earlier runs on
# this machine found (fuzz/target/corpus/<target>). Fails if any target finds a crash, a hang
# (one input over 10 s) or an out-of-memory (over 2 GiB); the input is saved in
# fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 10         # the short run of scripts/test.sh
#   scripts/fuzz.sh 600 sse    # one target
#
# Installs cargo-fuzz (from crates.io, about 1 min) when missing. cargo-fuzz passes nightly-only
# flags (-Zsanitizer=address and others) to rustc; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them, so no nightly toolchain is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
shift || true
ALL_TARGETS=(sse llm_response mcp_response otlp_json otlp_protobuf ingest)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
CARGO_FUZZ_VERSION=0.13.2
export RUSTC_BOOTSTRAP=1

step() { printf '\n[fuzz] === %s ===\n' "$*"; }
T0=$(date +%s)

if cargo fuzz --version 2>/dev/null | grep -q "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  echo "[fuzz] cargo-fuzz $CARGO_FUZZ_VERSION is installed"
else
  step "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 1 min)"
  t=$(date +%s)
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION"
  echo "[fuzz] cargo-fuzz installed in $(($(date +%s) - t)) s"
fi

step "building the fuzz targets (release, debug assertions, AddressSanitizer)"
t=$(date +%s)
cargo fuzz build
echo "[fuzz] built in $(($(date +%s) - t)) s"

FAILED=()
for target in "${TARGETS[@]}"; do
  step "$target for $SECONDS_PER_TARGET s"
  work=fuzz/target/corpus/$target
  mkdir -p "$work"
  dirs=("$work" "fuzz/corpus/$target")
  if [ -d "fuzz/regressions/$target" ]; then dirs+=("fuzz/regressions/$target"); fi
  flags=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  if [ -f "fuzz/dicts/$target.dict" ]; then flags+=(-dict="fuzz/dicts/$target.dict"); fi
  log=fuzz/target/$target.log
  # New inputs go to the first directory only, so the committed seeds stay as they are.
  if cargo fuzz run "$target" "${dirs[@]}" -- "${flags[@]}" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
    echo "[fuzz] $target: no crash in ${runs:-?} runs ($cov; log: $log)"
  else
    FAILED+=("$target")
    grep -E -m1 -A25 "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer" "$log" >&2 || tail -40 "$log" >&2
    grep -E "Test unit written to|artifact_prefix" "$log" >&2 || true
    echo "[fuzz] $target FAILED (full log: $log)" >&2
  fi
done

if [ ${#FAILED[@]} -gt 0 ]; then
  echo "[fuzz] failing targets: ${FAILED[*]}; reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>" >&2
  exit 1
fi
step "all ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET} s each without a crash, in $(($(date +%s) - T0)) s"
