//! Wrong input from JS is reported as an `Error` and changes nothing else: unknown or ended
//! handles, unknown contexts, malformed ids and headers. Huge values are cut and marked while
//! the rest of the trace is kept; any Unicode survives both encoders.

mod common;

use common::*;
use edgetrace::attribute::{AttrValue, Limits, TRUNCATION_MARKER};
use edgetrace::error::Error;
use edgetrace::id::{SpanId, TraceId};
use edgetrace::otlp::Format;
use edgetrace::propagation::parse_traceparent;
use edgetrace::span::{SpanType, StatusCode};
use edgetrace::trace::TraceUpdate;
use edgetrace::tracer::{Config, Parent, Tracer};

/// Every operation that takes a handle, tried on `h`; each must fail with `UnknownSpan(h)`.
fn every_handle_op_fails(t: &mut Tracer, h: u32) {
    let big = "x".repeat(1 << 20);
    let results: Vec<(&str, Result<(), Error>)> = vec![
        ("end_span", t.end_span(h)),
        ("end_span_at", t.end_span_at(h, 1)),
        ("set_inputs", t.set_inputs(h, &format!("\"{big}\""))),
        ("set_outputs", t.set_outputs(h, &big)),
        (
            "set_attribute",
            t.set_attribute(h, "k", AttrValue::Str(big.clone().into())),
        ),
        ("set_name", t.set_name(h, &big)),
        ("set_span_type", t.set_span_type(h, SpanType::Tool)),
        ("set_status", t.set_status(h, StatusCode::Error, "x")),
        ("add_event", t.add_event(h, "e", vec![])),
        ("record_exception", t.record_exception(h, "E", "m", "")),
        ("update_trace", t.update_trace(h, TraceUpdate::default())),
        ("trace_id", t.trace_id(h).map(|_| ())),
        ("span_id", t.span_id(h).map(|_| ())),
        ("traceparent", t.traceparent(h).map(|_| ())),
        (
            "start_span under it",
            t.start_span(0, Parent::Span(h), "child", SpanType::Chain)
                .map(|_| ()),
        ),
    ];
    for (op, r) in results {
        assert_eq!(r, Err(Error::UnknownSpan(h)), "{op} with handle {h}");
    }
}

const HANDLE_OPS: u64 = 15;

#[test]
fn never_issued_handles_are_errors_that_change_nothing_else() {
    let (mut t, _clock) = tracer(Config::default());
    let live = t
        .start_span(0, Parent::Current, "live", SpanType::Chain)
        .unwrap();
    let before = t.stats();
    for h in [0, 2, 999, u32::MAX] {
        every_handle_op_fails(&mut t, h);
    }
    let after = t.stats();
    assert_eq!(
        after.unknown_handles,
        before.unknown_handles + 4 * HANDLE_OPS
    );
    // Nothing but the counter moved: no truncation counted for the huge values, no span started.
    let mut expected = before.clone();
    expected.unknown_handles = after.unknown_handles;
    assert_eq!(after, expected);
    assert_eq!(t.open_spans(), 1);
    assert_eq!(t.queued(), 0);
    assert_eq!(t.current_span(0).unwrap(), Some(live));
}

#[test]
fn a_span_ended_twice_is_reported_the_second_time() {
    let (mut t, _clock) = tracer(Config::default());
    let h = t
        .start_span(0, Parent::Current, "once", SpanType::Chain)
        .unwrap();
    t.end_span(h).unwrap();
    assert_eq!(t.end_span(h), Err(Error::UnknownSpan(h)));
    every_handle_op_fails(&mut t, h);
    let stats = t.stats();
    assert_eq!(stats.ended, 1);
    assert_eq!(stats.unknown_handles, 1 + HANDLE_OPS);
    assert_eq!(stats.truncated_values, 0);
    let spans = export_all(&mut t, Format::Json);
    assert_eq!(spans.len(), 1, "the span is exported once");
    // Ended without a status it is OK (as MLflow does); the late ERROR did not apply.
    assert_eq!(spans[0].status.as_ref().unwrap().code, 1);
}

#[test]
fn unknown_contexts_are_errors() {
    let (mut t, _clock) = tracer(Config::default());
    for ctx in [1, 7, u32::MAX] {
        assert_eq!(
            t.start_span(ctx, Parent::Current, "s", SpanType::Chain),
            Err(Error::UnknownContext(ctx))
        );
        assert_eq!(t.current_span(ctx), Err(Error::UnknownContext(ctx)));
        assert_eq!(t.close_context(ctx), Err(Error::UnknownContext(ctx)));
    }
    let stats = t.stats();
    assert_eq!(stats.started, 0);
    assert_eq!(t.open_spans(), 0);
    assert!(Error::UnknownContext(7).to_string().contains('7'));
}

