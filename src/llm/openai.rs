//! OpenAI's Chat Completions, Responses and Embeddings formats (and every OpenAI-compatible
//! service): usage, finish reasons, and stream reassembly.

use serde_json::{json, Map, Value};

use super::usage::{num, Usage};

/// An Embeddings response with its `data[].embedding` strings (`encoding_format: "base64"`, which
/// the official SDKs ask for by default and decode) turned into the numbers they hold: little-endian
/// float32s, each as the double the SDK gives the app. None when no embedding is such a string, or
/// one does not decode (the body is then shown as sent).
pub fn decode_embeddings(v: &Value) -> Option<Value> {
    use base64::Engine as _;
    let data = v.get("data")?.as_array()?;
    if !data
        .iter()
        .any(|d| d.get("embedding").is_some_and(Value::is_string))
    {
        return None;
    }
    let mut out = v.clone();
    for d in out.get_mut("data")?.as_array_mut()? {
        let Some(e) = d.get_mut("embedding") else {
            continue;
        };
        let Some(s) = e.as_str() else { continue };
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        if bytes.len() % 4 != 0 {
            return None;
        }
        let floats = bytes
            .chunks_exact(4)
            .map(|b| {
                let f = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                serde_json::Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number)
            })
            .collect();
        *e = Value::Array(floats);
    }
    Some(out)
}

/// Usage from a Chat Completions or Embeddings `usage` object.
///
/// OpenAI counts reasoning tokens in `completion_tokens`; xAI does not, and its `total_tokens`
/// adds them apart. Where the total says so, they are output tokens, shown and billed as such
/// (the AI SDK's xAI provider counts them so too).
pub fn chat_usage(u: &Value) -> Usage {
    let mut usage = Usage {
        input: num(u, &["prompt_tokens"]),
        output: num(u, &["completion_tokens"]),
        total: num(u, &["total_tokens"]),
        // DeepSeek reports its cache hits as `prompt_cache_hit_tokens` (and the rest as
        // `prompt_cache_miss_tokens`), with no `prompt_tokens_details`.
        cached: num(u, &["prompt_tokens_details", "cached_tokens"])
            .or_else(|| num(u, &["prompt_cache_hit_tokens"])),
        cache_creation: None,
        cache_creation_1h: None,
        reasoning: num(u, &["completion_tokens_details", "reasoning_tokens"]),
    };
    if let (Some(i), Some(o), Some(t), Some(r)) =
        (usage.input, usage.output, usage.total, usage.reasoning)
    {
        if r > 0 && t == i.saturating_add(o).saturating_add(r) {
            usage.output = Some(o.saturating_add(r));
        }
    }
    usage
}

/// Usage from a Responses `usage` object.
pub fn responses_usage(u: &Value) -> Usage {
    Usage {
        input: num(u, &["input_tokens"]),
        output: num(u, &["output_tokens"]),
        total: num(u, &["total_tokens"]),
        cached: num(u, &["input_tokens_details", "cached_tokens"]),
        cache_creation: None,
        cache_creation_1h: None,
        reasoning: num(u, &["output_tokens_details", "reasoning_tokens"]),
    }
}

