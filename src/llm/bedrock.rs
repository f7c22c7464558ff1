//! Amazon Bedrock Runtime: the Converse API's format, InvokeModel's bodies of model families other
//! than Anthropic's, and the AWS event stream framing in which ConverseStream and
//! InvokeModelWithResponseStream send their streams.
//!
//! An event stream is binary: each message is its total length and its headers' length (4 bytes
//! each, big-endian), a CRC32 of those 8 bytes, the headers, the payload, and a CRC32 of all
//! before it. The headers name the message's type (`:message-type`: `event`, `exception` or
//! `error`) and the event's (`:event-type`: `messageStart`, `contentBlockDelta`, …, or `chunk` for
//! InvokeModel, whose payload holds the model's own JSON event in base64, `{"bytes": …}`).

use serde_json::{json, Map, Value};

use super::sse::{utf8_counted, SseEvent, SseParser};
use super::usage::{num, Usage};

/// The CRC-32 of `bytes` (IEEE 802.3, as zlib computes it), as the event stream's checksums are
/// computed. Bit by bit, without a table: a stream's messages are small and arrive at the pace a
/// model writes, and a table would be 1 KB more of the parsers' wasm.
///
/// ```
/// assert_eq!(edgetrace::llm::bedrock::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |mut c, &b| {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg());
        }
        c
    })
}

/// The longest message read: AWS caps an event stream message at 16 MiB.
const MAX_MESSAGE: usize = 16 * 1024 * 1024 + 1024;

/// Splits an AWS event stream into its messages as bytes arrive, split anywhere.
///
/// Each message becomes an [`SseEvent`] as the streams' parsers take them: an event named by its
/// `:event-type`, its payload as data; an exception (`:message-type` `exception`) named
/// `exception:{:exception-type}`, its payload (`{"message": …}`) as data; an error message
/// (`:message-type` `error`) named `error:{:error-code}`, with `{"message": :error-message}`.
#[derive(Debug, Default)]
pub struct EventStream {
    buf: Vec<u8>,
    /// A prelude failed its checksum: the messages' boundaries are lost, so nothing after it is
    /// read.
    broken: bool,
}

impl EventStream {
    /// Feeds bytes (`sse` counts them, and payloads that were not UTF-8). Returns the messages
    /// they complete, and for each message that could not be read, what was wrong with it.
    pub fn feed(&mut self, sse: &mut SseParser, bytes: &[u8]) -> Vec<Result<SseEvent, String>> {
        sse.bytes += bytes.len() as u64;
        let mut out = Vec::new();
        if self.broken {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        let mut at = 0;
        while let Some(prelude) = self.buf.get(at..at + 12) {
            let word = |i: usize| {
                u32::from_be_bytes([prelude[i], prelude[i + 1], prelude[i + 2], prelude[i + 3]])
            };
            let (total, headers_len) = (word(0) as usize, word(4) as usize);
            if crc32(&prelude[..8]) != word(8) || total > MAX_MESSAGE || total < 16 + headers_len {
                self.broken = true;
                self.buf.clear();
                out.push(Err("the event stream's framing is broken (a message's prelude failed its checksum); the rest of the stream was not read".into()));
                return out;
            }
            let Some(msg) = self.buf.get(at..at + total) else {
                break;
            };
            at += total;
            let (body, crc) = msg.split_at(total - 4);
            if crc32(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
                out.push(Err("an event stream message failed its checksum".into()));
                continue;
            }
            let headers = headers(&body[12..12 + headers_len]);
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.as_str())
            };
            let payload = body[12 + headers_len..].to_vec();
            let data = utf8_counted(payload, &mut sse.invalid_utf8_lines);
            let event = match header(":message-type") {
                Some("exception") => SseEvent {
                    event: Some(format!(
                        "exception:{}",
                        header(":exception-type").unwrap_or("")
                    )),
                    data,
                },
                Some("error") => SseEvent {
                    event: Some(format!("error:{}", header(":error-code").unwrap_or(""))),
                    data: json!({"message": header(":error-message").unwrap_or("")}).to_string(),
                },
                _ => SseEvent {
                    event: Some(header(":event-type").unwrap_or("").to_owned()),
                    data,
                },
            };
            out.push(Ok(event));
        }
        self.buf.drain(..at);
        out
    }

    /// Whether the body ended inside a message.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Drops a message the reader stopped inside.
    pub fn abandon(&mut self) {
        self.buf.clear();
    }
}

