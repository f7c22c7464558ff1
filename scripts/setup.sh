#!/usr/bin/env bash
# Installs what edgetrace's build, demo and tests need, skipping what is already there:
#   rust target wasm32-unknown-unknown, wasm-bindgen-cli (the exact version Cargo.toml pins),
#   npm packages (npm ci), Node 24 LTS beside the machine's Node (the Node suites and the Node
#   benchmark run under both), Bun and Deno (a test runs the package under each, and the Node
#   benchmark runs under each too), a Python venv with MLflow 3.17.2, and with --browser
#   Debian's Chromium + ChromeDriver. Prints a line per step.
set -euo pipefail
cd "$(dirname "$0")/.."

WANT_BROWSER=0
for a in "$@"; do
  case "$a" in
    --browser) WANT_BROWSER=1 ;;
    *) echo "usage: scripts/setup.sh [--browser]" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# Rust target.
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rust target wasm32-unknown-unknown: present"
else
  say "rust target wasm32-unknown-unknown: installing"
  rustup target add wasm32-unknown-unknown
fi

# The standard library's source for the nightly toolchain, when the machine has one: the build
# rebuilds std with panics that abort at once for the wasm the browser loads (scripts/build.mjs),
# and builds with the stable toolchain's std when it cannot (no nightly, or no way to fetch this).
if rustc +nightly --version >/dev/null 2>&1; then
  if [ -d "$(rustc +nightly --print sysroot)/lib/rustlib/src/rust/library/core" ]; then
    say "rust-src for the nightly toolchain: present"
  else
    say "rust-src for the nightly toolchain: installing"
    timeout 300 rustup component add rust-src --toolchain nightly \
      || say "rust-src could not be installed: the browser's wasm is built with the stable std (about 3.5 KB bigger)"
  fi
else
  say "no nightly toolchain: the browser's wasm is built with the stable std (about 3.5 KB bigger)"
fi

# wasm-bindgen-cli, exactly the version pinned in Cargo.toml.
WBG=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WBG" ]; then
  say "wasm-bindgen-cli $WBG: present"
else
  say "wasm-bindgen-cli $WBG: installing with cargo (about 5 minutes on 2 cores)"
  # No --locked: the registry here lacks one crate version its lockfile names.
  cargo install wasm-bindgen-cli --version "$WBG"
fi

# npm packages.
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  say "npm packages: present"
else
  say "npm packages: npm ci"
  npm ci --no-audit --no-fund
fi

# OpenTelemetry JS 3, for the benchmarks' second peer, in a folder of its own (it needs
# @opentelemetry/api 1.10, which the 2.x line in the root's node_modules refuses): about 5 MB.
if [ -d bench/otel3/node_modules ] && [ bench/otel3/node_modules/.package-lock.json -nt bench/otel3/package-lock.json ]; then
  say "bench/otel3 (OpenTelemetry JS 3): present"
else
  say "bench/otel3 (OpenTelemetry JS 3): npm ci"
  (cd bench/otel3 && npm ci --no-audit --no-fund)
fi

# Next.js 15 and 16, each in a folder of its own under tests/next (about 360 MB each), for the test
# of the package's Edge entry in Next.js apps.
for next_dir in tests/next/next15 tests/next/next16; do
  if [ -d "$next_dir/node_modules" ] && [ "$next_dir/node_modules/.package-lock.json" -nt "$next_dir/package-lock.json" ]; then
    say "$next_dir: present"
  else
    say "$next_dir: npm ci"
    (cd "$next_dir" && npm ci --no-audit --no-fund)
  fi
done

# Unpacks the npm registry package PKG@VERSION (an official build of a runtime) into .tools/DIR,
# with a progress line naming the tool and the download's rough SIZE.
#   fetch_tool NAME VERSION PKG DIR SIZE
fetch_tool() {
  say "$1 $2 (.tools): fetching $3 from the npm registry (about $5)"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$3@$2" >/dev/null && tar xzf ./*.tgz)
  mkdir -p .tools
  rm -rf ".tools/$4"
  mv "$tmp/package" ".tools/$4"
  rm -rf "$tmp"
}

