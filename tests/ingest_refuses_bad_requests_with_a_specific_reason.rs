//! The ingest core refuses each kind of bad body with its own code and status, and never panics.

mod common;

use common::T0;
use edgetrace::ingest::{Ingest, IngestConfig, RefusalKind};
use edgetrace::otlp::wire::{
    AnyValue, ArrayValue, ExportTraceServiceRequest, KeyValue, ResourceSpans, ScopeSpans, Span,
    Value,
};
use edgetrace::otlp::Format;
use prost::Message;

const NOW: u64 = T0 + 10_000_000_000;

fn span(name: &str) -> Span {
    Span {
        trace_id: vec![0x5b; 16],
        span_id: vec![0xee; 8],
        name: name.to_owned(),
        kind: 1,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 1_000_000,
        ..Span::default()
    }
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn kind_of(ingest: &Ingest, body: &[u8], format: Format) -> RefusalKind {
    match ingest.process(body, format, NOW) {
        Ok(a) => panic!("accepted {} spans, expected a refusal", a.spans),
        Err(r) => {
            assert!(!r.message.is_empty() && !r.message.contains('\n'));
            r.kind
        }
    }
}

fn refused_both_ways(req: &ExportTraceServiceRequest) -> (RefusalKind, RefusalKind) {
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let json = serde_json::to_vec(req).unwrap();
    (
        kind_of(&ingest, &json, Format::Json),
        kind_of(&ingest, &req.encode_to_vec(), Format::Protobuf),
    )
}

#[test]
fn malformed_bodies_are_refused_by_format() {
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    for body in [&b"{"[..], b"", b"[]", b"null", br#"{"resourceSpans":7}"#] {
        assert_eq!(
            kind_of(&ingest, body, Format::Json),
            RefusalKind::MalformedJson
        );
    }
    for body in [&b"\xff\xff\xff"[..], b"\x0a\x05\x01"] {
        assert_eq!(
            kind_of(&ingest, body, Format::Protobuf),
            RefusalKind::MalformedProtobuf
        );
    }
    assert_eq!(RefusalKind::MalformedJson.status(), 400);
    assert_eq!(RefusalKind::MalformedJson.code(), "malformed_json");
}

#[test]
fn invalid_utf8_is_refused_in_both_formats() {
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let mut json = serde_json::to_vec(&request(vec![span("NAME")])).unwrap();
    let at = json.windows(4).position(|w| w == b"NAME").unwrap();
    json[at] = 0xff;
    assert_eq!(
        kind_of(&ingest, &json, Format::Json),
        RefusalKind::InvalidUtf8
    );
    let mut pb = request(vec![span("NAME")]).encode_to_vec();
    let at = pb.windows(4).position(|w| w == b"NAME").unwrap();
    pb[at] = 0xff;
    assert_eq!(
        kind_of(&ingest, &pb, Format::Protobuf),
        RefusalKind::InvalidUtf8
    );
}

#[test]
fn zero_missing_or_wrong_length_ids_are_refused() {
    type Mutation = Box<dyn Fn(&mut Span)>;
    let cases: Vec<Mutation> = vec![
        Box::new(|s| s.trace_id = vec![0; 16]),
        Box::new(|s| s.span_id = vec![0; 8]),
        Box::new(|s| s.trace_id.clear()),
        Box::new(|s| s.span_id = vec![1; 4]),
        Box::new(|s| s.parent_span_id = vec![0; 8]),
        Box::new(|s| s.parent_span_id = vec![1; 16]),
    ];
    for (i, mutate) in cases.iter().enumerate() {
        let mut s = span("a");
        mutate(&mut s);
        let (j, p) = refused_both_ways(&request(vec![s]));
        assert_eq!(
            (j, p),
            (RefusalKind::InvalidId, RefusalKind::InvalidId),
            "case {i}"
        );
    }
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let bad_hex = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"eee19b7ec3c1b174"}]}]}]}"#;
    assert_eq!(
        kind_of(&ingest, bad_hex, Format::Json),
        RefusalKind::InvalidId
    );
}

