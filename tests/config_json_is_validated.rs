//! `Config::from_json` reads the camelCase options `init()` passes, fills in defaults, and
//! refuses anything it cannot use instead of silently ignoring it.

mod common;

use common::*;
use edgetrace::attribute::{AttrValue, Limits};
use edgetrace::batch::BatchConfig;
use edgetrace::error::Error;
use edgetrace::otlp::{wire, Format};
use edgetrace::span::SpanType;
use edgetrace::tracer::{Config, Parent};

fn invalid(json: &str) -> String {
    match Config::from_json(json) {
        Err(Error::InvalidConfig(why)) => why,
        other => panic!("{json} was accepted: {other:?}"),
    }
}

#[test]
fn empty_input_gives_the_documented_defaults() {
    for text in ["", "  ", "{}"] {
        let c = Config::from_json(text).unwrap();
        assert_eq!(c, Config::default(), "{text:?}");
    }
    let c = Config::default();
    assert_eq!(c.resource.service_name, "edgetrace");
    assert_eq!(c.sample_ratio, 1.0);
    assert_eq!(
        c.batch,
        BatchConfig {
            max_queue_spans: 2048,
            max_queue_bytes: 8 * 1024 * 1024,
            max_batch_spans: 512,
            max_export_bytes: 60_000,
        }
    );
    assert_eq!(
        c.limits,
        Limits {
            max_value_bytes: 32 * 1024,
            max_attributes: 128,
            max_events: 128,
            max_name_bytes: 1024,
        }
    );
}

#[test]
fn every_option_is_read() {
    let c = Config::from_json(
        r#"{"serviceName":"chat-ui","resourceAttributes":{"deployment.environment":"prod"},
            "sampleRatio":0.25,"maxQueueSpans":10,"maxQueueBytes":20000,"maxBatchSpans":5,
            "maxExportBytes":30000,"maxValueBytes":4096,"maxAttributes":16,"maxEvents":8,
            "maxNameBytes":128}"#,
    )
    .unwrap();
    assert_eq!(c.resource.service_name, "chat-ui");
    assert_eq!(
        c.resource.attributes,
        vec![(
            "deployment.environment".to_owned(),
            AttrValue::Str("prod".into())
        )]
    );
    assert_eq!(c.sample_ratio, 0.25);
    assert_eq!(
        c.batch,
        BatchConfig {
            max_queue_spans: 10,
            max_queue_bytes: 20_000,
            max_batch_spans: 5,
            max_export_bytes: 30_000,
        }
    );
    assert_eq!(
        c.limits,
        Limits {
            max_value_bytes: 4096,
            max_attributes: 16,
            max_events: 8,
            max_name_bytes: 128,
        }
    );
}

