//! Export bodies stay under `max_export_bytes` (60,000 by default) unless one span alone is
//! bigger; every span ends up in exactly one batch, in order; a full queue drops and counts.

mod common;

use std::collections::HashSet;

use common::*;
use edgetrace::attribute::AttrValue;
use edgetrace::batch::BatchConfig;
use edgetrace::otlp::{Format, Payload};
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent, Tracer};

/// Ends `n` spans in one trace, each with an attribute of a size that varies from 0 to ~3 KB.
fn end_many(t: &mut Tracer, n: usize) {
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    for i in 0..n - 1 {
        let h = t
            .start_span(0, Parent::Current, &format!("span-{i}"), SpanType::Tool)
            .unwrap();
        let size = (i * 7919) % 3_000;
        t.set_attribute(h, "payload", AttrValue::Str("p".repeat(size).into()))
            .unwrap();
        t.set_inputs(h, &format!("{{\"i\":{i}}}")).unwrap();
        t.end_span(h).unwrap();
    }
    t.end_span(root).unwrap();
}

/// Ends `n` root spans `s0`, `s1`, …, each with the string attribute `key` = `value`.
fn end_roots(t: &mut Tracer, n: usize, key: &str, value: &str) {
    for i in 0..n {
        let h = t
            .start_span(0, Parent::Root, &format!("s{i}"), SpanType::Chain)
            .unwrap();
        t.set_attribute(h, key, AttrValue::Str(value.to_string().into()))
            .unwrap();
        t.end_span(h).unwrap();
    }
}

fn check_batches(payloads: &[Payload], cap: usize, expected: usize) {
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for p in payloads {
        assert!(p.spans > 0);
        if p.oversize {
            assert_eq!(p.spans, 1, "only a lone span may pass the cap");
            assert!(p.body.len() > cap, "marked oversize but fits");
        } else {
            assert!(
                p.body.len() <= cap,
                "{:?} body of {} bytes over the cap {cap}",
                p.format,
                p.body.len()
            );
        }
        let spans = spans(&decode(p));
        assert_eq!(spans.len(), p.spans, "Payload::spans tells the truth");
        for s in spans {
            assert!(
                seen.insert(s.span_id.clone()),
                "span {:?} exported twice",
                s.span_id
            );
            order.push(u64::from_be_bytes(s.span_id.as_slice().try_into().unwrap()));
        }
    }
    assert_eq!(seen.len(), expected, "spans lost");
    // Children end in start order, then the root (span id 1) ends last.
    let mut want: Vec<u64> = (2..=expected as u64).collect();
    want.push(1);
    assert_eq!(order, want, "spans left the queue out of order");
}

#[test]
fn many_spans_split_into_batches_under_the_default_cap() {
    for format in [Format::Json, Format::Protobuf] {
        let (mut t, _clock) = tracer(Config::default());
        assert_eq!(t.config().batch.max_export_bytes, 60_000);
        end_many(&mut t, 1_500);
        assert_eq!(t.queued(), 1_500);
        assert!(t.batch_ready());
        let payloads = drain(&mut t, format);
        check_batches(&payloads, 60_000, 1_500);
        assert!(payloads.iter().all(|p| !p.oversize));
        let total: usize = payloads.iter().map(|p| p.body.len()).sum();
        assert!(payloads.len() >= total.div_ceil(60_000));
        assert!(
            payloads.len() > 20,
            "{format:?}: {} batches",
            payloads.len()
        );
        // Batches are filled: each but the last is more than half the cap.
        for p in &payloads[..payloads.len() - 1] {
            assert!(
                p.body.len() > 30_000,
                "{format:?}: a batch of only {} bytes",
                p.body.len()
            );
        }
        assert_eq!(t.queued(), 0);
        assert_eq!(t.stats().exported, 1_500);
        assert_eq!(t.stats().dropped.total(), 0);
    }
}

#[test]
fn tight_caps_are_respected_exactly() {
    for cap in [1_000, 2_500, 4_096, 10_000] {
        for format in [Format::Json, Format::Protobuf] {
            let config = Config {
                batch: BatchConfig {
                    max_export_bytes: cap,
                    ..BatchConfig::default()
                },
                ..Config::default()
            };
            let (mut t, _clock) = tracer(config);
            end_many(&mut t, 200);
            let payloads = drain(&mut t, format);
            check_batches(&payloads, cap, 200);
            if cap >= 4_096 {
                assert!(
                    payloads.iter().all(|p| !p.oversize),
                    "cap {cap}: no span is that big"
                );
            } else {
                assert!(
                    payloads.iter().any(|p| p.oversize),
                    "cap {cap}: ~3 KB spans cannot fit"
                );
            }
        }
    }
}

