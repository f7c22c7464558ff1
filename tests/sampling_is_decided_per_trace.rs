//! Sampling keeps or drops whole traces: the decision is made once, from the trace id, when the
//! trace starts, and every span of the trace follows it.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use edgetrace::clock::ManualClock;
use edgetrace::id::{IdGenerator, SpanId, TraceId};
use edgetrace::otlp::Format;
use edgetrace::propagation::parse_traceparent;
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent, Tracer};

/// Deterministic ids spread over the whole range (splitmix64), unlike [`SequentialIds`] whose
/// small numbers would all fall under any ratio.
#[derive(Default)]
struct SpreadIds(u64);

impl SpreadIds {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) | 1
    }
}

impl IdGenerator for SpreadIds {
    fn trace_id(&mut self) -> TraceId {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next().to_be_bytes());
        b[8..].copy_from_slice(&self.next().to_be_bytes());
        TraceId::from_bytes(b).unwrap()
    }
    fn span_id(&mut self) -> SpanId {
        SpanId::from_bytes(self.next().to_be_bytes()).unwrap()
    }
}

fn sampling_tracer(ratio: f64) -> Tracer {
    let config = Config {
        sample_ratio: ratio,
        ..Config::default()
    };
    Tracer::new(
        config,
        Box::new(ManualClock::new(T0)),
        Box::new(SpreadIds::default()),
    )
}

/// Runs `traces` traces of three spans each; returns the trace ids started and the headers.
fn run(t: &mut Tracer, traces: usize) -> Vec<(Vec<u8>, String)> {
    let mut out = Vec::new();
    for i in 0..traces {
        let r = t
            .start_span(0, Parent::Current, &format!("root{i}"), SpanType::Agent)
            .unwrap();
        let c = t
            .start_span(0, Parent::Current, "child", SpanType::Llm)
            .unwrap();
        let g = t
            .start_span(0, Parent::Current, "grandchild", SpanType::Tool)
            .unwrap();
        out.push((
            t.trace_id(r).unwrap().as_bytes().to_vec(),
            t.traceparent(g).unwrap(),
        ));
        for h in [g, c, r] {
            t.end_span(h).unwrap();
        }
    }
    out
}

#[test]
fn half_the_traces_are_kept_whole() {
    let mut t = sampling_tracer(0.5);
    let started = run(&mut t, 400);
    let spans = export_all(&mut t, Format::Protobuf);
    let mut per_trace: HashMap<Vec<u8>, usize> = HashMap::new();
    for s in &spans {
        *per_trace.entry(s.trace_id.clone()).or_default() += 1;
    }
    assert!(
        per_trace.values().all(|n| *n == 3),
        "a trace was exported in part"
    );
    let kept = per_trace.len();
    assert!(
        (150..=250).contains(&kept),
        "kept {kept} of 400 traces at ratio 0.5"
    );
    let stats = t.stats();
    assert_eq!(stats.dropped.sampled_out, ((400 - kept) * 3) as u64);
    assert_eq!(stats.ended, 1200);
    // The traceparent a span hands on says whether its trace was kept.
    for (trace_id, header) in started {
        let sampled = parse_traceparent(&header).unwrap().sampled;
        assert_eq!(sampled, per_trace.contains_key(&trace_id), "{header}");
    }
}

#[test]
fn the_decision_depends_on_the_trace_id_alone() {
    let mut a = sampling_tracer(0.3);
    let mut b = sampling_tracer(0.3);
    run(&mut a, 100);
    run(&mut b, 100);
    let kept = |t: &mut Tracer| -> HashSet<Vec<u8>> {
        export_all(t, Format::Json)
            .into_iter()
            .map(|s| s.trace_id)
            .collect()
    };
    let (ka, kb) = (kept(&mut a), kept(&mut b));
    assert!(!ka.is_empty() && ka.len() < 100);
    assert_eq!(ka, kb);
    // A higher ratio keeps a superset.
    let mut c = sampling_tracer(0.6);
    run(&mut c, 100);
    let kc = kept(&mut c);
    assert!(kc.is_superset(&ka) && kc.len() > ka.len());
}

#[test]
fn ratio_zero_drops_everything_and_one_keeps_everything() {
    let mut none = sampling_tracer(0.0);
    let headers = run(&mut none, 20);
    assert!(none.take_batch(Format::Json).is_none());
    assert_eq!(none.stats().dropped.sampled_out, 60);
    assert!(headers.iter().all(|(_, h)| h.ends_with("-00")));

    let mut all = sampling_tracer(1.0);
    let headers = run(&mut all, 20);
    assert_eq!(export_all(&mut all, Format::Json).len(), 60);
    assert_eq!(all.stats().dropped.total(), 0);
    assert!(headers.iter().all(|(_, h)| h.ends_with("-01")));
}

#[test]
fn a_remote_parent_that_did_not_sample_is_followed() {
    let mut t = sampling_tracer(1.0);
    let unsampled =
        parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
    let sampled =
        parse_traceparent("00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    let a = t
        .start_span(0, Parent::Remote(unsampled), "a", SpanType::Chain)
        .unwrap();
    let a_child = t
        .start_span(0, Parent::Current, "a-child", SpanType::Chain)
        .unwrap();
    assert!(t.traceparent(a_child).unwrap().ends_with("-00"));
    t.end_span(a_child).unwrap();
    t.end_span(a).unwrap();
    let b = t
        .start_span(0, Parent::Remote(sampled), "b", SpanType::Chain)
        .unwrap();
    t.end_span(b).unwrap();
    let names: Vec<_> = export_all(&mut t, Format::Json)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["b"]);
    assert_eq!(t.stats().dropped.sampled_out, 2);
}

#[test]
fn a_remote_parent_decides_for_its_trace_whatever_the_ratio() {
    // Parent-based, as OpenTelemetry's default sampler: with a ratio of its own applied on top, a
    // caller's kept traces lost their part here (an OpenTelemetry caller at 0.5 and edgetrace at
    // 0.5 kept 493 of the caller's 995 traces whole).
    for ratio in [0.0, 0.5] {
        let mut t = sampling_tracer(ratio);
        let mut kept = 0;
        for i in 0..200u32 {
            // Trace ids spread over the ratio's whole range (the low 64 bits decide it).
            let id = format!(
                "{:032x}",
                u128::from(i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
            );
            let r = parse_traceparent(&format!("00-{id}-00f067aa0ba902b7-01")).unwrap();
            let h = t
                .start_span(0, Parent::Remote(r), "continued", SpanType::Chain)
                .unwrap();
            kept += usize::from(t.traceparent(h).unwrap().ends_with("-01"));
            t.end_span(h).unwrap();
        }
        assert_eq!(kept, 200, "ratio {ratio}: every trace its caller sampled");
        assert_eq!(t.stats().dropped.sampled_out, 0);
        assert_eq!(export_all(&mut t, Format::Json).len(), 200);
    }
}

#[test]
fn sequential_ids_are_all_kept_at_any_positive_ratio() {
    // Documents why the tests above need spread ids: small sequential ids hash to the bottom.
    let config = Config {
        sample_ratio: 0.01,
        ..Config::default()
    };
    let (mut t, _clock) = tracer(config);
    for _ in 0..10 {
        let h = t.start_span(0, Parent::Root, "s", SpanType::Chain).unwrap();
        t.end_span(h).unwrap();
    }
    assert_eq!(t.queued(), 10);
}