#[test]
fn bad_options_are_refused_with_a_reason() {
    assert!(
        invalid(r#"{"maxExportByte":1}"#).contains("maxExportByte"),
        "typos are named"
    );
    assert!(invalid(r#"{"service_name":"x"}"#).contains("service_name"));
    assert!(invalid(r#"{"sampleRatio":1.5}"#).contains("sampleRatio"));
    assert!(invalid(r#"{"sampleRatio":-0.1}"#).contains("sampleRatio"));
    for key in [
        "maxQueueSpans",
        "maxQueueBytes",
        "maxBatchSpans",
        "maxExportBytes",
        "maxValueBytes",
        "maxAttributes",
        "maxEvents",
        "maxNameBytes",
    ] {
        assert!(
            invalid(&format!("{{\"{key}\":0}}")).contains(key),
            "{key}: 0"
        );
        invalid(&format!("{{\"{key}\":-1}}"));
        invalid(&format!("{{\"{key}\":\"10\"}}"));
        invalid(&format!("{{\"{key}\":1.5}}"));
    }
    // Each names the one option that is too small (init() takes maxValueBytes, not maxNameBytes).
    assert_eq!(
        invalid(r#"{"maxValueBytes":63}"#),
        "maxValueBytes must be at least 64"
    );
    assert_eq!(
        invalid(r#"{"maxNameBytes":10}"#),
        "maxNameBytes must be at least 64"
    );
    invalid(r#"{"serviceName":42}"#);
    invalid(r#"{"resourceAttributes":[1,2]}"#);
    invalid("not json");
    invalid("[]");
    invalid(r#"["svc"]"#); // serde alone would read an array positionally
    invalid("null");
    invalid(r#"{"serviceName":"a"} trailing"#);
    assert!(Config::from_json(r#"{"maxValueBytes":64,"maxNameBytes":64}"#).is_ok());
    assert!(Config::from_json(r#"{"sampleRatio":0}"#).is_ok());
    assert!(Config::from_json(r#"{"sampleRatio":1}"#).is_ok());
}

#[test]
fn resource_attributes_keep_their_types_and_reach_the_resource() {
    let c = Config::from_json(
        r#"{"serviceName":"svc","resourceAttributes":{"s":"x","i":3,"d":2.5,"b":true,
            "o":{"k":[1,2]},"service.name":"ignored"}}"#,
    )
    .unwrap();
    let attr = |k: &str| {
        c.resource
            .attributes
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(attr("s"), Some(AttrValue::Str("x".into())));
    assert_eq!(attr("i"), Some(AttrValue::Int(3.into())));
    assert_eq!(attr("d"), Some(AttrValue::Double(2.5.into())));
    assert_eq!(attr("b"), Some(AttrValue::Bool(true)));
    assert_eq!(attr("o"), Some(AttrValue::Json(r#"{"k":[1,2]}"#.into())));

    // The encoder writes service.name once, from serviceName.
    let (mut t, _clock) = tracer(c.clone());
    let h = t
        .start_span(0, Parent::Current, "s", SpanType::Chain)
        .unwrap();
    t.end_span(h).unwrap();
    let body = t.take_batch(Format::Json).unwrap().body;
    let req = decode_json(&body);
    let res = req.resource_spans[0].resource.as_ref().unwrap();
    let names: Vec<_> = res
        .attributes
        .iter()
        .filter(|kv| kv.key == "service.name")
        .collect();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0], &wire::KeyValue::string("service.name", "svc"));
    assert!(res.attributes.iter().any(|kv| kv.key == "i"
        && kv.value.as_ref().and_then(|v| v.value.clone()) == Some(wire::Value::IntValue(3))));
}

#[test]
fn service_name_may_come_from_resource_attributes() {
    let c = Config::from_json(r#"{"resourceAttributes":{"service.name":"from-attrs"}}"#).unwrap();
    assert_eq!(c.resource.service_name, "from-attrs");
    let c = Config::from_json(r#"{"resourceAttributes":{"service.name":7}}"#).unwrap();
    assert_eq!(
        c.resource.service_name, "edgetrace",
        "only a string names the service"
    );
}

#[test]
fn limits_from_json_apply_to_spans() {
    let c = Config::from_json(r#"{"maxAttributes":2,"maxEvents":1,"maxValueBytes":100}"#).unwrap();
    let (mut t, _clock) = tracer(c);
    let h = t
        .start_span(0, Parent::Current, "s", SpanType::Chain)
        .unwrap();
    for k in ["a", "b", "c", "d"] {
        t.set_attribute(h, k, AttrValue::Str("v".repeat(500).into()))
            .unwrap();
    }
    t.set_attribute(h, "a", AttrValue::Int(1.into())).unwrap(); // replacing a key is always allowed
    t.add_event(h, "one", vec![]).unwrap();
    t.add_event(h, "two", vec![]).unwrap();
    t.add_event(h, "three", vec![]).unwrap();
    t.end_span(h).unwrap();
    let stats = t.stats();
    assert_eq!(stats.dropped_attributes, 2);
    assert_eq!(stats.dropped_events, 2);
    assert_eq!(
        stats.truncated_values, 4,
        "every 500-byte value was cut, dropped or not"
    );

    let spans = export_all(&mut t, Format::Json);
    let s = &spans[0];
    assert_eq!(attr(s, "a"), Some(&wire::Value::IntValue(1)));
    assert!(str_attr(s, "b").unwrap().len() <= 100);
    assert_eq!(attr(s, "c"), None);
    assert_eq!(
        attr(s, "edgetrace.dropped_attributes"),
        Some(&wire::Value::IntValue(2))
    );
    assert_eq!(
        attr(s, "edgetrace.dropped_events"),
        Some(&wire::Value::IntValue(2))
    );
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].name, "one");
}
