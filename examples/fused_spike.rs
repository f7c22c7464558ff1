//! A spike, not the core: what applying the recorded commands would cost if each span were
//! encoded as OTLP protobuf while its commands are applied (each attribute when it is set, the
//! span when it ends), with no `SpanData` built, queued and dropped. The same commands as
//! `commands_cost` (a root with 10 nested children, 5 string attributes each); the bytes per
//! span match the core's protobuf payload (~198 B). It leaves out what the core also does per
//! span (context stacks, sampling, limits, a repeated key replacing the earlier value, trace
//! state, statistics, failed commands, JSON, events, inputs and outputs), so it is a lower bound:
//!
//! ```sh
//! cargo build --profile release-speed --example fused_spike --example commands_cost
//! for n in 200 2000; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!   target/release-speed/examples/fused_spike $n 2>&1 | grep Collected; done
//! ```
//!
//! and the same for `commands_cost`; the difference over the 19,800 extra spans is the cost per
//! span, generating the commands included in both. Measured in session 15: 2,570 instructions per
//! span here against 6,172 for `commands_cost` (apply, protobuf encode and drop). The spike's
//! span model is in `common/spike.rs`, which `bench/wasm-core.mjs` also runs as wasm, against the
//! core's, in V8.

use std::time::Instant;

#[path = "common/recorded.rs"]
mod recorded;
#[path = "common/spike.rs"]
mod spike;

use recorded::{buffers, definitions, CHILDREN, W};
use spike::Spike;

fn main() {
    let traces: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mut spike = Spike::default();
    let mut defs = W::default();
    definitions(&mut defs);
    spike.apply(&defs.0);
    let buffers = buffers(traces, CHILDREN);
    let t0 = Instant::now();
    let mut bytes = 0;
    for buf in &buffers {
        spike.apply(buf);
        bytes += spike.out.len();
        spike.out.clear();
    }
    let ns = t0.elapsed().as_nanos() as f64 / spike.spans as f64;
    println!(
        "{ns:.0} ns per span (applied and encoded to protobuf at once), {} spans, {} B per span",
        spike.spans,
        bytes as u64 / spike.spans
    );
}
