//! Several flows interleaved on one tracer each build their own tree; a span's context decides
//! its parent, not the order calls arrive in.

mod common;

use std::collections::HashMap;

use common::*;
use edgetrace::otlp::Format;
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent};

#[test]
fn interleaved_flows_build_separate_traces() {
    let (mut t, clock) = tracer(Config::default());
    let ctxs: Vec<u32> = (0..3).map(|_| t.open_context()).collect();
    assert_eq!(
        ctxs.iter().collect::<std::collections::HashSet<_>>().len(),
        3
    );
    assert!(!ctxs.contains(&0), "context 0 is the default one");

    // Each flow: request -> plan -> (llm, tool), started round-robin, one step per flow at a time.
    let mut handles: HashMap<(usize, &str), u32> = HashMap::new();
    for step in ["request", "plan", "llm"] {
        for (i, ctx) in ctxs.iter().enumerate() {
            clock.advance(1);
            let h = t
                .start_span(
                    *ctx,
                    Parent::Current,
                    &format!("{step}-{i}"),
                    SpanType::Chain,
                )
                .unwrap();
            handles.insert((i, step), h);
        }
    }
    // The default context is untouched by all that.
    assert_eq!(t.current_span(0).unwrap(), None);
    for (i, ctx) in ctxs.iter().enumerate() {
        assert_eq!(t.current_span(*ctx).unwrap(), Some(handles[&(i, "llm")]));
    }
    // End the llm spans in reverse flow order, then start a tool in each flow: it nests under plan.
    for i in (0..3).rev() {
        t.end_span(handles[&(i, "llm")]).unwrap();
    }
    for (i, ctx) in ctxs.iter().enumerate() {
        let h = t
            .start_span(*ctx, Parent::Current, &format!("tool-{i}"), SpanType::Tool)
            .unwrap();
        handles.insert((i, "tool"), h);
    }
    for i in [1, 0, 2] {
        for step in ["tool", "plan", "request"] {
            clock.advance(1);
            t.end_span(handles[&(i, step)]).unwrap();
        }
    }
    assert_eq!(
        t.stats().out_of_order_ends,
        0,
        "every flow ended its spans in order"
    );
    assert_eq!(t.open_spans(), 0);

    let spans = export_all(&mut t, Format::Json);
    assert_eq!(spans.len(), 12);
    for i in 0..3 {
        let request = by_name(&spans, &format!("request-{i}"));
        let plan = by_name(&spans, &format!("plan-{i}"));
        let llm = by_name(&spans, &format!("llm-{i}"));
        let tool = by_name(&spans, &format!("tool-{i}"));
        assert!(request.parent_span_id.is_empty());
        assert_eq!(plan.parent_span_id, request.span_id);
        assert_eq!(llm.parent_span_id, plan.span_id);
        assert_eq!(tool.parent_span_id, plan.span_id);
        for s in [plan, llm, tool] {
            assert_eq!(
                s.trace_id, request.trace_id,
                "{} left flow {i}'s trace",
                s.name
            );
        }
    }
    let traces: std::collections::HashSet<_> = spans.iter().map(|s| s.trace_id.clone()).collect();
    assert_eq!(traces.len(), 3);
}

#[test]
fn an_explicit_parent_in_another_context_joins_its_trace_but_not_its_stack() {
    let (mut t, _clock) = tracer(Config::default());
    let a = t.open_context();
    let b = t.open_context();
    let ra = t
        .start_span(a, Parent::Current, "ra", SpanType::Agent)
        .unwrap();
    let xb = t
        .start_span(b, Parent::Span(ra), "xb", SpanType::Tool)
        .unwrap();
    assert_eq!(
        t.current_span(a).unwrap(),
        Some(ra),
        "a's stack is unchanged"
    );
    assert_eq!(t.current_span(b).unwrap(), Some(xb));
    let yb = t
        .start_span(b, Parent::Current, "yb", SpanType::Tool)
        .unwrap();
    assert_eq!(t.trace_id(yb).unwrap(), t.trace_id(ra).unwrap());
    // Ending ra on context a does not disturb b.
    t.end_span(ra).unwrap();
    assert_eq!(t.current_span(b).unwrap(), Some(yb));
    t.end_span(yb).unwrap();
    t.end_span(xb).unwrap();
    assert_eq!(t.stats().out_of_order_ends, 0);
    let spans = export_all(&mut t, Format::Protobuf);
    assert_eq!(
        by_name(&spans, "xb").parent_span_id,
        by_name(&spans, "ra").span_id
    );
    assert_eq!(
        by_name(&spans, "yb").parent_span_id,
        by_name(&spans, "xb").span_id
    );
}

#[test]
fn many_contexts_opened_and_closed_never_share_ids() {
    let (mut t, _clock) = tracer(Config::default());
    let mut open = Vec::new();
    for round in 0..50 {
        let c = t.open_context();
        assert!(!open.contains(&c), "context id {c} reused while open");
        open.push(c);
        if round % 3 == 0 {
            let c = open.remove(0);
            t.close_context(c).unwrap();
        }
    }
    for c in open {
        let h = t
            .start_span(c, Parent::Current, "s", SpanType::Chain)
            .unwrap();
        assert_eq!(t.current_span(c).unwrap(), Some(h));
        t.end_span(h).unwrap();
        t.close_context(c).unwrap();
    }
}