/// A message's string headers (other header types are skipped); stops at a malformed header.
fn headers(mut b: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let [len, rest @ ..] = b {
        let Some((name, rest)) = rest.split_at_checked(usize::from(*len)) else {
            break;
        };
        let Some((&kind, rest)) = rest.split_first() else {
            break;
        };
        // Bool true and false, byte, short, int, long, byte array, string, timestamp, uuid.
        let (value, rest) = match kind {
            0 | 1 => (None, rest),
            2 | 3 | 4 | 5 | 8 | 9 => {
                let n = [0, 0, 1, 2, 4, 8, 0, 0, 8, 16][usize::from(kind)];
                match rest.split_at_checked(n) {
                    Some((_, r)) => (None, r),
                    None => break,
                }
            }
            6 | 7 => {
                let Some((n, r)) = rest.split_at_checked(2) else {
                    break;
                };
                let n = usize::from(u16::from_be_bytes([n[0], n[1]]));
                match r.split_at_checked(n) {
                    Some((v, r)) => ((kind == 7).then_some(v), r),
                    None => break,
                }
            }
            _ => break,
        };
        if let Some(v) = value {
            out.push((
                String::from_utf8_lossy(name).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ));
        }
        b = rest;
    }
    out
}

/// The model's own JSON event an InvokeModelWithResponseStream `chunk` carries: its payload is
/// `{"bytes": "<base64 of the event>"}`.
pub fn unwrap_chunk(data: &str) -> Result<String, String> {
    use base64::Engine as _;
    let v: Value = serde_json::from_str(data).map_err(|e| format!("chunk is not JSON: {e}"))?;
    let b64 = v
        .get("bytes")
        .and_then(Value::as_str)
        .ok_or("chunk has no bytes")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "chunk's bytes are not base64")?;
    String::from_utf8(bytes).map_err(|_| "chunk's bytes are not UTF-8".into())
}

/// Usage from a Converse `usage` object. Like Anthropic's, its `inputTokens` excludes the tokens
/// read from and written to the prompt cache, which it reports apart.
pub fn usage(u: &Value) -> Usage {
    let cached = num(u, &["cacheReadInputTokens"]);
    let written = num(u, &["cacheWriteInputTokens"]);
    Usage {
        input: num(u, &["inputTokens"]),
        output: num(u, &["outputTokens"]),
        // With cache tokens, the total is input, cache and output, recomputed as MLflow does:
        // how Bedrock's own total counts the cache is not documented.
        total: num(u, &["totalTokens"]).filter(|_| cached.unwrap_or(0) + written.unwrap_or(0) == 0),
        cached,
        cache_creation: written,
        cache_creation_1h: None,
        reasoning: None,
    }
}

/// Usage from an InvokeModel body of another model family than Anthropic's, under the names they
/// use (Meta Llama's `prompt_token_count`, Amazon Titan's `inputTextTokenCount`, Nova's `usage`,
/// OpenAI-style `usage`), or from the `amazon-bedrock-invocationMetrics` a stream's last chunk
/// carries.
pub fn invoke_usage(v: &Value) -> Usage {
    if let Some(m) = v.get("amazon-bedrock-invocationMetrics") {
        return Usage {
            input: num(m, &["inputTokenCount"]),
            output: num(m, &["outputTokenCount"]),
            ..Usage::default()
        };
    }
    let u = v.get("usage").filter(|u| u.is_object()).unwrap_or(v);
    let first = |keys: &[&str]| keys.iter().find_map(|k| num(u, &[k]));
    Usage {
        input: first(&[
            "input_tokens",
            "inputTokens",
            "prompt_tokens",
            "prompt_token_count",
            "inputTextTokenCount",
        ]),
        output: first(&[
            "output_tokens",
            "outputTokens",
            "completion_tokens",
            "generation_token_count",
        ])
        .or_else(|| v.pointer("/results/0/tokenCount").and_then(Value::as_u64)),
        total: first(&["total_tokens", "totalTokens"]),
        cached: first(&["cacheReadInputTokens", "cacheReadInputTokenCount"]),
        cache_creation: first(&["cacheWriteInputTokens", "cacheWriteInputTokenCount"]),
        ..Usage::default()
    }
}

