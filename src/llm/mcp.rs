//! Model Context Protocol tool calls (`tools/call`) over MCP's Streamable HTTP transport, as an
//! MCP client sends them with `fetch`: the official TypeScript SDK's
//! `StreamableHTTPClientTransport`, the AI SDK's MCP client.
//!
//! The request is one JSON-RPC message POSTed to the server's endpoint. The server answers with
//! one JSON-RPC response (`application/json`) or with an SSE stream (`text/event-stream`) whose
//! `message` events carry the server's notifications (progress, logging) and requests (sampling,
//! elicitation) before the response ([the transport's specification]). [`McpCall`] follows one
//! call and answers what MLflow shows of a TOOL span: the tool's arguments as its inputs, the
//! tool's result as its outputs, and the attributes of OpenTelemetry's semantic conventions for
//! an MCP client span (`mcp.method.name`, `gen_ai.tool.name`, `jsonrpc.request.id`,
//! `error.type`, `rpc.response.status_code`).
//!
//! Like [`super::LlmCall`] it never fails: what cannot be read is counted on the span
//! (`edgetrace.mcp.parse_errors`), and what could be read is kept.
//!
//! [the transport's specification]: https://modelcontextprotocol.io/specification/2025-06-18/basic/transports

use serde_json::{json, Value};

use super::sse::SseParser;
use super::{
    error_message, fit, parse_json, split_port, Outcome, ParseErrors, StreamEnd,
    MAX_PARSED_STREAM_BYTES,
};
use crate::attribute::AttrValue;

/// Whether `v`, a request body, is an MCP `tools/call` request (a JSON-RPC 2.0 request of that
/// method with an id). A batch (an array, which MCP's 2025-03-26 revision allowed and later ones
/// do not) is not one.
///
/// ```
/// use edgetrace::llm::mcp::is_tool_call;
/// let call = serde_json::json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "add"}});
/// assert!(is_tool_call(&call));
/// assert!(!is_tool_call(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})));
/// assert!(!is_tool_call(&serde_json::json!({"jsonrpc": "2.0", "method": "tools/call"})));
/// ```
pub fn is_tool_call(v: &Value) -> bool {
    v.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
        && v.get("method").and_then(Value::as_str) == Some("tools/call")
        && v.get("id")
            .is_some_and(|id| id.is_string() || id.is_number())
}

/// One MCP tool call in flight.
#[derive(Debug)]
pub struct McpCall {
    /// The request's JSON-RPC id: the response is the message that carries it.
    id: Option<Value>,
    response: Option<Value>,
    sse: SseParser,
    /// Messages the server sent on the stream before its response: notifications (progress,
    /// logging) and requests of its own (sampling, elicitation, which the client answers in
    /// requests of its own).
    notifications: u64,
    server_requests: u64,
    parse_errors: ParseErrors,
    gave_up: bool,
    max_value: usize,
}

/// The message of an error body that is not JSON (a proxy's or server's `text/plain`): its text,
/// when it is short and not a page of HTML.
fn text_message(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty() && t.len() <= 200 && !t.starts_with('<') && !t.starts_with('{'))
        .then(|| t.to_owned())
}

fn push(out: &mut Outcome, key: &str, value: AttrValue) {
    out.attributes.push((key.into(), value));
}

/// `id` as `jsonrpc.request.id` takes it: a string as it is, a number as its JSON text.
fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a response with the id `got` answers the request `id`: the same id, or the same number
/// written as a number or an integer's string, as the TypeScript SDK's client reads a response's id
/// (`Number(response.id)`), so a server that echoes `"2"` for the request `2` is answered in the
/// app, and the span says what the app got.
fn answers(id: &Value, got: Option<&Value>) -> bool {
    let Some(got) = got else { return false };
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        // An integer's text only (the SDK's ids are integers): parsing any float would link
        // core's float parser, 17 KB of the parsers' wasm.
        Value::String(s) => s.trim().parse::<i64>().ok().map(|n| n as f64),
        _ => None,
    };
    got == id || matches!((number(id), number(got)), (Some(a), Some(b)) if a == b)
}

