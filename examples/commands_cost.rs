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
//! root5`); the queue is emptied (protobuf) every 100 traces, as an exporter would.
//! Prints ns per span and the spans applied.

use std::time::Instant;

use edgetrace::clock::SystemClock;
use edgetrace::commands::{Recorded, DEF, END, END_CLOSE, OPENS_CONTEXT, START, STR};
use edgetrace::id::RandomIds;
use edgetrace::otlp::Format;
use edgetrace::tracer::{Config, Tracer, GIVEN_HANDLES};

const CHILDREN: u32 = 10;
const ATTRS: [(&str, &str); 5] = [
    ("app.a", "alpha"),
    ("app.b", "bravo"),
    ("app.c", "charlie"),
    ("app.d", "delta"),
    ("app.e", "echo"),
];

#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn f64(&mut self, v: f64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
}

/// The strings the recorder interns once (names, the type, attribute keys): ids 1…
fn definitions(w: &mut W) {
    let strings = ["root", "child", "UNKNOWN"]
        .into_iter()
        .chain(ATTRS.iter().map(|(k, _)| *k));
    for (id, s) in (1..).zip(strings) {
        w.u8(DEF).u32(id).text(s);
    }
}

/// One trace's commands, a root and `children` nested children; `n` makes its handles, context
/// and ids unique.
fn trace(w: &mut W, n: u32, children: u32) {
    let ctx = GIVEN_HANDLES + 1 + n;
    let base = GIVEN_HANDLES + 1 + n * (children + 1);
    for i in 0..=children {
        let h = base + i;
        let parent = if i == 0 { 0 } else { h - 1 };
        let t = 1_700_000_000_000.0 + f64::from(i);
        w.u8(START)
            .u32(h)
            .u32(ctx)
            .u32(parent)
            .u32(if i == 0 { 1 } else { 2 })
            .u32(3)
            .f64(t);
        w.0.extend_from_slice(&(u64::from(h) | 1 << 40).to_be_bytes());
        if i == 0 {
            // The root opens the trace's context, as the JS recorder writes it.
            w.u8(1 | OPENS_CONTEXT);
            w.0.extend_from_slice(&(u128::from(n) | 1 << 100).to_be_bytes());
        } else {
            w.u8(0);
        }
        for (k, (_, v)) in ATTRS.iter().enumerate() {
            w.u8(STR).u32(h).u32(4 + k as u32).text(v);
        }
    }
    for i in (1..=children).rev() {
        w.u8(END).u32(base + i).f64(1_700_000_000_100.0);
    }
    w.u8(END_CLOSE).u32(base).f64(1_700_000_000_100.0).u32(ctx);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let traces: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    // `root5`: each trace is a lone root (the benchmarks' root5 scenario).
    let children = match args.next().as_deref() {
        Some("root5") => 0,
        _ => CHILDREN,
    };
    let mut t = Tracer::new(
        Config::default(),
        Box::new(SystemClock),
        Box::new(RandomIds::default()),
    );
    let mut rec = Recorded::default();
    let mut defs = W::default();
    definitions(&mut defs);
    rec.apply(&mut t, &defs.0).expect("definitions apply");
    // Buffers of 100 traces each, as the JS layer's 128 KB buffer holds ~700 spans.
    let mut buffers = Vec::new();
    for b in 0..traces.div_ceil(100) {
        let mut w = W::default();
        for n in b * 100..(b * 100 + 100).min(traces) {
            trace(&mut w, n, children);
        }
        buffers.push(w.0);
    }
    let t0 = Instant::now();
    for buf in &buffers {
        rec.apply(&mut t, buf).expect("commands apply");
        assert_eq!(rec.failed, 0, "{:?}", rec.last_error);
        while t.take_batch(Format::Protobuf).is_some() {}
    }
    let spans = u64::from(traces) * u64::from(children + 1);
    let ns = t0.elapsed().as_nanos() as f64 / spans as f64;
    assert_eq!(t.stats().ended, spans);
    println!("{ns:.0} ns per span (applied and encoded to protobuf), {spans} spans");
}
