//! Writes the OTLP seeds of `corpus/otlp_json/` and `corpus/otlp_protobuf/`:
//! `cargo run --manifest-path fuzz/Cargo.toml --example make_otlp_seeds` (from the repository
//! root). Each request is written in both encodings: what edgetrace's encoder sends for an LLM
//! span, a request using every OTLP field and value kind, and what an OpenTelemetry JS SDK with
//! GenAI attributes sends. The golden files of `tests/golden/` are copied in too.

use edgetrace::attribute::AttrValue;
use edgetrace::id::{SpanId, TraceId};
use edgetrace::otlp::wire::{
    AnyValue, ArrayValue, Event, ExportTraceServiceRequest, InstrumentationScope, KeyValue,
    KeyValueList, Link, Resource, ResourceSpans, ScopeSpans, Span, Status, Value,
};
use edgetrace::otlp::{Encoder, Format};
use edgetrace::span::{self, SpanData, SpanType, StatusCode};
use prost::Message;
use std::path::Path;

fn llm_spans() -> Vec<SpanData> {
    let trace_id = TraceId::from_hex("5b8aa5a2d2c872e8321cf37308d69df2").unwrap();
    let root = SpanId::from_hex("051581bf3cb55c13").unwrap();
    vec![
        SpanData {
            trace_id,
            span_id: root,
            parent_span_id: None,
            name: "answer".into(),
            span_type: SpanType::Agent,
            start_ns: 1_700_000_000_000_000_000,
            end_ns: 1_700_000_001_250_000_000,
            inputs: Some(r#"{"question":"What is MLflow?"}"#.into()),
            outputs: Some(r#""MLflow is an open source platform for the ML lifecycle.""#.into()),
            attributes: vec![
                ("session.id".into(), AttrValue::Str("chat-42".into())),
                ("user.id".into(), AttrValue::Str("u-7".into())),
                ("mlflow.traceTag.app".into(), AttrValue::Str("docs-bot".into())),
            ],
            events: vec![],
            status: span::Status {
                code: StatusCode::Ok,
                message: String::new(),
            },
        },
        SpanData {
            trace_id,
            span_id: SpanId::from_hex("a1b2c3d4e5f60718").unwrap(),
            parent_span_id: Some(root),
            name: "chat gpt-4o-mini".into(),
            span_type: SpanType::ChatModel,
            start_ns: 1_700_000_000_100_000_000,
            end_ns: 1_700_000_001_200_000_000,
            inputs: Some(
                r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"What is MLflow?"}]}"#
                    .into(),
            ),
            outputs: None,
            attributes: vec![
                ("mlflow.message.format".into(), AttrValue::Str("openai".into())),
                ("mlflow.llm.provider".into(), AttrValue::Str("openai".into())),
                ("mlflow.llm.model".into(), AttrValue::Str("gpt-4o-mini".into())),
                (
                    "mlflow.chat.tokenUsage".into(),
                    AttrValue::Json(r#"{"input_tokens":12,"output_tokens":30,"total_tokens":42}"#.into()),
                ),
                ("http.response.status_code".into(), AttrValue::Int(429)),
                ("edgetrace.llm.latency_ms".into(), AttrValue::Double(1100.25)),
                ("edgetrace.llm.stream".into(), AttrValue::Bool(true)),
            ],
            events: vec![span::Event {
                name: "exception".into(),
                time_ns: 1_700_000_001_190_000_000,
                attributes: vec![
                    ("exception.type".into(), AttrValue::Str("RateLimitError".into())),
                    ("exception.message".into(), AttrValue::Str("HTTP 429: Rate limit reached".into())),
                ],
            }],
            status: span::Status {
                code: StatusCode::Error,
                message: "HTTP 429: Rate limit reached".into(),
            },
        },
    ]
}

fn v(value: Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: v(value),
    }
}

