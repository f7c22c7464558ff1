//! Ollama's own API (`/api/chat` and `/api/generate`, as the `ollama` npm package calls it):
//! usage, finish reasons, and its stream, which is newline-delimited JSON, not SSE. Shapes as
//! the `ollama` package declares them (`ChatResponse`, `GenerateResponse`, `Message`).

use serde_json::{json, Value};

use super::sse::{SseEvent, SseParser};
use super::usage::{num, Usage};

/// Usage from a response (or a stream's last object): `prompt_eval_count` input tokens and
/// `eval_count` output tokens.
pub fn usage(v: &Value) -> Usage {
    Usage {
        input: num(v, &["prompt_eval_count"]),
        output: num(v, &["eval_count"]),
        ..Usage::default()
    }
}

/// Why generation stopped (`done_reason`: `stop`, `length`, `load`, …).
pub fn finish_reason(v: &Value) -> Option<String> {
    v.get("done_reason")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}

/// A response, or the next request that sends it back, as recorded: its `context`, the
/// conversation's token ids a generation answers with (thousands of numbers, of no use to read,
/// which would leave no room for the answer or the prompt in `maxValueBytes`), as their count
/// (`"[3000 token ids]"`). None when it has none.
pub fn for_mlflow(v: &Value) -> Option<Value> {
    let n = v.get("context")?.as_array()?.len();
    let mut out = v.clone();
    out["context"] = json!(format!("[{n} token ids]"));
    Some(out)
}

/// Tool calls kept from a stream at most; more are dropped.
const MAX_TOOL_CALLS: usize = 128;

/// Reassembles a streamed `/api/chat` or `/api/generate` response into the non-streamed one: the
/// last object (`done: true`, with the counts and `done_reason`) with the text of every object
/// before it: `message.content`, `message.thinking` and `message.tool_calls` for a chat,
/// `response` and `thinking` for a generation. An object holding `error` is the call's error (the
/// `ollama` package throws it).
#[derive(Debug, Default)]
pub struct OllamaStream {
    /// The line being read, until its newline arrives.
    line: Vec<u8>,
    /// The first object, and then the last: what the reassembled response is built on.
    last: Option<Value>,
    content: String,
    thinking: String,
    tool_calls: Vec<Value>,
    /// Whether the objects are a generation's (`response`), not a chat's (`message`).
    generate: bool,
    /// Usage from the last object.
    pub usage: Usage,
    finish: Option<String>,
    /// Whether an object carried generated content.
    pub has_content: bool,
    /// Whether the last object (`done: true`) or an error arrived.
    pub done: bool,
    /// The server's error, from an object holding `error`.
    pub error: Option<String>,
}

impl OllamaStream {
    /// Splits the body's `bytes` into its lines, each an event's data (`sse` counts the bytes
    /// and the lines that were not UTF-8, as it does for SSE).
    pub fn feed(&mut self, sse: &mut SseParser, bytes: &[u8]) -> Vec<SseEvent> {
        sse.bytes += bytes.len() as u64;
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                self.take_line(&mut out, &mut sse.invalid_utf8_lines);
            } else {
                self.line.push(b);
            }
        }
        out
    }

    /// The last line, where the body ended without a newline after it.
    pub fn finish(&mut self, sse: &mut SseParser) -> Option<SseEvent> {
        let mut out = Vec::new();
        self.take_line(&mut out, &mut sse.invalid_utf8_lines);
        out.pop()
    }

    /// Drops a line the reader stopped inside.
    pub fn abandon(&mut self) {
        self.line.clear();
    }

    fn take_line(&mut self, out: &mut Vec<SseEvent>, invalid_utf8: &mut u64) {
        let data = super::sse::utf8_counted(std::mem::take(&mut self.line), invalid_utf8);
        if !data.trim().is_empty() {
            out.push(SseEvent { event: None, data });
        }
    }

    /// Takes one object of the stream (one line).
    pub fn on_data(&mut self, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("line is not JSON: {e}"))?;
        if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
            self.done = true;
            self.error = Some(e.as_str().map_or_else(|| e.to_string(), str::to_owned));
            return Ok(());
        }
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
        let (content, thinking) = match v.get("message") {
            Some(m) => {
                for tc in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.has_content = true;
                    if self.tool_calls.len() < MAX_TOOL_CALLS {
                        self.tool_calls.push(tc.clone());
                    }
                }
                (text(m.get("content")), text(m.get("thinking")))
            }
            None => {
                self.generate |= v.get("response").is_some();
                (text(v.get("response")), text(v.get("thinking")))
            }
        };
        self.has_content |= !content.is_empty() || !thinking.is_empty();
        self.content.push_str(&content);
        self.thinking.push_str(&thinking);
        if v.get("done").and_then(Value::as_bool) == Some(true) {
            self.done = true;
            self.usage.merge(usage(&v));
            self.finish = finish_reason(&v);
            self.last = Some(v);
        } else if self.last.is_none() {
            self.last = Some(v);
        }
        Ok(())
    }

    /// Why generation stopped, from the last object.
    pub fn finish_reason(&self) -> Option<String> {
        self.finish.clone()
    }

    /// The reassembled response: the last object (or, for a stream cut short, the first, with
    /// `done: false`) holding the whole text.
    pub fn output(&self) -> Value {
        let Some(mut out) = self.last.clone().filter(Value::is_object) else {
            return Value::Null;
        };
        if self.generate {
            out["response"] = json!(self.content);
            if !self.thinking.is_empty() {
                out["thinking"] = json!(self.thinking);
            }
        } else {
            let role = out
                .pointer("/message/role")
                .cloned()
                .unwrap_or_else(|| json!("assistant"));
            let mut msg = json!({"role": role, "content": self.content});
            if !self.thinking.is_empty() {
                msg["thinking"] = json!(self.thinking);
            }
            if !self.tool_calls.is_empty() {
                msg["tool_calls"] = Value::Array(self.tool_calls.clone());
            }
            out["message"] = msg;
        }
        if !self.done {
            out["done"] = json!(false);
        }
        for_mlflow(&out).unwrap_or(out)
    }
}