#[test]
fn invalid_id_strings_are_refused() {
    for bad in [
        "",
        "0af7",
        "0af7651916cd43dd8448eb211c80319",   // 31 digits
        "0af7651916cd43dd8448eb211c80319c0", // 33 digits
        "0af7651916cd43dd8448eb211c80319g",
        "00000000000000000000000000000000",
        " 0af7651916cd43dd8448eb211c80319",
        "0af7651916cd43dd8448eb211c8031é",
        "🤖🤖🤖🤖🤖🤖🤖🤖",
    ] {
        assert!(
            matches!(TraceId::from_hex(bad), Err(Error::InvalidId(_))),
            "trace id {bad:?}"
        );
    }
    for bad in [
        "",
        "b7ad6b716920333",
        "b7ad6b71692033311",
        "0000000000000000",
        "b7ad6b716920333z",
        "ü7ad6b71692033",
    ] {
        assert!(
            matches!(SpanId::from_hex(bad), Err(Error::InvalidId(_))),
            "span id {bad:?}"
        );
    }
    assert!(SpanId::from_slice(&[1, 2, 3]).is_err());
    assert!(TraceId::from_slice(&[1; 15]).is_err());
    assert!(TraceId::from_bytes([0; 16]).is_err());
    assert_eq!(
        TraceId::from_hex("0AF7651916CD43DD8448EB211C80319C")
            .unwrap()
            .to_hex(),
        "0af7651916cd43dd8448eb211c80319c",
        "uppercase is read, lowercase written"
    );
    assert!(Error::InvalidId("x").to_string().starts_with("invalid id"));
}

