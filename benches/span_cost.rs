//! Per-span cost of the core, natively: start + end, and start + end + encode to OTLP/JSON and
//! to OTLP protobuf.
//!
//! One iteration is one trace: a root with 10 nested children (each under the previous), every
//! span with 5 string attributes, ended innermost first. Throughput is reported per span (11
//! elements per iteration); a closing summary prints ns per span for each case.
//!
//! `cargo bench --bench span_cost` runs in well under a minute (small sample size, short
//! warm-up and measurement). The `bench` profile inherits `[profile.release]`, so this measures
//! the size-optimized build (`opt-level = "z"`, LTO) the npm package ships as wasm.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use edgetrace::attribute::AttrValue;
use edgetrace::clock::SystemClock;
use edgetrace::id::RandomIds;
use edgetrace::otlp::Format;
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent, Tracer};

const CHILDREN: usize = 10;
const SPANS: usize = CHILDREN + 1;
const KEYS: [&str; 5] = [
    "app.user",
    "app.route",
    "gen_ai.system",
    "gen_ai.request.model",
    "app.note",
];
const VALUES: [&str; 5] = [
    "user-42",
    "/api/chat",
    "openai",
    "gpt-4o-mini",
    "a short free-text note of about sixty bytes, like a prompt id",
];

/// A tracer that has already run one trace, so the maps and buffers are warm.
fn warm_tracer() -> Tracer {
    let mut t = Tracer::new(
        Config::default(),
        Box::new(SystemClock),
        Box::new(RandomIds::default()),
    );
    one_trace(&mut t);
    while t.take_batch(Format::Json).is_some() {}
    t
}

/// Starts and ends one trace of [`SPANS`] spans with 5 string attributes each.
fn one_trace(t: &mut Tracer) {
    let mut handles = [0u32; SPANS];
    for (i, slot) in handles.iter_mut().enumerate() {
        let (name, kind) = if i == 0 {
            ("agent", SpanType::Agent)
        } else {
            ("step", SpanType::Llm)
        };
        let h = t.start_span(0, Parent::Current, name, kind).unwrap();
        for (k, v) in KEYS.iter().zip(VALUES) {
            t.set_attribute(h, k, AttrValue::Str(v.into())).unwrap();
        }
        *slot = h;
    }
    for h in handles.iter().rev() {
        t.end_span(*h).unwrap();
    }
}

/// One trace, then its batch in `format`; returns the body size so the work is not optimized out.
fn one_trace_encoded(t: &mut Tracer, format: Format) -> usize {
    one_trace(t);
    let p = t.take_batch(format).expect("a batch");
    debug_assert_eq!(p.spans, SPANS);
    p.body.len()
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("span_cost");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(SPANS as u64));

    g.bench_function("start_end", |b| {
        // A fresh warm tracer per iteration so the queue never fills; its set-up is not timed.
        b.iter_batched(
            warm_tracer,
            |mut t| {
                one_trace(&mut t);
                t
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("start_end_encode_json", |b| {
        let mut t = warm_tracer();
        b.iter(|| black_box(one_trace_encoded(&mut t, Format::Json)))
    });
    g.bench_function("start_end_encode_protobuf", |b| {
        let mut t = warm_tracer();
        b.iter(|| black_box(one_trace_encoded(&mut t, Format::Protobuf)))
    });
    g.finish();
}

/// A plain timing loop for a one-line ns-per-span summary next to criterion's report.
fn summary() {
    const TRACES: usize = 20_000;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..TRACES {
            f();
        }
        start.elapsed().as_nanos() as f64 / (TRACES * SPANS) as f64
    };
    let mut t = warm_tracer();
    let start_end = time(&mut || {
        one_trace(&mut t);
        // Nothing is encoded here: before the queue fills (2048 spans), start over with a new
        // tracer, which costs about one trace every ~170.
        if t.queued() > 2_048 - SPANS {
            t = warm_tracer();
        }
    });
    let mut t = warm_tracer();
    let json = time(&mut || {
        black_box(one_trace_encoded(&mut t, Format::Json));
    });
    let mut t = warm_tracer();
    let proto = time(&mut || {
        black_box(one_trace_encoded(&mut t, Format::Protobuf));
    });
    let bytes_json = one_trace_encoded(&mut t, Format::Json) as f64 / SPANS as f64;
    let bytes_proto = one_trace_encoded(&mut t, Format::Protobuf) as f64 / SPANS as f64;
    println!(
        "\nsummary (ns per span, {TRACES} traces of {SPANS} spans x 5 string attributes):\n  \
         start+end:                {start_end:>7.0} ns\n  \
         start+end+encode JSON:    {json:>7.0} ns  ({bytes_json:.0} body bytes per span)\n  \
         start+end+encode protobuf:{proto:>7.0} ns  ({bytes_proto:.0} body bytes per span)"
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    // `cargo test --benches` runs this binary in test mode; keep that quick.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        summary();
    }
}
