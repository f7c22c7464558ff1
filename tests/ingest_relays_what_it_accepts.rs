//! What the ingest core relays: edgetrace's spans unchanged, other SDKs' spans typed for MLflow,
//! secrets redacted, long values cut, and payloads split under the cap.

mod common;

use common::{attr, by_name, decode_proto, s, spans, str_attr, tracer, T0};
use edgetrace::ingest::{Accepted, Ingest, IngestConfig};
use edgetrace::otlp::wire::{
    AnyValue, Event, ExportTraceServiceRequest, KeyValue, KeyValueList, ResourceSpans, ScopeSpans,
    Span, Value,
};
use edgetrace::otlp::Format;
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent};
use prost::Message;

const NOW: u64 = T0 + 60_000_000_000;

fn relayed(ingest: &Ingest, body: &[u8], format: Format) -> Vec<Span> {
    let a = ingest.process(body, format, NOW).expect("accepted");
    a.payloads
        .iter()
        .flat_map(|p| spans(&decode_proto(p)))
        .collect()
}

/// `req` (protobuf) accepted, and its first span as relayed.
fn accepted_first(ingest: &Ingest, req: &ExportTraceServiceRequest) -> (Accepted, Span) {
    let a = ingest
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .expect("accepted");
    let first = spans(&decode_proto(&a.payloads[0])).remove(0);
    (a, first)
}