# Node 24, the active LTS (Node 20, the machine's, reached its end of life in April 2026), in
# .tools/: the package's Node suites and the Node benchmark run under it too. From the npm
# registry's node-linux-<arch> package, the official build. .tools/node24 links to it: the one
# path scripts/test.sh and bench/run.mjs use.
NODE24_VERSION=24.22.3
NODE24=.tools/node-$NODE24_VERSION/bin/node
if [ -x "$NODE24" ] && [ "$("$NODE24" --version)" = "v$NODE24_VERSION" ]; then
  say "Node $NODE24_VERSION (.tools): present"
else
  case "$(uname -m)" in
    x86_64) NODE_ARCH=x64 ;;
    aarch64 | arm64) NODE_ARCH=arm64 ;;
    *) echo "[setup] no Node $NODE24_VERSION build for $(uname -m)" >&2; exit 1 ;;
  esac
  fetch_tool Node "$NODE24_VERSION" "node-linux-$NODE_ARCH" "node-$NODE24_VERSION" "30 MB"
  "$NODE24" --version >/dev/null
fi
ln -sfn "node-$NODE24_VERSION" .tools/node24

# Bun, another runtime that loads the package's Node entry (its own AsyncLocalStorage and wasm),
# in .tools/ for the test that runs the package under it and the benchmark's Bun rows. From the
# npm registry's @oven/bun-linux-<arch>-baseline package (the official build for any x64 CPU,
# AVX2 or not).
BUN_VERSION=1.4.5
BUN=.tools/bun-$BUN_VERSION/bin/bun
if [ -x "$BUN" ] && [ "$("$BUN" --version)" = "$BUN_VERSION" ]; then
  say "Bun $BUN_VERSION (.tools): present"
else
  case "$(uname -m)" in
    x86_64) BUN_PKG=@oven/bun-linux-x64-baseline ;;
    aarch64 | arm64) BUN_PKG=@oven/bun-linux-aarch64 ;;
    *) echo "[setup] no Bun $BUN_VERSION build for $(uname -m)" >&2; exit 1 ;;
  esac
  fetch_tool Bun "$BUN_VERSION" "$BUN_PKG" "bun-$BUN_VERSION" "40 MB"
  chmod +x "$BUN"
  "$BUN" --version >/dev/null
fi
ln -sfn "bun-$BUN_VERSION" .tools/bun

# Deno, which loads the package's Node entry too (and backs Deno Deploy and Netlify's and
# Supabase's edge functions), in .tools/ for the same test. From the npm registry's
# @deno/linux-<arch>-glibc package, the official build.
DENO_VERSION=2.9.6
DENO=.tools/deno-$DENO_VERSION/deno
if [ -x "$DENO" ] && "$DENO" --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; then
  say "Deno $DENO_VERSION (.tools): present"
else
  case "$(uname -m)" in
    x86_64) DENO_PKG=@deno/linux-x64-glibc ;;
    aarch64 | arm64) DENO_PKG=@deno/linux-arm64-glibc ;;
    *) echo "[setup] no Deno $DENO_VERSION build for $(uname -m)" >&2; exit 1 ;;
  esac
  fetch_tool Deno "$DENO_VERSION" "$DENO_PKG" "deno-$DENO_VERSION" "45 MB"
  chmod +x "$DENO"
  "$DENO" --version >/dev/null
fi
ln -sfn "deno-$DENO_VERSION" .tools/deno

# MLflow in a venv.
MLFLOW_VERSION=3.17.2
if [ -x .venv/bin/mlflow ] && .venv/bin/python -c "import mlflow, opentelemetry.proto, sys; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
  say "MLflow $MLFLOW_VERSION venv: present"
else
  say "MLflow $MLFLOW_VERSION venv: installing (about 2 minutes)"
  python3 -m venv .venv
  .venv/bin/pip install --progress-bar off -q "mlflow==$MLFLOW_VERSION" opentelemetry-proto
fi

# Chromium + ChromeDriver, for the browser tests.
if [ "$WANT_BROWSER" = 1 ]; then
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium + chromedriver: present"
  else
    say "chromium + chromedriver: installing from Debian (about 1.5 minutes)"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
  fi
fi
say "done"
