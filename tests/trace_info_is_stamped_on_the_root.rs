//! `update_trace` info (tags, metadata, session, user, previews) is written onto the trace's
//! root span when it ends, in the attribute form MLflow's OTLP route reads; never on children.

mod common;

use common::*;
use edgetrace::otlp::{wire, Format};
use edgetrace::propagation::parse_traceparent;
use edgetrace::span::SpanType;
use edgetrace::trace::{StrMap, TraceUpdate, TRACE_NAME};
use edgetrace::tracer::{Config, Parent};

fn update(json: &str) -> TraceUpdate {
    TraceUpdate::from_json(json).unwrap()
}

const INFO_KEYS: [&str; 3] = ["session.id", "user.id", "mlflow.traceTag."];

/// Whether `s` carries trace info other than the tag that names its trace (see
/// `a_trace_is_named_after_its_root_as_mlflow_names_it`).
fn has_info(s: &wire::Span) -> bool {
    s.attributes.iter().any(|kv| {
        kv.key != TRACE_NAME
            && (INFO_KEYS.iter().any(|k| kv.key.starts_with(k))
                || kv.key.starts_with("mlflow.trace"))
    })
}

#[test]
fn tags_session_and_user_land_on_the_root_only() {
    for format in [Format::Json, Format::Protobuf] {
        let (mut t, _c) = tracer(Config::default());
        let r = t
            .start_span(0, Parent::Current, "root", SpanType::Agent)
            .unwrap();
        let c = t
            .start_span(0, Parent::Current, "child", SpanType::Llm)
            .unwrap();
        // Updated through the child's handle: it is the trace that is updated.
        let info = r#"{"tags":{"env":"test","team":"search"},"sessionId":"s-1","userId":"u-1"}"#;
        t.update_trace(c, update(info)).unwrap();
        t.end_span(c).unwrap();
        t.end_span(r).unwrap();
        let spans = export_all(&mut t, format);
        let root_span = by_name(&spans, "root");
        assert_eq!(str_attr(root_span, "mlflow.traceTag.env"), Some("test"));
        assert_eq!(str_attr(root_span, "mlflow.traceTag.team"), Some("search"));
        assert_eq!(str_attr(root_span, "session.id"), Some("s-1"));
        assert_eq!(str_attr(root_span, "user.id"), Some("u-1"));
        assert!(
            !has_info(by_name(&spans, "child")),
            "{format:?}: the child carries trace info"
        );
    }
}

#[test]
fn metadata_request_id_and_previews_use_their_keys() {
    let (mut t, _clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    t.update_trace(
        root,
        update(
            r#"{"metadata":{"version":"7"},"clientRequestId":"req-9",
                "requestPreview":"q?","responsePreview":"a!"}"#,
        ),
    )
    .unwrap();
    t.end_span(root).unwrap();
    let spans = export_all(&mut t, Format::Json);
    let r = &spans[0];
    assert_eq!(str_attr(r, "mlflow.traceMetadata.version"), Some("7"));
    assert_eq!(str_attr(r, "mlflow.clientRequestId"), Some("req-9"));
    assert_eq!(str_attr(r, "mlflow.requestPreview"), Some("q?"));
    assert_eq!(str_attr(r, "mlflow.responsePreview"), Some("a!"));
    assert_eq!(
        str_attr(r, "session.id"),
        None,
        "unset fields are not written"
    );
}

