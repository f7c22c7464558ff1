//! Gemini calls are recorded as MLflow renders them: tool-call turns in the part keys MLflow's UI
//! reads, streamed answers reassembled as the non-streamed response (thought summaries apart,
//! parts in the stream's order), an error sent mid-stream as the API's error, and a stream sent
//! without `alt=sse` (one JSON array) read as the stream it is.

mod common;

use common::{outcome_attr as attr, outcome_json as json_attr};
use edgetrace::attribute::AttrValue;
use edgetrace::llm::gemini::{self, GeminiStream};
use edgetrace::llm::sse::SseParser;
use edgetrace::llm::{cost::PriceTable, Format, LlmCall, Outcome, StreamEnd};
use serde_json::{json, Value};

const STREAM_PATH: &str = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
const PATH: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

fn start(path: &str, body: &Value) -> (LlmCall, Outcome) {
    LlmCall::start(
        Format::Gemini,
        "generativelanguage.googleapis.com",
        path,
        &body.to_string(),
        1_000,
    )
}

fn outputs(o: &Outcome) -> Value {
    serde_json::from_str(o.outputs.as_deref().unwrap()).unwrap()
}

/// `chunks` as Google sends them with `alt=sse`: `data: {json}` events ending in CRLF.
fn sse_body(chunks: &[Value]) -> String {
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect()
}

/// The stream `body` fed in pieces split at `splits`, read to its end.
fn streamed(request: &Value, body: &[u8], splits: &[usize], end: StreamEnd) -> Outcome {
    let mut c = start(STREAM_PATH, request).0;
    let mut from = 0;
    for &to in splits.iter().chain([&body.len()]) {
        let to = to.clamp(from, body.len());
        c.on_chunk(&body[from..to], 2_000);
        from = to;
    }
    c.finish_stream(end, 200, 3_000, &PriceTable::shipped())
}

fn chunk(parts: Value) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}], "modelVersion": "gemini-2.5-flash"})
}

fn last_chunk(parts: Value) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
           "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 65, "thoughtsTokenCount": 50},
           "modelVersion": "gemini-2.5-flash"})
}

// MLflow 3.17's UI reads a Gemini chat (`mlflow.message.format = "gemini"`) with module 90305 of
// its chat parsers (mlflow/server/js/build/static/js/4181.*.chunk.js). These are its predicates,
// ported: a part must be text, a function call or response, inline data or file data, in
// snake_case; every part of a content must be one.

fn is_part(p: &Value) -> bool {
    let obj = |k: &str| p.get(k).is_some_and(Value::is_object);
    let str_at = |k: &str, i: &str| {
        p.get(k)
            .and_then(|o| o.get(i))
            .is_some_and(Value::is_string)
    };
    p.get("text").is_some_and(Value::is_string)
        || obj("function_call")
        || obj("function_response")
        || (str_at("inline_data", "data") && str_at("inline_data", "mime_type"))
        || (str_at("file_data", "file_uri") && str_at("file_data", "mime_type"))
}

fn is_content(c: &Value) -> bool {
    c.get("parts")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().all(is_part))
        && c.get("role")
            .is_none_or(|r| r.as_str().is_some_and(|r| r == "user" || r == "model"))
}

/// Whether MLflow's UI renders `inputs` (a request) as a Gemini chat: the UI's `D`.
fn ui_renders_inputs(v: &Value) -> bool {
    v.get("contents")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().all(is_content))
}

/// Whether MLflow's UI renders `outputs` (a response) as a Gemini chat: the UI's `S`.
fn ui_renders_outputs(v: &Value) -> bool {
    v.get("candidates")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().all(|c| c.get("content").is_some_and(is_content)))
}

/// The second call of a tool loop, as `@google/genai` sends it: the model's function call (with
/// its thought signature) and the app's function response in `contents`.
fn tool_loop_request() -> Value {
    json!({
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Paris?"},
                                       {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                                       {"fileData": {"mimeType": "application/pdf", "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}}]}
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}]}],
        "generationConfig": {"thinkingConfig": {"includeThoughts": true}}
    })
}