/// Finish reason of the first choice of a chat completion.
pub fn chat_finish_reason(v: &Value) -> Option<String> {
    v.pointer("/choices/0/finish_reason")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[derive(Debug, Default)]
struct Choice {
    role: Option<String>,
    content: String,
    has_content: bool,
    /// Content streamed as an array of parts (Mistral's reasoning models send `thinking` parts,
    /// then `text` parts): the parts, each run of one kind joined into one part, as the
    /// non-streamed message holds them. Empty while the content comes as text.
    parts: Vec<Value>,
    refusal: Option<String>,
    /// Streamed reasoning, under the key the service streamed it as: `reasoning_content`
    /// (DeepSeek, xAI, vLLM) or `reasoning` (OpenRouter, Groq, Together, Ollama), the key its
    /// non-streamed message has it under.
    reasoning: Option<(&'static str, String)>,
    tool_calls: Vec<Map<String, Value>>,
    finish_reason: Option<String>,
}

/// Whether a content part carries generated text: a `text` part's text, or a `thinking` part's
/// (a string, or Mistral's array of text parts).
fn part_has_text(p: &Value) -> bool {
    let non_empty = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
    p.get("text").is_some_and(non_empty)
        || match p.get("thinking") {
            Some(Value::Array(a)) => a.iter().any(|t| t.get("text").is_some_and(non_empty)),
            Some(t) => non_empty(t),
            None => false,
        }
}

/// The text of a `thinking` part: a string, or Mistral's array of `{type: "text", text}` parts.
fn thinking_text(p: &Value) -> String {
    match p.get("thinking") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|t| t.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// Adds one streamed content part to `parts`: text onto a text part before it, thinking onto a
/// thinking part before it, any other part as it came.
fn push_part(parts: &mut Vec<Value>, p: &Value) {
    let kind = p.get("type").and_then(Value::as_str);
    let last_kind = parts
        .last()
        .and_then(|l| l.get("type"))
        .and_then(Value::as_str);
    match kind {
        Some("text") => {
            let t = p.get("text").and_then(Value::as_str).unwrap_or("");
            if last_kind == Some("text") {
                if let Some(Value::String(s)) = parts.last_mut().and_then(|l| l.get_mut("text")) {
                    s.push_str(t);
                    return;
                }
            }
            parts.push(json!({"type": "text", "text": t}));
        }
        Some("thinking") => {
            let t = thinking_text(p);
            if last_kind == Some("thinking") {
                if let Some(Value::String(s)) = parts
                    .last_mut()
                    .and_then(|l| l.pointer_mut("/thinking/0/text"))
                {
                    s.push_str(&t);
                    return;
                }
            }
            parts.push(json!({"type": "thinking", "thinking": [{"type": "text", "text": t}]}));
        }
        _ => parts.push(p.clone()),
    }
}

/// Whether a Chat Completions delta carries generated tokens. The first chunk usually holds only
/// the role and an empty content. `reasoning_content` (DeepSeek, vLLM) and `reasoning`
/// (OpenRouter) are how OpenAI-compatible services stream reasoning; a tool call's name is
/// generated as its arguments are.
fn delta_has_content(d: &Value) -> bool {
    let non_empty = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    ["content", "refusal", "reasoning_content", "reasoning"]
        .iter()
        .any(|k| non_empty(d.get(*k)))
        || d.get("content")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(part_has_text))
        || d.get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|tc| {
                non_empty(tc.pointer("/function/name"))
                    || non_empty(tc.pointer("/function/arguments"))
            })
}

/// Reassembles a Chat Completions stream into the non-streaming response shape. A legacy
/// Completions stream (`/v1/completions`, whose chunks carry `choices[].text`), which a base URL
/// registered as `openai` also serves, becomes a `text_completion` with each choice's `text`.
#[derive(Debug, Default)]
pub struct ChatStream {
    /// Whether the chunks are legacy Completions ones (`object: "text_completion"` or a choice
    /// with `text`).
    legacy: bool,
    id: Option<String>,
    model: Option<String>,
    created: Option<Value>,
    fingerprint: Option<Value>,
    choices: Vec<Choice>,
    /// Usage, from the final chunk when `stream_options.include_usage` was set.
    pub usage: Usage,
    usage_raw: Option<Value>,
    /// Whether `[DONE]` or an error chunk arrived.
    pub done: bool,
    /// The API's error, from a chunk holding `error` (how OpenAI fails a stream mid-way).
    pub error: Option<String>,
    /// Whether a chunk carried generated content: text, a refusal, reasoning or a tool call.
    pub has_content: bool,
}

impl ChatStream {
    /// Takes one SSE data payload.
    pub fn on_data(&mut self, data: &str) -> Result<(), String> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let v: Value = serde_json::from_str(data).map_err(|e| format!("chunk is not JSON: {e}"))?;
        // OpenAI fails a stream that has begun by sending a chunk holding only `error`, and its
        // SDK throws it as an `APIError`: it is the call's error, not a parsing problem. Some
        // compatible services put `"error": null` in ordinary chunks.
        if v.get("error").is_some_and(|e| !e.is_null()) {
            self.done = true;
            self.error = Some(super::error_message(&v).unwrap_or_else(|| "stream error".into()));
            return Ok(());
        }
        // Empty values are none: Azure OpenAI's first chunk, with its prompt's content-filter
        // results, has `"id": ""`, `"model": ""` and `"created": 0`.
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        self.legacy |= text("object").as_deref() == Some("text_completion");
        self.id = self.id.take().or_else(|| text("id"));
        self.model = self.model.take().or_else(|| text("model"));
        self.created = self.created.take().or_else(|| {
            v.get("created")
                .filter(|c| c.as_f64() != Some(0.0))
                .cloned()
        });
        self.fingerprint = self
            .fingerprint
            .take()
            .or_else(|| v.get("system_fingerprint").cloned());
        // Groq sends a stream's usage in its last chunk's `x_groq.usage`, with no `usage`.
        if let Some(u) = v
            .get("usage")
            .filter(|u| u.is_object())
            .or_else(|| v.pointer("/x_groq/usage").filter(|u| u.is_object()))
        {
            self.usage.merge(chat_usage(u));
            self.usage_raw = Some(u.clone());
        }
        for c in v
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let i = c.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            if i > 64 {
                continue;
            }
            while self.choices.len() <= i {
                self.choices.push(Choice::default());
            }
            let ch = &mut self.choices[i];
            if let Some(r) = c.get("finish_reason").and_then(Value::as_str) {
                ch.finish_reason = Some(r.to_owned());
            }
            if let Some(t) = c.get("text").and_then(Value::as_str) {
                self.legacy = true;
                self.has_content |= !t.is_empty();
                ch.content.push_str(t);
                ch.has_content = true;
            }
            let Some(d) = c.get("delta") else { continue };
            // Looked at only until the first content: `||` stops once it is true.
            self.has_content = self.has_content || delta_has_content(d);
            if let Some(r) = d.get("role").and_then(Value::as_str) {
                ch.role = Some(r.to_owned());
            }
            match d.get("content") {
                Some(Value::String(t)) if ch.parts.is_empty() => ch.content.push_str(t),
                Some(Value::String(t)) => {
                    push_part(&mut ch.parts, &json!({"type": "text", "text": t}))
                }
                Some(Value::Array(a)) => {
                    if ch.parts.is_empty() && !ch.content.is_empty() {
                        let t = std::mem::take(&mut ch.content);
                        ch.parts.push(json!({"type": "text", "text": t}));
                    }
                    for p in a {
                        push_part(&mut ch.parts, p);
                    }
                }
                _ => {}
            }
            // An empty content (the first chunk's, with the role) is none: a message of only tool
            // calls or a refusal has `content: null`, as the non-streamed one has.
            ch.has_content |= match d.get("content") {
                Some(Value::String(t)) => !t.is_empty(),
                Some(Value::Array(a)) => !a.is_empty(),
                _ => false,
            };
            for k in ["reasoning_content", "reasoning"] {
                if let Some(t) = d.get(k).and_then(Value::as_str) {
                    match &mut ch.reasoning {
                        Some((key, r)) if *key == k => r.push_str(t),
                        Some(_) => {}
                        None => ch.reasoning = Some((k, t.to_owned())),
                    }
                }
            }
            if let Some(t) = d.get("refusal").and_then(Value::as_str) {
                ch.refusal.get_or_insert_with(String::new).push_str(t);
            }
            for tc in d
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let ti = tc.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                if ti > 128 {
                    continue;
                }
                while ch.tool_calls.len() <= ti {
                    ch.tool_calls.push(Map::new());
                }
                let slot = &mut ch.tool_calls[ti];
                for k in ["id", "type"] {
                    if let Some(x) = tc.get(k).filter(|x| !x.is_null()) {
                        slot.insert(k.to_owned(), x.clone());
                    }
                }
                if let Some(f) = tc.get("function") {
                    let func = slot
                        .entry("function")
                        .or_insert_with(|| json!({"name": "", "arguments": ""}));
                    if let Some(n) = f.get("name").and_then(Value::as_str) {
                        func["name"] =
                            json!(format!("{}{}", func["name"].as_str().unwrap_or(""), n));
                    }
                    if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                        func["arguments"] =
                            json!(format!("{}{}", func["arguments"].as_str().unwrap_or(""), a));
                    }
                }
            }
        }
        Ok(())
    }

    /// Finish reason of the first choice.
    pub fn finish_reason(&self) -> Option<String> {
        self.choices.first().and_then(|c| c.finish_reason.clone())
    }

    /// The reassembled `chat.completion` (a `text_completion` for a legacy Completions stream).
    pub fn output(&self) -> Value {
        let choices = self.choices.iter().enumerate();
        let (object, choices): (_, Vec<Value>) = if self.legacy {
            let choices = choices.map(|(i, c)| {
                json!({"index": i, "text": c.content, "logprobs": null, "finish_reason": c.finish_reason})
            });
            ("text_completion", choices.collect())
        } else {
            let choices = choices.map(|(i, c)| {
                let content = if !c.parts.is_empty() {
                    Value::Array(c.parts.clone())
                } else if c.has_content || (c.tool_calls.is_empty() && c.refusal.is_none()) {
                    json!(c.content)
                } else {
                    Value::Null
                };
                let mut msg = json!({
                    "role": c.role.clone().unwrap_or_else(|| "assistant".into()),
                    "content": content,
                });
                if let Some((key, r)) = &c.reasoning {
                    msg[*key] = json!(r);
                }
                if let Some(r) = &c.refusal {
                    msg["refusal"] = json!(r);
                }
                if !c.tool_calls.is_empty() {
                    let calls = c.tool_calls.iter().cloned().map(typed_tool_call);
                    msg["tool_calls"] = Value::Array(calls.collect());
                }
                json!({"index": i, "message": msg, "finish_reason": c.finish_reason})
            });
            ("chat.completion", choices.collect())
        };
        let mut out = json!({
            "id": self.id, "object": object, "created": self.created, "model": self.model,
            "choices": choices,
        });
        if let Some(u) = &self.usage_raw {
            out["usage"] = u.clone();
        }
        if let Some(f) = &self.fingerprint {
            out["system_fingerprint"] = f.clone();
        }
        out
    }
}