/// Why an InvokeModel answer of another family than Anthropic's stopped, under the names they use.
pub fn invoke_finish_reason(v: &Value) -> Option<String> {
    [
        "/stop_reason",
        "/stopReason",
        "/finish_reason",
        "/completionReason",
        "/results/0/completionReason",
        "/outputs/0/stop_reason",
        "/choices/0/finish_reason",
        "/generations/0/finish_reason",
    ]
    .iter()
    .find_map(|p| v.pointer(p).and_then(Value::as_str))
    .map(str::to_owned)
}

/// Converse tool definitions (`toolConfig.tools[].toolSpec`) in OpenAI's shape, as MLflow's
/// Bedrock autolog records them.
pub fn tools(req: &Value) -> Option<Value> {
    let tools = req.pointer("/toolConfig/tools")?.as_array()?;
    Some(Value::Array(
        tools
            .iter()
            .filter_map(|t| t.get("toolSpec"))
            .map(|s| {
                json!({"type": "function", "function": {"name": s.get("name"), "description": s.get("description"),
                       "parameters": s.pointer("/inputSchema/json")}})
            })
            .collect(),
    ))
}

/// The most content blocks a stream's message keeps (`contentBlockIndex` beyond it is ignored).
const MAX_BLOCKS: usize = 256;

/// Reassembles a ConverseStream into the Converse response: `output.message` with its content
/// blocks (text, tool uses with their input, reasoning), `stopReason`, `usage` and `metrics`.
#[derive(Debug, Default)]
pub struct ConverseStream {
    role: Option<Value>,
    blocks: Vec<Value>,
    tool_input: Vec<String>,
    rest: Map<String, Value>,
    /// Usage from the `metadata` event.
    pub usage: Usage,
    /// Whether `messageStop` arrived.
    pub done: bool,
    /// Whether an event carried generated content.
    pub has_content: bool,
}

impl ConverseStream {
    /// Takes one event.
    pub fn on_event(&mut self, event: Option<&str>, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("event is not JSON: {e}"))?;
        let index = v
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        if index >= MAX_BLOCKS {
            return Ok(());
        }
        let grow = |s: &mut Self| {
            while s.blocks.len() <= index {
                s.blocks.push(Value::Null);
                s.tool_input.push(String::new());
            }
        };
        match event.unwrap_or("") {
            "messageStart" => self.role = v.get("role").cloned(),
            "contentBlockStart" => {
                grow(self);
                if let Some(t) = v.pointer("/start/toolUse") {
                    self.has_content = true;
                    let mut t = t.clone();
                    t["input"] = json!({});
                    self.blocks[index] = json!({ "toolUse": t });
                }
            }
            "contentBlockDelta" => {
                grow(self);
                let d = v.get("delta").unwrap_or(&Value::Null);
                let block = &mut self.blocks[index];
                let append = |slot: &mut Value, t: &str| {
                    let old = slot.as_str().unwrap_or("").to_owned();
                    *slot = json!(old + t);
                };
                if let Some(t) = d.get("text").and_then(Value::as_str) {
                    self.has_content |= !t.is_empty();
                    append(&mut block["text"], t);
                } else if let Some(i) = d.pointer("/toolUse/input").and_then(Value::as_str) {
                    self.has_content |= !i.is_empty();
                    self.tool_input[index].push_str(i);
                    if block.is_null() {
                        *block = json!({"toolUse": {"input": {}}});
                    }
                } else if let Some(r) = d.get("reasoningContent") {
                    if let Some(t) = r.get("text").and_then(Value::as_str) {
                        self.has_content |= !t.is_empty();
                        append(&mut block["reasoningContent"]["reasoningText"]["text"], t);
                    }
                    if let Some(s) = r.get("signature") {
                        block["reasoningContent"]["reasoningText"]["signature"] = s.clone();
                    }
                    if let Some(s) = r.get("redactedContent") {
                        self.has_content = true;
                        block["reasoningContent"]["redactedContent"] = s.clone();
                    }
                }
            }
            "contentBlockStop" if index < self.blocks.len() => self.close_block(index),
            "messageStop" => {
                self.done = true;
                self.copy(&v, &["stopReason", "additionalModelResponseFields"]);
            }
            "metadata" => {
                if let Some(u) = v.get("usage") {
                    self.usage.merge(usage(u));
                }
                self.copy(&v, &["usage", "metrics", "trace", "performanceConfig"]);
            }
            _ => {}
        }
        Ok(())
    }

    fn copy(&mut self, v: &Value, keys: &[&str]) {
        for k in keys {
            if let Some(x) = v.get(*k) {
                self.rest.insert((*k).to_owned(), x.clone());
            }
        }
    }

    /// A tool use's input, whole once its block stops: the JSON its pieces make.
    fn close_block(&mut self, index: usize) {
        let pieces = std::mem::take(&mut self.tool_input[index]);
        if let Some(t) = self.blocks[index].get_mut("toolUse") {
            if !pieces.is_empty() {
                t["input"] =
                    serde_json::from_str(&pieces).unwrap_or(json!({ "_unparsed": pieces }));
            }
        }
    }

    /// Why generation stopped (`stopReason`).
    pub fn finish_reason(&self) -> Option<String> {
        self.rest
            .get("stopReason")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The reassembled response, in the shape of Converse's.
    pub fn output(&mut self) -> Value {
        for i in 0..self.blocks.len() {
            if !self.tool_input[i].is_empty() {
                self.close_block(i);
            }
        }
        let content: Vec<Value> = self
            .blocks
            .iter()
            .filter(|b| !b.is_null())
            .cloned()
            .collect();
        let role = self.role.clone().unwrap_or_else(|| json!("assistant"));
        let mut out = Map::new();
        out.insert(
            "output".into(),
            json!({"message": {"role": role, "content": content}}),
        );
        out.extend(self.rest.clone());
        Value::Object(out)
    }
}

