//! The model API parsers' JS boundary: a wasm module of its own (cargo feature `llm-module`).
//!
//! The parsers (OpenAI, Anthropic, Gemini responses and SSE streams, usage, cost) are most of
//! what a tracer of model calls adds to a tracer of functions, so they are not in the core that
//! every page loads. The JS layer loads this module on the first model call it sees. It follows
//! each call by span handle and answers in the core's command format ([`crate::commands`]): the
//! JS layer hands those bytes to the core (`Core.apply`), which sets the span's type, inputs,
//! outputs, attributes and status from them.
//!
//! No method throws but the constructor: an unknown handle or format answers no commands (or
//! `false`), and the error is kept for [`LlmCalls::last_error`].

use wasm_bindgen::prelude::*;

use crate::commands::{ms_to_ns, Writer};
use crate::context::FxHashMap;
use crate::llm::cost::PriceTable;
use crate::llm::mcp::McpCall;
use crate::llm::{Format, LlmCall, Outcome, StreamEnd};

/// A call the parsers follow: a model API's, or an MCP tool call's. (Unboxed: a handful are in
/// flight at once.)
#[allow(clippy::large_enum_variant)]
enum Call {
    Model(LlmCall),
    Mcp(McpCall),
}

/// The model calls (and MCP tool calls) in flight, by span handle.
#[wasm_bindgen]
pub struct LlmCalls {
    calls: FxHashMap<u32, Call>,
    prices: PriceTable,
    last_error: Option<String>,
    /// The span and outputs of the last call finished, for the redaction hook.
    outputs: Option<(u32, String)>,
}

#[wasm_bindgen]
impl LlmCalls {
    /// The parsers, with the shipped prices extended by `prices_json` (`init({ prices })` as JSON,
    /// or empty). Throws on invalid prices.
    #[wasm_bindgen(constructor)]
    pub fn new(prices_json: &str) -> Result<LlmCalls, JsError> {
        let prices =
            PriceTable::with_json(prices_json).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(LlmCalls {
            calls: FxHashMap::default(),
            prices,
            last_error: None,
            outputs: None,
        })
    }

