//! Checks of the JS boundary shared by the Node and Chromium wasm-bindgen-test files.

use edgetrace::bindings::{Core, STATE, STATS};

fn stat(core: &mut Core, path: &[&str]) -> f64 {
    let name = path.join(".");
    let i = STATS
        .iter()
        .chain(STATE.iter())
        .position(|s| *s == name)
        .unwrap();
    core.counts()[i]
}

pub fn nested_spans_encode_into_one_batch() {
    let mut c = Core::from_json_config(r#"{"serviceName":"wasm-test"}"#, 1).unwrap();
    let root = c.start_root(0, "root", "AGENT");
    assert_ne!(root, 0);
    let child = c.start(0, root, "child", "TOOL");
    assert_ne!(child, 0);
    assert!(c.set_inputs(child, r#"{"q":"x"}"#));
    assert!(c.set_num(child, "n", 3.0));
    assert!(c.end(child));
    assert!(c.end(root));
    let tid = c.trace_id(root);
    assert!(tid.is_none(), "an ended span has no trace id lookup");
    let body = c.take_batch(false).expect("a batch");
    assert_eq!(stat(&mut c, &["lastBatchSpans"]), 2.0);
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains(r#""name":"child""#), "{text}");
    assert!(
        text.contains(r#"{"key":"mlflow.spanType","value":{"stringValue":"TOOL"}}"#),
        "{text}"
    );
    assert!(text.contains(r#""intValue":"3""#), "{text}");
    assert!(c.take_batch(false).is_none());
    assert_eq!(stat(&mut c, &["exported"]), 2.0);
}

pub fn misuse_returns_failure_and_keeps_the_trace() {
    let mut c = Core::from_json_config("", 2).unwrap();
    let root = c.start_root(0, "root", "CHAIN");
    assert_eq!(c.start(0, 987_654, "orphan", "TOOL"), 0);
    assert!(c.last_error().unwrap().contains("987654"));
    assert!(!c.end(424_242));
    assert_eq!(c.start_remote(0, "00-zz-yy-01", "remote", "CHAIN"), 0);
    assert!(c.last_error().unwrap().contains("traceparent"));
    assert!(!c.update_trace(root, "{not json"));
    let big = "é".repeat(40_000);
    assert!(c.set_str(root, "big", &big));
    assert!(c.end(root));
    assert!(!c.end(root), "ended twice");
    let body = c.take_batch(true).expect("the root is kept");
    assert_eq!(stat(&mut c, &["lastBatchSpans"]), 1.0);
    assert!(
        body.len() < 40_000,
        "the big value was truncated: {}",
        body.len()
    );
    assert_eq!(stat(&mut c, &["unknownHandles"]), 3.0);
    assert_eq!(stat(&mut c, &["truncatedValues"]), 1.0);
}

pub fn ids_are_random_and_traceparent_continues_a_trace() {
    let mut c = Core::from_json_config("", 2).unwrap();
    let a = c.start_root(0, "a", "");
    let b = c.start_root(0, "b", "");
    let ta = c.trace_id(a).unwrap();
    assert_eq!(ta.len(), 32);
    assert_ne!(ta, c.trace_id(b).unwrap());
    let tp = c.traceparent(a).unwrap();
    let r = c.start_remote(0, &tp, "remote", "CHAIN");
    assert_eq!(c.trace_id(r).unwrap(), ta);
    assert_eq!(c.counts().len(), STATS.len() + STATE.len());
}

/// A configuration in the core's binary form, as `init()` writes it: options with number values.
fn config(fields: &[(&str, f64)]) -> Vec<u8> {
    let mut out = (fields.len() as u32).to_le_bytes().to_vec();
    for (key, value) in fields {
        out.push(0);
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key.as_bytes());
        out.push(2);
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

pub fn bad_config_is_a_clear_error() {
    // The constructor never throws: a refused configuration is in last_error, read at once.
    let refused = |bytes: &[u8]| Core::new(bytes, 0.0, 0, 1).last_error();
    assert_eq!(
        refused(&config(&[
            ("maxExportBytes", 30_000.0),
            ("sampleRatio", 0.5)
        ])),
        None
    );
    assert_eq!(refused(&config(&[])), None);
    for (key, value, says) in [
        ("maxExportBytes", 0.0, "maxExportBytes must be at least 1"),
        (
            "maxExportBytes",
            1.5,
            "maxExportBytes must be a whole number",
        ),
        ("sampleRatio", 2.0, "sampleRatio must be between 0 and 1"),
        ("nope", 1.0, "unknown field `nope`"),
    ] {
        let e = refused(&config(&[(key, value)])).expect("refused");
        assert!(
            e.starts_with("invalid configuration: ") && e.contains(says),
            "{e}"
        );
    }
    let mut cut = config(&[("maxEvents", 3.0)]);
    cut.pop();
    let e = refused(&cut).expect("a truncated configuration is refused");
    assert_eq!(e, "invalid configuration: the configuration is malformed");
    assert!(Core::from_json_config(r#"{"maxExportBytes":0}"#, 3).is_err());
}
