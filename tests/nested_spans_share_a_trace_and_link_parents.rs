//! Spans started under the current span join its trace and point at it as their parent.

mod common;

use common::*;
use edgetrace::otlp::Format;
use edgetrace::propagation::parse_traceparent;
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent};

#[test]
fn nested_spans_share_the_root_trace_and_point_at_their_parent() {
    let (mut t, clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    clock.advance(10);
    let child = t
        .start_span(0, Parent::Current, "child", SpanType::Chain)
        .unwrap();
    clock.advance(10);
    let grandchild = t
        .start_span(0, Parent::Current, "grandchild", SpanType::Llm)
        .unwrap();
    assert_eq!(t.current_span(0).unwrap(), Some(grandchild));
    clock.advance(10);
    t.end_span(grandchild).unwrap();
    assert_eq!(t.current_span(0).unwrap(), Some(child));
    clock.advance(10);
    t.end_span(child).unwrap();
    clock.advance(10);
    t.end_span(root).unwrap();
    assert_eq!(t.current_span(0).unwrap(), None);
    assert_eq!(t.open_spans(), 0);

    let spans = export_all(&mut t, Format::Json);
    assert_eq!(spans.len(), 3);
    // Spans are exported in the order they ended.
    let names: Vec<_> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["grandchild", "child", "root"]);

    let (r, c, g) = (
        by_name(&spans, "root"),
        by_name(&spans, "child"),
        by_name(&spans, "grandchild"),
    );
    for s in [r, c, g] {
        assert_eq!(
            s.trace_id,
            seq_trace_id(1),
            "{} is in another trace",
            s.name
        );
        assert_eq!(s.kind, 1, "spans are INTERNAL");
    }
    assert!(r.parent_span_id.is_empty(), "the root has no parent");
    assert_eq!(r.span_id, seq_span_id(1));
    assert_eq!(c.span_id, seq_span_id(2));
    assert_eq!(g.span_id, seq_span_id(3));
    assert_eq!(c.parent_span_id, r.span_id);
    assert_eq!(g.parent_span_id, c.span_id);

    assert_eq!(
        (r.start_time_unix_nano, r.end_time_unix_nano),
        (T0, T0 + 50)
    );
    assert_eq!(
        (c.start_time_unix_nano, c.end_time_unix_nano),
        (T0 + 10, T0 + 40)
    );
    assert_eq!(
        (g.start_time_unix_nano, g.end_time_unix_nano),
        (T0 + 20, T0 + 30)
    );
    assert_eq!(str_attr(g, "mlflow.spanType"), Some("LLM"));
}

#[test]
fn an_explicit_parent_overrides_the_top_of_the_stack() {
    let (mut t, _clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    let first = t
        .start_span(0, Parent::Current, "first", SpanType::Tool)
        .unwrap();
    // "first" is on top, but "second" names the root as its parent: siblings, not nested.
    let second = t
        .start_span(0, Parent::Span(root), "second", SpanType::Tool)
        .unwrap();
    assert_eq!(t.current_span(0).unwrap(), Some(second));
    for h in [second, first, root] {
        t.end_span(h).unwrap();
    }
    let spans = export_all(&mut t, Format::Protobuf);
    let root_id = &by_name(&spans, "root").span_id;
    assert_eq!(&by_name(&spans, "first").parent_span_id, root_id);
    assert_eq!(&by_name(&spans, "second").parent_span_id, root_id);
}

#[test]
fn parent_root_starts_a_new_trace_even_inside_an_open_span() {
    let (mut t, _clock) = tracer(Config::default());
    let outer = t
        .start_span(0, Parent::Current, "outer", SpanType::Chain)
        .unwrap();
    let fresh = t
        .start_span(0, Parent::Root, "fresh", SpanType::Chain)
        .unwrap();
    let inner = t
        .start_span(0, Parent::Current, "inner", SpanType::Chain)
        .unwrap();
    assert_ne!(t.trace_id(outer).unwrap(), t.trace_id(fresh).unwrap());
    assert_eq!(t.trace_id(inner).unwrap(), t.trace_id(fresh).unwrap());
    assert_eq!(
        t.trace_id(fresh).unwrap().to_mlflow(),
        "tr-00000000000000000000000000000002"
    );
    for h in [inner, fresh, outer] {
        t.end_span(h).unwrap();
    }
    let spans = export_all(&mut t, Format::Json);
    assert!(by_name(&spans, "fresh").parent_span_id.is_empty());
    assert_eq!(
        by_name(&spans, "inner").parent_span_id,
        by_name(&spans, "fresh").span_id
    );
    assert_eq!(by_name(&spans, "outer").trace_id, seq_trace_id(1));
    assert_eq!(by_name(&spans, "inner").trace_id, seq_trace_id(2));
}

#[test]
fn a_traceparent_continues_the_trace_under_the_remote_span() {
    let (mut client, _c) = tracer(Config::default());
    let _other = client
        .start_span(0, Parent::Root, "other", SpanType::Chain)
        .unwrap();
    let call = client
        .start_span(0, Parent::Root, "fetch", SpanType::Tool)
        .unwrap();
    let header = client.traceparent(call).unwrap();
    assert_eq!(
        header,
        "00-00000000000000000000000000000002-0000000000000002-01"
    );

    // The server has its own ids; only the trace id and the parent come from the header.
    let (mut server, _s) = tracer(Config::default());
    let remote = parse_traceparent(&header).unwrap();
    let handler = server
        .start_span(0, Parent::Remote(remote), "handler", SpanType::Chain)
        .unwrap();
    let nested = server
        .start_span(0, Parent::Current, "nested", SpanType::Llm)
        .unwrap();
    assert_eq!(
        server.trace_id(handler).unwrap(),
        client.trace_id(call).unwrap()
    );
    server.end_span(nested).unwrap();
    server.end_span(handler).unwrap();

    let spans = export_all(&mut server, Format::Json);
    let h = by_name(&spans, "handler");
    assert_eq!(h.trace_id, seq_trace_id(2));
    assert_eq!(
        h.parent_span_id,
        seq_span_id(2),
        "parent is the client's span"
    );
    assert_eq!(h.span_id, seq_span_id(1), "the server's own id");
    assert_eq!(by_name(&spans, "nested").parent_span_id, h.span_id);
}

#[test]
fn an_end_before_the_start_is_clamped_to_the_start() {
    let (mut t, clock) = tracer(Config::default());
    clock.advance(1_000);
    let h = t
        .start_span(0, Parent::Current, "s", SpanType::Unknown)
        .unwrap();
    t.end_span_at(h, T0).unwrap();
    let spans = export_all(&mut t, Format::Json);
    assert_eq!(spans[0].start_time_unix_nano, T0 + 1_000);
    assert_eq!(spans[0].end_time_unix_nano, T0 + 1_000);
}

#[test]
fn explicit_start_and_end_times_are_kept() {
    let (mut t, _clock) = tracer(Config::default());
    let h = t
        .start_span_at(
            0,
            Parent::Current,
            "s",
            SpanType::Custom("GUARDRAIL".into()),
            5,
        )
        .unwrap();
    t.end_span_at(h, 9).unwrap();
    let spans = export_all(&mut t, Format::Protobuf);
    assert_eq!(
        (spans[0].start_time_unix_nano, spans[0].end_time_unix_nano),
        (5, 9)
    );
    assert_eq!(str_attr(&spans[0], "mlflow.spanType"), Some("GUARDRAIL"));
}