/// The keys whose text the chunks of an InvokeModelWithResponseStream of another family than
/// Anthropic's carry in pieces: Meta Llama's `generation`, Amazon Titan's `outputText`, Cohere's
/// `text`, and `completion` (the text completions of AI21 and older Claude).
const TEXT_KEYS: [&str; 4] = ["generation", "outputText", "text", "completion"];

/// Reassembles an InvokeModelWithResponseStream of another model family than Anthropic's: the last
/// chunk, with the text of every chunk before it joined under its key (Mistral's under
/// `outputs[0].text`), and its usage from the
/// `amazon-bedrock-invocationMetrics` Bedrock adds to the last chunk.
#[derive(Debug, Default)]
pub struct InvokeStream {
    last: Option<Value>,
    text: Vec<(&'static str, String)>,
    /// Mistral's text, in pieces at `outputs[0].text`.
    outputs_text: Option<String>,
    /// Usage from the invocation metrics.
    pub usage: Usage,
    finish: Option<String>,
    /// Whether a chunk carried generated text.
    pub has_content: bool,
    /// Whether the last chunk (with the invocation metrics) arrived.
    pub done: bool,
}

impl InvokeStream {
    /// Takes one chunk (its JSON, unwrapped from the `chunk` event).
    pub fn on_data(&mut self, data: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(data).map_err(|e| format!("chunk is not JSON: {e}"))?;
        for k in TEXT_KEYS {
            if let Some(t) = v.get(k).and_then(Value::as_str) {
                self.has_content |= !t.is_empty();
                match self.text.iter_mut().find(|(key, _)| *key == k) {
                    Some((_, all)) => all.push_str(t),
                    None => self.text.push((k, t.to_owned())),
                }
            }
        }
        if let Some(t) = v.pointer("/outputs/0/text").and_then(Value::as_str) {
            self.has_content |= !t.is_empty();
            self.outputs_text
                .get_or_insert_with(String::new)
                .push_str(t);
        }
        if let Some(f) = invoke_finish_reason(&v) {
            self.finish = Some(f);
        }
        if v.get("amazon-bedrock-invocationMetrics").is_some() {
            self.done = true;
            self.usage.merge(invoke_usage(&v));
        }
        // The last chunk, over what earlier ones said that it leaves null (Llama's first chunk
        // has the prompt's token count, the later ones `null`).
        match (self.last.as_mut().and_then(Value::as_object_mut), v) {
            (Some(last), Value::Object(next)) => {
                for (k, x) in next {
                    if !x.is_null() || last.get(&k).is_none_or(Value::is_null) {
                        last.insert(k, x);
                    }
                }
            }
            (_, v) => self.last = Some(v),
        }
        Ok(())
    }

    /// Why generation stopped.
    pub fn finish_reason(&self) -> Option<String> {
        self.finish.clone()
    }