#[test]
fn absurd_timestamps_are_refused() {
    let cases: Vec<(u64, u64)> = vec![
        (0, 0),
        (1_700_000_000, 1_700_000_001),         // seconds, not ns
        (1_700_000_000_000, 1_700_000_001_000), // ms, not ns
        (T0, T0 - 1),                           // ends before it starts
        (
            NOW + 2 * 86_400 * 1_000_000_000,
            NOW + 2 * 86_400 * 1_000_000_001,
        ), // far future
    ];
    for (start, end) in cases {
        let mut s = span("t");
        s.start_time_unix_nano = start;
        s.end_time_unix_nano = end;
        let (j, p) = refused_both_ways(&request(vec![s]));
        assert_eq!(
            (j, p),
            (RefusalKind::InvalidTimestamp, RefusalKind::InvalidTimestamp),
            "{start}..{end}"
        );
    }
}

#[test]
fn too_many_spans_is_a_413() {
    let config = IngestConfig {
        max_spans_per_request: 3,
        ..IngestConfig::default()
    };
    let ingest = Ingest::new(config).unwrap();
    let four = request((0..4).map(|_| span("s")).collect());
    let r = ingest
        .process(&four.encode_to_vec(), Format::Protobuf, NOW)
        .unwrap_err();
    assert_eq!((r.kind, r.kind.status()), (RefusalKind::TooManySpans, 413));
    let three = request((0..3).map(|_| span("s")).collect());
    assert_eq!(
        ingest
            .process(&three.encode_to_vec(), Format::Protobuf, NOW)
            .unwrap()
            .spans,
        3
    );
}

#[test]
fn values_nested_deeper_than_the_limit_are_refused_and_decoder_limits_hold() {
    fn nest(depth: usize) -> AnyValue {
        let mut v = AnyValue {
            value: Some(Value::StringValue("leaf".into())),
        };
        for _ in 0..depth {
            v = AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
            };
        }
        v
    }
    let with_depth = |d: usize| {
        let mut s = span("deep");
        s.attributes.push(KeyValue {
            key: "deep".into(),
            value: Some(nest(d)),
        });
        request(vec![s])
    };
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let ok = with_depth(7);
    assert!(ingest
        .process(&ok.encode_to_vec(), Format::Protobuf, NOW)
        .is_ok());
    let (j, p) = refused_both_ways(&with_depth(8));
    assert_eq!((j, p), (RefusalKind::TooDeep, RefusalKind::TooDeep));
    // Far beyond the decoders' own recursion limits: still a refusal, not a stack overflow.
    let json = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"attributes":[{{"key":"k","value":{}"x"{}}}]}}]}}]}}]}}"#,
        r#"{"arrayValue":{"values":["#.repeat(5000),
        "]}}".repeat(5000)
    );
    assert_eq!(
        kind_of(&ingest, json.as_bytes(), Format::Json),
        RefusalKind::TooDeep
    );
    // A protobuf nested 5,000 levels deep, built from the inside out without recursion.
    let mut inner: Vec<u8> = Vec::new();
    for _ in 0..5000 {
        let mut arr = Vec::new(); // ArrayValue { values: [inner] }
        prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut arr);
        prost::encoding::encode_varint(inner.len() as u64, &mut arr);
        arr.extend_from_slice(&inner);
        let mut any = Vec::new(); // AnyValue { array_value: arr }
        prost::encoding::encode_key(5, prost::encoding::WireType::LengthDelimited, &mut any);
        prost::encoding::encode_varint(arr.len() as u64, &mut any);
        any.extend_from_slice(&arr);
        inner = any;
    }
    let mut s = span("deep").encode_to_vec();
    let mut kv = Vec::new();
    prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut kv);
    prost::encoding::encode_varint(1, &mut kv);
    kv.push(b'k');
    prost::encoding::encode_key(2, prost::encoding::WireType::LengthDelimited, &mut kv);
    prost::encoding::encode_varint(inner.len() as u64, &mut kv);
    kv.extend_from_slice(&inner);
    prost::encoding::encode_key(9, prost::encoding::WireType::LengthDelimited, &mut s);
    prost::encoding::encode_varint(kv.len() as u64, &mut s);
    s.extend_from_slice(&kv);
    let mut scope = Vec::new();
    prost::encoding::encode_key(2, prost::encoding::WireType::LengthDelimited, &mut scope);
    prost::encoding::encode_varint(s.len() as u64, &mut scope);
    scope.extend_from_slice(&s);
    let mut rs = Vec::new();
    prost::encoding::encode_key(2, prost::encoding::WireType::LengthDelimited, &mut rs);
    prost::encoding::encode_varint(scope.len() as u64, &mut rs);
    rs.extend_from_slice(&scope);
    let mut body = Vec::new();
    prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut body);
    prost::encoding::encode_varint(rs.len() as u64, &mut body);
    body.extend_from_slice(&rs);
    assert_eq!(
        kind_of(&ingest, &body, Format::Protobuf),
        RefusalKind::TooDeep
    );
}