#[test]
fn a_span_bigger_than_the_cap_travels_alone_marked_oversize() {
    let mut config = Config::default();
    config.limits.max_value_bytes = 200_000;
    let (mut t, _clock) = tracer(config);
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    let small = t
        .start_span(0, Parent::Current, "small", SpanType::Tool)
        .unwrap();
    t.end_span(small).unwrap();
    let big = t
        .start_span(0, Parent::Current, "big", SpanType::Tool)
        .unwrap();
    t.set_attribute(big, "blob", AttrValue::Str("b".repeat(100_000).into()))
        .unwrap();
    t.end_span(big).unwrap();
    t.end_span(root).unwrap();

    let first = t.take_batch(Format::Json).unwrap();
    assert_eq!(
        (first.spans, first.oversize),
        (1, false),
        "small goes first, without big"
    );
    let second = t.take_batch(Format::Json).unwrap();
    assert_eq!((second.spans, second.oversize), (1, true));
    assert!(second.body.len() > 100_000);
    assert_eq!(spans(&decode(&second))[0].name, "big");
    let third = t.take_batch(Format::Json).unwrap();
    assert_eq!((third.spans, third.oversize), (1, false));
    assert!(t.take_batch(Format::Json).is_none());
}

#[test]
fn max_batch_spans_limits_spans_per_request() {
    let config = Config::from_json(r#"{"maxBatchSpans":10}"#).unwrap();
    let (mut t, _clock) = tracer(config);
    for i in 0..9 {
        let h = t
            .start_span(0, Parent::Root, &format!("s{i}"), SpanType::Chain)
            .unwrap();
        t.end_span(h).unwrap();
    }
    assert!(!t.batch_ready());
    for i in 9..25 {
        let h = t
            .start_span(0, Parent::Root, &format!("s{i}"), SpanType::Chain)
            .unwrap();
        t.end_span(h).unwrap();
    }
    assert!(t.batch_ready());
    let counts: Vec<usize> = drain(&mut t, Format::Protobuf)
        .iter()
        .map(|p| p.spans)
        .collect();
    assert_eq!(counts, [10, 10, 5]);
}

#[test]
fn a_full_queue_drops_and_counts_by_reason() {
    // maxQueueSpans 5: from 4 spans waiting (three quarters, rounded up) no new trace starts, so
    // roots of one span each fill it to 4, and the rest are dropped.
    let config = Config::from_json(r#"{"maxQueueSpans":5}"#).unwrap();
    let (mut t, _clock) = tracer(config);
    for i in 0..8 {
        let h = t
            .start_span(0, Parent::Root, &format!("s{i}"), SpanType::Chain)
            .unwrap();
        t.end_span(h).unwrap();
    }
    assert_eq!(t.queued(), 4);
    let stats = t.stats();
    assert_eq!(stats.ended, 8);
    assert_eq!(stats.dropped.queue_full, 4);
    assert_eq!(stats.dropped.queue_bytes, 0);
    assert_eq!(stats.dropped.total(), 4);
    // The oldest spans are kept; the ones that came when the queue was (nearly) full are dropped.
    let names: Vec<_> = export_all(&mut t, Format::Json)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["s0", "s1", "s2", "s3"]);
    // Draining makes room again.
    let h = t
        .start_span(0, Parent::Root, "after", SpanType::Chain)
        .unwrap();
    t.end_span(h).unwrap();
    assert_eq!(t.queued(), 1);
    assert_eq!(t.stats().dropped.queue_full, 4);
}

#[test]
fn a_nearly_full_queue_sheds_new_traces_whole_and_keeps_room_for_traces_under_way() {
    // maxQueueSpans 8: once 6 spans wait (three quarters) no trace starts, so the last two places
    // are kept for the spans of traces already under way. An overflow then drops whole traces,
    // never the root or a step of a trace whose other spans are exported.
    let config = Config::from_json(r#"{"maxQueueSpans":8}"#).unwrap();
    let (mut t, _clock) = tracer(config);
    let under_way = t
        .start_span(0, Parent::Root, "under-way", SpanType::Agent)
        .unwrap();
    for i in 0..6 {
        let h = t
            .start_span(0, Parent::Root, &format!("r{i}"), SpanType::Chain)
            .unwrap();
        t.end_span(h).unwrap();
    }
    assert_eq!(t.queued(), 6);
    // A trace that starts now is shed whole, root and child, though two places are free.
    let shed = t
        .start_span(0, Parent::Root, "shed", SpanType::Agent)
        .unwrap();
    assert!(
        t.traceparent(shed).unwrap().ends_with("-00"),
        "a shed trace is not sampled downstream either"
    );
    assert!(t.is_shed(shed), "and the JS layer is told so");
    let shed_child = t
        .start_span(0, Parent::Span(shed), "shed-child", SpanType::Llm)
        .unwrap();
    t.end_span(shed_child).unwrap();
    t.end_span(shed).unwrap();
    assert_eq!(t.queued(), 6);
    // The trace under way still finds room for its step and its root.
    assert!(t.traceparent(under_way).unwrap().ends_with("-01"));
    assert!(!t.is_shed(under_way));
    let step = t
        .start_span(0, Parent::Span(under_way), "step", SpanType::Llm)
        .unwrap();
    t.end_span(step).unwrap();
    t.end_span(under_way).unwrap();
    assert_eq!(t.queued(), 8);
    let stats = t.stats();
    assert_eq!((stats.started, stats.ended), (10, 10));
    assert_eq!(stats.dropped.queue_full, 2, "the shed trace's two spans");
    assert_eq!(stats.dropped.sampled_out, 0);
    let names: Vec<_> = export_all(&mut t, Format::Json)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        names,
        ["r0", "r1", "r2", "r3", "r4", "r5", "step", "under-way"]
    );
    // Room again: new traces start.
    let h = t
        .start_span(0, Parent::Root, "after", SpanType::Chain)
        .unwrap();
    t.end_span(h).unwrap();
    assert_eq!(t.queued(), 1);
}

#[test]
fn the_queue_byte_limit_drops_and_counts_by_reason() {
    let config = Config::from_json(r#"{"maxQueueBytes":10000}"#).unwrap();
    let (mut t, _clock) = tracer(config);
    end_roots(&mut t, 10, "blob", &"x".repeat(2_000));
    // Each span is charged a little over 2 KB: four fit in 10,000 bytes.
    assert_eq!(t.queued(), 4);
    let stats = t.stats();
    assert_eq!(stats.dropped.queue_bytes, 6);
    assert_eq!(stats.dropped.queue_full, 0);
    assert_eq!(export_all(&mut t, Format::Protobuf).len(), 4);
    // A span larger than the whole byte budget is never queued.
    let h = t
        .start_span(0, Parent::Root, "huge", SpanType::Chain)
        .unwrap();
    t.set_attribute(h, "blob", AttrValue::Str("x".repeat(20_000).into()))
        .unwrap();
    t.end_span(h).unwrap();
    assert_eq!(t.queued(), 0);
    assert_eq!(t.stats().dropped.queue_bytes, 7);
}

#[test]
fn failed_exports_are_counted_and_not_exported() {
    let (mut t, _clock) = tracer(Config::default());
    end_many(&mut t, 30);
    let p = t.take_batch(Format::Json).unwrap();
    assert_eq!(t.stats().exported, 30);
    t.report_export_failed(p.spans as u64);
    let stats = t.stats();
    assert_eq!(stats.exported, 0);
    assert_eq!(stats.dropped.export_failed, 30);
}

/// A big JSON body is written into room reserved for it at once, sized from the last batch,
/// rather than grown by doubling from 64 KiB (which copies it on the way and can leave nearly as
/// much again unused): from the second batch on, a body's buffer is about its own size. (A
/// protobuf body is copied into an exactly sized buffer when its envelope is written.)
#[test]
fn big_json_bodies_after_the_first_are_reserved_at_their_size() {
    let config = Config::from_json(r#"{"maxBatchSpans":330,"maxExportBytes":1000000}"#).unwrap();
    let (mut t, _clock) = tracer(config);
    end_roots(&mut t, 1_200, "payload", &"p".repeat(20));
    let payloads = drain(&mut t, Format::Json);
    assert_eq!(
        payloads.iter().map(|p| p.spans).collect::<Vec<_>>(),
        [330, 330, 330, 210]
    );
    // Just past 128 KiB: grown by doubling, its buffer would be 256 KiB.
    let first = payloads[0].body.len();
    assert!(
        (1 << 17..150_000).contains(&first),
        "a first body of {first} bytes"
    );
    for p in &payloads[1..] {
        let (len, cap) = (p.body.len(), p.body.capacity());
        assert!(
            cap <= len + len / 4 + 2048,
            "a body of {len} bytes in a buffer of {cap}"
        );
    }
}
