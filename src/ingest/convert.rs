//! Conversion of other SDKs' LLM conventions to MLflow's span attributes.
//!
//! MLflow reads `mlflow.spanType`, `mlflow.spanInputs`, `mlflow.spanOutputs` and
//! `mlflow.chat.tokenUsage`, and leaves a span's type empty when they are missing. Spans from
//! OpenTelemetry SDKs that follow the GenAI semantic conventions (`gen_ai.*`) or OpenInference
//! (`openinference.span.kind`, `input.value`, `llm.token_count.*`) get those attributes derived
//! here. Attributes already present (edgetrace's own spans carry them) are never overwritten.

use serde_json::{json, Map, Value as Json};

use crate::otlp::wire::{AnyValue, KeyValue, Span, Value};
use crate::span::SpanType;
use crate::tracer::LOG_LEVEL;

const SPAN_TYPE: &str = "mlflow.spanType";
const INPUTS: &str = "mlflow.spanInputs";
const OUTPUTS: &str = "mlflow.spanOutputs";
const TOKEN_USAGE: &str = "mlflow.chat.tokenUsage";

/// Adds MLflow's attributes to a span that follows the GenAI or OpenInference conventions;
/// true when it added any.
pub fn to_mlflow(span: &mut Span) -> bool {
    let attrs = &span.attributes;
    let derived = if let Some(kind) = get_str(attrs, "openinference.span.kind") {
        open_inference(attrs, kind)
    } else if attrs.iter().any(|kv| kv.key.starts_with("gen_ai.")) {
        gen_ai(attrs)
    } else {
        return false;
    };
    let mut added = false;
    for (key, value) in derived {
        if get(&span.attributes, key).is_none() {
            span.attributes.push(KeyValue::string(key, value));
            added = true;
        }
    }
    added
}

fn open_inference(attrs: &[KeyValue], kind: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let input_messages = oi_messages(attrs, "llm.input_messages.");
    let output_messages = oi_messages(attrs, "llm.output_messages.");
    let ty = match kind.to_ascii_uppercase().as_str() {
        "LLM" if !input_messages.is_empty() => "CHAT_MODEL".to_owned(),
        "" => "UNKNOWN".to_owned(),
        other => other.to_owned(),
    };
    out.push((SPAN_TYPE, ty));
    if let Some(v) = oi_value(attrs, "input") {
        out.push((INPUTS, v));
    } else if !input_messages.is_empty() {
        out.push((INPUTS, json!({ "messages": input_messages }).to_string()));
    }
    if let Some(v) = oi_value(attrs, "output") {
        out.push((OUTPUTS, v));
    } else if !output_messages.is_empty() {
        out.push((OUTPUTS, json!({ "messages": output_messages }).to_string()));
    }
    let usage = usage(
        get_int(attrs, "llm.token_count.prompt"),
        get_int(attrs, "llm.token_count.completion"),
        get_int(attrs, "llm.token_count.total"),
    );
    out.extend(usage.map(|u| (TOKEN_USAGE, u)));
    out
}

/// `input.value` as JSON text: raw when its mime type says JSON and it parses, else a JSON string.
fn oi_value(attrs: &[KeyValue], prefix: &str) -> Option<String> {
    let value = get_str(attrs, &format!("{prefix}.value"))?;
    let mime = get_str(attrs, &format!("{prefix}.mime_type")).unwrap_or("");
    if mime.contains("json") && serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok() {
        Some(value.to_owned())
    } else {
        Some(Json::String(value.to_owned()).to_string())
    }
}

/// OpenInference's flattened messages (`llm.input_messages.0.message.role`, `….content`).
fn oi_messages(attrs: &[KeyValue], prefix: &str) -> Vec<Json> {
    let mut msgs: Vec<(usize, Map<String, Json>)> = Vec::new();
    for kv in attrs {
        let Some(rest) = kv.key.strip_prefix(prefix) else {
            continue;
        };
        let Some((index, field)) = rest.split_once(".message.") else {
            continue;
        };
        let (Ok(index), Some(text)) = (index.parse::<usize>(), as_str(kv.value.as_ref())) else {
            continue;
        };
        if field != "role" && field != "content" && field != "name" {
            continue;
        }
        let slot = match msgs.iter().position(|(i, _)| *i == index) {
            Some(p) => p,
            None => {
                msgs.push((index, Map::new()));
                msgs.len() - 1
            }
        };
        msgs[slot]
            .1
            .insert(field.to_owned(), Json::String(text.to_owned()));
    }
    msgs.sort_by_key(|(i, _)| *i);
    msgs.into_iter().map(|(_, m)| Json::Object(m)).collect()
}