#[test]
fn a_refusal_never_echoes_attribute_values() {
    let mut s = span("a");
    s.trace_id = vec![0; 16];
    s.attributes.push(KeyValue::string(
        "secret",
        "sk-hunter2hunter2hunter2hunter2",
    ));
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let r = ingest
        .process(&request(vec![s]).encode_to_vec(), Format::Protobuf, NOW)
        .unwrap_err();
    assert!(!r.message.contains("hunter2"), "{}", r.message);
}

#[test]
fn an_empty_request_is_accepted_with_nothing_to_relay() {
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let a = ingest.process(b"{}", Format::Json, NOW).unwrap();
    assert_eq!((a.spans, a.payloads.len()), (0, 0));
    let a = ingest.process(b"", Format::Protobuf, NOW).unwrap();
    assert_eq!((a.spans, a.payloads.len()), (0, 0));
}

#[test]
fn invalid_configuration_is_a_clear_error() {
    assert!(IngestConfig::from_json(r#"{"maxSpans":3}"#).is_err());
    assert!(IngestConfig::from_json(r#"{"maxSpansPerRequest":0}"#).is_err());
    let bad_pattern = IngestConfig {
        redact_patterns: vec!["(".into()],
        ..IngestConfig::default()
    };
    let e = Ingest::new(bad_pattern).unwrap_err().to_string();
    assert!(e.contains("redaction pattern"), "{e}");
    assert_eq!(
        IngestConfig::from_json("").unwrap().max_spans_per_request,
        5000
    );
}

/// A small body of many tiny values (an attribute of 600,000 empty values: 1.2 MB of protobuf,
/// a few KB gzipped) is refused before it is decoded, both ways; the same span with a few values
/// passes, and so does a request near the limit's size made of ordinary spans.
#[test]
fn a_body_of_too_many_values_is_refused_before_it_is_decoded() {
    let with_values = |n: usize| {
        let mut s = span("many");
        s.attributes.push(KeyValue {
            key: "empties".into(),
            value: Some(AnyValue {
                value: Some(Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue::default(); n],
                })),
            }),
        });
        request(vec![s])
    };
    assert_eq!(
        refused_both_ways(&with_values(600_000)),
        (RefusalKind::TooManyValues, RefusalKind::TooManyValues)
    );
    assert_eq!(RefusalKind::TooManyValues.status(), 413);
    assert_eq!(RefusalKind::TooManyValues.code(), "too_many_values");
    let ingest = Ingest::new(IngestConfig::default()).unwrap();
    let few = with_values(3);
    assert!(ingest
        .process(&few.encode_to_vec(), Format::Protobuf, NOW)
        .is_ok());
    assert!(ingest
        .process(&serde_json::to_vec(&few).unwrap(), Format::Json, NOW)
        .is_ok());
    // The most spans a request may hold, each with 30 attributes: well under the limit.
    let ordinary: Vec<Span> = (0..5000u32)
        .map(|i| {
            let mut s = span("ordinary");
            s.span_id = [i.to_be_bytes(), [1; 4]].concat();
            s.attributes = (0..30)
                .map(|k| KeyValue::string(&format!("app.k{k}"), "value"))
                .collect();
            s
        })
        .collect();
    let ordinary = request(ordinary);
    let r = ingest.process(&ordinary.encode_to_vec(), Format::Protobuf, NOW);
    assert!(r.is_ok(), "{:?}", r.err());
    assert!(ingest
        .process(&serde_json::to_vec(&ordinary).unwrap(), Format::Json, NOW)
        .is_ok());
}