/// F1. The parts MLflow's UI reads are recorded in snake_case, with the keys inside them it reads;
/// everything else is kept as sent, and a request without such parts is recorded as sent.
#[test]
fn gemini_parts_get_the_keys_mlflows_ui_reads_and_nothing_else_changes() {
    let request = tool_loop_request();
    assert!(
        !ui_renders_inputs(&request),
        "the wire shape does not render"
    );
    let shown = gemini::for_mlflow(&request).expect("a request with function parts is converted");
    assert!(ui_renders_inputs(&shown), "{shown}");
    assert_eq!(
        shown["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather in Paris?"},
                                       {"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo="}},
                                       {"file_data": {"mime_type": "application/pdf", "file_uri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}]},
            {"role": "model", "parts": [{"function_call": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}]},
            {"role": "user", "parts": [{"function_response": {"name": "get_weather", "response": {"temp_c": 21}}}]}
        ])
    );
    for k in ["systemInstruction", "tools", "generationConfig"] {
        assert_eq!(shown[k], request[k], "{k} is kept as sent");
    }

    let response = last_chunk(
        json!([{"text": "Checking.", "thought": true}, {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]),
    );
    assert!(!ui_renders_outputs(&response));
    let shown = gemini::for_mlflow(&response).unwrap();
    assert!(ui_renders_outputs(&shown), "{shown}");
    assert_eq!(
        shown["candidates"][0]["content"]["parts"][1],
        json!({"function_call": {"name": "get_weather", "args": {"city": "Paris"}}})
    );
    assert_eq!(shown["usageMetadata"], response["usageMetadata"]);

    // Nothing to convert: recorded as sent.
    assert_eq!(
        gemini::for_mlflow(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})),
        None
    );
    assert_eq!(
        gemini::for_mlflow(&last_chunk(json!([{"text": "hi"}]))),
        None
    );
}

/// F1. A streamed function call is recorded in the shape MLflow's UI renders.
#[test]
fn a_streamed_gemini_function_call_is_recorded_as_mlflows_ui_renders_it() {
    let body = sse_body(&[last_chunk(
        json!([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}]),
    )]);
    let out = streamed(
        &tool_loop_request(),
        body.as_bytes(),
        &[],
        StreamEnd::Completed,
    );
    let o = outputs(&out);
    assert!(ui_renders_outputs(&o), "{o}");
    assert_eq!(
        o["candidates"][0]["content"]["parts"],
        json!([{"function_call": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}])
    );
}