    /// The last chunk with the whole text.
    pub fn output(&self) -> Value {
        let Some(mut out) = self.last.clone().filter(Value::is_object) else {
            return Value::Null;
        };
        for (k, t) in &self.text {
            out[*k] = json!(t);
        }
        if let (Some(t), Some(first)) = (&self.outputs_text, out.pointer_mut("/outputs/0")) {
            if first.is_object() {
                first["text"] = json!(t);
            }
        }
        out
    }
}

/// The name the AWS SDK gives an exception the service sent in an event stream
/// (`throttlingException` is thrown as `ThrottlingException`), for those Bedrock Runtime's streams
/// send; `None` for another.
pub fn exception_class(kind: &str) -> Option<&'static str> {
    [
        "ThrottlingException",
        "ValidationException",
        "ModelStreamErrorException",
        "ModelTimeoutException",
        "InternalServerException",
        "ServiceUnavailableException",
    ]
    .into_iter()
    .find(|c| c.eq_ignore_ascii_case(kind))
}

/// The exception an `x-amzn-errortype` header names (`ThrottlingException:http://internal…`), if
/// it is one AWS sends for Bedrock Runtime: its own errors, and those of AWS's front door
/// (signatures, credentials).
pub fn error_type(header: &str) -> Option<&'static str> {
    let name = header.split(':').next().unwrap_or("");
    [
        "AccessDeniedException",
        "ConflictException",
        "ExpiredTokenException",
        "IncompleteSignatureException",
        "InternalServerException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "ModelErrorException",
        "ModelNotReadyException",
        "ModelStreamErrorException",
        "ModelTimeoutException",
        "ResourceNotFoundException",
        "ServiceQuotaExceededException",
        "ServiceUnavailableException",
        "ThrottlingException",
        "UnknownOperationException",
        "UnrecognizedClientException",
        "ValidationException",
    ]
    .into_iter()
    .find(|n| *n == name)
}

