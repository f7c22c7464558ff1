//! The OTLP/JSON encoding, read back with serde, gives the same messages as the protobuf
//! encoding read back with prost; and the JSON follows the OTLP/JSON rules: lowerCamelCase keys,
//! trace and span ids as lowercase hex, 64-bit integers as decimal strings, enums as integers.

mod common;

use common::*;
use edgetrace::attribute::AttrValue;
use edgetrace::id::{SpanId, TraceId};
use edgetrace::otlp::encode::span_to_wire;
use edgetrace::otlp::{wire, Encoder, Format, Resource};
use edgetrace::span::{Event, SpanData, SpanType, Status, StatusCode};
use edgetrace::tracer::{Config, Parent};
use serde_json::Value as J;

fn sample_spans() -> Vec<SpanData> {
    let trace_id = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
    let root_id = SpanId::from_hex("b7ad6b7169203331").unwrap();
    vec![
        SpanData {
            trace_id,
            span_id: root_id,
            parent_span_id: None,
            name: "answer".into(),
            span_type: SpanType::Agent,
            start_ns: 1_700_000_000_123_456_789,
            end_ns: u64::MAX,
            inputs: Some(r#"{"question":"What is MLflow?"}"#.into()),
            outputs: Some(r#""MLflow is…""#.into()),
            attributes: vec![
                ("str".into(), AttrValue::Str("héllo \"x\"".into())),
                ("int".into(), AttrValue::Int(i64::MIN.into())),
                ("big".into(), AttrValue::Int(i64::MAX.into())),
                ("double".into(), AttrValue::Double(0.1.into())),
                ("neg_zero".into(), AttrValue::Double((-0.0).into())),
                ("tiny".into(), AttrValue::Double((5e-324).into())),
                ("nan".into(), AttrValue::Double(f64::NAN.into())),
                ("inf".into(), AttrValue::Double(f64::INFINITY.into())),
                ("ninf".into(), AttrValue::Double(f64::NEG_INFINITY.into())),
                ("bool".into(), AttrValue::Bool(true)),
                (
                    "json".into(),
                    AttrValue::Json(r#"{"input_tokens":12}"#.into()),
                ),
            ],
            events: Default::default(),
            status: Status {
                code: StatusCode::Ok,
                message: Box::default(),
            },
        },
        SpanData {
            trace_id,
            span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            parent_span_id: Some(root_id),
            name: "tool".into(),
            span_type: SpanType::Custom("GUARDRAIL".into()),
            start_ns: 0,
            end_ns: 1,
            inputs: None,
            outputs: None,
            attributes: vec![],
            events: vec![Event {
                name: "exception".into(),
                time_ns: 1_700_000_000_000_000_001,
                attributes: vec![
                    ("exception.type".into(), AttrValue::Str("TypeError".into())),
                    ("exception.escaped".into(), AttrValue::Bool(false)),
                ],
            }]
            .into(),
            status: Status {
                code: StatusCode::Error,
                message: "TypeError: boom".into(),
            },
        },
    ]
}

fn resource() -> Resource {
    Resource {
        service_name: "round-trip".into(),
        attributes: vec![
            ("host.arch".into(), AttrValue::Str("wasm32".into())),
            ("n".into(), AttrValue::Int(1.into())),
        ],
    }
}

/// Structural equality that treats NaN as equal to NaN (`Debug` prints every value exactly).
fn same<T: std::fmt::Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

#[test]
fn json_and_protobuf_decode_to_the_same_messages() {
    let spans = sample_spans();
    let json = Encoder::new(Format::Json, &resource()).encode(&spans);
    let proto = Encoder::new(Format::Protobuf, &resource()).encode(&spans);
    assert_eq!(
        (json.format, proto.format),
        (Format::Json, Format::Protobuf)
    );
    assert_eq!((json.spans, proto.spans), (2, 2));
    let from_json = decode_json(&json.body);
    let from_proto = decode_proto(&proto.body);
    assert!(
        same(&from_json, &from_proto),
        "JSON: {from_json:#?}\nprotobuf: {from_proto:#?}"
    );

    let want: Vec<wire::Span> = spans.iter().map(span_to_wire).collect();
    assert!(same(&self::spans(&from_json), &want));

    let rs = &from_proto.resource_spans[0];
    let res = rs.resource.as_ref().unwrap();
    assert_eq!(
        res.attributes[0],
        wire::KeyValue::string("service.name", "round-trip")
    );
    assert_eq!(
        res.attributes[1],
        wire::KeyValue::string("host.arch", "wasm32")
    );
    let scope = rs.scope_spans[0].scope.as_ref().unwrap();
    assert_eq!(scope.name, "edgetrace");
    assert_eq!(scope.version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn json_follows_the_otlp_json_mapping() {
    let body = Encoder::new(Format::Json, &resource())
        .encode(&sample_spans())
        .body;
    let v: J = serde_json::from_slice(&body).unwrap();

    // Keys are lowerCamelCase everywhere.
    fn keys(v: &J, out: &mut Vec<String>) {
        match v {
            J::Object(m) => {
                for (k, x) in m {
                    out.push(k.clone());
                    keys(x, out);
                }
            }
            J::Array(a) => a.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    keys(&v, &mut all);
    for k in &all {
        assert!(
            !k.contains('_') && k.chars().next().unwrap().is_ascii_lowercase(),
            "key {k:?}"
        );
    }
    for k in [
        "resourceSpans",
        "scopeSpans",
        "traceId",
        "spanId",
        "parentSpanId",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "timeUnixNano",
        "stringValue",
        "intValue",
        "doubleValue",
        "boolValue",
    ] {
        assert!(all.iter().any(|x| x == k), "{k} missing");
    }

    let spans = &v["resourceSpans"][0]["scopeSpans"][0]["spans"];
    let root = &spans[0];
    let tool = &spans[1];
    // Ids: lowercase hex, not base64.
    assert_eq!(root["traceId"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(root["spanId"], "b7ad6b7169203331");
    assert_eq!(tool["parentSpanId"], "b7ad6b7169203331");
    assert!(
        root.get("parentSpanId").is_none(),
        "a root has no parentSpanId"
    );
    // 64-bit integers: decimal strings.
    assert_eq!(root["startTimeUnixNano"], "1700000000123456789");
    assert_eq!(root["endTimeUnixNano"], "18446744073709551615");
    assert_eq!(tool["startTimeUnixNano"], "0");
    assert_eq!(tool["events"][0]["timeUnixNano"], "1700000000000000001");
    // Enums: integers.
    assert_eq!(root["kind"], 1);
    assert_eq!(root["status"]["code"], 1);
    assert_eq!(tool["status"]["code"], 2);
    assert_eq!(tool["status"]["message"], "TypeError: boom");
    assert_eq!(root["flags"], 257);

    let attr = |span: &J, key: &str| -> J {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == key)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(
        attr(root, "mlflow.spanType"),
        serde_json::json!({"stringValue": "AGENT"})
    );
    assert_eq!(
        attr(tool, "mlflow.spanType"),
        serde_json::json!({"stringValue": "GUARDRAIL"})
    );
    assert_eq!(
        attr(root, "mlflow.spanInputs"),
        serde_json::json!({"stringValue": r#"{"question":"What is MLflow?"}"#})
    );
    assert_eq!(
        attr(root, "int"),
        serde_json::json!({"intValue": "-9223372036854775808"})
    );
    assert_eq!(
        attr(root, "big"),
        serde_json::json!({"intValue": "9223372036854775807"})
    );
    assert_eq!(
        attr(root, "double"),
        serde_json::json!({"doubleValue": 0.1})
    );
    assert_eq!(attr(root, "bool"), serde_json::json!({"boolValue": true}));
    assert_eq!(
        attr(root, "json"),
        serde_json::json!({"stringValue": r#"{"input_tokens":12}"#})
    );
    // JSON has no NaN or infinities: the protobuf JSON mapping spells them as strings.
    assert_eq!(attr(root, "nan"), serde_json::json!({"doubleValue": "NaN"}));
    assert_eq!(
        attr(root, "inf"),
        serde_json::json!({"doubleValue": "Infinity"})
    );
    assert_eq!(
        attr(root, "ninf"),
        serde_json::json!({"doubleValue": "-Infinity"})
    );
    // Attribute order: span type, inputs, outputs, the trace's name (on a root), then the span's own.
    let order: Vec<&str> = root["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| kv["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        &order[..5],
        [
            "mlflow.spanType",
            "mlflow.spanInputs",
            "mlflow.spanOutputs",
            "mlflow.traceTag.mlflow.traceName",
            "str"
        ]
    );
    // Resource and scope.
    let res = &v["resourceSpans"][0]["resource"]["attributes"];
    assert_eq!(
        res[0],
        serde_json::json!({"key": "service.name", "value": {"stringValue": "round-trip"}})
    );
    assert_eq!(
        res[2],
        serde_json::json!({"key": "n", "value": {"intValue": "1"}})
    );
    assert_eq!(
        v["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"],
        "edgetrace"
    );
}

#[test]
fn the_json_reader_accepts_what_other_otlp_writers_send() {
    // Numbers instead of strings for 64-bit fields, uppercase hex, and no optional fields.
    let text = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
        "traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"B7AD6B7169203331",
        "name":"x","kind":2,"startTimeUnixNano":5,"endTimeUnixNano":"6",
        "attributes":[{"key":"i","value":{"intValue":7}},{"key":"d","value":{"doubleValue":"Infinity"}},
                      {"key":"b","value":{"bytesValue":"AQID"}}]}]}]}]}"#;
    let req = decode_json(text.as_bytes());
    let s = &spans(&req)[0];
    assert_eq!(
        s.trace_id,
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c")
            .unwrap()
            .as_bytes()
    );
    assert_eq!(
        (s.start_time_unix_nano, s.end_time_unix_nano, s.kind),
        (5, 6, 2)
    );
    assert_eq!(attr(s, "i"), Some(&wire::Value::IntValue(7)));
    assert_eq!(attr(s, "d"), Some(&wire::Value::DoubleValue(f64::INFINITY)));
    assert_eq!(attr(s, "b"), Some(&wire::Value::BytesValue(vec![1, 2, 3])));
    assert!(s.parent_span_id.is_empty() && s.status.is_none());
}

#[test]
fn malformed_json_ids_and_numbers_are_refused() {
    for bad in [
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz","spanId":"00"}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc","spanId":"00"}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1e3"}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"intValue":"x"}}]}]}]}]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"doubleValue":"nan"}}]}]}]}]}"#,
    ] {
        assert!(
            serde_json::from_str::<wire::ExportTraceServiceRequest>(bad).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn a_tracer_batch_decodes_the_same_in_both_formats() {
    let run = |format| {
        let config = Config {
            resource: resource(),
            ..Config::default()
        };
        let (mut t, clock) = tracer(config);
        let r = t
            .start_span(0, Parent::Current, "r", SpanType::Agent)
            .unwrap();
        let c = t
            .start_span(0, Parent::Current, "c", SpanType::Llm)
            .unwrap();
        t.set_attribute(c, "x", AttrValue::Double(1.5.into()))
            .unwrap();
        clock.advance(7);
        t.record_exception(c, "E", "bad", "at f").unwrap();
        t.end_span(c).unwrap();
        t.end_span(r).unwrap();
        t.take_batch(format).unwrap()
    };
    let (j, p) = (run(Format::Json), run(Format::Protobuf));
    assert_eq!(decode_json(&j.body), decode_proto(&p.body));
    assert_ne!(j.body, p.body);
}