fn gen_ai(attrs: &[KeyValue]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let ty = match get_str(attrs, "gen_ai.operation.name").unwrap_or("") {
        "chat" | "generate_content" => "CHAT_MODEL",
        "embeddings" => "EMBEDDING",
        "execute_tool" => "TOOL",
        "invoke_agent" | "create_agent" => "AGENT",
        _ => "LLM",
    };
    out.push((SPAN_TYPE, ty.to_owned()));
    let inputs = json_attr(attrs, "gen_ai.input.messages")
        .map(|m| json!({ "messages": m }))
        .or_else(|| json_attr(attrs, "gen_ai.tool.call.arguments"))
        .or_else(|| json_attr(attrs, "gen_ai.prompt"));
    out.extend(inputs.map(|v| (INPUTS, v.to_string())));
    let outputs = json_attr(attrs, "gen_ai.output.messages")
        .map(|m| json!({ "messages": m }))
        .or_else(|| json_attr(attrs, "gen_ai.tool.call.result"))
        .or_else(|| json_attr(attrs, "gen_ai.completion"));
    out.extend(outputs.map(|v| (OUTPUTS, v.to_string())));
    let usage = usage(
        get_int(attrs, "gen_ai.usage.input_tokens")
            .or_else(|| get_int(attrs, "gen_ai.usage.prompt_tokens")),
        get_int(attrs, "gen_ai.usage.output_tokens")
            .or_else(|| get_int(attrs, "gen_ai.usage.completion_tokens")),
        None,
    );
    out.extend(usage.map(|u| (TOKEN_USAGE, u)));
    out
}

fn usage(input: Option<i64>, output: Option<i64>, total: Option<i64>) -> Option<String> {
    if input.is_none() && output.is_none() && total.is_none() {
        return None;
    }
    let (i, o) = (input.unwrap_or(0), output.unwrap_or(0));
    let total = total.unwrap_or(i.saturating_add(o));
    Some(json!({ "input_tokens": i, "output_tokens": o, "total_tokens": total }).to_string())
}

/// A value as JSON: a string attribute holding JSON text is parsed, other strings stay strings,
/// arrays and key-value lists become JSON arrays and objects.
fn json_attr(attrs: &[KeyValue], key: &str) -> Option<Json> {
    get(attrs, key).map(any_to_json)
}

fn any_to_json(v: &AnyValue) -> Json {
    match &v.value {
        Some(Value::StringValue(s)) => {
            let t = s.trim_start();
            if t.starts_with('{') || t.starts_with('[') {
                serde_json::from_str(s).unwrap_or_else(|_| Json::String(s.clone()))
            } else {
                Json::String(s.clone())
            }
        }
        Some(Value::BoolValue(b)) => Json::Bool(*b),
        Some(Value::IntValue(n)) => json!(n),
        Some(Value::DoubleValue(n)) => json!(n),
        Some(Value::ArrayValue(a)) => Json::Array(a.values.iter().map(any_to_json).collect()),
        Some(Value::KvlistValue(l)) => Json::Object(
            l.values
                .iter()
                .map(|kv| {
                    let v = kv.value.as_ref().map_or(Json::Null, any_to_json);
                    (kv.key.clone(), v)
                })
                .collect(),
        ),
        Some(Value::BytesValue(_)) | None => Json::Null,
    }
}

fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

fn as_str(v: Option<&AnyValue>) -> Option<&str> {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn get_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    as_str(get(attrs, key))
}

fn get_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match get(attrs, key).and_then(|v| v.value.as_ref())? {
        Value::IntValue(n) => Some(*n),
        Value::DoubleValue(n) if n.is_finite() => Some(*n as i64),
        Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Adds `mlflow.spanLogLevel` to a span that has none, by the rule edgetrace's server cores follow
/// ([`crate::span::log_level`], after MLflow's own spans): INFO for a span whose `mlflow.spanType`
/// or OpenInference kind is one MLflow shows at INFO, and for a GenAI operation (a model call, an
/// embedding, a tool call or an agent step, all INFO). Spans from browsers (whose cores leave it
/// out: their bytes up front have no room for it) and from other SDKs get it here. True when it
/// added one.
pub fn log_level(span: &mut Span) -> bool {
    if get(&span.attributes, LOG_LEVEL).is_some() {
        return false;
    }
    let failed = span.status.as_ref().is_some_and(|s| s.code == 2)
        || span.events.iter().any(|e| e.name == "exception");
    let info = get_str(&span.attributes, SPAN_TYPE)
        .or_else(|| get_str(&span.attributes, "openinference.span.kind"))
        .is_some_and(|t| SpanType::parse(&t.to_ascii_uppercase()).is_info())
        || get(&span.attributes, "gen_ai.operation.name").is_some();
    let Some(level) = crate::span::log_level(failed, info) else {
        return false;
    };
    span.attributes.push(KeyValue {
        key: LOG_LEVEL.to_owned(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(level)),
        }),
    });
    true
}

/// Drops the span's attributes that would set MLflow's own trace tags (`mlflow.traceTag.mlflow.*`:
/// where a trace's spans are stored, its archive, its scorer…), which MLflow keeps for its own
/// bookkeeping: a sender holding a public key must not rewrite them (one such tag set wrong makes
/// a trace impossible to load). The trace's name (`mlflow.traceTag.mlflow.traceName`), which
/// MLflow reads as the name and not as a tag, stays. Returns how many were dropped.
pub fn drop_reserved_tags(span: &mut Span) -> usize {
    let before = span.attributes.len();
    span.attributes.retain(|kv| {
        !kv.key.starts_with("mlflow.traceTag.mlflow.") || kv.key == crate::trace::TRACE_NAME
    });
    before - span.attributes.len()
}