    /// Starts following the call on span `h` (`format` as `fetch.js`'s `llmFormatOf` names it, or
    /// `mcp` for an MCP tool call; the request body as text, the call's start in epoch ms, the
    /// span's `maxValueBytes`). Answers the commands that set the span's type, inputs and request
    /// attributes; none for an unknown format. Inputs and outputs over `max_value_bytes` are cut
    /// with their structure kept.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &mut self,
        h: u32,
        format: &str,
        host: &str,
        path: &str,
        body: &str,
        start_ms: f64,
        max_value_bytes: u32,
    ) -> Vec<u8> {
        let mut w = Writer::default();
        if format == "mcp" {
            let (call, out) = McpCall::start(host, body, max_value_bytes as usize);
            w.span_type(h, "TOOL");
            out.write(h, &mut w);
            self.calls.insert(h, Call::Mcp(call));
            return w.bytes;
        }
        let Some(format) = Format::parse(format) else {
            self.last_error = Some(format!("unknown model API format {format:?}"));
            return Vec::new();
        };
        let (call, out) = LlmCall::start_within(
            format,
            host,
            path,
            body,
            ms_to_ns(start_ms),
            max_value_bytes as usize,
        );
        w.span_type(h, call.span_type());
        out.write(h, &mut w);
        self.calls.insert(h, Call::Model(call));
        w.bytes
    }

    /// Says the call on span `h` was made by the AWS SDK, with its response's `x-amzn-errortype`
    /// header (empty for none): its failed status is named as that SDK throws it.
    pub fn aws_sdk(&mut self, h: u32, error_type: &str) -> bool {
        match self.calls.get_mut(&h) {
            Some(Call::Model(call)) => {
                call.aws_sdk(error_type);
                true
            }
            _ => self.unknown(h),
        }
    }

    /// The token counts the response's headers carry for the call on span `h` (Bedrock's
    /// InvokeModel: `x-amzn-bedrock-input-token-count`, `-output-token-count`; negative for
    /// none): its usage where the body reports none.
    pub fn header_usage(&mut self, h: u32, input: f64, output: f64) -> bool {
        let count = |n: f64| (n >= 0.0 && n.is_finite()).then_some(n as u64);
        match self.calls.get_mut(&h) {
            Some(Call::Model(call)) => {
                call.header_usage(count(input), count(output));
                true
            }
            _ => self.unknown(h),
        }
    }

    /// Whether the call on span `h` asked for a stream.
    pub fn streaming(&self, h: u32) -> bool {
        matches!(self.calls.get(&h), Some(Call::Model(call)) if call.streaming())
    }

    /// Feeds bytes of a streamed response as they reach the caller (`now_ms`: epoch ms).
    ///
    /// Answers 1, or 2 once the stream has carried the API's error (an error event, a Bedrock
    /// exception message, a message that failed its checksum): the call is over there, as the
    /// SDKs throw there and may read no further, so the JS layer ends its span then; for an MCP
    /// tool call, once its response is in. 0 for an unknown handle.
    pub fn chunk(&mut self, h: u32, bytes: &[u8], now_ms: f64) -> u8 {
        match self.calls.get_mut(&h) {
            Some(Call::Model(call)) => {
                call.on_chunk(bytes, ms_to_ns(now_ms));
                1 + u8::from(call.failed())
            }
            Some(Call::Mcp(call)) => 1 + u8::from(call.on_chunk(bytes)),
            None => u8::from(self.unknown(h)),
        }
    }

    /// Ends a streamed call (`end` 0 completed, 1 errored, 2 cancelled, 3 abandoned: its request
    /// aborted, or the body collected unread): the commands that set outputs, usage, cost and how
    /// the stream ended.
    pub fn finish_stream(&mut self, h: u32, end: u8, status: u16, now_ms: f64) -> Vec<u8> {
        let end = match end {
            0 => StreamEnd::Completed,
            1 => StreamEnd::Errored,
            3 => StreamEnd::Abandoned,
            _ => StreamEnd::Cancelled,
        };
        self.finish(h, |call, prices| match call {
            Call::Model(call) => call.finish_stream(end, status, ms_to_ns(now_ms), prices),
            Call::Mcp(call) => call.finish_stream(end, status),
        })
    }

    /// Ends a call with its whole response body: the commands that set outputs, usage and cost.
    pub fn finish_body(&mut self, h: u32, status: u16, body: &[u8], now_ms: f64) -> Vec<u8> {
        self.finish(h, |call, prices| match call {
            Call::Model(call) => call.finish_body(status, body, ms_to_ns(now_ms), prices),
            Call::Mcp(call) => call.finish_body(status, body),
        })
    }

    /// Forgets the call on span `h` (its span ended without a response).
    pub fn forget(&mut self, h: u32) {
        self.calls.remove(&h);
    }

    /// The outputs (JSON text) of the call on span `h`, when it was the last one finished: what
    /// the JS layer's redaction hook sees before it replaces them. Taken by this call.
    pub fn take_outputs(&mut self, h: u32) -> Option<String> {
        match self.outputs.take() {
            Some((k, o)) if k == h => Some(o),
            _ => None,
        }
    }

    /// Calls in flight.
    pub fn in_flight(&self) -> u32 {
        self.calls.len() as u32
    }

    /// The last error, taken (cleared) by this call.
    pub fn last_error(&mut self) -> Option<String> {
        self.last_error.take()
    }
}

impl LlmCalls {
    /// Ends the call on span `h` with `f` and answers its outcome as commands.
    fn finish(&mut self, h: u32, f: impl FnOnce(&mut Call, &PriceTable) -> Outcome) -> Vec<u8> {
        let Some(mut call) = self.calls.remove(&h) else {
            self.unknown(h);
            return Vec::new();
        };
        let mut w = Writer::default();
        let out = f(&mut call, &self.prices);
        out.write(h, &mut w);
        self.outputs = out.outputs.map(|o| (h, o));
        w.bytes
    }

    fn unknown(&mut self, h: u32) -> bool {
        self.last_error = Some(format!("no model call is followed on span {h}"));
        false
    }
}