/// Every message, field and value kind the wire types know.
fn every_field() -> ExportTraceServiceRequest {
    let nested = Value::KvlistValue(KeyValueList {
        values: vec![
            kv(
                "list",
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(Value::IntValue(-1)),
                        },
                        AnyValue { value: None },
                        AnyValue {
                            value: Some(Value::ArrayValue(ArrayValue { values: vec![] })),
                        },
                    ],
                }),
            ),
            KeyValue {
                key: "empty".into(),
                value: None,
            },
        ],
    });
    let attrs = vec![
        kv("s", Value::StringValue("héllo \"😀\"\n\u{0}".into())),
        kv("b", Value::BoolValue(false)),
        kv("i", Value::IntValue(i64::MIN)),
        kv("d", Value::DoubleValue(0.1)),
        kv("nan", Value::DoubleValue(f64::NAN)),
        kv("inf", Value::DoubleValue(f64::NEG_INFINITY)),
        kv("negzero", Value::DoubleValue(-0.0)),
        kv("tiny", Value::DoubleValue(5e-324)),
        kv("bytes", Value::BytesValue(vec![0, 1, 2, 0xfe, 0xff])),
        kv("kv", nested),
    ];
    let span = Span {
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        trace_state: "vendor=x,other=y".into(),
        parent_span_id: vec![0x01; 8],
        name: "every field".into(),
        kind: 3,
        start_time_unix_nano: 1,
        end_time_unix_nano: u64::MAX,
        attributes: attrs.clone(),
        dropped_attributes_count: 3,
        events: vec![Event {
            time_unix_nano: 5,
            name: "e".into(),
            attributes: attrs[..3].to_vec(),
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 2,
        links: vec![Link {
            trace_id: vec![0x11; 16],
            span_id: vec![0x22; 8],
            trace_state: "a=b".into(),
            attributes: attrs[..2].to_vec(),
            dropped_attributes_count: 4,
            flags: 0x301,
        }],
        dropped_links_count: 7,
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
        flags: 0x101,
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", Value::StringValue("svc".into()))],
                    dropped_attributes_count: 1,
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "scope".into(),
                        version: "1.2.3".into(),
                        attributes: attrs[..1].to_vec(),
                        dropped_attributes_count: 9,
                    }),
                    spans: vec![
                        span.clone(),
                        Span {
                            name: "second".into(),
                            status: None,
                            ..span
                        },
                    ],
                    schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            },
            ResourceSpans::default(),
        ],
    }
}

/// What an OpenTelemetry JS SDK (OTLP/HTTP JSON exporter) sends for a GenAI client span:
/// numbers where the OTLP spec writes strings, uppercase-free hex ids, `kind` 3.
const OTEL_JS_GENAI: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chat-web"}},{"key":"telemetry.sdk.language","value":{"stringValue":"webjs"}},{"key":"telemetry.sdk.name","value":{"stringValue":"opentelemetry"}},{"key":"telemetry.sdk.version","value":{"stringValue":"1.30.1"}}],"droppedAttributesCount":0},"scopeSpans":[{"scope":{"name":"@opentelemetry/instrumentation-openai","version":"0.1.0"},"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"chat gpt-4o-mini","kind":3,"startTimeUnixNano":1700000000000000000,"endTimeUnixNano":"1700000000900000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.system","value":{"stringValue":"openai"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.request.temperature","value":{"doubleValue":0.7}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":12}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"30"}},{"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}},{"key":"llm.input_messages","value":{"kvlistValue":{"values":[{"key":"role","value":{"stringValue":"user"}}]}}}],"droppedAttributesCount":0,"events":[{"timeUnixNano":"1700000000100000000","name":"gen_ai.user.message","attributes":[{"key":"content","value":{"stringValue":"What is MLflow?"}}],"droppedAttributesCount":0}],"droppedEventsCount":0,"status":{"code":0},"links":[],"droppedLinksCount":0}]}]}]}"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
    println!("{} ({} bytes)", dir.join(name).display(), bytes.len());
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json_dir = root.join("corpus/otlp_json");
    let pb_dir = root.join("corpus/otlp_protobuf");
    let golden = root.join("../tests/golden");
    write(
        &json_dir,
        "golden-basic-trace.json",
        &std::fs::read(golden.join("basic_trace.json")).unwrap(),
    );
    write(
        &pb_dir,
        "golden-basic-trace.pb",
        &std::fs::read(golden.join("basic_trace.pb")).unwrap(),
    );

    let resource = edgetrace::otlp::Resource {
        service_name: "docs-bot".into(),
        attributes: vec![(
            "deployment.environment".into(),
            AttrValue::Str("dev".into()),
        )],
    };
    for (format, dir, ext) in [
        (Format::Json, &json_dir, "json"),
        (Format::Protobuf, &pb_dir, "pb"),
    ] {
        let body = Encoder::new(format, &resource).encode(&llm_spans()).body;
        write(dir, &format!("edgetrace-llm-spans.{ext}"), &body);
    }

    let every = every_field();
    write(
        &json_dir,
        "every-field.json",
        &serde_json::to_vec(&every).unwrap(),
    );
    write(&pb_dir, "every-field.pb", &every.encode_to_vec());

    let otel: ExportTraceServiceRequest = serde_json::from_str(OTEL_JS_GENAI).unwrap();
    write(&json_dir, "otel-js-genai.json", OTEL_JS_GENAI.as_bytes());
    write(&pb_dir, "otel-js-genai.pb", &otel.encode_to_vec());

    write(&json_dir, "empty.json", b"{}");
    write(&pb_dir, "empty.pb", b"");
}