/// A streamed tool call, reassembled, as a message holds it: a function call is `"type":
/// "function"`, as in OpenAI's messages, also where the service streams none (Mistral, Workers AI).
pub fn typed_tool_call(mut tc: Map<String, Value>) -> Value {
    if tc.contains_key("function") && !tc.contains_key("type") {
        tc.insert("type".into(), json!("function"));
    }
    Value::Object(tc)
}

/// Reassembles a Responses stream: `response.completed` carries the whole response; until it
/// arrives, the text deltas are kept.
#[derive(Debug, Default)]
pub struct ResponsesStream {
    text: String,
    response: Option<Value>,
    /// The response `response.created` (then `.in_progress`) sent, until a final one arrives.
    started: Option<Value>,
    /// An `error` event's `code`, `message` and `param`, as the API sent them.
    error_event: Option<Value>,
    /// Usage from the final response.
    pub usage: Usage,
    /// Whether a terminal event arrived.
    pub done: bool,
    /// The error of a `response.failed` / `error` event.
    pub error: Option<String>,
    /// Whether an event carried generated content.
    pub has_content: bool,
}

impl ResponsesStream {
    /// Takes one SSE event.
    pub fn on_event(&mut self, event: Option<&str>, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("event is not JSON: {e}"))?;
        let kind = event
            .or_else(|| v.get("type").and_then(Value::as_str))
            .unwrap_or("");
        // Every event that streams generated content (text, refusals, reasoning, function-call
        // and tool inputs, audio) is a `*.delta` event; `response.created` and the events that
        // open output items and parts carry none.
        if kind.ends_with(".delta") {
            self.has_content = self.has_content
                || match v.get("delta") {
                    Some(Value::String(s)) => !s.is_empty(),
                    None | Some(Value::Null) => false,
                    Some(_) => true,
                };
        }
        match kind {
            "response.output_text.delta" => {
                if let Some(d) = v.get("delta").and_then(Value::as_str) {
                    self.text.push_str(d);
                }
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                self.done = true;
                if let Some(r) = v.get("response") {
                    if let Some(u) = r.get("usage") {
                        self.usage.merge(responses_usage(u));
                    }
                    if let Some(m) = r.pointer("/error/message").and_then(Value::as_str) {
                        self.error = Some(m.to_owned());
                    }
                    self.response = Some(r.clone());
                }
            }
            "response.created" | "response.in_progress" => {
                if let Some(r) = v.get("response").filter(|r| r.is_object()) {
                    self.started = Some(r.clone());
                }
            }
            "error" => {
                self.done = true;
                self.error = Some(
                    v.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("stream error")
                        .to_owned(),
                );
                let mut e = serde_json::Map::new();
                for k in ["code", "message", "param"] {
                    if let Some(x) = v.get(k) {
                        e.insert(k.into(), x.clone());
                    }
                }
                self.error_event = Some(Value::Object(e));
            }
            _ => {}
        }
        Ok(())
    }

    /// The final response; without one, the response the stream started with (its id, model and
    /// time) with the text gathered so far, `status` `failed` after an `error` event (and its
    /// `error`) or `incomplete` for a stream cut short.
    pub fn output(&self) -> Value {
        if let Some(r) = &self.response {
            return r.clone();
        }
        let mut out = self
            .started
            .clone()
            .unwrap_or_else(|| json!({"object": "response", "output": []}));
        out["status"] = json!(if self.error.is_some() {
            "failed"
        } else {
            "incomplete"
        });
        if !self.text.is_empty() {
            out["output"] = json!([{"type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": self.text, "annotations": []}]}]);
        }
        if let Some(e) = &self.error_event {
            out["error"] = e.clone();
        }
        out
    }

    /// The status of the final response.
    pub fn finish_reason(&self) -> Option<String> {
        self.response
            .as_ref()?
            .get("status")?
            .as_str()
            .map(str::to_owned)
    }
}
