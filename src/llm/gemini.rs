//! Google Gemini's generateContent format: usage, finish reasons, stream reassembly, and the
//! shape MLflow's UI renders Gemini chats in.

use serde_json::{json, Map, Value};

use super::sse::{SseEvent, SseParser};
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

/// A key renamed, from the wire's to MLflow's, and the keys inside its value renamed likewise.
struct Rename(&'static str, &'static str, &'static [Rename]);

/// The part keys the REST API writes in camelCase and MLflow's UI reads only in snake_case, with
/// the keys inside them it reads.
const RENAMED_PARTS: &[Rename] = &[
    Rename("functionCall", "function_call", &[]),
    Rename("functionResponse", "function_response", &[]),
    Rename(
        "inlineData",
        "inline_data",
        &[Rename("mimeType", "mime_type", &[])],
    ),
    Rename(
        "fileData",
        "file_data",
        &[
            Rename("mimeType", "mime_type", &[]),
            Rename("fileUri", "file_uri", &[]),
        ],
    ),
];

/// Renames each key of `renames` in `o` that is there, unless its new name is there already, and
/// the keys inside the renamed values. Whether it renamed any.
///
/// The map is rebuilt rather than its keys removed and inserted again: `Map::remove` would link
/// the BTreeMap's removal code for this alone (~4 KB of the parsers' wasm, 1.6 KB of its gzip).
/// No two renames share a key, so each is checked against the map as it was (`due`, one bit per
/// rename: at most 32); a `Map` keeps its keys sorted either way.
fn rename_keys(o: &mut Map<String, Value>, renames: &[Rename]) -> bool {
    let mut due = 0u32;
    for (n, r) in renames.iter().enumerate() {
        if o.contains_key(r.0) && !o.contains_key(r.1) {
            due |= 1 << n;
        }
    }
    if due == 0 {
        return false;
    }
    for (k, mut v) in std::mem::take(o) {
        let r = (renames.iter().enumerate()).find(|(n, r)| due >> n & 1 != 0 && r.0 == k);
        let k = match r {
            Some((_, Rename(_, to, inner))) => {
                if let Some(i) = v.as_object_mut() {
                    rename_keys(i, inner);
                }
                (*to).to_owned()
            }
            None => k,
        };
        o.insert(k, v);
    }
    true
}

/// One part in the shape MLflow's UI reads (see [`for_mlflow`]). Whether anything changed.
fn part_for_mlflow(part: &mut Value) -> bool {
    part.as_object_mut()
        .is_some_and(|o| rename_keys(o, RENAMED_PARTS))
}

/// The parts of a `Content` (`{role, parts}`) in the shape MLflow's UI reads. Whether anything
/// changed.
fn content_for_mlflow(content: &mut Value) -> bool {
    let mut changed = false;
    if let Some(parts) = content.get_mut("parts").and_then(Value::as_array_mut) {
        for p in parts {
            changed |= part_for_mlflow(p);
        }
    }
    changed
}

/// A Gemini request or response as edgetrace records it for MLflow, or None when it is to be
/// recorded as sent.
///
/// The recorded JSON differs from the wire JSON on purpose: the REST API writes a part's keys in
/// camelCase (`functionCall`, `functionResponse`, `inlineData` with `mimeType`, `fileData` with
/// `fileUri`), but MLflow records Gemini chats as its Python autolog logs the `google-genai`
/// SDK's objects (`model_dump()`), in snake_case, and its UI renders a Gemini chat
/// (`mlflow.message.format = "gemini"`) only when every part of a content has a key it knows:
/// `text`, `function_call`, `function_response`, `inline_data` (`data`, `mime_type`) or
/// `file_data` (`file_uri`, `mime_type`) (MLflow 3.17's UI, module 90305 of its chat parsers;
/// `mlflow/gemini/genai_semconv_converter.py` reads the same keys). So the parts of the request's
/// `contents` and of each response candidate's `content` get those keys in snake_case; everything
/// else (other parts and keys, `systemInstruction`, `generationConfig`, tools, usage) is kept as
/// sent.
pub fn for_mlflow(v: &Value) -> Option<Value> {
    let mut out = v.clone();
    let mut changed = false;
    match out.get_mut("contents") {
        // The REST API takes an array of `Content`s; MLflow's UI also reads parts, or a single
        // content, there.
        Some(Value::Array(contents)) => {
            for c in contents {
                changed |= content_for_mlflow(c);
                changed |= part_for_mlflow(c);
            }
        }
        Some(c @ Value::Object(_)) => {
            changed |= content_for_mlflow(c);
            changed |= part_for_mlflow(c);
        }
        _ => {}
    }
    if let Some(candidates) = out.get_mut("candidates").and_then(Value::as_array_mut) {
        for c in candidates {
            if let Some(content) = c.get_mut("content") {
                changed |= content_for_mlflow(content);
            }
        }
    }
    changed.then_some(out)
}

/// How a `streamGenerateContent` body is framed.
#[derive(Debug, Default)]
enum Framing {
    /// Nothing but whitespace yet.
    #[default]
    Undecided,
    /// Server-sent events (`alt=sse`, as the SDKs ask for).
    Sse,
    /// Without `alt=sse`: one JSON array of responses, sent element by element.
    JsonArray(ArraySplitter),
}

/// Splits a JSON array of objects, fed in pieces split anywhere, into its elements' texts.
#[derive(Debug, Default)]
struct ArraySplitter {
    element: Vec<u8>,
    /// Depth inside the current element (0 between elements).
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl ArraySplitter {
    /// The elements completed by `bytes`. The array's brackets and commas are skipped; anything
    /// else between elements is returned as an element of its own (which then fails to parse).
    fn feed(&mut self, bytes: &[u8], invalid_utf8: &mut u64) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.depth == 0 {
                match b {
                    b'{' => {
                        self.take(&mut out, invalid_utf8);
                        self.depth = 1;
                        self.element.push(b);
                    }
                    b'[' | b']' | b',' => self.take(&mut out, invalid_utf8),
                    b' ' | b'\t' | b'\r' | b'\n' => {}
                    _ => self.element.push(b),
                }
                continue;
            }
            self.element.push(b);
            if self.in_string {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.take(&mut out, invalid_utf8);
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn take(&mut self, out: &mut Vec<String>, invalid_utf8: &mut u64) {
        if self.element.is_empty() {
            return;
        }
        out.push(super::sse::utf8_counted(
            std::mem::take(&mut self.element),
            invalid_utf8,
        ));
    }
}

/// Parts kept from a stream at most; more are dropped (and reported).
const MAX_PARTS: usize = 1024;

/// Reassembles a `streamGenerateContent` stream (`alt=sse`, or the JSON array Google sends
/// without it) into the non-streamed response: parts in the order the stream sent them, adjacent
/// text deltas of the same kind (answer or `thought: true` summary) joined into one part; the last
/// usage and finish reason win; an `error` event is the call's error.
#[derive(Debug, Default)]
pub struct GeminiStream {
    framing: Framing,
    parts: Vec<Value>,
    role: Option<Value>,
    finish: Option<String>,
    usage_raw: Option<Value>,
    model_version: Option<Value>,
    response_id: Option<Value>,
    /// Usage from the last chunk carrying it.
    pub usage: Usage,
    /// Whether a chunk carried generated content (a part other than empty text).
    pub has_content: bool,
    /// Whether the stream ended: a finish reason or an error arrived.
    pub done: bool,
    /// The API's error message, from an event holding `error` (how Google fails a stream that has
    /// begun; `@google/genai` throws it as an `ApiError`).
    pub error: Option<String>,
}

/// Whether `part` is text, and of which kind: `Some(true)` for a thought summary.
fn text_kind(part: &Value) -> Option<bool> {
    part.get("text")?.as_str()?;
    Some(part.get("thought").and_then(Value::as_bool) == Some(true))
}

impl GeminiStream {
    /// Splits the body's `bytes` into the stream's events: through `sse` for an SSE body, else
    /// (a body that opens with `[` or `{`) the JSON array's elements, each an event's data.
    pub fn feed(&mut self, sse: &mut SseParser, bytes: &[u8]) -> Vec<SseEvent> {
        if matches!(self.framing, Framing::Undecided) {
            match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[' | b'{') => self.framing = Framing::JsonArray(Default::default()),
                Some(_) => self.framing = Framing::Sse,
                None => {}
            }
        }
        match &mut self.framing {
            Framing::JsonArray(a) => {
                sse.bytes += bytes.len() as u64;
                a.feed(bytes, &mut sse.invalid_utf8_lines)
                    .into_iter()
                    .map(|data| SseEvent { event: None, data })
                    .collect()
            }
            _ => sse.feed(bytes),
        }
    }

    /// Takes one SSE data payload (or JSON array element).
    pub fn on_data(&mut self, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("chunk is not JSON: {e}"))?;
        // Google fails a stream that has begun with an event holding only `error` ({code,
        // message, status}); the SDK throws it. It is the call's error, not a parsing problem.
        if v.get("error").is_some_and(|e| !e.is_null()) {
            self.done = true;
            self.error = Some(super::error_message(&v).unwrap_or_else(|| "stream error".into()));
            return Ok(());
        }
        if let Some(u) = v.get("usageMetadata") {
            self.usage.merge(usage(u));
            self.usage_raw = Some(u.clone());
        }
        if let Some(m) = v.get("modelVersion") {
            self.model_version = Some(m.clone());
        }
        if let Some(id) = v.get("responseId") {
            self.response_id = Some(id.clone());
        }
        if let Some(f) = finish_reason(&v) {
            self.finish = Some(f);
            self.done = true;
        }
        if let Some(r) = v.pointer("/candidates/0/content/role") {
            self.role = Some(r.clone());
        }
        let mut dropped = 0;
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
            if !self.join_text(part) {
                if self.parts.len() < MAX_PARTS {
                    self.parts.push(part.clone());
                } else {
                    dropped += 1;
                }
            }
        }
        if dropped > 0 {
            return Err(format!(
                "{dropped} part(s) past the first {MAX_PARTS} were not kept"
            ));
        }
        Ok(())
    }

    /// Joins a text delta onto the last part when that is text of the same kind and the delta's
    /// other keys (a `thoughtSignature`, which comes once) do not differ from it. Whether it did.
    fn join_text(&mut self, part: &Value) -> bool {
        let (Some(kind), Some(last)) = (text_kind(part), self.parts.last_mut()) else {
            return false;
        };
        if text_kind(last) != Some(kind) {
            return false;
        }
        let (Some(new), Some(old)) = (part.as_object(), last.as_object_mut()) else {
            return false;
        };
        let clash = new
            .iter()
            .any(|(k, v)| k != "text" && old.get(k).is_some_and(|o| o != v));
        if clash {
            return false;
        }
        for (k, v) in new {
            match (k.as_str(), old.get_mut(k)) {
                ("text", Some(Value::String(t))) => t.push_str(v.as_str().unwrap_or("")),
                (_, Some(_)) => {}
                (_, None) => {
                    old.insert(k.clone(), v.clone());
                }
            }
        }
        true
    }

    /// The finish reason.
    pub fn finish_reason(&self) -> Option<String> {
        self.finish.clone()
    }

    /// The reassembled response, its parts as MLflow's UI reads them ([`for_mlflow`]).
    pub fn output(&self) -> Value {
        let mut content = json!({"role": self.role.clone().unwrap_or_else(|| json!("model")), "parts": self.parts});
        content_for_mlflow(&mut content);
        let mut out =
            json!({"candidates": [{"content": content, "finishReason": self.finish, "index": 0}]});
        if let Some(u) = &self.usage_raw {
            out["usageMetadata"] = u.clone();
        }
        if let Some(m) = &self.model_version {
            out["modelVersion"] = m.clone();
        }
        if let Some(id) = &self.response_id {
            out["responseId"] = id.clone();
        }
        out
    }
}
