//! Ending a span that is not on top of its stack takes it out from where it is: the spans above
//! it stay open, keep their parent links, and the event is counted.

mod common;

use common::*;
use edgetrace::error::Error;
use edgetrace::otlp::Format;
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent};

#[test]
fn ending_a_middle_span_keeps_the_spans_above_it_open_and_linked() {
    let (mut t, _clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    let a = t
        .start_span(0, Parent::Current, "a", SpanType::Chain)
        .unwrap();
    let b = t
        .start_span(0, Parent::Current, "b", SpanType::Tool)
        .unwrap();

    t.end_span(a).unwrap();
    assert_eq!(t.stats().out_of_order_ends, 1);
    assert!(!t.is_open(a));
    assert!(t.is_open(b));
    assert_eq!(t.current_span(0).unwrap(), Some(b), "b is still on top");

    // A new span still nests under b, the top of the stack.
    let c = t
        .start_span(0, Parent::Current, "c", SpanType::Llm)
        .unwrap();
    t.end_span(c).unwrap();
    t.end_span(b).unwrap();
    assert_eq!(t.current_span(0).unwrap(), Some(root));
    t.end_span(root).unwrap();
    assert_eq!(
        t.stats().out_of_order_ends,
        1,
        "the other ends were in order"
    );
    assert_eq!(t.stats().ended, 4);

    let spans = export_all(&mut t, Format::Json);
    let names: Vec<_> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "c", "b", "root"]);
    assert_eq!(
        by_name(&spans, "a").parent_span_id,
        by_name(&spans, "root").span_id
    );
    assert_eq!(
        by_name(&spans, "b").parent_span_id,
        by_name(&spans, "a").span_id,
        "b keeps its parent"
    );
    assert_eq!(
        by_name(&spans, "c").parent_span_id,
        by_name(&spans, "b").span_id
    );
}

#[test]
fn ending_the_root_first_still_exports_every_child() {
    let (mut t, clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    let kids: Vec<u32> = (0..3)
        .map(|i| {
            t.start_span(0, Parent::Span(root), &format!("kid{i}"), SpanType::Tool)
                .unwrap()
        })
        .collect();
    clock.advance(100);
    t.end_span(root).unwrap();
    // Each kid was started with an explicit parent, so all four sit on the stack: root at the
    // bottom, three above it.
    assert_eq!(t.stats().out_of_order_ends, 1);
    assert_eq!(t.open_spans(), 3);
    assert_eq!(t.queued(), 1);
    for (i, k) in kids.iter().enumerate() {
        clock.advance(10);
        t.end_span(*k).unwrap();
        assert_eq!(t.open_spans(), 2 - i);
    }
    let spans = export_all(&mut t, Format::Protobuf);
    assert_eq!(spans.len(), 4);
    let root_span = by_name(&spans, "root");
    assert_eq!(root_span.end_time_unix_nano, T0 + 100);
    for i in 0..3 {
        let k = by_name(&spans, &format!("kid{i}"));
        assert_eq!(k.parent_span_id, root_span.span_id);
        assert!(k.end_time_unix_nano > root_span.end_time_unix_nano);
    }
}

#[test]
fn spans_left_on_a_closed_context_can_still_be_ended() {
    let (mut t, _clock) = tracer(Config::default());
    let ctx = t.open_context();
    let outer = t
        .start_span(ctx, Parent::Current, "outer", SpanType::Chain)
        .unwrap();
    let inner = t
        .start_span(ctx, Parent::Current, "inner", SpanType::Chain)
        .unwrap();
    t.close_context(ctx).unwrap();
    assert_eq!(t.close_context(ctx), Err(Error::UnknownContext(ctx)));
    assert_eq!(t.current_span(ctx), Err(Error::UnknownContext(ctx)));
    assert_eq!(
        t.start_span(ctx, Parent::Current, "late", SpanType::Chain),
        Err(Error::UnknownContext(ctx))
    );

    // Out of order, but off any stack: not counted as out of order.
    t.end_span(outer).unwrap();
    t.end_span(inner).unwrap();
    assert_eq!(t.stats().out_of_order_ends, 0);
    let spans = export_all(&mut t, Format::Json);
    assert_eq!(spans.len(), 2);
    assert_eq!(
        by_name(&spans, "inner").parent_span_id,
        by_name(&spans, "outer").span_id
    );
}

#[test]
fn closing_the_default_context_only_empties_it() {
    let (mut t, _clock) = tracer(Config::default());
    let a = t
        .start_span(0, Parent::Current, "a", SpanType::Chain)
        .unwrap();
    t.close_context(0).unwrap();
    assert_eq!(t.current_span(0).unwrap(), None);
    assert!(t.is_open(a));
    let b = t
        .start_span(0, Parent::Current, "b", SpanType::Chain)
        .unwrap();
    assert_ne!(
        t.trace_id(a).unwrap(),
        t.trace_id(b).unwrap(),
        "b starts a new trace"
    );
    t.end_span(a).unwrap();
    t.end_span(b).unwrap();
    assert_eq!(export_all(&mut t, Format::Json).len(), 2);
}

#[test]
fn a_trace_counts_its_spans_still_open_after_its_root_ends() {
    // What the Workers entry waits on after a request's span ends (a child still reading a
    // stream), before its last flush.
    let (mut t, _clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "request", SpanType::Chain)
        .unwrap();
    let id = t.trace_id(root).unwrap();
    let call = t
        .start_span(0, Parent::Current, "call", SpanType::ChatModel)
        .unwrap();
    let other = t
        .start_span(0, Parent::Root, "another request", SpanType::Chain)
        .unwrap();
    assert_eq!(t.open_in_trace(&id), 2);
    t.end_span(root).unwrap();
    assert_eq!(t.open_in_trace(&id), 1, "the call outlives its request");
    t.end_span(call).unwrap();
    assert_eq!(t.open_in_trace(&id), 0);
    let other_id = t.trace_id(other).unwrap();
    assert_eq!(t.open_in_trace(&other_id), 1);
}
