//! Times the ingest core natively on a 20-span OTLP/JSON request like the load test's.
//!   cargo run --release --example ingest_cost
use edgetrace::ingest::{Ingest, IngestConfig};
use edgetrace::otlp::Format;
use std::time::Instant;

fn main() {
    let now_ns = 1_700_000_000_000_000_000u64;
    let mut spans = Vec::new();
    for i in 0..20u64 {
        spans.push(format!(
            r#"{{"traceId":"0000000000000000000000000000abcd","spanId":"{:016x}","parentSpanId":"","name":"llm-{i}","kind":1,"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{{"key":"mlflow.spanType","value":{{"stringValue":"CHAT_MODEL"}}}},{{"key":"mlflow.spanInputs","value":{{"stringValue":"{{\"messages\":[{{\"role\":\"user\",\"content\":\"question {i}\"}}]}}"}}}},{{"key":"mlflow.spanOutputs","value":{{"stringValue":"{{\"choices\":[{{\"message\":{{\"role\":\"assistant\",\"content\":\"an answer of a few words\"}}}}]}}"}}}},{{"key":"mlflow.chat.tokenUsage","value":{{"stringValue":"{{\"input_tokens\":12}}"}}}},{{"key":"app.step","value":{{"intValue":"{i}"}}}}],"status":{{"code":1}}}}"#,
            i + 1,
            now_ns - 2_000_000,
            now_ns - 1_000_000
        ));
    }
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"load"}}}}]}},"scopeSpans":[{{"scope":{{"name":"load"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    for (name, config) in [
        (
            "all on",
            IngestConfig {
                convert_conventions: true,
                ..IngestConfig::default()
            },
        ),
        (
            "no redaction",
            IngestConfig {
                default_redaction: false,
                convert_conventions: true,
                ..IngestConfig::default()
            },
        ),
        (
            "no redaction, no conversion (off by default)",
            IngestConfig {
                default_redaction: false,
                ..IngestConfig::default()
            },
        ),
    ] {
        let ingest = Ingest::new(config).unwrap();
        let n = 2000;
        let t = Instant::now();
        for _ in 0..n {
            let a = ingest
                .process(body.as_bytes(), Format::Json, now_ns)
                .unwrap();
            assert_eq!(a.spans, 20);
        }
        let per = t.elapsed().as_secs_f64() / n as f64;
        println!(
            "{name:28} {:7.1} µs per {}-byte request, {:5.2} µs per span",
            per * 1e6,
            body.len(),
            per * 1e6 / 20.0
        );
    }
}