fn one(attrs: Vec<KeyValue>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: vec![Span {
                    trace_id: vec![7; 16],
                    span_id: vec![8; 8],
                    name: "op".into(),
                    start_time_unix_nano: T0,
                    end_time_unix_nano: T0 + 5,
                    attributes: attrs,
                    ..Span::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn int(key: &str, n: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(edgetrace::otlp::wire::AnyValue {
            value: Some(Value::IntValue(n)),
        }),
    }
}

/// The ingest with the conventions' conversion on (`CONVERT_CONVENTIONS`: off by default, as
/// MLflow 3.x converts them itself).
fn converting() -> IngestConfig {
    IngestConfig {
        convert_conventions: true,
        ..IngestConfig::default()
    }
}

/// The same small agent trace, encoded in `format` (sequential ids and a manual clock, so both
/// formats carry identical spans).
fn agent_trace(format: Format) -> edgetrace::otlp::Payload {
    let (mut t, clock) = tracer(Config::default());
    let ctx = t.open_context();
    let root = t
        .start_span(ctx, Parent::Root, "agent", SpanType::Agent)
        .unwrap();
    t.set_inputs(root, r#"{"question":"hi"}"#).unwrap();
    let child = t
        .start_span(ctx, Parent::Current, "llm", SpanType::ChatModel)
        .unwrap();
    t.set_attribute(child, "k", s("v")).unwrap();
    clock.advance(1_000);
    t.end_span(child).unwrap();
    t.set_outputs(root, r#""hello""#).unwrap();
    t.end_span(root).unwrap();
    t.take_batch(format).unwrap()
}

#[test]
fn edgetrace_spans_pass_through_unchanged_from_json_and_protobuf() {
    let ingest = Ingest::new(converting()).unwrap();
    let (json, pb) = (agent_trace(Format::Json), agent_trace(Format::Protobuf));
    let from_json = relayed(&ingest, &json.body, Format::Json);
    let from_pb = relayed(&ingest, &pb.body, Format::Protobuf);
    assert_eq!(from_json, spans(&common::decode(&json)));
    assert_eq!(from_pb, spans(&decode_proto(&pb.body)));
    assert_eq!(from_json, from_pb);
    let root = by_name(&from_json, "agent");
    assert_eq!(str_attr(root, "mlflow.spanType"), Some("AGENT"));
    assert_eq!(
        str_attr(root, "mlflow.spanInputs"),
        Some(r#"{"question":"hi"}"#)
    );
    assert_eq!(by_name(&from_json, "llm").parent_span_id, root.span_id);
}

#[test]
fn gen_ai_spans_get_mlflow_type_inputs_outputs_and_token_usage() {
    let ingest = Ingest::new(converting()).unwrap();
    let req = one(vec![
        KeyValue::string("gen_ai.operation.name", "chat"),
        KeyValue::string("gen_ai.provider.name", "openai"),
        KeyValue::string(
            "gen_ai.input.messages",
            r#"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#,
        ),
        KeyValue::string(
            "gen_ai.output.messages",
            r#"[{"role":"assistant","parts":[{"type":"text","content":"yo"}]}]"#,
        ),
        int("gen_ai.usage.input_tokens", 12),
        int("gen_ai.usage.output_tokens", 3),
    ]);
    let out = relayed(&ingest, &req.encode_to_vec(), Format::Protobuf);
    let span = &out[0];
    assert_eq!(str_attr(span, "mlflow.spanType"), Some("CHAT_MODEL"));
    let inputs: serde_json::Value =
        serde_json::from_str(str_attr(span, "mlflow.spanInputs").unwrap()).unwrap();
    assert_eq!(inputs["messages"][0]["role"], "user");
    let outputs: serde_json::Value =
        serde_json::from_str(str_attr(span, "mlflow.spanOutputs").unwrap()).unwrap();
    assert_eq!(outputs["messages"][0]["parts"][0]["content"], "yo");
    let usage: serde_json::Value =
        serde_json::from_str(str_attr(span, "mlflow.chat.tokenUsage").unwrap()).unwrap();
    assert_eq!(
        usage,
        serde_json::json!({"input_tokens":12,"output_tokens":3,"total_tokens":15})
    );
    for (op, ty) in [
        ("embeddings", "EMBEDDING"),
        ("execute_tool", "TOOL"),
        ("invoke_agent", "AGENT"),
        ("text_completion", "LLM"),
    ] {
        let req = one(vec![KeyValue::string("gen_ai.operation.name", op)]);
        let out = relayed(&ingest, &req.encode_to_vec(), Format::Protobuf);
        assert_eq!(str_attr(&out[0], "mlflow.spanType"), Some(ty), "{op}");
    }
}

#[test]
fn openinference_spans_get_mlflow_type_inputs_outputs_and_token_usage() {
    let ingest = Ingest::new(converting()).unwrap();
    let req = one(vec![
        KeyValue::string("openinference.span.kind", "LLM"),
        KeyValue::string("llm.input_messages.1.message.role", "user"),
        KeyValue::string("llm.input_messages.1.message.content", "second"),
        KeyValue::string("llm.input_messages.0.message.role", "system"),
        KeyValue::string("llm.input_messages.0.message.content", "first"),
        KeyValue::string("output.value", r#"{"answer":42}"#),
        KeyValue::string("output.mime_type", "application/json"),
        int("llm.token_count.prompt", 10),
        int("llm.token_count.completion", 5),
        int("llm.token_count.total", 15),
    ]);
    let out = relayed(&ingest, &req.encode_to_vec(), Format::Protobuf);
    let span = &out[0];
    assert_eq!(str_attr(span, "mlflow.spanType"), Some("CHAT_MODEL"));
    let inputs: serde_json::Value =
        serde_json::from_str(str_attr(span, "mlflow.spanInputs").unwrap()).unwrap();
    assert_eq!(inputs["messages"][0]["content"], "first");
    assert_eq!(inputs["messages"][1]["role"], "user");
    assert_eq!(
        str_attr(span, "mlflow.spanOutputs"),
        Some(r#"{"answer":42}"#)
    );
    assert!(str_attr(span, "mlflow.chat.tokenUsage")
        .unwrap()
        .contains(r#""total_tokens":15"#));
    let retriever = one(vec![
        KeyValue::string("openinference.span.kind", "RETRIEVER"),
        KeyValue::string("input.value", "where is it"),
    ]);
    let out = relayed(&ingest, &retriever.encode_to_vec(), Format::Protobuf);
    assert_eq!(str_attr(&out[0], "mlflow.spanType"), Some("RETRIEVER"));
    assert_eq!(
        str_attr(&out[0], "mlflow.spanInputs"),
        Some(r#""where is it""#)
    );
}

#[test]
fn attributes_already_set_are_never_overwritten_and_plain_spans_are_untouched() {
    let ingest = Ingest::new(converting()).unwrap();
    let req = one(vec![
        KeyValue::string("mlflow.spanType", "TOOL"),
        KeyValue::string("gen_ai.operation.name", "chat"),
    ]);
    let out = relayed(&ingest, &req.encode_to_vec(), Format::Protobuf);
    let types: Vec<_> = out[0]
        .attributes
        .iter()
        .filter(|kv| kv.key == "mlflow.spanType")
        .collect();
    assert_eq!(types.len(), 1);
    assert_eq!(str_attr(&out[0], "mlflow.spanType"), Some("TOOL"));
    let plain = one(vec![KeyValue::string("http.method", "GET")]);
    let a = ingest
        .process(&plain.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    assert_eq!(a.typed, 0);
    assert_eq!(spans(&decode_proto(&a.payloads[0])), spans(&plain));
}

#[test]
fn secrets_are_redacted_and_secret_headers_dropped_before_relay() {
    let config = IngestConfig {
        redact_patterns: vec![r"\b\d{3}-\d{2}-\d{4}\b".into()],
        redact_attributes: vec!["app.internal.*".into()],
        ..IngestConfig::default()
    };
    let ingest = Ingest::new(config).unwrap();
    let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    let req = one(vec![
        KeyValue::string(
            "mlflow.spanInputs",
            format!(r#"{{"messages":[{{"content":"my key is {key} and ssn 123-45-6789"}}]}}"#),
        ),
        KeyValue::string("http.request.header.authorization", "Bearer abc"),
        KeyValue::string("app.internal.token", "x"),
        KeyValue::string(
            "note",
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        ),
    ]);
    let a = ingest
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    let bytes = &a.payloads[0];
    for secret in [key, "123-45-6789", "eyJhbGciOiJIUzI1NiJ9", "Bearer abc"] {
        assert!(
            bytes.windows(secret.len()).all(|w| w != secret.as_bytes()),
            "{secret} leaked"
        );
    }
    let out = spans(&decode_proto(bytes));
    let span = &out[0];
    assert!(attr(span, "http.request.header.authorization").is_none());
    assert!(attr(span, "app.internal.token").is_none());
    let inputs: serde_json::Value =
        serde_json::from_str(str_attr(span, "mlflow.spanInputs").unwrap()).unwrap();
    assert_eq!(
        inputs["messages"][0]["content"],
        "my key is [REDACTED] and ssn [REDACTED]"
    );
    assert_eq!(a.redacted, 4);
    let off = Ingest::new(IngestConfig {
        default_redaction: false,
        ..IngestConfig::default()
    })
    .unwrap();
    let a = off
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    assert_eq!(a.redacted, 0);
}

/// Secrets where other SDKs put them: in an event's name, as a GitHub fine-grained token, as
/// HTTP Basic credentials, and in a whole header map recorded as one attribute.
#[test]
fn secrets_in_event_names_basic_credentials_and_header_maps_are_redacted() {
    let ingest = Ingest::new(converting()).unwrap();
    let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    let pat =
        "github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU";
    let basic = "dXNlcjpwYXNzd29yZDEyMzQ1";
    let kv = |k: &str, v: &str| KeyValue::string(k, v);
    let headers = KeyValue {
        key: "http.request.headers".into(),
        value: Some(AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![
                    kv("Authorization", &format!("Basic {basic}")),
                    kv("x-api-key", "0123456789abcdef"),
                    kv("accept", "application/json"),
                ],
            })),
        }),
    };
    // The same map as edgetrace's SDK records it: JSON text (with a header no pattern matches).
    let json_headers = kv(
        "http.response.headers",
        r#"{"X-Api-Key":"opaque-key-1","cookie":"sid=opaque-cookie-2","nested":{"authorization":"Token opaque-3"},"accept":"text/plain"}"#,
    );
    let mut req = one(vec![
        kv("note", &format!("token {pat}")),
        kv("http.request.header.proxy-authorization", "Basic x"),
        headers,
        json_headers,
    ]);
    req.resource_spans[0].scope_spans[0].spans[0].events = vec![Event {
        name: format!("called with {key}"),
        ..Event::default()
    }];
    let a = ingest
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    let bytes = &a.payloads[0];
    for secret in [key, pat, basic, "0123456789abcdef", "Basic x", "opaque-"] {
        assert!(
            bytes.windows(secret.len()).all(|w| w != secret.as_bytes()),
            "{secret} leaked"
        );
    }
    let span = &spans(&decode_proto(bytes))[0];
    assert_eq!(span.events[0].name, "called with [REDACTED]");
    assert_eq!(str_attr(span, "note"), Some("token [REDACTED]"));
    assert!(attr(span, "http.request.header.proxy-authorization").is_none());
    let Some(Value::KvlistValue(map)) = attr(span, "http.request.headers") else {
        panic!("the header map is kept")
    };
    let names: Vec<_> = map.values.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        names,
        ["accept"],
        "only the header that is no secret is left"
    );
    let kept: serde_json::Value =
        serde_json::from_str(str_attr(span, "http.response.headers").unwrap()).unwrap();
    assert_eq!(
        kept,
        serde_json::json!({"accept": "text/plain", "nested": {}})
    );
    assert_eq!(a.redacted, 8);
}

/// Credentials that have no header of their own: cloud and provider keys by their prefixes, an
/// AWS secret key by the name it goes by, a JSON web token, and a URL's password, whose user and
/// host stay readable.
#[test]
fn cloud_keys_tokens_and_url_passwords_are_redacted() {
    let ingest = Ingest::new(converting()).unwrap();
    let aws_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N";
    let prefixed = [
        "ASIAIOSFODNN7EXAMPLE",
        "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
        "gsk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
        "xai-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
        "xoxb-1234567890-abcdefghij",
        "sk_live_abcdefghijklmnopqrstuvwx",
        "rk_live_abcdefghijklmnopqrstuvwx",
    ];
    let config = format!(
        r#"{{"region":"us-east-1","secretAccessKey":"{aws_secret}","keys":{}}}"#,
        serde_json::to_string(&prefixed).unwrap()
    );
    let req = one(vec![
        KeyValue::string("mlflow.spanInputs", &config),
        KeyValue::string("env", format!("AWS_SECRET_ACCESS_KEY={aws_secret}")),
        KeyValue::string("token", format!("id_token {jwt}")),
        KeyValue::string("db", "postgres://app:hunter2-Pa$$@db.internal:5432/app"),
        KeyValue::string(
            "plain",
            "https://example.com/a@b and 40 letters: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ),
    ]);
    let a = ingest
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    let bytes = &a.payloads[0];
    for secret in prefixed.iter().copied().chain([aws_secret, jwt, "hunter2"]) {
        assert!(
            bytes.windows(secret.len()).all(|w| w != secret.as_bytes()),
            "{secret} leaked"
        );
    }
    let span = &spans(&decode_proto(bytes))[0];
    let inputs: serde_json::Value =
        serde_json::from_str(str_attr(span, "mlflow.spanInputs").unwrap()).unwrap();
    assert_eq!(inputs["region"], "us-east-1");
    assert_eq!(inputs["secretAccessKey"], "[REDACTED]");
    assert_eq!(inputs["keys"], serde_json::json!(vec!["[REDACTED]"; 7]));
    assert_eq!(
        str_attr(span, "env"),
        Some("AWS_SECRET_ACCESS_KEY=[REDACTED]")
    );
    assert_eq!(str_attr(span, "token"), Some("id_token [REDACTED]"));
    assert_eq!(
        str_attr(span, "db"),
        Some("postgres://app:[REDACTED]@db.internal:5432/app")
    );
    assert_eq!(
        str_attr(span, "plain"),
        Some("https://example.com/a@b and 40 letters: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        "text that only resembles a secret is kept"
    );
    assert_eq!(a.redacted, 4);
}

#[test]
fn long_values_are_cut_and_json_stays_json() {
    let config = IngestConfig {
        max_attribute_bytes: 200,
        ..IngestConfig::default()
    };
    let ingest = Ingest::new(config).unwrap();
    let long_json = format!(r#"{{"text":"{}"}}"#, "é".repeat(500));
    let numbers = serde_json::to_string(&vec![12345; 100]).unwrap();
    let req = one(vec![
        KeyValue::string("mlflow.spanInputs", &long_json),
        KeyValue::string("plain", "x".repeat(1000)),
        KeyValue::string("mlflow.spanOutputs", &numbers),
    ]);
    let a = ingest
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    assert_eq!(a.truncated, 3);
    let out = spans(&decode_proto(&a.payloads[0]));
    // JSON whose long strings can be cut keeps its shape: the object, its key, a marked prefix.
    let inputs = str_attr(&out[0], "mlflow.spanInputs").unwrap();
    assert!(inputs.len() <= 200);
    let v: serde_json::Value = serde_json::from_str(inputs).unwrap();
    let text = v["text"].as_str().expect("still an object with its key");
    assert!(text.starts_with("éé"), "{text}");
    assert!(
        text.ends_with("…[edgetrace: truncated, original bytes: 1000]"),
        "{text}"
    );
    // JSON that cutting strings cannot shrink enough becomes one cut string, still valid JSON.
    let outputs = str_attr(&out[0], "mlflow.spanOutputs").unwrap();
    assert!(outputs.len() <= 200);
    let v: serde_json::Value = serde_json::from_str(outputs).unwrap();
    assert!(v.as_str().unwrap().starts_with("[12345,12345"), "{v}");
    assert!(str_attr(&out[0], "plain").unwrap().len() <= 200);
    assert!(str_attr(&out[0], "plain").unwrap().contains("truncated"));
}

#[test]
fn big_requests_split_into_payloads_under_the_cap_and_lose_no_span() {
    let config = IngestConfig {
        max_payload_bytes: 4_000,
        ..IngestConfig::default()
    };
    let ingest = Ingest::new(config).unwrap();
    let mut req = one(vec![]);
    let template = req.resource_spans[0].scope_spans[0].spans[0].clone();
    req.resource_spans[0].resource = Some(edgetrace::otlp::wire::Resource {
        attributes: vec![KeyValue::string("service.name", "svc")],
        dropped_attributes_count: 0,
    });
    req.resource_spans[0].scope_spans[0].spans = (0..300u64)
        .map(|i| {
            let mut s = template.clone();
            s.span_id = (i + 1).to_be_bytes().to_vec();
            s.attributes.push(KeyValue::string(
                "payload",
                "p".repeat((i as usize * 7) % 300),
            ));
            s
        })
        .collect();
    req.resource_spans.push(req.resource_spans[0].clone());
    for s in &mut req.resource_spans[1].scope_spans[0].spans {
        s.span_id[0] = 0xab;
    }
    let a = ingest
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    assert!(a.payloads.len() > 10, "{} payloads", a.payloads.len());
    let mut seen = Vec::new();
    for p in &a.payloads {
        assert!(p.len() <= 4_000, "payload of {} bytes", p.len());
        let d = decode_proto(p);
        for rs in &d.resource_spans {
            assert_eq!(rs.resource, req.resource_spans[0].resource);
        }
        seen.extend(spans(&d).into_iter().map(|s| s.span_id));
    }
    let mut expected: Vec<_> = spans(&req).into_iter().map(|s| s.span_id).collect();
    assert_eq!(seen.len(), 600);
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn spans_without_a_log_level_get_the_one_mlflow_gives_its_own() {
    // As a browser's core sends them (its size build sets none) or another SDK does: MLflow's UI
    // hides spans without `mlflow.spanLogLevel` once its level filter is raised to INFO.
    let ingest = Ingest::new(converting()).unwrap();
    let level = |attrs: Vec<KeyValue>, status: Option<i32>, events: Vec<Event>| {
        let mut req = one(attrs);
        let span = &mut req.resource_spans[0].scope_spans[0].spans[0];
        span.status = status.map(|code| edgetrace::otlp::wire::Status {
            message: String::new(),
            code,
        });
        span.events = events;
        let out = relayed(&ingest, &req.encode_to_vec(), Format::Protobuf);
        let n = out[0]
            .attributes
            .iter()
            .filter(|kv| kv.key == "mlflow.spanLogLevel")
            .count();
        assert!(n <= 1, "the level once, not {n} times");
        match attr(&out[0], "mlflow.spanLogLevel") {
            Some(Value::IntValue(n)) => Some(*n),
            None => None,
            other => panic!("mlflow.spanLogLevel is {other:?}"),
        }
    };
    let typed = |t: &str| vec![KeyValue::string("mlflow.spanType", t)];
    for t in [
        "LLM",
        "CHAT_MODEL",
        "TOOL",
        "RETRIEVER",
        "AGENT",
        "EMBEDDING",
    ] {
        assert_eq!(level(typed(t), Some(1), vec![]), Some(20), "{t}");
    }
    for t in ["CHAIN", "PARSER", "UNKNOWN", "MY_STEP"] {
        assert_eq!(
            level(typed(t), Some(1), vec![]),
            None,
            "{t}: DEBUG, as MLflow reads none"
        );
    }
    assert_eq!(level(vec![], None, vec![]), None, "an untyped span");
    assert_eq!(level(typed("CHAIN"), Some(2), vec![]), Some(40), "failed");
    let exception = Event {
        name: "exception".into(),
        ..Event::default()
    };
    assert_eq!(
        level(typed("TOOL"), Some(1), vec![exception]),
        Some(40),
        "an exception recorded"
    );
    // Typed from the GenAI conventions first, then levelled.
    let gen_ai = vec![KeyValue::string("gen_ai.operation.name", "chat")];
    assert_eq!(level(gen_ai, None, vec![]), Some(20));
    // A level set by the app (or its SDK) is kept.
    let mut own = typed("CHAT_MODEL");
    own.push(int("mlflow.spanLogLevel", 30));
    assert_eq!(level(own, Some(2), vec![]), Some(30));
}

#[test]
fn by_default_other_sdks_spans_are_left_for_mlflow_to_convert() {
    // MLflow 3.x converts the GenAI and OpenInference conventions as it stores spans, more fully
    // than this service did (cached tokens, its own type per operation), and fills only what is
    // missing: attributes derived here first stood in for its own (found by an interop review:
    // cache_read_input_tokens lost, cost too high). So by default they pass through as sent.
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let attrs = vec![
        KeyValue::string("gen_ai.operation.name", "chat"),
        int("gen_ai.usage.input_tokens", 1000),
        int("gen_ai.usage.cache_read.input_tokens", 800),
    ];
    let req = one(attrs.clone());
    let out = relayed(&ingest, &req.encode_to_vec(), Format::Protobuf);
    let mut want = attrs;
    // Only MLflow's log level is added: a GenAI operation is INFO whatever MLflow types it.
    want.push(int("mlflow.spanLogLevel", 20));
    assert_eq!(out[0].attributes, want, "no type or usage of ours");
    let a = ingest
        .process(&req.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap();
    assert_eq!(a.typed, 0);
    // OpenInference's kind gives the level too; a span of neither convention gets none.
    let oi = one(vec![KeyValue::string(
        "openinference.span.kind",
        "retriever",
    )]);
    let out = relayed(&ingest, &oi.encode_to_vec(), Format::Protobuf);
    assert_eq!(
        attr(&out[0], "mlflow.spanLogLevel"),
        Some(&Value::IntValue(20))
    );
    let chain = one(vec![KeyValue::string("openinference.span.kind", "CHAIN")]);
    let out = relayed(&ingest, &chain.encode_to_vec(), Format::Protobuf);
    assert_eq!(attr(&out[0], "mlflow.spanLogLevel"), None);
    let plain = one(vec![KeyValue::string("http.request.method", "GET")]);
    let out = relayed(&ingest, &plain.encode_to_vec(), Format::Protobuf);
    assert_eq!(out[0].attributes.len(), 1);
}

/// A sender cannot set MLflow's own trace tags (one set wrong makes the trace impossible to load);
/// its own tags and the trace's name pass.
#[test]
fn mlflows_reserved_trace_tags_are_dropped_and_the_senders_own_pass() {
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let kv = |k: &str, v: &str| KeyValue::string(k, v);
    let req = one(vec![
        kv(
            "mlflow.traceTag.mlflow.trace.spansLocation",
            "ARTIFACT_REPO",
        ),
        kv("mlflow.traceTag.mlflow.linkedPrompts", "[]"),
        kv("mlflow.traceTag.mlflow.traceName", "checkout"),
        kv("mlflow.traceTag.env", "prod"),
    ]);
    let (a, span) = accepted_first(&ingest, &req);
    let span = &span;
    assert!(attr(span, "mlflow.traceTag.mlflow.trace.spansLocation").is_none());
    assert!(attr(span, "mlflow.traceTag.mlflow.linkedPrompts").is_none());
    assert_eq!(
        str_attr(span, "mlflow.traceTag.mlflow.traceName"),
        Some("checkout")
    );
    assert_eq!(str_attr(span, "mlflow.traceTag.env"), Some("prod"));
    assert_eq!(a.redacted, 2);
}

/// JSON text nested deeper than MLflow can parse (it refused the whole request with it) is relayed
/// as a string of that text; JSON of an ordinary depth stays JSON.
#[test]
fn json_text_nested_too_deep_for_mlflow_is_relayed_as_a_string() {
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let deep = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    let fine = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let braces_in_strings = format!(r#"{{"text":"{}"}}"#, "[".repeat(500));
    let req = one(vec![
        KeyValue::string("mlflow.spanInputs", &deep),
        KeyValue::string("mlflow.spanOutputs", &fine),
        KeyValue::string("note", &braces_in_strings),
    ]);
    let (a, span) = accepted_first(&ingest, &req);
    let span = &span;
    let inputs: serde_json::Value =
        serde_json::from_str(str_attr(span, "mlflow.spanInputs").unwrap()).unwrap();
    assert_eq!(inputs, serde_json::Value::String(deep));
    assert_eq!(str_attr(span, "mlflow.spanOutputs"), Some(fine.as_str()));
    assert_eq!(str_attr(span, "note"), Some(braces_in_strings.as_str()));
    assert_eq!(a.truncated, 1);
}

/// A span keeps at most `maxAttributesPerSpan` attributes, MLflow's own first, and says how many
/// it dropped, as OTLP does.
#[test]
fn a_span_keeps_at_most_its_attribute_limit_mlflows_own_first() {
    let config = IngestConfig {
        max_attributes_per_span: 10,
        ..IngestConfig::default()
    };
    let ingest = Ingest::new(config).unwrap();
    let mut attrs: Vec<KeyValue> = (0..30)
        .map(|i| KeyValue::string(&format!("app.k{i}"), "v"))
        .collect();
    attrs.push(KeyValue::string("mlflow.spanType", "TOOL"));
    let (a, span) = accepted_first(&ingest, &one(attrs));
    let span = &span;
    // Ten kept, and the log level the service adds after.
    assert_eq!(span.attributes.len(), 11);
    assert!(attr(span, "mlflow.spanLogLevel").is_some());
    assert_eq!(str_attr(span, "mlflow.spanType"), Some("TOOL"));
    assert_eq!(span.dropped_attributes_count, 21);
    assert_eq!(a.truncated, 1);
    let (_, small) = accepted_first(&ingest, &one(vec![KeyValue::string("app.a", "v")]));
    assert_eq!(small.dropped_attributes_count, 0);
}
