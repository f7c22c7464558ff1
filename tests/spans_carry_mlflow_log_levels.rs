//! `mlflow.spanLogLevel`, what MLflow's UI filters spans by (its "minimum log level"), set as
//! MLflow's own spans get it when they end: INFO (20) for model calls, tools, retrievals, agent
//! turns and embeddings, ERROR (40) for a span that failed or recorded an exception, and none for
//! the rest, which MLflow's UI reads as DEBUG. A level the app set is kept. Without it, every
//! edgetrace span vanished from the UI once the filter was raised to INFO (found by comparing
//! edgetrace's traces with MLflow's Python tracing of the same workflow).

mod common;

use common::*;
use edgetrace::attribute::AttrValue;
use edgetrace::otlp::{wire, Format};
use edgetrace::span::{SpanType, StatusCode};
use edgetrace::tracer::{Config, Parent};

fn level(span: &wire::Span) -> Option<i64> {
    match attr(span, "mlflow.spanLogLevel") {
        Some(wire::Value::IntValue(n)) => Some(*n),
        None => None,
        other => panic!("{}: mlflow.spanLogLevel is {other:?}", span.name),
    }
}

#[test]
fn each_span_gets_the_level_mlflow_gives_its_own() {
    for format in [Format::Json, Format::Protobuf] {
        let (mut t, _clock) = tracer(Config::default());
        let start = |t: &mut edgetrace::tracer::Tracer, name: &str, ty: SpanType| {
            t.start_span(0, Parent::Root, name, ty).unwrap()
        };
        for (name, ty) in [
            ("llm", SpanType::Llm),
            ("chat", SpanType::ChatModel),
            ("tool", SpanType::Tool),
            ("retriever", SpanType::Retriever),
            ("agent", SpanType::Agent),
            ("embedding", SpanType::Embedding),
            ("chain", SpanType::Chain),
            ("parser", SpanType::Parser),
            ("reranker", SpanType::Reranker),
            ("memory", SpanType::Memory),
            ("unknown", SpanType::Unknown),
            ("custom", SpanType::Custom("MY_STEP".into())),
        ] {
            let h = start(&mut t, name, ty);
            t.end_span(h).unwrap();
        }
        let failed = start(&mut t, "failed", SpanType::Chain);
        t.set_status(failed, StatusCode::Error, "boom").unwrap();
        t.end_span(failed).unwrap();
        let caught = start(&mut t, "caught", SpanType::Unknown);
        t.record_exception(caught, "TypeError", "handled", "")
            .unwrap();
        t.set_status(caught, StatusCode::Ok, "").unwrap();
        t.end_span(caught).unwrap();
        let quiet = start(&mut t, "quiet", SpanType::ChatModel);
        t.set_attribute(quiet, "mlflow.spanLogLevel", AttrValue::Int(10.into()))
            .unwrap();
        t.end_span(quiet).unwrap();

        let spans = export_all(&mut t, format);
        for (name, want) in [
            ("llm", Some(20)),
            ("chat", Some(20)),
            ("tool", Some(20)),
            ("retriever", Some(20)),
            ("agent", Some(20)),
            ("embedding", Some(20)),
            ("chain", None),
            ("parser", None),
            ("reranker", None),
            ("memory", None),
            ("unknown", None),
            ("custom", None),
            ("failed", Some(40)),
            ("caught", Some(40)),
            ("quiet", Some(10)),
        ] {
            let s = by_name(&spans, name);
            assert_eq!(level(s), want, "{name} ({format:?})");
            let n = s
                .attributes
                .iter()
                .filter(|kv| kv.key == "mlflow.spanLogLevel")
                .count();
            assert!(n <= 1, "{name}: the level once, not {n} times");
        }
    }
}