#[test]
fn later_updates_merge_into_earlier_ones() {
    let (mut t, _clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    let mut tags = StrMap::default();
    tags.insert("a".to_owned(), "1".to_owned());
    tags.insert("b".to_owned(), "1".to_owned());
    t.update_trace(
        root,
        TraceUpdate {
            tags,
            session_id: Some("first".into()),
            user_id: Some("u".into()),
            ..TraceUpdate::default()
        },
    )
    .unwrap();
    t.update_trace(
        root,
        update(r#"{"tags":{"b":"2","c":"3"},"sessionId":"second"}"#),
    )
    .unwrap();
    t.end_span(root).unwrap();
    let spans = export_all(&mut t, Format::Protobuf);
    let r = &spans[0];
    assert_eq!(str_attr(r, "mlflow.traceTag.a"), Some("1"));
    assert_eq!(str_attr(r, "mlflow.traceTag.b"), Some("2"));
    assert_eq!(str_attr(r, "mlflow.traceTag.c"), Some("3"));
    assert_eq!(str_attr(r, "session.id"), Some("second"));
    assert_eq!(
        str_attr(r, "user.id"),
        Some("u"),
        "a field not given is kept"
    );
    let session_keys = r
        .attributes
        .iter()
        .filter(|kv| kv.key == "session.id")
        .count();
    assert_eq!(session_keys, 1);
}

#[test]
fn info_does_not_leak_between_traces() {
    let (mut t, _clock) = tracer(Config::default());
    let a = t.start_span(0, Parent::Root, "a", SpanType::Agent).unwrap();
    let b = t.start_span(0, Parent::Root, "b", SpanType::Agent).unwrap();
    t.update_trace(a, update(r#"{"sessionId":"only-a"}"#))
        .unwrap();
    t.end_span(b).unwrap();
    t.end_span(a).unwrap();
    // A later trace does not inherit anything either.
    let c = t.start_span(0, Parent::Root, "c", SpanType::Agent).unwrap();
    t.end_span(c).unwrap();
    let spans = export_all(&mut t, Format::Json);
    assert_eq!(str_attr(by_name(&spans, "a"), "session.id"), Some("only-a"));
    assert!(!has_info(by_name(&spans, "b")));
    assert!(!has_info(by_name(&spans, "c")));
    assert_eq!(str_attr(by_name(&spans, "c"), TRACE_NAME), Some("c"));
}

#[test]
fn info_is_stamped_even_when_the_root_ends_before_its_children() {
    let (mut t, _clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    let child = t
        .start_span(0, Parent::Current, "child", SpanType::Tool)
        .unwrap();
    t.update_trace(child, update(r#"{"userId":"u-7"}"#))
        .unwrap();
    t.end_span(root).unwrap();
    t.end_span(child).unwrap();
    let spans = export_all(&mut t, Format::Json);
    assert_eq!(str_attr(by_name(&spans, "root"), "user.id"), Some("u-7"));
    assert!(!has_info(by_name(&spans, "child")));
}

#[test]
fn a_trace_continued_from_a_traceparent_stamps_its_first_local_span() {
    let (mut t, _clock) = tracer(Config::default());
    let remote =
        parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    let handler = t
        .start_span(0, Parent::Remote(remote), "handler", SpanType::Chain)
        .unwrap();
    let inner = t
        .start_span(0, Parent::Current, "inner", SpanType::Llm)
        .unwrap();
    t.update_trace(
        inner,
        update(r#"{"sessionId":"s-remote","tags":{"k":"v"}}"#),
    )
    .unwrap();
    t.end_span(inner).unwrap();
    t.end_span(handler).unwrap();
    let spans = export_all(&mut t, Format::Json);
    let h = by_name(&spans, "handler");
    assert_eq!(
        h.parent_span_id,
        vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    );
    assert_eq!(str_attr(h, "session.id"), Some("s-remote"));
    assert_eq!(str_attr(h, "mlflow.traceTag.k"), Some("v"));
    assert!(!has_info(by_name(&spans, "inner")));
    // MLflow names the trace from the span with no parent, in the process that started it.
    assert_eq!(str_attr(h, TRACE_NAME), None);
}

/// MLflow's own SDKs tag a trace with its root span's name (`mlflow.traceName`): the MLflow UI
/// lists traces by it, and `search_traces("trace.name = '…'")` finds them by it. The encoders add
/// it to roots as they write them (no buffered span holds it); children carry none.
#[test]
fn a_trace_is_named_after_its_root_as_mlflow_names_it() {
    for format in [Format::Json, Format::Protobuf] {
        let (mut t, _clock) = tracer(Config::default());
        let root = t
            .start_span(0, Parent::Current, "agent", SpanType::Agent)
            .unwrap();
        let child = t
            .start_span(0, Parent::Current, "llm", SpanType::Llm)
            .unwrap();
        t.end_span(child).unwrap();
        t.update_trace(root, update(r#"{"tags":{"env":"test"}}"#))
            .unwrap();
        t.end_span(root).unwrap();
        let spans = export_all(&mut t, format);
        let r = by_name(&spans, "agent");
        assert_eq!(str_attr(r, TRACE_NAME), Some("agent"));
        assert_eq!(str_attr(r, "mlflow.traceTag.env"), Some("test"));
        let names = r
            .attributes
            .iter()
            .filter(|kv| kv.key == TRACE_NAME)
            .count();
        assert_eq!(names, 1);
        assert_eq!(str_attr(by_name(&spans, "llm"), TRACE_NAME), None);
    }
}