/// F1, through the call: the request's and a non-streamed response's tool-call turns are recorded
/// as MLflow's UI renders them; the tools are still read from the request as sent.
#[test]
fn a_gemini_tool_loop_is_recorded_as_mlflows_ui_renders_it() {
    let (mut c, started) = start(PATH, &tool_loop_request());
    let inputs: Value = serde_json::from_str(started.inputs.as_deref().unwrap()).unwrap();
    assert!(ui_renders_inputs(&inputs), "{inputs}");
    assert_eq!(
        inputs["contents"][2]["parts"][0]["function_response"]["name"],
        "get_weather"
    );
    assert_eq!(
        json_attr(&started, "mlflow.chat.tools")[0]["function"]["name"],
        "get_weather"
    );
    let response =
        last_chunk(json!([{"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]));
    let out = c.finish_body(
        200,
        response.to_string().as_bytes(),
        2_000,
        &PriceTable::shipped(),
    );
    let o = outputs(&out);
    assert!(ui_renders_outputs(&o), "{o}");
    assert_eq!(o["usageMetadata"], response["usageMetadata"]);

    // A text-only call is recorded byte for byte as sent.
    let text_only = r#"{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}"#;
    let (mut c, started) = LlmCall::start(
        Format::Gemini,
        "generativelanguage.googleapis.com",
        PATH,
        text_only,
        1_000,
    );
    assert_eq!(started.inputs.as_deref(), Some(text_only));
    let body = r#"{"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finishReason": "STOP"}]}"#;
    let out = c.finish_body(200, body.as_bytes(), 2_000, &PriceTable::shipped());
    assert_eq!(out.outputs.as_deref(), Some(body));
}

/// F2. With `thinkingConfig.includeThoughts`, Gemini streams thought summaries as text parts
/// marked `thought: true`. The reassembled stream keeps them apart from the answer, as the
/// non-streamed response does, so MLflow shows them as reasoning, not as the answer.
#[test]
fn streamed_gemini_thoughts_stay_apart_from_the_answer() {
    let request = json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
                         "generationConfig": {"thinkingConfig": {"includeThoughts": true}}});
    let body = sse_body(&[
        chunk(json!([{"text": "**Planning** ", "thought": true}])),
        chunk(json!([{"text": "I should greet.", "thought": true}])),
        chunk(json!([{"text": "Hel"}])),
        last_chunk(json!([{"text": "lo!"}])),
    ]);
    let out = streamed(&request, body.as_bytes(), &[], StreamEnd::Completed);
    let o = outputs(&out);
    let whole = last_chunk(
        json!([{"text": "**Planning** I should greet.", "thought": true}, {"text": "Hello!"}]),
    );
    assert_eq!(
        o["candidates"][0]["content"],
        whole["candidates"][0]["content"]
    );
    assert_eq!(o["candidates"][0]["finishReason"], "STOP");
    assert_eq!(out.error, None);
    // The same as the non-streamed answer.
    let mut c = start(PATH, &request).0;
    let not_streamed = c.finish_body(
        200,
        whole.to_string().as_bytes(),
        2_000,
        &PriceTable::shipped(),
    );
    assert_eq!(
        outputs(&not_streamed)["candidates"][0]["content"],
        o["candidates"][0]["content"]
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json_attr(&not_streamed, "mlflow.chat.tokenUsage")
    );
}

/// F8. Text and function calls stay in the order the stream sent them; only adjacent text deltas
/// of the same kind are joined (a thought signature, sent once, joins its text).
#[test]
fn a_streamed_gemini_answer_keeps_its_parts_in_order() {
    let body = sse_body(&[
        chunk(json!([{"text": "Let me "}])),
        chunk(json!([{"text": "check. "}])),
        chunk(json!([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}])),
        chunk(json!([{"text": "And also "}])),
        chunk(json!([{"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}])),
        chunk(json!([{"text": "Done", "thought": true}])),
        last_chunk(
            json!([{"text": ".", "thought": true, "thoughtSignature": "c2ln"}, {"text": ""}]),
        ),
    ]);
    let out = streamed(
        &json!({"contents": []}),
        body.as_bytes(),
        &[],
        StreamEnd::Completed,
    );
    assert_eq!(
        outputs(&out)["candidates"][0]["content"]["parts"],
        json!([
            {"text": "Let me check. "},
            {"function_call": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"text": "And also "},
            {"function_call": {"name": "get_weather", "args": {"city": "Rome"}}},
            {"text": "Done.", "thought": true, "thoughtSignature": "c2ln"},
            {"text": ""}
        ])
    );
}

/// F3. Google fails a stream that has begun with an event holding `error` ({code, message,
/// status}); `@google/genai` throws `ApiError`. The stream reader sees it as the call's error.
#[test]
fn a_gemini_error_event_is_the_streams_error() {
    let mut s = GeminiStream::default();
    s.on_data(&chunk(json!([{"text": "Partial "}])).to_string())
        .unwrap();
    assert!(!s.done);
    s.on_data(r#"{"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}"#)
        .unwrap();
    assert!(s.done);
    assert_eq!(s.error.as_deref(), Some("An internal error has occurred."));
    assert_eq!(
        s.output()["candidates"][0]["content"]["parts"],
        json!([{"text": "Partial "}])
    );
}

/// F3, through the call: the span fails with Google's message and an `ApiError` exception,
/// whether the app reads on or (as the SDK does on throwing) cancels the body; it is no parse
/// error, and what came before the error is kept.
#[test]
fn a_gemini_error_sent_mid_stream_fails_the_span_with_the_apis_message() {
    let body = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Partial \"}],\"role\": \"model\"},\"index\": 0}],\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n\
                data: {\"error\": {\"code\": 500, \"message\": \"An internal error has occurred.\", \"status\": \"INTERNAL\"}}\r\n\r\n";
    for end in [StreamEnd::Completed, StreamEnd::Cancelled] {
        let out = streamed(&json!({"contents": []}), body.as_bytes(), &[], end);
        assert_eq!(
            out.error.as_deref(),
            Some("An internal error has occurred."),
            "{end:?}"
        );
        assert_eq!(out.exception, Some("ApiError"), "{end:?}");
        assert!(
            attr(&out, "edgetrace.llm.parse_errors").is_none(),
            "{end:?}: {:?}",
            attr(&out, "edgetrace.llm.parse_errors")
        );
        assert_eq!(
            outputs(&out)["candidates"][0]["content"]["parts"],
            json!([{"text": "Partial "}])
        );
        // Read to its end or cancelled by the SDK that threw on it: the API's error ended it.
        assert_eq!(
            attr(&out, "edgetrace.llm.stream_end"),
            Some(&AttrValue::Str("errored".into())),
            "{end:?}"
        );
    }
}

/// A Gemini stream's chunks as Google sends them without `alt=sse` (and as mock-llm does): one
/// JSON array, each element indented JSON, `\n,\r\n` between them.
fn json_array_body(chunks: &[Value]) -> String {
    let mut s = String::new();
    for (i, c) in chunks.iter().enumerate() {
        s += if i == 0 { "[" } else { "\n,\r\n" };
        s += &serde_json::to_string_pretty(c).unwrap();
    }
    s + "\n]"
}

fn array_stream_chunks() -> Vec<Value> {
    vec![
        chunk(json!([{"text": "He said \"}]{\\\" "}])),
        chunk(json!([{"text": "é, ok"}])),
        last_chunk(json!([{"text": "."}])),
    ]
}

/// F4. Without `alt=sse`, `streamGenerateContent` answers one JSON array of responses, sent
/// element by element. Split anywhere (even inside a string holding brackets, quotes and
/// escapes, or inside a UTF-8 sequence), its elements are the stream's events.
#[test]
fn a_gemini_json_array_stream_splits_into_its_responses() {
    let chunks = array_stream_chunks();
    let body = json_array_body(&chunks);
    let bytes = body.as_bytes();
    for split in 0..=bytes.len() {
        let mut sse = SseParser::default();
        let mut s = GeminiStream::default();
        let mut events = s.feed(&mut sse, &bytes[..split]);
        events.extend(s.feed(&mut sse, &bytes[split..]));
        let got: Vec<Value> = events
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        assert_eq!(got, chunks, "split at {split}");
        assert_eq!(sse.bytes, bytes.len() as u64);
        assert_eq!(sse.invalid_utf8_lines, 0);
    }
    // An SSE body is still read as SSE.
    let mut sse = SseParser::default();
    let mut s = GeminiStream::default();
    let events = s.feed(&mut sse, sse_body(&chunks).as_bytes());
    assert_eq!(events.len(), 3);
}

/// F4, through the call: the JSON array stream is recorded as its SSE form is, completed, with
/// its output, usage and chunk count.
#[test]
fn a_gemini_stream_without_alt_sse_is_recorded_as_the_same_stream_with_sse() {
    let chunks = array_stream_chunks();
    let request = json!({"contents": [{"parts": [{"text": "array stream please"}]}]});
    let reference = streamed(
        &request,
        sse_body(&chunks).as_bytes(),
        &[],
        StreamEnd::Completed,
    );
    let body = json_array_body(&chunks);
    for split in (0..body.len()).step_by(5) {
        let out = streamed(
            &request,
            body.as_bytes(),
            &[split, split + 40],
            StreamEnd::Completed,
        );
        assert_eq!(out.error, None, "split at {split}");
        assert_eq!(out.outputs, reference.outputs, "split at {split}");
        assert_eq!(
            outputs(&out)["candidates"][0]["content"]["parts"],
            json!([{"text": "He said \"}]{\\\" é, ok."}])
        );
        for k in [
            "edgetrace.llm.stream_end",
            "edgetrace.llm.chunks",
            "mlflow.chat.tokenUsage",
            "edgetrace.llm.finish_reason",
        ] {
            assert_eq!(attr(&out, k), attr(&reference, k), "{k} split at {split}");
        }
        assert!(attr(&out, "edgetrace.llm.parse_errors").is_none());
    }
    // Cut inside its last element, it is a truncated stream with what came before.
    let cut = &body.as_bytes()[..body.len() - 30];
    let out = streamed(&request, cut, &[], StreamEnd::Completed);
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("truncated".into()))
    );
    assert_eq!(
        outputs(&out)["candidates"][0]["content"]["parts"],
        json!([{"text": "He said \"}]{\\\" é, ok"}])
    );
}
