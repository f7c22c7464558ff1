//! The core's per-span work on the path every runtime takes: recorded commands, written as the JS
//! recorder writes them (`pkg-templates/recorder.js`), applied by `Recorded::apply`. Natively, so
//! it can run under an instruction counter, whose counts do not move with a noisy host as
//! wall-clock times do:
//!
//! ```sh
//! cargo build --profile release-speed --example commands_cost   # opt-level 3, as Node's wasm
//! valgrind --tool=callgrind target/release-speed/examples/commands_cost 2000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid> | head -40
//! ```
//!
//! Measured so in session 10: `Recorded::apply` ran ~5,000 instructions per span, about 30 % of
//! them allocating, and dropping a span once exported ~970 more. In session 11, after the span
//! data was boxed, short text copied by fixed-size moves and attribute slots reserved to the
//! last span's count: 4,286 per lone root (`root5`) and 3,933 per nested span.
//!
//! One trace is a root with 10 nested children, each with 5 string attributes (the benchmarks'
//! nested scenario), or with `root5` after the count, a lone root with 5 (`commands_cost 20000
//! root5`); the queue is emptied (protobuf, or OTLP/JSON with `json` after the count) every 100
//! traces, as an exporter would. With `keep` after the count the spans stay queued, never encoded
//! or dropped: the work of the benchmarks' buffer-only rows, which time no export.
//! Prints ns per span and the spans applied.
//!
//! Measured so in session 24 (the difference between 200 and 2,000 traces over the 19,800 spans
//! between them, the commands' generation included): 3,703 instructions a span with `keep`,
//! 5,617 encoded to protobuf, 7,616 to JSON; `examples/fused_spike.rs` (a lower bound for a core
//! that encodes each span while applying its commands) 2,586.

use std::time::Instant;

use edgetrace::clock::SystemClock;
use edgetrace::commands::Recorded;
use edgetrace::id::RandomIds;
use edgetrace::otlp::Format;
use edgetrace::tracer::{Config, Tracer};

#[path = "common/recorded.rs"]
mod recorded;

use recorded::{buffers, definitions, CHILDREN, W};

fn main() {
    let mut args = std::env::args().skip(1);
    let traces: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    // `root5`: each trace is a lone root (the benchmarks' root5 scenario).
    let rest: Vec<String> = args.collect();
    let children = if rest.iter().any(|a| a == "root5") {
        0
    } else {
        CHILDREN
    };
    // `json`: the queue is emptied as OTLP/JSON instead.
    let format = if rest.iter().any(|a| a == "json") {
        Format::Json
    } else {
        Format::Protobuf
    };
    // `keep`: the spans stay queued, never encoded or dropped (the benchmarks' buffer-only rows).
    let keep = rest.iter().any(|a| a == "keep");
    let mut config = Config::default();
    if keep {
        config.batch.max_queue_spans = usize::MAX;
        config.batch.max_queue_bytes = usize::MAX;
    }
    let mut t = Tracer::new(
        config,
        Box::new(SystemClock),
        Box::new(RandomIds::default()),
    );
    let mut rec = Recorded::default();
    let mut defs = W::default();
    definitions(&mut defs);
    rec.apply(&mut t, &defs.0).expect("definitions apply");
    let buffers = buffers(traces, children);
    let t0 = Instant::now();
    for buf in &buffers {
        rec.apply(&mut t, buf).expect("commands apply");
        assert_eq!(rec.failed, 0, "{:?}", rec.last_error);
        if !keep {
            while t.take_batch(format).is_some() {}
        }
    }
    let spans = u64::from(traces) * u64::from(children + 1);
    let ns = t0.elapsed().as_nanos() as f64 / spans as f64;
    assert_eq!(t.stats().ended, spans);
    if keep {
        assert_eq!(t.queued() as u64, spans, "every span stays queued");
        println!("{ns:.0} ns per span (applied and queued), {spans} spans");
        std::mem::forget(t);
    } else {
        println!("{ns:.0} ns per span (applied and encoded to {format:?}), {spans} spans");
    }
}
