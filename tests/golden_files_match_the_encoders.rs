//! The encoders' output for a fixed scenario, byte for byte, against `tests/golden/`.
//!
//! The golden files are also read by an independent decoder, `tests/python/check_golden.py`
//! (protobuf's own Python runtime, as MLflow's server uses it). When an intended change alters the
//! encoding (a new attribute, a version bump in the instrumentation scope), rewrite them with
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test --test golden_files_match_the_encoders
//! .venv/bin/python tests/python/check_golden.py
//! ```
//!
//! and review the diff.

mod common;

use std::path::PathBuf;

use common::*;
use edgetrace::attribute::AttrValue;
use edgetrace::clock::ManualClock;
use edgetrace::id::SequentialIds;
use edgetrace::otlp::{Format, Payload};
use edgetrace::span::{SpanType, StatusCode};
use edgetrace::trace::TraceUpdate;
use edgetrace::tracer::{Config, Parent, Tracer};

const MS: u64 = 1_000_000;

/// The scenario: an agent answering a question with a retriever, a chat model and a failing tool.
fn scenario(format: Format) -> Payload {
    let mut config = Config::default();
    config.resource.service_name = "golden-test".into();
    let clock = ManualClock::new(T0);
    let mut t = Tracer::new(
        config,
        Box::new(clock.clone()),
        Box::new(SequentialIds::default()),
    );

    let root = t
        .start_span(0, Parent::Current, "answer", SpanType::Agent)
        .unwrap();
    t.set_inputs(root, r#"{"question":"What is MLflow?"}"#)
        .unwrap();
    t.set_attribute(root, "app.version", AttrValue::Str("1.2.3".into()))
        .unwrap();
    t.set_attribute(root, "app.retries", AttrValue::Int(2.into()))
        .unwrap();
    t.set_attribute(root, "app.temperature", AttrValue::Double(0.25.into()))
        .unwrap();
    t.set_attribute(root, "app.cached", AttrValue::Bool(false))
        .unwrap();
    let mut update = TraceUpdate {
        session_id: Some("s-1".into()),
        user_id: Some("u-1".into()),
        ..TraceUpdate::default()
    };
    update.tags.insert("env".into(), "test".into());
    t.update_trace(root, update).unwrap();

    clock.advance(MS);
    let retrieve = t
        .start_span(0, Parent::Current, "retrieve", SpanType::Retriever)
        .unwrap();
    t.set_inputs(retrieve, r#"{"query":"MLflow"}"#).unwrap();
    clock.advance(5 * MS);
    t.set_outputs(
        retrieve,
        r#"[{"page_content":"MLflow is an open source platform for the machine learning lifecycle.","metadata":{"doc_uri":"https://mlflow.org/docs/latest/index.html"}}]"#,
    )
    .unwrap();
    t.end_span(retrieve).unwrap();

    clock.advance(MS);
    let chat = t
        .start_span(0, Parent::Current, "chat", SpanType::ChatModel)
        .unwrap();
    t.set_inputs(
        chat,
        r#"{"messages":[{"role":"user","content":"What is MLflow?"}]}"#,
    )
    .unwrap();
    t.set_attribute(
        chat,
        "gen_ai.request.model",
        AttrValue::Str("gpt-4o-mini".into()),
    )
    .unwrap();
    clock.advance(20 * MS);
    t.set_attribute(
        chat,
        "mlflow.chat.tokenUsage",
        AttrValue::Json(r#"{"input_tokens":12,"output_tokens":30,"total_tokens":42}"#.into()),
    )
    .unwrap();
    t.set_outputs(
        chat,
        r#"{"choices":[{"message":{"role":"assistant","content":"MLflow is an open source platform for the machine learning lifecycle."}}]}"#,
    )
    .unwrap();
    t.end_span(chat).unwrap();

    clock.advance(MS);
    let tool = t
        .start_span(0, Parent::Current, "fetch_docs", SpanType::Tool)
        .unwrap();
    t.set_inputs(tool, r#"{"url":"https://mlflow.org/docs"}"#)
        .unwrap();
    clock.advance(2 * MS);
    t.record_exception(
        tool,
        "TimeoutError",
        "request timed out after 2000 ms",
        "TimeoutError: request timed out after 2000 ms\n    at fetchDocs (tools.js:10:5)",
    )
    .unwrap();
    t.end_span(tool).unwrap();

    clock.advance(MS);
    t.set_outputs(
        root,
        r#"{"answer":"MLflow is an open source platform for the machine learning lifecycle."}"#,
    )
    .unwrap();
    t.set_status(root, StatusCode::Ok, "").unwrap();
    t.end_span(root).unwrap();

    let p = t.take_batch(format).expect("a batch");
    assert_eq!(p.spans, 4);
    assert!(!p.oversize);
    assert!(
        t.take_batch(format).is_none(),
        "one batch holds the whole trace"
    );
    p
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check(name: &str, actual: &[u8]) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        eprintln!("rewrote {}", path.display());
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let at = expected
            .iter()
            .zip(actual)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(actual.len()));
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/artifacts")
            .join(name);
        let _ = std::fs::create_dir_all(out.parent().unwrap());
        let _ = std::fs::write(&out, actual);
        let around = |b: &[u8]| {
            String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())]).into_owned()
        };
        panic!(
            "{name} differs from the encoder's output at byte {at} ({} golden bytes, {} now)\n\
             golden: …{}…\n   now: …{}…\nthe new output is in {}; if the change is intended, rerun \
             with UPDATE_GOLDEN=1 and review the diff",
            expected.len(),
            actual.len(),
            around(&expected),
            around(actual),
            out.display()
        );
    }
}

#[test]
fn the_scenario_is_deterministic() {
    assert_eq!(scenario(Format::Json), scenario(Format::Json));
    assert_eq!(scenario(Format::Protobuf), scenario(Format::Protobuf));
}

#[test]
fn json_golden_matches() {
    check("basic_trace.json", &scenario(Format::Json).body);
}

#[test]
fn protobuf_golden_matches() {
    check("basic_trace.pb", &scenario(Format::Protobuf).body);
}

#[test]
fn the_golden_files_hold_the_same_trace() {
    let json = std::fs::read(golden("basic_trace.json")).unwrap();
    let pb = std::fs::read(golden("basic_trace.pb")).unwrap();
    let (from_json, from_pb) = (decode_json(&json), decode_proto(&pb));
    assert_eq!(from_json, from_pb);

    let spans = spans(&from_pb);
    let names: Vec<_> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["retrieve", "chat", "fetch_docs", "answer"]);
    let root = by_name(&spans, "answer");
    assert!(root.parent_span_id.is_empty());
    for s in &spans[..3] {
        assert_eq!(s.parent_span_id, root.span_id, "{}", s.name);
        assert_eq!(s.trace_id, seq_trace_id(1));
    }
    assert_eq!(str_attr(root, "mlflow.traceTag.env"), Some("test"));
    assert_eq!(str_attr(root, "session.id"), Some("s-1"));
    assert_eq!(str_attr(root, "user.id"), Some("u-1"));
    assert_eq!(
        (root.start_time_unix_nano, root.end_time_unix_nano),
        (T0, T0 + 31 * MS)
    );
    let tool = by_name(&spans, "fetch_docs");
    assert_eq!(tool.status.as_ref().unwrap().code, 2);
    assert_eq!(tool.events[0].name, "exception");
}
