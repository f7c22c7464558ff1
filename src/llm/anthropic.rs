//! Anthropic's Messages format: usage, stop reasons, and stream reassembly.

use serde_json::{json, Value};

use super::usage::{num, Usage};

/// Usage from a Messages `usage` object. Anthropic's `input_tokens` excludes cache reads and
/// writes, which are reported apart. Anthropic sends no total: it is input + output, computed
/// when written (a stream's `message_delta` carries only the output count).
pub fn usage(u: &Value) -> Usage {
    Usage {
        input: num(u, &["input_tokens"]),
        output: num(u, &["output_tokens"]),
        total: None,
        cached: num(u, &["cache_read_input_tokens"]),
        cache_creation: num(u, &["cache_creation_input_tokens"]),
        cache_creation_1h: num(u, &["cache_creation", "ephemeral_1h_input_tokens"]),
        reasoning: None,
    }
}

/// Reassembles a Messages stream into the non-streaming `message` shape.
#[derive(Debug, Default)]
pub struct MessagesStream {
    message: Option<Value>,
    blocks: Vec<Value>,
    partial_json: Vec<String>,
    stop_reason: Option<String>,
    stop_sequence: Option<Value>,
    /// Usage: input from `message_start`, output from `message_delta`.
    pub usage: Usage,
    usage_raw: serde_json::Map<String, Value>,
    /// Whether `message_stop` arrived.
    pub done: bool,
    /// The error of an `error` event.
    pub error: Option<String>,
    /// Whether an event carried generated content.
    pub has_content: bool,
}

/// Whether a block, as `content_block_start` opens it, already holds generated content. Text and
/// thinking blocks open empty and fill through deltas; a tool-use block opens with the tool's name
/// and a redacted thinking block with its data.
fn block_has_content(b: &Value) -> bool {
    let non_empty = |k: &str| {
        b.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    match b.get("type").and_then(Value::as_str) {
        Some("text") => non_empty("text"),
        Some("thinking") => non_empty("thinking"),
        Some(_) => true,
        None => false,
    }
}

impl MessagesStream {
    /// Takes one SSE event.
    pub fn on_event(&mut self, event: Option<&str>, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("event is not JSON: {e}"))?;
        let kind = event
            .or_else(|| v.get("type").and_then(Value::as_str))
            .unwrap_or("");
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
        match kind {
            "message_start" => {
                if let Some(m) = v.get("message") {
                    if !m.is_object() {
                        return Err("message_start's message is not an object".into());
                    }
                    if let Some(u) = m.get("usage") {
                        self.usage.merge(usage(u));
                        if let Some(o) = u.as_object() {
                            self.usage_raw.extend(o.clone());
                        }
                    }
                    self.message = Some(m.clone());
                }
            }
            "content_block_start" if index <= 256 => {
                while self.blocks.len() <= index {
                    self.blocks.push(Value::Null);
                    self.partial_json.push(String::new());
                }
                // Deltas and stops write into the block, so only an object (or nothing) is kept.
                match v.get("content_block") {
                    Some(b) if b.is_object() => {
                        self.has_content = self.has_content || block_has_content(b);
                        self.blocks[index] = b.clone();
                    }
                    None | Some(Value::Null) => self.blocks[index] = Value::Null,
                    Some(_) => {
                        self.blocks[index] = Value::Null;
                        return Err("content_block_start's content_block is not an object".into());
                    }
                }
            }
            "content_block_delta" if index < self.blocks.len() => {
                let d = v.get("delta").cloned().unwrap_or(Value::Null);
                let block = &mut self.blocks[index];
                let delta_text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
                // Looked at only until the first content: `||` stops once it is true.
                self.has_content = self.has_content
                    || !delta_text("text").is_empty()
                    || !delta_text("thinking").is_empty()
                    || !delta_text("partial_json").is_empty();
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let t = d.get("text").and_then(Value::as_str).unwrap_or("");
                        let old = block
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned();
                        block["text"] = json!(old + t);
                    }
                    Some("input_json_delta") => {
                        self.partial_json[index]
                            .push_str(d.get("partial_json").and_then(Value::as_str).unwrap_or(""));
                    }
                    Some("thinking_delta") => {
                        let t = d.get("thinking").and_then(Value::as_str).unwrap_or("");
                        let old = block
                            .get("thinking")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned();
                        block["thinking"] = json!(old + t);
                    }
                    // The Anthropic SDKs' stream accumulators set the signature from the delta
                    // (the API sends it whole, in one delta, at the end of the thinking block).
                    Some("signature_delta") => {
                        if let Some(s) = d.get("signature") {
                            block["signature"] = s.clone();
                        }
                    }
                    // As in the SDKs, each citation is appended to the text block's citations.
                    Some("citations_delta") => {
                        if let Some(c) = d.get("citation") {
                            match block.get_mut("citations") {
                                Some(Value::Array(list)) => list.push(c.clone()),
                                _ => block["citations"] = json!([c]),
                            }
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" if index < self.blocks.len() => {
                let pj = std::mem::take(&mut self.partial_json[index]);
                if !pj.is_empty() {
                    self.blocks[index]["input"] =
                        serde_json::from_str(&pj).unwrap_or_else(|_| json!({"_unparsed": pj}));
                }
            }
            "message_delta" => {
                if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(r.to_owned());
                }
                if let Some(s) = v.pointer("/delta/stop_sequence") {
                    self.stop_sequence = Some(s.clone());
                }
                if let Some(u) = v.get("usage") {
                    self.usage.merge(usage(u));
                    if let Some(o) = u.as_object() {
                        self.usage_raw.extend(o.clone());
                    }
                }
            }
            "message_stop" => self.done = true,
            "error" => {
                self.done = true;
                self.error = Some(
                    v.pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("stream error")
                        .to_owned(),
                );
            }
            _ => {} // ping and future event types
        }
        Ok(())
    }

    /// The stop reason.
    pub fn finish_reason(&self) -> Option<String> {
        self.stop_reason.clone()
    }

    /// The reassembled `message`.
    pub fn output(&self) -> Value {
        let mut m = self
            .message
            .clone()
            .unwrap_or_else(|| json!({"type": "message", "role": "assistant"}));
        m["content"] = Value::Array(
            self.blocks
                .iter()
                .filter(|b| !b.is_null())
                .cloned()
                .collect(),
        );
        m["stop_reason"] = json!(self.stop_reason);
        m["stop_sequence"] = self.stop_sequence.clone().unwrap_or(Value::Null);
        if !self.usage_raw.is_empty() {
            m["usage"] = Value::Object(self.usage_raw.clone());
        }
        m
    }
}