impl McpCall {
    /// Starts following a call: reads the request body (JSON text) sent to `host` (a URL's host,
    /// port included) and returns the call with what to set at once: the TOOL span's inputs (the
    /// tool's arguments) and attributes. Inputs over `max_value` bytes are cut with their
    /// structure kept ([`fit::fit_json`]).
    pub fn start(host: &str, body: &str, max_value: usize) -> (McpCall, Outcome) {
        let mut call = McpCall {
            id: None,
            response: None,
            sse: SseParser::default(),
            notifications: 0,
            server_requests: 0,
            parse_errors: ParseErrors::default(),
            gave_up: false,
            max_value,
        };
        let mut out = Outcome::default();
        let attr = push;
        attr(
            &mut out,
            "mcp.method.name",
            AttrValue::Str("tools/call".into()),
        );
        attr(
            &mut out,
            "gen_ai.operation.name",
            AttrValue::Str("execute_tool".into()),
        );
        // The server's address and port (MCP's conventions ask for them; the URL is on the span
        // as `url.full` too).
        let (address, port) = split_port(host);
        let port = port.parse::<i64>().ok();
        if !address.is_empty() {
            let address = address.trim_start_matches('[').trim_end_matches(']');
            attr(&mut out, "server.address", AttrValue::Str(address.into()));
        }
        if let Some(p) = port {
            attr(&mut out, "server.port", AttrValue::Int(p.into()));
        }
        let req: Option<Value> = match parse_json(body) {
            Ok(v) => Some(v),
            Err(e) => {
                call.parse_error(format!("request body is not JSON: {e}"));
                None
            }
        };
        let Some(req) = req.filter(|r| {
            let ok = is_tool_call(r);
            if !ok {
                call.parse_error("request body is not an MCP tools/call request".into());
            }
            ok
        }) else {
            out.inputs = Some(Value::String(body.to_owned()).to_string());
            call.push_parse_errors(&mut out);
            return (call, out);
        };
        let params = req.get("params");
        if let Some(name) = params.and_then(|p| p.get("name")).and_then(Value::as_str) {
            attr(&mut out, "gen_ai.tool.name", AttrValue::Str(name.into()));
        }
        if let Some(id) = req.get("id") {
            attr(
                &mut out,
                "jsonrpc.request.id",
                AttrValue::Str(id_text(id).into()),
            );
            call.id = Some(id.clone());
        }
        // The tool's arguments, as MLflow shows a tool's inputs; a call with none took `{}`.
        let args = params
            .and_then(|p| p.get("arguments"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        let (text, cut) = fit::fit_json(&args, args.to_string(), max_value);
        out.inputs = Some(text);
        out.truncated += u32::from(cut);
        (call, out)
    }

    /// Whether the call's response has been read.
    pub fn answered(&self) -> bool {
        self.response.is_some()
    }

    /// Feeds bytes of an SSE response as they reach the client. Answers whether the call's
    /// response has been read: the call is over then (the server closes the stream after it, or
    /// the client stops reading).
    pub fn on_chunk(&mut self, bytes: &[u8]) -> bool {
        if self.answered() || self.gave_up {
            return self.answered();
        }
        if self.sse.bytes + bytes.len() as u64 > MAX_PARSED_STREAM_BYTES {
            self.gave_up = true;
            self.parse_error(format!(
                "stream larger than {MAX_PARSED_STREAM_BYTES} bytes; the rest was not parsed"
            ));
            return false;
        }
        for ev in self.sse.feed(bytes) {
            if self.answered() {
                break;
            }
            self.on_event(ev.event.as_deref(), &ev.data);
        }
        self.answered()
    }

    fn on_event(&mut self, event: Option<&str>, data: &str) {
        // Only `message` events (the default) carry JSON-RPC messages, as the SDKs read them; an
        // event with no data (a server's priming event for resumption) carries none.
        if !matches!(event, None | Some("message")) || data.trim().is_empty() {
            return;
        }
        match parse_json(data) {
            Ok(Value::Array(batch)) => batch.into_iter().for_each(|m| self.on_message(m)),
            Ok(m) => self.on_message(m),
            Err(e) => self.parse_error(format!("an SSE message is not JSON: {e}")),
        }
    }

    fn on_message(&mut self, m: Value) {
        if self.answered() {
            return;
        }
        let is_response = m.get("result").is_some() || m.get("error").is_some();
        if is_response && self.id.as_ref().is_some_and(|id| answers(id, m.get("id"))) {
            self.response = Some(m);
        } else if m.get("method").is_some() {
            if m.get("id").is_some() {
                self.server_requests += 1;
            } else {
                self.notifications += 1;
            }
        }
    }

    /// Ends a call answered with an SSE stream: what to write onto the span. An event the stream
    /// ended inside (no blank line after it) is not read, as the SDKs' clients drop it.
    pub fn finish_stream(&mut self, end: StreamEnd, status: u16) -> Outcome {
        self.sse.abandon();
        // Counted only for a call left unanswered: once the response is read the client reads no
        // more, so lines after it would count or not by how the network split them.
        if self.sse.invalid_utf8_lines > 0 && !self.answered() {
            let n = self.sse.invalid_utf8_lines;
            self.parse_error(format!("{n} SSE line(s) were not valid UTF-8"));
        }
        let how = match end {
            _ if self.answered() => "completed",
            StreamEnd::Completed => "truncated",
            StreamEnd::Errored => "errored",
            StreamEnd::Cancelled | StreamEnd::Abandoned => "cancelled",
        };
        let mut out = self.outcome(status, None, "");
        out.attributes.push((
            "edgetrace.mcp.stream_end".into(),
            AttrValue::Str(how.into()),
        ));
        // A stream that ended before the result, after an event with an id, is no failure of its
        // own: the server may have closed it for the client to resume (a GET with `Last-Event-ID`,
        // where the result comes), as servers polling long calls do, and the SDKs' clients resume
        // only such a stream. Without an id the call has failed there.
        if out.error.is_none() {
            out.error = match how {
                "truncated" if !self.sse.saw_id => {
                    Some("the stream ended before the tool's result".into())
                }
                "errored" => Some("the response stream failed".into()),
                _ => None,
            };
        }
        out
    }

    /// Ends a call answered with one body (`application/json`, or an HTTP error's).
    pub fn finish_body(&mut self, status: u16, body: &[u8]) -> Outcome {
        let text = String::from_utf8_lossy(body);
        if matches!(text, std::borrow::Cow::Owned(_)) {
            self.parse_error("response body was not valid UTF-8".into());
        }
        let parsed = match parse_json(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                if !text.trim().is_empty() {
                    self.parse_error(format!("response body is not JSON: {e}"));
                }
                None
            }
        };
        match &parsed {
            Some(Value::Array(batch)) => batch.iter().for_each(|m| self.on_message(m.clone())),
            Some(m) => self.on_message(m.clone()),
            None => {}
        }
        let mut out = self.outcome(status, parsed.as_ref(), &text);
        if out.outputs.is_none() && !text.trim().is_empty() {
            // Not the call's response (an HTTP error's body, a body that is not JSON): as it came.
            let v = parsed.unwrap_or_else(|| Value::String(text.clone().into_owned()));
            out.fit_outputs(&v, v.to_string(), self.max_value);
        }
        if status == 202 && !self.answered() {
            // Accepted: the result comes on another stream (MCP's old HTTP+SSE transport answers
            // every POST so), which is not followed here.
            push(
                &mut out,
                "edgetrace.mcp.answered_elsewhere",
                AttrValue::Bool(true),
            );
            out.outputs = None;
        } else if out.error.is_none() && status < 400 && !self.answered() {
            out.error = Some(format!(
                "the response held no result for request {}",
                self.id.as_ref().map_or_else(|| "?".into(), id_text)
            ));
        }
        out
    }

    /// The outcome of the call as read so far: its response's result or error, the HTTP status's
    /// error (`body`: the error response's, to read its message from).
    fn outcome(&mut self, status: u16, body: Option<&Value>, text: &str) -> Outcome {
        let mut out = Outcome::default();
        push(
            &mut out,
            "http.response.status_code",
            AttrValue::Int(i64::from(status).into()),
        );
        for (k, n) in [
            ("edgetrace.mcp.notifications", self.notifications),
            ("edgetrace.mcp.server_requests", self.server_requests),
        ] {
            if n > 0 {
                push(&mut out, k, AttrValue::Int((n as i64).into()));
            }
        }
        if status >= 400 {
            // The transport's error (a session the server no longer knows, 404; a bad request,
            // 400), often with a JSON-RPC error for its body, which the SDKs throw.
            let msg = body
                .and_then(|b| b.get("error"))
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| body.and_then(error_message))
                .or_else(|| text_message(text));
            push(
                &mut out,
                "error.type",
                AttrValue::Str(status.to_string().into()),
            );
            out.error = Some(match msg {
                Some(m) => format!("HTTP {status}: {m}"),
                None => format!("HTTP {status}"),
            });
            // As the official SDK's client throws it (`StreamableHTTPError`), whatever the body.
            out.exception = Some("StreamableHTTPError");
        }
        if let Some(resp) = self.response.take() {
            if let Some(err) = resp.get("error").filter(|_| status < 400) {
                // A JSON-RPC error (an unknown tool, invalid arguments): the SDKs throw it, the
                // official one as `McpError` with this message.
                let code = err.get("code").map(id_text).unwrap_or_default();
                let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
                push(&mut out, "error.type", AttrValue::Str(code.clone().into()));
                push(
                    &mut out,
                    "rpc.response.status_code",
                    AttrValue::Str(code.clone().into()),
                );
                out.error = Some(format!("MCP error {code}: {msg}"));
                out.exception = Some("McpError");
                out.fit_outputs(err, err.to_string(), self.max_value);
            } else if let Some(err) = resp.get("error") {
                // The HTTP status's error, whose body held the JSON-RPC error: the transport
                // throws on the status.
                out.fit_outputs(err, err.to_string(), self.max_value);
            } else if let Some(result) = resp.get("result") {
                // The tool's own failure is a result (`isError`), which the app gets as any
                // other: the span's status says the tool failed, with what it said, and an
                // exception event (`ToolError`: none was thrown) marks it in MLflow's UI, which
                // marks spans by those.
                if result.get("isError").and_then(Value::as_bool) == Some(true) {
                    push(&mut out, "error.type", AttrValue::Str("tool_error".into()));
                    out.exception = Some("ToolError");
                    let said = result
                        .get("content")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.get("text").and_then(Value::as_str))
                        .fold(String::new(), |mut all, t| {
                            if !all.is_empty() {
                                all.push('\n');
                            }
                            all.push_str(t);
                            all
                        });
                    out.error = Some(if said.is_empty() {
                        "the tool reported an error".into()
                    } else {
                        said
                    });
                }
                out.fit_outputs(result, result.to_string(), self.max_value);
            }
            self.response = Some(resp);
        }
        self.push_parse_errors(&mut out);
        out
    }

    fn parse_error(&mut self, e: String) {
        self.parse_errors.add(e);
    }

    fn push_parse_errors(&self, out: &mut Outcome) {
        self.parse_errors.write(out, "edgetrace.mcp");
    }
}
