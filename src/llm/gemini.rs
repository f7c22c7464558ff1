//! Google Gemini's generateContent format: usage, finish reasons, and stream reassembly.

use serde_json::{json, Value};

use super::usage::{num, Usage};

/// Usage from `usageMetadata`.
pub fn usage(u: &Value) -> Usage {
    Usage {
        input: num(u, &["promptTokenCount"]),
        output: num(u, &["candidatesTokenCount"]),
        total: num(u, &["totalTokenCount"]),
        cached: num(u, &["cachedContentTokenCount"]),
        cache_creation: None,
        cache_creation_1h: None,
        reasoning: num(u, &["thoughtsTokenCount"]),
    }
}

/// Finish reason of the first candidate.
pub fn finish_reason(v: &Value) -> Option<String> {
    v.pointer("/candidates/0/finishReason")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Reassembles a `streamGenerateContent?alt=sse` stream: text parts are joined, the last usage
/// and finish reason win.
#[derive(Debug, Default)]
pub struct GeminiStream {
    text: String,
    other_parts: Vec<Value>,
    finish: Option<String>,
    usage_raw: Option<Value>,
    model_version: Option<Value>,
    /// Usage from the last chunk carrying it.
    pub usage: Usage,
    /// Whether a chunk carried generated content (a part other than empty text).
    pub has_content: bool,
}

impl GeminiStream {
    /// Takes one SSE data payload.
    pub fn on_data(&mut self, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("chunk is not JSON: {e}"))?;
        if let Some(u) = v.get("usageMetadata") {
            self.usage.merge(usage(u));
            self.usage_raw = Some(u.clone());
        }
        if let Some(m) = v.get("modelVersion") {
            self.model_version = Some(m.clone());
        }
        if let Some(f) = finish_reason(&v) {
            self.finish = Some(f);
        }
        for part in v
            .pointer("/candidates/0/content/parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.has_content = self.has_content
                || match part.get("text") {
                    Some(t) => t.as_str().is_some_and(|t| !t.is_empty()),
                    // A function call, code, inline data: anything but an empty part.
                    None => part.as_object().is_some_and(|o| !o.is_empty()),
                };
            match part.get("text").and_then(Value::as_str) {
                Some(t) => self.text.push_str(t),
                None if self.other_parts.len() < 256 => self.other_parts.push(part.clone()),
                None => {}
            }
        }
        Ok(())
    }

    /// The finish reason.
    pub fn finish_reason(&self) -> Option<String> {
        self.finish.clone()
    }

    /// The reassembled response.
    pub fn output(&self) -> Value {
        let mut parts = Vec::new();
        if !self.text.is_empty() {
            parts.push(json!({"text": self.text}));
        }
        parts.extend(self.other_parts.iter().cloned());
        let mut out = json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": self.finish}]});
        if let Some(u) = &self.usage_raw {
            out["usageMetadata"] = u.clone();
        }
        if let Some(m) = &self.model_version {
            out["modelVersion"] = m.clone();
        }
        out
    }
}
