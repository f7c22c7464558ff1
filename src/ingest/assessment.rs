//! Feedback on a trace, checked before the service relays it to MLflow's
//! `POST /api/3.0/mlflow/traces/{trace_id}/assessments`.
//!
//! The body is MLflow's `CreateAssessment` as JSON (`{"assessment": {...}}`, snake_case, as
//! MLflow's Python client and edgetrace's `logFeedback` send it). Only feedback is taken: an
//! expectation (a ground truth, set by whoever builds the evaluation) or an override is refused
//! from a client key. The assessment is rebuilt from the fields MLflow reads, so nothing else the
//! sender put in (ids, times, `valid`) reaches MLflow, and the redaction rules run over its text:
//! the rationale, the value's strings and the metadata.
//!
//! ```
//! use edgetrace::ingest::{Ingest, IngestConfig};
//! let ingest = Ingest::new(IngestConfig::default()).unwrap();
//! let id = "tr-5b8efff798038103d269b633813fc60c";
//! let out = ingest.assessment(br#"{"assessment":{"assessment_name":"thumbs","feedback":{"value":true}}}"#, id).unwrap();
//! assert!(out.json.contains(r#""source_type":"HUMAN""#));
//! assert!(ingest.assessment(br#"{"assessment":{"assessment_name":"x","expectation":{"value":1}}}"#, id).is_err());
//! ```

use serde_json::{Map, Value};

use super::redact::Redactor;
use super::refusal::{Refusal, RefusalKind};

/// MLflow's limit on an assessment's name and a source's id (their database columns).
pub const MAX_NAME: usize = 250;
/// Most metadata entries one assessment carries.
pub const MAX_METADATA: usize = 50;
/// Deepest nesting of a feedback value.
pub const MAX_DEPTH: usize = 8;

const SOURCES: [&str; 3] = ["HUMAN", "LLM_JUDGE", "CODE"];

/// A checked assessment: the body to relay, and how many of its strings redaction changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessed {
    /// `{"assessment": {...}}`, rebuilt from the fields MLflow reads.
    pub json: String,
    /// Strings the redaction rules changed.
    pub redacted: usize,
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal::new(RefusalKind::InvalidAssessment, message)
}

/// Whether `id` is MLflow's id of an OpenTelemetry trace: `tr-` and 32 lowercase hex digits, not
/// all zeros.
pub fn is_trace_id(id: &str) -> bool {
    id.strip_prefix("tr-").is_some_and(|hex| {
        hex.len() == 32
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && hex.bytes().any(|b| b != b'0')
    })
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Redacts every string in `v`; returns how many changed.
fn redact_value(redactor: &Redactor, v: &mut Value) -> usize {
    match v {
        Value::String(s) => usize::from(redactor.redact_text(s)),
        Value::Array(a) => a.iter_mut().map(|i| redact_value(redactor, i)).sum(),
        Value::Object(o) => o.values_mut().map(|i| redact_value(redactor, i)).sum(),
        _ => 0,
    }
}

fn string_field<'a>(a: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Refusal> {
    match a.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

/// Checks `body`, feedback on trace `trace_id` (the route's, `tr-<32 hex>`), and rebuilds it.
pub fn check(body: &[u8], trace_id: &str, redactor: &Redactor) -> Result<Assessed, Refusal> {
    if !is_trace_id(trace_id) {
        return Err(Refusal::new(
            RefusalKind::InvalidId,
            format!("the trace id in the path must be tr- and 32 lowercase hex digits, not {trace_id:?}"),
        ));
    }
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        Refusal::new(
            RefusalKind::MalformedJson,
            format!("the body is not JSON: {e}"),
        )
    })?;
    let Some(Value::Object(a)) = root.get("assessment") else {
        return Err(bad(
            "the body must be {\"assessment\": {...}}, MLflow's CreateAssessment",
        ));
    };
    if a.get("expectation").is_some_and(|v| !v.is_null())
        || a.get("overrides").is_some_and(|v| !v.is_null())
    {
        return Err(bad(
            "only feedback is taken here: expectations and overrides are set in MLflow itself",
        ));
    }
    if let Some(id) = string_field(a, "trace_id")? {
        if id != trace_id {
            return Err(bad(format!("trace_id {id:?} is not the path's {trace_id}")));
        }
    }
    let name = string_field(a, "assessment_name")?.unwrap_or("");
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        return Err(bad(format!(
            "assessment_name must be a non-empty string of at most {MAX_NAME} characters"
        )));
    }
    let Some(Value::Object(feedback)) = a.get("feedback") else {
        return Err(bad(
            "feedback must be an object with a value: {\"feedback\": {\"value\": ...}}",
        ));
    };
    let Some(value) = feedback.get("value") else {
        return Err(bad("feedback has no value"));
    };
    if depth(value) > MAX_DEPTH {
        return Err(bad(format!(
            "feedback.value is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let mut out = Map::new();
    out.insert("assessment_name".into(), Value::String(name.to_owned()));
    out.insert("trace_id".into(), Value::String(trace_id.to_owned()));
    if let Some(span) = string_field(a, "span_id")? {
        if span.len() != 16 || !span.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("span_id must be 16 hex digits, not {span:?}")));
        }
        out.insert("span_id".into(), Value::String(span.to_ascii_lowercase()));
    }
    let (source_type, source_id) = match a.get("source") {
        None | Some(Value::Null) => ("HUMAN", "default"),
        Some(Value::Object(s)) => {
            let t = string_field(s, "source_type")?.unwrap_or("HUMAN");
            if !SOURCES.contains(&t) {
                return Err(bad(format!(
                    "source.source_type must be one of {}, not {t:?}",
                    SOURCES.join(", ")
                )));
            }
            let id = string_field(s, "source_id")?.unwrap_or("default");
            if id.chars().count() > MAX_NAME {
                return Err(bad(format!(
                    "source.source_id is longer than {MAX_NAME} characters"
                )));
            }
            (t, id)
        }
        Some(_) => {
            return Err(bad(
                "source must be an object: {\"source_type\": ..., \"source_id\": ...}",
            ))
        }
    };
    let mut source = Map::new();
    source.insert("source_type".into(), Value::String(source_type.into()));
    source.insert("source_id".into(), Value::String(source_id.into()));
    out.insert("source".into(), Value::Object(source));
    let mut redacted = 0;
    let mut value = value.clone();
    redacted += redact_value(redactor, &mut value);
    let mut fb = Map::new();
    fb.insert("value".into(), value);
    out.insert("feedback".into(), Value::Object(fb));
    if let Some(r) = string_field(a, "rationale")? {
        let mut r = r.to_owned();
        redacted += usize::from(redactor.redact_text(&mut r));
        out.insert("rationale".into(), Value::String(r));
    }
    match a.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            if m.len() > MAX_METADATA {
                return Err(bad(format!(
                    "metadata has more than {MAX_METADATA} entries"
                )));
            }
            let mut meta = Map::new();
            for (k, v) in m {
                let Value::String(s) = v else {
                    return Err(bad(format!(
                        "metadata.{k} must be a string (MLflow keeps metadata as strings)"
                    )));
                };
                let mut s = s.clone();
                redacted += usize::from(redactor.redact_text(&mut s));
                meta.insert(k.clone(), Value::String(s));
            }
            out.insert("metadata".into(), Value::Object(meta));
        }
        Some(_) => return Err(bad("metadata must be an object of strings")),
    }
    let mut root = Map::new();
    root.insert("assessment".into(), Value::Object(out));
    Ok(Assessed {
        json: Value::Object(root).to_string(),
        redacted,
    })
}