#[test]
fn invalid_traceparents_are_refused() {
    for bad in [
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0é736-00f067aa0ba902b7-01",
    ] {
        assert_eq!(
            parse_traceparent(bad),
            Err(Error::InvalidTraceparent),
            "{bad:?}"
        );
    }
    let ok =
        parse_traceparent(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ").unwrap();
    assert!(ok.sampled);
    assert_eq!(ok.trace_id.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[test]
fn huge_values_are_cut_and_marked_and_the_rest_of_the_trace_is_kept() {
    let limits = Limits::default();
    let (mut t, _clock) = tracer(Config::default());
    let root = t
        .start_span(0, Parent::Current, "root", SpanType::Agent)
        .unwrap();
    let child = t
        .start_span(0, Parent::Current, "child", SpanType::Llm)
        .unwrap();
    let huge_json = serde_json::json!({ "text": "y".repeat(1 << 20) }).to_string();
    t.set_inputs(child, &huge_json).unwrap();
    t.set_attribute(child, "big", AttrValue::Str("z".repeat(100_000).into()))
        .unwrap();
    t.set_attribute(
        child,
        "big_json",
        AttrValue::Json(format!("[\"{}\"]", "w".repeat(50_000)).into()),
    )
    .unwrap();
    t.set_name(child, &"n".repeat(5_000)).unwrap();
    t.set_attribute(child, "small", AttrValue::Int(7.into()))
        .unwrap();
    t.set_outputs(child, "{\"ok\":true}").unwrap();
    t.end_span(child).unwrap();
    t.end_span(root).unwrap();
    assert_eq!(t.stats().truncated_values, 4);

    for format in [Format::Json, Format::Protobuf] {
        let (mut t2, _c) = tracer(Config::default());
        let r = t2
            .start_span(0, Parent::Current, "root", SpanType::Agent)
            .unwrap();
        let c = t2
            .start_span(0, Parent::Current, "child", SpanType::Llm)
            .unwrap();
        t2.set_inputs(c, &huge_json).unwrap();
        t2.set_attribute(c, "big", AttrValue::Str("z".repeat(100_000).into()))
            .unwrap();
        t2.set_name(c, &"n".repeat(5_000)).unwrap();
        t2.set_attribute(c, "small", AttrValue::Int(7.into()))
            .unwrap();
        t2.end_span(c).unwrap();
        t2.end_span(r).unwrap();
        let payloads = drain(&mut t2, format);
        // Two 32 KiB values make the child bigger than a request may be: it travels alone,
        // marked oversize, and the root follows in a normal batch.
        assert_eq!(payloads.len(), 2);
        assert!(payloads[0].oversize && payloads[0].spans == 1 && payloads[0].body.len() > 60_000);
        assert!(!payloads[1].oversize && payloads[1].body.len() <= 60_000);
        let spans: Vec<_> = payloads.iter().flat_map(|p| spans(&decode(p))).collect();
        assert_eq!(spans.len(), 2, "{format:?}: the whole trace is exported");
        let cut = spans.iter().find(|s| s.name != "root").unwrap();
        assert!(cut.name.len() <= limits.max_name_bytes);
        assert!(
            cut.name.starts_with("nnnn") && cut.name.ends_with("original bytes: 5000]"),
            "{}",
            cut.name
        );

        let inputs = str_attr(cut, "mlflow.spanInputs").unwrap();
        assert!(inputs.len() <= limits.max_value_bytes, "{}", inputs.len());
        let parsed: serde_json::Value =
            serde_json::from_str(inputs).expect("cut inputs are still JSON");
        let text = parsed.as_str().expect("cut JSON becomes a JSON string");
        assert!(text.starts_with("{\"text\":\"yyyy"));
        assert!(text.ends_with(&format!("{TRUNCATION_MARKER}{}]", huge_json.len())));

        let big = str_attr(cut, "big").unwrap();
        assert!(big.len() <= limits.max_value_bytes && big.len() > limits.max_value_bytes - 100);
        assert!(big.contains(TRUNCATION_MARKER) && big.ends_with("100000]"));
        assert_eq!(
            attr(cut, "small"),
            Some(&edgetrace::otlp::wire::Value::IntValue(7))
        );
        assert!(by_name(&spans, "root").parent_span_id.is_empty());
    }
}

#[test]
fn escape_heavy_json_keeps_what_fits_instead_of_collapsing() {
    // Inputs that are mostly quotes double in size when they become a JSON string; truncation
    // must still keep about half the budget, not cut everything away.
    let (mut t, _clock) = tracer(Config::default());
    let h = t
        .start_span(0, Parent::Current, "s", SpanType::Chain)
        .unwrap();
    let quotes = serde_json::Value::String("\"".repeat(100_000)).to_string();
    t.set_inputs(h, &quotes).unwrap();
    t.end_span(h).unwrap();
    let spans = export_all(&mut t, Format::Json);
    let inputs = str_attr(&spans[0], "mlflow.spanInputs").unwrap();
    let max = Limits::default().max_value_bytes;
    assert!(inputs.len() <= max);
    let text: String = serde_json::from_str(inputs).unwrap();
    assert!(
        text.len() > max / 2 - 100,
        "kept only {} bytes of {max}",
        text.len()
    );
    assert!(text.starts_with("\"\\\"\\\""));
}

#[test]
fn text_that_is_not_json_becomes_a_json_string() {
    let (mut t, _clock) = tracer(Config::default());
    let h = t
        .start_span(0, Parent::Current, "s", SpanType::Chain)
        .unwrap();
    t.set_inputs(h, "what is {MLflow}?").unwrap();
    t.set_outputs(h, "").unwrap();
    t.end_span(h).unwrap();
    let spans = export_all(&mut t, Format::Json);
    assert_eq!(
        str_attr(&spans[0], "mlflow.spanInputs"),
        Some("\"what is {MLflow}?\"")
    );
    assert_eq!(str_attr(&spans[0], "mlflow.spanOutputs"), Some("\"\""));
}

#[test]
fn unicode_survives_both_encoders_unchanged() {
    let name = "réponse 🤖 答え \u{0} \u{7f} \u{200d} \u{10ffff}";
    let value = "ÄÖÜ ß € 🏳️‍🌈 \"quoted\" \\ back\nslash\ttab \u{1} \u{fffd}";
    let inputs = serde_json::json!({ "question": "Was ist MLflow? 日本語 😀" }).to_string();
    for format in [Format::Json, Format::Protobuf] {
        let (mut t, _clock) = tracer(Config::default());
        let h = t
            .start_span(0, Parent::Current, name, SpanType::Chain)
            .unwrap();
        t.set_attribute(h, "ключ.🔑", AttrValue::Str(value.into()))
            .unwrap();
        t.set_inputs(h, &inputs).unwrap();
        t.add_event(
            h,
            "événement",
            vec![("détail".into(), AttrValue::Str("ü".into()))],
        )
        .unwrap();
        t.end_span(h).unwrap();
        let spans = export_all(&mut t, format);
        let s = &spans[0];
        assert_eq!(s.name, name, "{format:?}");
        assert_eq!(str_attr(s, "ключ.🔑"), Some(value), "{format:?}");
        assert_eq!(str_attr(s, "mlflow.spanInputs"), Some(inputs.as_str()));
        assert_eq!(s.events[0].name, "événement");
    }
}

#[test]
fn names_are_cut_on_a_character_boundary() {
    let (mut t, _clock) = tracer(Config::default());
    let long = "é".repeat(2_000); // 4000 bytes, 2 per char
    let h = t
        .start_span(0, Parent::Current, &long, SpanType::Chain)
        .unwrap();
    t.end_span(h).unwrap();
    let spans = export_all(&mut t, Format::Protobuf);
    let n = &spans[0].name;
    assert!(n.len() <= 1024, "{}", n.len());
    assert!(n.starts_with("éé"));
    assert!(n.ends_with("original bytes: 4000]"));
    assert_eq!(t.stats().truncated_values, 1);
}