/// The class the AWS SDK (`@aws-sdk/client-bedrock-runtime`) throws for an HTTP error status of
/// Bedrock Runtime when its `x-amzn-errortype` header names none it knows ([`error_type`]): the
/// one each status stands for.
pub fn error_class(status: u16) -> &'static str {
    match status {
        400 => "ValidationException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        500 => "InternalServerException",
        503 => "ServiceUnavailableException",
        _ => "BedrockRuntimeServiceException",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One event stream message with string headers.
    pub(crate) fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        for (n, v) in headers {
            h.push(n.len() as u8);
            h.extend_from_slice(n.as_bytes());
            h.push(7);
            h.extend_from_slice(&(v.len() as u16).to_be_bytes());
            h.extend_from_slice(v.as_bytes());
        }
        let total = 16 + h.len() + payload.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(total as u32).to_be_bytes());
        m.extend_from_slice(&(h.len() as u32).to_be_bytes());
        let c = crc32(&m);
        m.extend_from_slice(&c.to_be_bytes());
        m.extend_from_slice(&h);
        m.extend_from_slice(payload);
        let c = crc32(&m);
        m.extend_from_slice(&c.to_be_bytes());
        m
    }

    fn event(kind: &str, payload: &str) -> Vec<u8> {
        message(
            &[
                (":event-type", kind),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.as_bytes(),
        )
    }

    #[test]
    fn messages_split_anywhere_are_read_whole_and_a_bad_checksum_is_reported() {
        let mut bytes = event("messageStart", r#"{"role":"assistant","p":"abc"}"#);
        bytes.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hé"}}"#,
        ));
        let mut broken = event("contentBlockStop", r#"{"contentBlockIndex":0}"#);
        let n = broken.len();
        broken[n - 6] ^= 1; // the payload, not the prelude
        bytes.extend(broken);
        bytes.extend(message(
            &[
                (":exception-type", "throttlingException"),
                (":message-type", "exception"),
            ],
            br#"{"message":"slow down"}"#,
        ));
        for split in [1, 5, 13, bytes.len()] {
            let (mut es, mut sse) = (EventStream::default(), SseParser::default());
            let got: Vec<_> = bytes
                .chunks(split)
                .flat_map(|c| es.feed(&mut sse, c))
                .collect();
            assert_eq!(got.len(), 4, "split {split}");
            assert_eq!(
                got[0].as_ref().unwrap().event.as_deref(),
                Some("messageStart")
            );
            assert!(got[1].as_ref().unwrap().data.contains("Hé"));
            assert!(got[2].as_ref().unwrap_err().contains("checksum"));
            let ex = got[3].as_ref().unwrap();
            assert_eq!(ex.event.as_deref(), Some("exception:throttlingException"));
            assert_eq!(ex.data, r#"{"message":"slow down"}"#);
            assert!(!es.pending());
            assert_eq!(sse.bytes, bytes.len() as u64);
        }
    }

    #[test]
    fn a_body_that_is_no_event_stream_is_reported_once_and_not_read() {
        let (mut es, mut sse) = (EventStream::default(), SseParser::default());
        let got = es.feed(
            &mut sse,
            br#"{"message":"The security token included in the request is invalid."}"#,
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].as_ref().unwrap_err().contains("framing is broken"));
        assert!(es.feed(&mut sse, &event("messageStart", "{}")).is_empty());
    }

    #[test]
    fn a_converse_stream_reassembles_into_the_converse_response() {
        let mut s = ConverseStream::default();
        for (e, d) in [
            ("messageStart", r#"{"role":"assistant","p":"ab"}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Think"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig"}}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":0}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"text":"Hello"}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"text":" world"}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":1}"#),
            (
                "contentBlockStart",
                r#"{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"t1","name":"get_weather"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"city\":"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"\"Paris\"}"}}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":2}"#),
            ("messageStop", r#"{"stopReason":"tool_use","p":"x"}"#),
            (
                "metadata",
                r#"{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":42},"p":"y"}"#,
            ),
        ] {
            s.on_event(Some(e), d).unwrap();
        }
        assert!(s.done && s.has_content);
        assert_eq!(s.finish_reason().as_deref(), Some("tool_use"));
        assert_eq!(s.usage.input, Some(10));
        assert_eq!(
            s.output(),
            json!({
                "output": {"message": {"role": "assistant", "content": [
                    {"reasoningContent": {"reasoningText": {"text": "Think", "signature": "sig"}}},
                    {"text": "Hello world"},
                    {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
                ]}},
                "stopReason": "tool_use",
                "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
                "metrics": {"latencyMs": 42},
            })
        );
    }

    #[test]
    fn cache_tokens_make_the_total_recomputed() {
        let u = usage(
            &json!({"inputTokens": 3, "outputTokens": 5, "totalTokens": 108, "cacheReadInputTokens": 100}),
        );
        assert_eq!((u.input, u.cached, u.total), (Some(3), Some(100), None));
        let u = usage(&json!({"inputTokens": 3, "outputTokens": 5, "totalTokens": 8}));
        assert_eq!(u.total, Some(8));
    }

    #[test]
    fn other_families_usage_and_streams() {
        let llama = json!({"generation": "Hi", "prompt_token_count": 7, "generation_token_count": 2, "stop_reason": "stop"});
        assert_eq!(
            (invoke_usage(&llama).input, invoke_usage(&llama).output),
            (Some(7), Some(2))
        );
        assert_eq!(invoke_finish_reason(&llama).as_deref(), Some("stop"));
        let titan = json!({"inputTextTokenCount": 4, "results": [{"tokenCount": 9, "outputText": "x", "completionReason": "FINISH"}]});
        assert_eq!(
            (invoke_usage(&titan).input, invoke_usage(&titan).output),
            (Some(4), Some(9))
        );
        assert_eq!(invoke_finish_reason(&titan).as_deref(), Some("FINISH"));
        let mut s = InvokeStream::default();
        s.on_data(r#"{"generation":"Hel","prompt_token_count":7,"generation_token_count":1,"stop_reason":null}"#).unwrap();
        assert!(!s.done);
        s.on_data(r#"{"generation":"lo","prompt_token_count":null,"generation_token_count":2,"stop_reason":"stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":7,"outputTokenCount":2,"invocationLatency":30,"firstByteLatency":10}}"#).unwrap();
        assert!(s.done && s.has_content);
        assert_eq!(s.output()["generation"], json!("Hello"));
        assert_eq!((s.usage.input, s.usage.output), (Some(7), Some(2)));
        assert_eq!(s.finish_reason().as_deref(), Some("stop"));
    }

    #[test]
    fn chunks_unwrap_and_exceptions_are_named_as_the_sdk_throws_them() {
        assert_eq!(
            unwrap_chunk(r#"{"bytes":"eyJ0eXBlIjoicGluZyJ9","p":"ab"}"#).unwrap(),
            r#"{"type":"ping"}"#
        );
        assert!(unwrap_chunk(r#"{"bytes":"%%"}"#).is_err());
        assert_eq!(
            exception_class("throttlingException"),
            Some("ThrottlingException")
        );
        assert_eq!(
            exception_class("modelStreamErrorException"),
            Some("ModelStreamErrorException")
        );
        assert_eq!(exception_class("somethingNew"), None);
    }
}
