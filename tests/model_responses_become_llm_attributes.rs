//! Model API requests, responses and SSE streams become MLflow's LLM attributes, and bad input
//! never does more than mark the span.

mod common;

use common::{outcome_attr as attr, outcome_json as json_attr};
use edgetrace::attribute::AttrValue;
use edgetrace::clock::ManualClock;
use edgetrace::id::SequentialIds;
use edgetrace::llm::{cost::PriceTable, Format, LlmCall, Outcome, StreamEnd};
use serde_json::{json, Value};

fn openai_stream(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": "w0 "})
        } else {
            json!({"content": format!("w{i} ")})
        };
        s += &format!(
            "data: {}\n\n",
            json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
        );
    }
    s += &format!(
        "data: {}\n\n",
        json!({"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    );
    s += &format!(
        "data: {}\n\n",
        json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": n, "total_tokens": 7 + n, "prompt_tokens_details": {"cached_tokens": 2}}})
    );
    s + "data: [DONE]\n\n"
}

fn start(format: Format, body: &str) -> LlmCall {
    LlmCall::start(
        format,
        "api.openai.com",
        "/v1/chat/completions",
        body,
        1_000,
    )
    .0
}

#[test]
fn an_openai_stream_split_at_every_byte_reassembles_the_same() {
    let body = openai_stream(5);
    let prices = PriceTable::shipped();
    let mut reference = None;
    for split in (0..body.len()).step_by(7) {
        let mut c = start(
            Format::OpenAiChat,
            r#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#,
        );
        c.on_chunk(&body.as_bytes()[..split], 2_000);
        c.on_chunk(&body.as_bytes()[split..], 3_000);
        let out = c.finish_stream(StreamEnd::Completed, 200, 4_000, &prices);
        let text: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
        assert_eq!(text["choices"][0]["message"]["content"], "w0 w1 w2 w3 w4 ");
        assert_eq!(
            json_attr(&out, "mlflow.chat.tokenUsage"),
            json!({"input_tokens": 7, "output_tokens": 5, "total_tokens": 12, "cache_read_input_tokens": 2})
        );
        assert_eq!(out.error, None);
        // The stream's events (5 deltas, the finish, the usage, [DONE]), not its 2 network reads.
        assert!(
            matches!(attr(&out, "edgetrace.llm.chunks"), Some(AttrValue::Int(n)) if n.get() == 8),
            "split at {split}: {:?}",
            attr(&out, "edgetrace.llm.chunks")
        );
        if let Some(r) = &reference {
            assert_eq!(r, &out.outputs, "split at {split}");
        }
        reference = Some(out.outputs.clone());
    }
}

#[test]
fn cost_prices_cached_tokens_at_the_cached_rate() {
    let mut c = start(
        Format::OpenAiChat,
        r#"{"model":"gpt-4o-mini","messages":[]}"#,
    );
    let body = json!({"model": "gpt-4o-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                      "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100, "prompt_tokens_details": {"cached_tokens": 400}}});
    let out = c.finish_body(
        200,
        body.to_string().as_bytes(),
        5_000,
        &PriceTable::shipped(),
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    let expected = (600.0 * 0.15 + 400.0 * 0.075 + 100.0 * 0.6) / 1e6;
    assert!(
        (cost["total_cost"].as_f64().unwrap() - expected).abs() < 1e-15,
        "{cost}"
    );
}

#[test]
fn an_anthropic_stream_with_tool_use_reassembles_content_and_usage() {
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 11, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me check"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "tu_1", "name": "get_weather", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": "}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        ),
        ("brand_new_event", json!({"type": "brand_new_event"})),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 25}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let mut c = LlmCall::start(
        Format::Anthropic,
        "api.anthropic.com",
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","stream":true,"max_tokens":9,"messages":[]}"#,
        0,
    )
    .0;
    for (e, d) in events {
        c.on_chunk(format!("event: {e}\ndata: {d}\n\n").as_bytes(), 1);
    }
    let out = c.finish_stream(StreamEnd::Completed, 200, 2, &PriceTable::shipped());
    let msg: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(msg["content"][0]["text"], "Let me check");
    assert_eq!(msg["content"][1]["input"], json!({"city": "Paris"}));
    assert_eq!(msg["stop_reason"], "tool_use");
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 11, "output_tokens": 25, "total_tokens": 36})
    );
    assert!(
        attr(&out, "edgetrace.llm.parse_errors").is_none(),
        "unknown events are not errors"
    );
}

#[test]
fn garbled_truncated_and_non_utf8_streams_mark_the_span_and_keep_what_was_read() {
    let prices = PriceTable::shipped();
    let mut c = start(Format::OpenAiChat, "{not json");
    let body = openai_stream(3);
    let cut = &body[..body.find("finish_reason\":\"stop").unwrap()];
    c.on_chunk(b"data: {garbage\n\ndata: \xff\xfe\n\n", 1);
    c.on_chunk(cut.as_bytes(), 2);
    let out = c.finish_stream(StreamEnd::Completed, 200, 3, &prices);
    let msg: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(msg["choices"][0]["message"]["content"], "w0 w1 w2 ");
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("truncated".into()))
    );
    assert!(out.error.is_some());
    let n = match attr(&out, "edgetrace.llm.parse_error_count") {
        Some(AttrValue::Int(n)) => n.get(),
        other => panic!("{other:?}"),
    };
    assert!(
        n >= 4,
        "request, garbage, non-UTF-8 chunk, UTF-8 line, truncation: {n}"
    );
}

#[test]
fn a_giant_stream_stops_being_parsed_but_the_call_still_finishes() {
    let mut c = start(Format::OpenAiChat, r#"{"model":"m","stream":true}"#);
    let line = format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {"content": "x".repeat(60_000)}}]})
    );
    let chunk = line.repeat(20); // ~1.2 MB
    for _ in 0..56 {
        c.on_chunk(chunk.as_bytes(), 1);
    }
    let out = c.finish_stream(StreamEnd::Cancelled, 200, 2, &PriceTable::shipped());
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("cancelled".into()))
    );
    let errs = json_attr(&out, "edgetrace.llm.parse_errors").to_string();
    assert!(errs.contains("was not parsed"), "{errs}");
}

#[test]
fn api_errors_set_error_status_with_the_apis_message() {
    for (format, body) in [
        (
            Format::OpenAiChat,
            json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
        ),
        (
            Format::Anthropic,
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limit reached"}}),
        ),
        (
            Format::Gemini,
            json!({"error": {"code": 429, "message": "Rate limit reached", "status": "RESOURCE_EXHAUSTED"}}),
        ),
    ] {
        let mut c = start(format, r#"{"model":"m"}"#);
        let out = c.finish_body(429, body.to_string().as_bytes(), 2, &PriceTable::shipped());
        assert_eq!(
            out.error.as_deref(),
            Some("HTTP 429: Rate limit reached"),
            "{format:?}"
        );
        // Named as the official SDKs name it, for MLflow's exception marks (@google/genai
        // throws `ApiError` for every status).
        let class = match format {
            Format::Gemini => "ApiError",
            _ => "RateLimitError",
        };
        assert_eq!(out.exception, Some(class), "{format:?}");
    }
    // Each API's statuses as its own JS SDK names them: the Anthropic SDK names more of them
    // (529 is Anthropic's "overloaded") than the openai SDK, which calls every 5xx
    // InternalServerError and any other unnamed status APIError; @google/genai has one class.
    for (status, openai, anthropic) in [
        (400, "BadRequestError", "BadRequestError"),
        (401, "AuthenticationError", "AuthenticationError"),
        (402, "APIError", "PaymentRequiredError"),
        (404, "NotFoundError", "NotFoundError"),
        (413, "APIError", "ContentTooLargeError"),
        (418, "APIError", "APIError"),
        (500, "InternalServerError", "InternalServerError"),
        (501, "InternalServerError", "NotImplementedError"),
        (502, "InternalServerError", "InternalServerError"),
        (503, "InternalServerError", "ServiceUnavailableError"),
        (529, "InternalServerError", "OverloadedError"),
    ] {
        for (format, class) in [
            (Format::OpenAiChat, openai),
            (Format::OpenAiResponses, openai),
            (Format::Gemini, "ApiError"),
            (Format::Anthropic, anthropic),
        ] {
            let mut c = start(format, r#"{"model":"m"}"#);
            let out = c.finish_body(status, b"{}", 2, &PriceTable::shipped());
            assert_eq!(out.exception, Some(class), "{format:?} {status}");
        }
    }
    let mut ok = start(Format::OpenAiChat, r#"{"model":"m"}"#);
    assert_eq!(
        ok.finish_body(200, b"{}", 2, &PriceTable::shipped())
            .exception,
        None
    );
}

#[test]
fn an_overloaded_anthropic_api_is_the_sdks_overloaded_error() {
    // Anthropic's 529, as its API sends it: the Anthropic SDKs raise OverloadedError (a subclass
    // of InternalServerError), and MLflow's autolog records that name.
    let mut c = start(Format::Anthropic, r#"{"model":"claude-sonnet-4-5"}"#);
    let body =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    let out = c.finish_body(529, body.to_string().as_bytes(), 2, &PriceTable::shipped());
    assert_eq!(out.error.as_deref(), Some("HTTP 529: Overloaded"));
    assert_eq!(out.exception, Some("OverloadedError"));
}

#[test]
fn a_calls_commands_set_its_span_in_the_core() {
    // The parsers run in a wasm module of their own: what they find reaches the span as commands
    // (`commands::Writer`), applied by the core as the recorded ones are.
    use edgetrace::commands::{Recorded, Writer};
    use edgetrace::otlp::Format as Wire;
    use edgetrace::tracer::{Config, Parent, Tracer};
    let mut t = Tracer::new(
        Config::default(),
        Box::new(ManualClock::new(1)),
        Box::new(SequentialIds::default()),
    );
    let root = Parent::Root;
    let h = t
        .start_span(0, root, "embed", edgetrace::span::SpanType::Unknown)
        .unwrap();
    let (mut call, out) = LlmCall::start(
        Format::OpenAiEmbeddings,
        "api.openai.com",
        "/v1/embeddings",
        r#"{"model":"text-embedding-3-small","input":"hi"}"#,
        1_000,
    );
    let mut w = Writer::default();
    w.span_type(h, Format::OpenAiEmbeddings.span_type());
    out.write(h, &mut w);
    let body = br#"{"object":"list","data":[],"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}"#;
    call.finish_body(200, body, 2_000, &PriceTable::shipped())
        .write(h, &mut w);
    // A failed call on a second span: its error becomes the span's status.
    let h2 = t
        .start_span(0, root, "chat", edgetrace::span::SpanType::Unknown)
        .unwrap();
    let (mut failed, _) = LlmCall::start(
        Format::OpenAiChat,
        "api.openai.com",
        "/v1/chat/completions",
        "{}",
        1_000,
    );
    failed
        .finish_body(
            429,
            br#"{"error":{"message":"Rate limit reached"}}"#,
            2_000,
            &PriceTable::shipped(),
        )
        .write(h2, &mut w);
    // Every value type, and a command for a span that is gone: counted, the rest applied.
    w.attr(h2, "n.int", &AttrValue::Int((-7).into()));
    w.attr(h2, "n.double", &AttrValue::Double(0.25.into()));
    w.attr(h2, "n.bool", &AttrValue::Bool(true));
    w.attr(h2, "n.json", &AttrValue::Json("[1,2]".into()));
    w.attr(999, "lost", &AttrValue::Bool(true));
    w.attr(h2, "n.str", &AttrValue::Str("é".into()));

    let mut rec = Recorded::default();
    rec.apply(&mut t, &w.bytes).unwrap();
    assert_eq!(rec.failed, 1, "only the command for span 999 fails");
    assert_eq!(t.stats().unknown_handles, 1);
    t.end_span(h2).unwrap();
    t.end_span(h).unwrap();
    let body = String::from_utf8(t.take_batch(Wire::Json).unwrap().body).unwrap();
    for expected in [
        r#""stringValue":"EMBEDDING""#,
        "mlflow.chat.tokenUsage",
        r#"\"input\":\"hi\""#,
        "Rate limit reached",
        r#"{"key":"n.int","value":{"intValue":"-7"}}"#,
        r#"{"key":"n.double","value":{"doubleValue":0.25}}"#,
        r#"{"key":"n.bool","value":{"boolValue":true}}"#,
        r#"{"key":"n.json","value":{"stringValue":"[1,2]"}}"#,
        r#"{"key":"n.str","value":{"stringValue":"é"}}"#,
        r#""status":{"message":"HTTP 429: Rate limit reached","code":2}"#,
        r#""name":"exception","attributes":[{"key":"exception.type","value":{"stringValue":"RateLimitError"}},{"key":"exception.message","value":{"stringValue":"HTTP 429: Rate limit reached"}}]"#,
    ] {
        assert!(body.contains(expected), "{expected} missing from {body}");
    }
    // A truncated command is malformed: reported, not applied.
    let mut w = Writer::default();
    w.attr(h, "x", &AttrValue::Str("abc".into()));
    assert!(rec.apply(&mut t, &w.bytes[..w.bytes.len() - 1]).is_err());
}

#[test]
fn an_anthropic_stream_whose_message_or_blocks_are_not_objects_is_marked_not_panicked_on() {
    // Found by the llm_response fuzz target: a `message` or `content_block` that is a string,
    // number or array was kept, and writing the reassembled content into it panicked.
    let events = [
        json!({"type": "message_start", "message": "not an object"}),
        json!({"type": "content_block_start", "index": 0, "content_block": "text"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        json!({"type": "content_block_start", "index": 1, "content_block": [1]}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\": 1}"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": 7}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "message_stop"}),
    ];
    let mut c = LlmCall::start(
        Format::Anthropic,
        "api.anthropic.com",
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","stream":true,"max_tokens":9,"messages":[]}"#,
        0,
    )
    .0;
    for d in events {
        c.on_chunk(format!("data: {d}\n\n").as_bytes(), 1);
    }
    let out = c.finish_stream(StreamEnd::Completed, 200, 2, &PriceTable::shipped());
    let msg: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(msg["role"], "assistant", "a fresh message stands in: {msg}");
    assert_eq!(
        msg["content"],
        json!([{"text": "Hi"}, {"input": {"a": 1}}]),
        "what the deltas carried is kept"
    );
    let errors = json_attr(&out, "edgetrace.llm.parse_errors");
    let errors: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(
        errors[0].contains("message_start's message is not an object"),
        "{errors:?}"
    );
    assert!(
        errors[1..]
            .iter()
            .all(|e| e.contains("content_block is not an object")),
        "{errors:?}"
    );
}

/// Anthropic reports cache reads and writes apart from `input_tokens`; MLflow's own Anthropic
/// autolog (mlflow/anthropic/autolog.py, `_parse_usage`) adds them into `input_tokens` and the
/// total, as OpenAI and Gemini count them. The cost prices each kind at its own rate.
#[test]
fn anthropic_cache_tokens_count_as_input_as_mlflow_records_them() {
    let mut c = LlmCall::start(
        Format::Anthropic,
        "api.anthropic.com",
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[]}"#,
        0,
    )
    .0;
    let body = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 1000, "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 500, "output_tokens": 100}});
    let out = c.finish_body(200, body.to_string().as_bytes(), 5, &PriceTable::shipped());
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 3500, "output_tokens": 100, "total_tokens": 3600,
               "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 500})
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    let expected_input = (1000.0 * 3.0 + 2000.0 * 0.30 + 500.0 * 3.0 * 1.25) / 1e6;
    assert!(
        (cost["input_cost"].as_f64().unwrap() - expected_input).abs() < 1e-15,
        "{cost}"
    );
    assert!(
        (cost["output_cost"].as_f64().unwrap() - 100.0 * 15.0 / 1e6).abs() < 1e-15,
        "{cost}"
    );
}

/// Gemini reports thinking tokens (`thoughtsTokenCount`) apart from `candidatesTokenCount`, which
/// MLflow's Gemini autolog records as `output_tokens`; Google bills them as output, so the cost
/// counts them there.
#[test]
fn gemini_thinking_tokens_are_billed_as_output() {
    let mut c = LlmCall::start(
        Format::Gemini,
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
        0,
    )
    .0;
    let body = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "hello"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1_000_000, "candidatesTokenCount": 1_000_000, "thoughtsTokenCount": 2_000_000,
                          "cachedContentTokenCount": 500_000, "totalTokenCount": 4_000_000},
        "modelVersion": "gemini-2.5-flash"});
    let out = c.finish_body(200, body.to_string().as_bytes(), 5, &PriceTable::shipped());
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 1_000_000, "output_tokens": 1_000_000, "total_tokens": 4_000_000,
               "cache_read_input_tokens": 500_000})
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    assert!(
        (cost["output_cost"].as_f64().unwrap() - 3_000_000.0 * 2.50 / 1e6).abs() < 1e-9,
        "{cost}"
    );
    let expected_input = (500_000.0 * 0.30 + 500_000.0 * 0.03) / 1e6;
    assert!(
        (cost["input_cost"].as_f64().unwrap() - expected_input).abs() < 1e-9,
        "{cost}"
    );
}

fn sse(events: &[(&str, Value)]) -> String {
    events
        .iter()
        .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
        .collect()
}

/// OpenAI reports an error in the middle of a Chat Completions stream as a chunk holding only
/// `error`; the SDK throws `APIError` with its message. The span fails with that message, as it
/// does for Anthropic's `error` event and a Responses `error` / `response.failed` event, whether
/// the app then reads on (the stream ends) or, as the SDK does, cancels the body.
#[test]
fn an_openai_stream_that_sends_an_error_chunk_fails_with_the_apis_message() {
    let chunks = openai_stream(2);
    let before_error = &chunks[..chunks.find("finish_reason\":\"stop").unwrap()];
    let before_error = &before_error[..before_error.rfind("data: ").unwrap()];
    let error = json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}});
    for end in [StreamEnd::Cancelled, StreamEnd::Completed] {
        let mut c = start(
            Format::OpenAiChat,
            r#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#,
        );
        c.on_chunk(before_error.as_bytes(), 2);
        c.on_chunk(format!("data: {error}\n\n").as_bytes(), 3);
        let out = c.finish_stream(end, 200, 4, &PriceTable::shipped());
        assert_eq!(
            out.error.as_deref(),
            Some("The server had an error while processing your request."),
            "{end:?}"
        );
        assert_eq!(out.exception, Some("APIError"), "{end:?}");
        assert!(
            attr(&out, "edgetrace.llm.parse_errors").is_none(),
            "an API error is not a parse error: {:?}",
            attr(&out, "edgetrace.llm.parse_errors")
        );
        let msg: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
        assert_eq!(msg["choices"][0]["message"]["content"], "w0 w1 ");
    }
}

/// Anthropic bills cache writes by their time to live: 5-minute writes at 1.25 times the input
/// price and 1-hour writes at 2 times. `usage.cache_creation.ephemeral_1h_input_tokens` says how
/// many of `cache_creation_input_tokens` were 1-hour writes. MLflow's Anthropic autolog records them
/// as `cache_creation_input_tokens_above_1hr` and its `cost_per_token` prices them at the model's
/// 1-hour rate (6 USD per million for claude-sonnet-4-5, whose input is 3); the rest of the writes
/// are priced at the 5-minute rate.
#[test]
fn anthropic_one_hour_cache_writes_are_recorded_and_priced_at_the_one_hour_rate() {
    let usage = |five_min: u64, one_hour: u64| {
        json!({"input_tokens": 20, "cache_read_input_tokens": 100, "cache_creation_input_tokens": five_min + one_hour,
               "cache_creation": {"ephemeral_5m_input_tokens": five_min, "ephemeral_1h_input_tokens": one_hour},
               "output_tokens": 87})
    };
    for (five_min, one_hour) in [(0, 50), (30, 20)] {
        let u = usage(five_min, one_hour);
        let message = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                             "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "usage": u});
        let stream = sse(&[
            (
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                       "model": "claude-sonnet-4-5", "content": [], "usage": {"output_tokens": 1, "input_tokens": 20,
                       "cache_read_input_tokens": 100, "cache_creation_input_tokens": five_min + one_hour,
                       "cache_creation": u["cache_creation"]}}}),
            ),
            (
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 87}}),
            ),
            ("message_stop", json!({"type": "message_stop"})),
        ]);
        let request = r#"{"model":"claude-sonnet-4-5","max_tokens":99,"messages":[]}"#;
        let mut plain = LlmCall::start(
            Format::Anthropic,
            "api.anthropic.com",
            "/v1/messages",
            request,
            0,
        )
        .0;
        let mut streamed = LlmCall::start(
            Format::Anthropic,
            "api.anthropic.com",
            "/v1/messages",
            request,
            0,
        )
        .0;
        streamed.on_chunk(stream.as_bytes(), 1);
        for out in [
            plain.finish_body(
                200,
                message.to_string().as_bytes(),
                2,
                &PriceTable::shipped(),
            ),
            streamed.finish_stream(StreamEnd::Completed, 200, 2, &PriceTable::shipped()),
        ] {
            let total_in = 20 + 100 + five_min + one_hour;
            assert_eq!(
                json_attr(&out, "mlflow.chat.tokenUsage"),
                json!({"input_tokens": total_in, "output_tokens": 87, "total_tokens": total_in + 87,
                       "cache_read_input_tokens": 100, "cache_creation_input_tokens": five_min + one_hour,
                       "cache_creation_input_tokens_above_1hr": one_hour})
            );
            let cost = json_attr(&out, "mlflow.llm.cost");
            let input =
                (20.0 * 3.0 + 100.0 * 0.30 + five_min as f64 * 3.75 + one_hour as f64 * 6.0) / 1e6;
            assert!(
                (cost["input_cost"].as_f64().unwrap() - input).abs() < 1e-15,
                "{five_min}/{one_hour}: {cost} vs {input}"
            );
            assert!(
                (cost["total_cost"].as_f64().unwrap() - (input + 87.0 * 15.0 / 1e6)).abs() < 1e-15,
                "{cost}"
            );
        }
    }
    // The report's case, as MLflow autolog priced it.
    let mut c = LlmCall::start(
        Format::Anthropic,
        "api.anthropic.com",
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","max_tokens":99,"messages":[]}"#,
        0,
    )
    .0;
    let message = json!({"model": "claude-sonnet-4-5", "content": [], "usage": usage(0, 50)});
    let out = c.finish_body(
        200,
        message.to_string().as_bytes(),
        2,
        &PriceTable::shipped(),
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    assert!(
        (cost["input_cost"].as_f64().unwrap() - 0.00039).abs() < 1e-15,
        "{cost}"
    );
    assert!(
        (cost["total_cost"].as_f64().unwrap() - 0.001695).abs() < 1e-15,
        "{cost}"
    );
}

/// A stream's first events often carry no generated token: OpenAI's first chunk holds only the
/// role, Anthropic sends `message_start`, `ping` and an empty `content_block_start`, Responses
/// sends `response.created` and empty output items. `time_to_first_token_ms` is the time of the
/// chunk that completes the first event carrying generated content (text, tool-call arguments,
/// reasoning, a refusal), measured from the call's start.
#[test]
fn time_to_first_token_is_when_the_first_generated_content_arrives() {
    let chat = |delta: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
        )
    };
    let chat_end = format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    );
    let responses_preamble = sse(&[
        (
            "response.created",
            json!({"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}}),
        ),
        (
            "response.in_progress",
            json!({"type": "response.in_progress", "response": {"id": "r", "status": "in_progress", "output": []}}),
        ),
        (
            "response.output_item.added",
            json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "role": "assistant", "content": []}}),
        ),
        (
            "response.content_part.added",
            json!({"type": "response.content_part.added", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": ""}}),
        ),
    ]);
    let responses_end = sse(&[(
        "response.completed",
        json!({"type": "response.completed", "response": {"id": "r", "status": "completed", "output": []}}),
    )]);
    let anthropic_preamble = |block: Value| {
        sse(&[
            (
                "message_start",
                json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 3, "output_tokens": 1}}}),
            ),
            ("ping", json!({"type": "ping"})),
            (
                "content_block_start",
                json!({"type": "content_block_start", "index": 0, "content_block": block}),
            ),
        ])
    };
    let anthropic_delta = |delta: Value| {
        sse(&[(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        )])
    };
    let anthropic_end = sse(&[
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ]);
    let gemini = |parts: Value| {
        format!(
            "data: {}\n\n",
            json!({"candidates": [{"content": {"role": "model", "parts": parts}}]})
        )
    };
    let gemini_end = format!(
        "data: {}\n\n",
        json!({"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}})
    );
    // (what, format, chunks before the first token, the chunk with it, the rest)
    let cases: Vec<(&str, Format, String, String, String)> = vec![
        (
            "chat text",
            Format::OpenAiChat,
            chat(json!({"role": "assistant", "content": ""})),
            chat(json!({"content": "Hi"})),
            chat_end.clone(),
        ),
        (
            "chat tool-call arguments",
            Format::OpenAiChat,
            chat(json!({"role": "assistant", "content": null})),
            chat(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
            ) + &chat(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]})),
            chat_end.clone(),
        ),
        (
            "chat refusal",
            Format::OpenAiChat,
            chat(json!({"role": "assistant", "content": null, "refusal": ""})),
            chat(json!({"refusal": "I can't"})),
            chat_end.clone(),
        ),
        (
            "chat reasoning (OpenAI-compatible services)",
            Format::OpenAiChat,
            chat(json!({"role": "assistant", "content": ""})),
            chat(json!({"content": "", "reasoning_content": "Let me think"})),
            chat_end.clone(),
        ),
        (
            "responses text",
            Format::OpenAiResponses,
            responses_preamble.clone(),
            sse(&[(
                "response.output_text.delta",
                json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "Hi"}),
            )]),
            responses_end.clone(),
        ),
        (
            "responses function-call arguments",
            Format::OpenAiResponses,
            sse(&[(
                "response.created",
                json!({"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}}),
            )]),
            sse(&[(
                "response.function_call_arguments.delta",
                json!({"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{\"a\""}),
            )]),
            responses_end.clone(),
        ),
        (
            "responses reasoning summary",
            Format::OpenAiResponses,
            responses_preamble.clone(),
            sse(&[(
                "response.reasoning_summary_text.delta",
                json!({"type": "response.reasoning_summary_text.delta", "output_index": 0, "summary_index": 0, "delta": "Thinking"}),
            )]),
            responses_end.clone(),
        ),
        (
            "anthropic text",
            Format::Anthropic,
            anthropic_preamble(json!({"type": "text", "text": ""})),
            anthropic_delta(json!({"type": "text_delta", "text": "Hi"})),
            anthropic_end.clone(),
        ),
        (
            "anthropic thinking",
            Format::Anthropic,
            anthropic_preamble(json!({"type": "thinking", "thinking": "", "signature": ""})),
            anthropic_delta(json!({"type": "thinking_delta", "thinking": "Hmm"})),
            anthropic_end.clone(),
        ),
        (
            "gemini text",
            Format::Gemini,
            gemini(json!([{"text": ""}])),
            gemini(json!([{"text": "Hi"}])),
            gemini_end.clone(),
        ),
    ];
    for (what, format, preamble, first_token, rest) in cases {
        let mut c = LlmCall::start(
            format,
            "example.com",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            r#"{"model":"m","stream":true}"#,
            1_000_000,
        )
        .0;
        c.on_chunk(preamble.as_bytes(), 2_000_000);
        // The first token's event arrives split across two network chunks: it is complete, and
        // so read, only with the second.
        let (a, b) = first_token.split_at(first_token.len() / 2);
        c.on_chunk(a.as_bytes(), 3_000_000);
        c.on_chunk(b.as_bytes(), 5_000_000);
        c.on_chunk(rest.as_bytes(), 7_000_000);
        let out = c.finish_stream(StreamEnd::Completed, 200, 8_000_000, &PriceTable::shipped());
        assert_eq!(
            attr(&out, "edgetrace.llm.time_to_first_token_ms"),
            Some(&AttrValue::Double(4.0.into())),
            "{what}"
        );
        assert_eq!(
            attr(&out, "edgetrace.llm.stream_end"),
            Some(&AttrValue::Str("completed".into())),
            "{what}"
        );
    }
    // A stream that fails before any token has no time to first token.
    let mut c = LlmCall::start(
        Format::Anthropic,
        "api.anthropic.com",
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","stream":true}"#,
        1_000_000,
    )
    .0;
    c.on_chunk(
        anthropic_preamble(json!({"type": "text", "text": ""})).as_bytes(),
        2_000_000,
    );
    c.on_chunk(
        sse(&[(
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        )])
        .as_bytes(),
        3_000_000,
    );
    // The SDK throws on the error event and cancels the body: the stream ended in the API's
    // error, not in the app's cancellation.
    let out = c.finish_stream(StreamEnd::Cancelled, 200, 4_000_000, &PriceTable::shipped());
    assert_eq!(out.error.as_deref(), Some("Overloaded"));
    assert_eq!(attr(&out, "edgetrace.llm.time_to_first_token_ms"), None);
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("errored".into()))
    );
}

/// A streamed Anthropic message is reassembled as the Anthropic SDKs' `finalMessage()` has it:
/// a thinking block keeps its `signature` (the API needs it back, unchanged, to continue a
/// conversation that used tools), and a text block keeps its `citations`.
#[test]
fn a_streamed_anthropic_message_keeps_thinking_signatures_and_citations() {
    let citation = |n: u64| {
        json!({"type": "char_location", "cited_text": format!("fact {n}"), "document_index": 0,
               "document_title": "Doc", "start_char_index": n, "end_char_index": n + 6})
    };
    let stream = sse(&[
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me see."}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": citation(0)}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Fact 0"}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": citation(9)}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 20}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ]);
    let mut c = LlmCall::start(
        Format::Anthropic,
        "api.anthropic.com",
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","stream":true,"max_tokens":99,"messages":[]}"#,
        0,
    )
    .0;
    c.on_chunk(stream.as_bytes(), 1);
    let out = c.finish_stream(StreamEnd::Completed, 200, 2, &PriceTable::shipped());
    let msg: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(
        msg["content"],
        json!([
            {"type": "thinking", "thinking": "Let me see.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
            {"type": "text", "text": "Fact 0", "citations": [citation(0), citation(9)]},
        ])
    );
    assert!(attr(&out, "edgetrace.llm.parse_errors").is_none());
}

/// The Responses API's built-in tools have no name. MLflow's own OpenAI autolog
/// (mlflow/openai/utils/chat_schema.py, `_parse_tools`) names them by their type, and records a
/// function tool with the fields its request gave, so the MLflow UI lists every tool by name. A
/// tool type MLflow does not know (`custom`, for which it records no tools at all) keeps its own
/// name.
#[test]
fn responses_built_in_tools_are_named_by_their_type_as_mlflow_names_them() {
    let params = json!({"type": "object", "properties": {"x": {"type": "string"}}});
    let request = json!({"model": "gpt-4o-mini", "input": "hi", "tools": [
        {"type": "web_search_preview"},
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "function", "name": "f", "parameters": params, "strict": true},
        {"type": "custom", "name": "grammar_tool", "description": "Free-form input"},
    ]});
    let (_, out) = LlmCall::start(
        Format::OpenAiResponses,
        "api.openai.com",
        "/v1/responses",
        &request.to_string(),
        0,
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tools"),
        json!([
            {"type": "function", "function": {"name": "web_search_preview"}},
            {"type": "function", "function": {"name": "file_search"}},
            {"type": "function", "function": {"name": "f", "parameters": params, "strict": true}},
            {"type": "function", "function": {"name": "grammar_tool", "description": "Free-form input"}},
        ])
    );
}

#[test]
fn answers_over_the_value_limit_keep_their_structure_streamed_and_not() {
    let prices = PriceTable::shipped();
    let request = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let within = |stream: bool| {
        let body = if stream {
            r#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#
        } else {
            request
        };
        LlmCall::start_within(
            Format::OpenAiChat,
            "api.openai.com",
            "/v1/chat/completions",
            body,
            1_000,
            2048,
        )
        .0
    };
    let long = "word ".repeat(2000);
    let response = json!({"id": "c", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": long}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2000, "total_tokens": 2003}});
    let out = within(false).finish_body(200, response.to_string().as_bytes(), 2_000, &prices);
    let mut streamed = within(true);
    streamed.on_chunk(openai_stream(1500).as_bytes(), 2_000);
    let out_streamed = streamed.finish_stream(StreamEnd::Completed, 200, 3_000, &prices);
    for (o, original) in [(&out, long.len()), (&out_streamed, 7890)] {
        let text = o.outputs.as_deref().unwrap();
        assert!(text.len() <= 2048, "{}", text.len());
        let v: Value = serde_json::from_str(text).unwrap();
        let content = v["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(content.len() > 1000, "kept {}", content.len());
        let marker = format!("…[edgetrace: truncated, original bytes: {original}]");
        assert!(
            content.ends_with(&marker),
            "{}",
            &content[content.len() - 60..]
        );
        assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    }
    // Usage is read from the whole answer, not the cut one.
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage")["output_tokens"],
        2000
    );
    assert_eq!(
        json_attr(&out_streamed, "mlflow.chat.tokenUsage")["output_tokens"],
        1500
    );
}

/// A whole stream in each format (Gemini's with `\r\n` line ends, as Google sends them).
fn whole_streams() -> Vec<(Format, &'static str, String)> {
    let responses = sse(&[
        (
            "response.created",
            json!({"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}}),
        ),
        (
            "response.output_text.delta",
            json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "Hé"}),
        ),
        (
            "response.output_text.delta",
            json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "llo"}),
        ),
        (
            "response.completed",
            json!({"type": "response.completed", "response": {"id": "r", "status": "completed", "output": [], "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}}}),
        ),
    ]);
    let anthropic = sse(&[
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hé"}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "llo"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ]);
    let gemini = ["Hé", "llo"]
        .iter()
        .map(|t| json!({"candidates": [{"content": {"role": "model", "parts": [{"text": t}]}}]}))
        .chain([json!({"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}})])
        .map(|v| format!("data: {v}\r\n\r\n"))
        .collect();
    vec![
        (Format::OpenAiChat, "/v1/chat/completions", openai_stream(3)),
        (Format::OpenAiResponses, "/v1/responses", responses),
        (Format::Anthropic, "/v1/messages", anthropic),
        (
            Format::Gemini,
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            gemini,
        ),
    ]
}

/// The stream `body` fed in pieces split at `splits` (byte offsets, any order), ended as `end`.
fn streamed(format: Format, path: &str, body: &[u8], splits: &[usize], end: StreamEnd) -> Outcome {
    let mut c = LlmCall::start(
        format,
        "example.com",
        path,
        r#"{"model":"m","stream":true}"#,
        1_000,
    )
    .0;
    let mut at: Vec<usize> = splits.iter().map(|&s| s.min(body.len())).collect();
    at.sort_unstable();
    let mut from = 0;
    for to in at.into_iter().chain([body.len()]) {
        c.on_chunk(&body[from..to], 2_000);
        from = to;
    }
    c.finish_stream(end, 200, 3_000, &PriceTable::shipped())
}

/// Where the last event of `body` (SSE, any line ends) ends: after its last blank line, a line end
/// right after another (`\r\n\r` is one already: a lone `\r` ends a line).
fn last_event_boundary(body: &[u8]) -> usize {
    let text = String::from_utf8_lossy(body);
    ["\n\n", "\r\r", "\n\r"]
        .iter()
        .filter_map(|sep| text.rfind(sep).map(|i| i + sep.len()))
        .max()
        .unwrap_or(0)
}

proptest::proptest! {
    /// A stream the app cancels, or that fails, stops wherever its reader or the network stopped
    /// it, mostly inside an event (a stream cancelled after its final event ended whole). The unfinished event is not a parse error (nor an unfinished
    /// UTF-8 sequence an invalid line), and the span holds what the events before it held, as if
    /// the stream had stopped at that event's start: the SDKs never read such an event either.
    #[test]
    fn a_stream_cut_short_inside_an_event_reads_the_events_before_it_without_parse_errors(
        which in 0usize..4,
        cut_per_mille in 0usize..1000,
        splits in proptest::collection::vec(0usize..4000, 0..4),
        cancelled in proptest::bool::ANY,
    ) {
        let (format, path, body) = whole_streams().swap_remove(which);
        let cut = body.len() * cut_per_mille / 1000;
        let end = if cancelled { StreamEnd::Cancelled } else { StreamEnd::Errored };
        let out = streamed(format, path, &body.as_bytes()[..cut], &splits, end);
        proptest::prop_assert!(
            attr(&out, "edgetrace.llm.parse_errors").is_none(),
            "{format:?} cut at {cut}: {:?}",
            attr(&out, "edgetrace.llm.parse_errors")
        );
        let at_boundary = last_event_boundary(&body.as_bytes()[..cut]);
        let reference = streamed(format, path, &body.as_bytes()[..at_boundary], &[], end);
        proptest::prop_assert_eq!(&out.outputs, &reference.outputs, "{:?} cut at {}", format, cut);
        // Cancelled after its final event (the Speakeasy SDKs cancel on `[DONE]`), it ended whole.
        let whole_before = streamed(format, path, &body.as_bytes()[..at_boundary], &[], StreamEnd::Completed);
        let final_read = attr(&whole_before, "edgetrace.llm.stream_end") == Some(&AttrValue::Str("completed".into()));
        let how = match (cancelled, final_read) {
            (false, _) => "errored",
            (true, true) => "completed",
            (true, false) => "cancelled",
        };
        proptest::prop_assert_eq!(attr(&out, "edgetrace.llm.stream_end"), Some(&AttrValue::Str(how.into())));
    }
}

/// A body read to its end whose server closed it on its last event without the blank line (or
/// without even the line's end) still gives that event: the stream is complete, without errors.
/// A body that ended inside an event is truncated, and its broken last event is an error of what
/// the server sent.
#[test]
fn a_body_read_to_its_end_reads_its_last_event_without_the_blank_line() {
    for (format, path, body) in whole_streams() {
        let trimmed = body.trim_end_matches(['\r', '\n']);
        for tail in ["", "\n", "\r\n"] {
            let whole = format!("{trimmed}{tail}");
            let out = streamed(format, path, whole.as_bytes(), &[], StreamEnd::Completed);
            assert_eq!(
                attr(&out, "edgetrace.llm.stream_end"),
                Some(&AttrValue::Str("completed".into())),
                "{format:?} {tail:?}"
            );
            assert!(
                attr(&out, "edgetrace.llm.parse_errors").is_none(),
                "{format:?} {tail:?}: {:?}",
                attr(&out, "edgetrace.llm.parse_errors")
            );
            assert_eq!(
                out.outputs,
                streamed(format, path, body.as_bytes(), &[], StreamEnd::Completed).outputs
            );
        }
        let inside = &trimmed[..trimmed.len() - 3];
        let out = streamed(format, path, inside.as_bytes(), &[], StreamEnd::Completed);
        assert_eq!(
            attr(&out, "edgetrace.llm.stream_end"),
            Some(&AttrValue::Str("truncated".into())),
            "{format:?}"
        );
        assert!(out.error.is_some(), "{format:?}");
    }
}

/// The parsers cut a model call's inputs and outputs to the span's value limit themselves,
/// keeping their structure, so the core sees them within the limit: each value they cut is counted
/// as truncated once all the same (by its command), as a value the core cuts is; one that fits,
/// or that only the core can cut (numbers, no long strings), is counted by the core or not at all.
#[test]
fn model_call_values_cut_to_the_limit_count_once_each_as_truncated() {
    use edgetrace::commands::{Recorded, Writer};
    use edgetrace::tracer::{Config, Parent, Tracer};
    const MAX: usize = 2048;
    let mut config = Config::default();
    config.limits.max_value_bytes = MAX;
    let mut t = Tracer::new(
        config,
        Box::new(ManualClock::new(1)),
        Box::new(SequentialIds::default()),
    );
    let mut rec = Recorded::default();
    let prices = PriceTable::shipped();
    let mut call =
        |path: &str, format: Format, request: &str, end: &dyn Fn(&mut LlmCall) -> Outcome| {
            let h = t
                .start_span(0, Parent::Root, "call", edgetrace::span::SpanType::Unknown)
                .unwrap();
            let before = t.stats().truncated_values;
            let (mut c, out) =
                LlmCall::start_within(format, "api.openai.com", path, request, 1_000, MAX);
            let mut w = Writer::default();
            out.write(h, &mut w);
            end(&mut c).write(h, &mut w);
            rec.apply(&mut t, &w.bytes).unwrap();
            assert_eq!(rec.failed, 0);
            t.end_span(h).unwrap();
            t.stats().truncated_values - before
        };
    let long_request = json!({"model": "gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "context ".repeat(1000)}]})
    .to_string();
    let short_request = r#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#;
    let long_stream = |c: &mut LlmCall| {
        c.on_chunk(openai_stream(1500).as_bytes(), 2_000);
        c.finish_stream(StreamEnd::Completed, 200, 3_000, &prices)
    };
    let short_stream = |c: &mut LlmCall| {
        c.on_chunk(openai_stream(3).as_bytes(), 2_000);
        c.finish_stream(StreamEnd::Completed, 200, 3_000, &prices)
    };
    let chat = "/v1/chat/completions";
    assert_eq!(
        call(chat, Format::OpenAiChat, &long_request, &long_stream),
        2,
        "input and output"
    );
    assert_eq!(
        call(chat, Format::OpenAiChat, &long_request, &short_stream),
        1,
        "input"
    );
    assert_eq!(
        call(chat, Format::OpenAiChat, short_request, &long_stream),
        1,
        "output"
    );
    assert_eq!(
        call(chat, Format::OpenAiChat, short_request, &short_stream),
        0,
        "neither"
    );
    // An embeddings answer of numbers only the core can cut: it counts it, once.
    let vectors =
        json!({"object": "list", "model": "e", "data": [{"embedding": vec![0.125; 1000]}]})
            .to_string();
    let embeddings = |c: &mut LlmCall| c.finish_body(200, vectors.as_bytes(), 2_000, &prices);
    assert_eq!(
        call(
            "/v1/embeddings",
            Format::OpenAiEmbeddings,
            r#"{"model":"e","input":"hi"}"#,
            &embeddings
        ),
        1
    );
}

#[test]
fn base64_embeddings_are_shown_as_the_numbers_the_sdk_decodes() {
    // The official SDKs ask for `encoding_format: "base64"` and give the app float32s as numbers;
    // the span shows those numbers, not the base64. Embeddings carry no chat message format.
    use base64::Engine as _;
    let floats = [0.5f32, -1.25, 0.1, 3.0e-7];
    let bytes: Vec<u8> = floats.iter().flat_map(|f| f.to_le_bytes()).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let body = json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": b64}], "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2}}).to_string();
    let (mut call, started) = LlmCall::start(
        Format::OpenAiEmbeddings,
        "api.openai.com",
        "/v1/embeddings",
        r#"{"model":"text-embedding-3-small","input":"hi","encoding_format":"base64"}"#,
        1_000,
    );
    assert!(attr(&started, "mlflow.message.format").is_none());
    let out = call.finish_body(200, body.as_bytes(), 2_000, &PriceTable::shipped());
    let shown: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    let want: Vec<f64> = floats.iter().map(|&f| f64::from(f)).collect();
    assert_eq!(shown["data"][0]["embedding"], json!(want));
    assert_eq!(shown["usage"]["total_tokens"], 2);

    // A string that is not base64 float32s leaves the body as sent.
    let bad = r#"{"object":"list","data":[{"embedding":"abc"}]}"#;
    let (mut call, _) =
        LlmCall::start(Format::OpenAiEmbeddings, "h", "/v1/embeddings", "{}", 1_000);
    let out = call.finish_body(200, bad.as_bytes(), 2_000, &PriceTable::shipped());
    let shown: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(shown["data"][0]["embedding"], "abc");
    // Chat calls keep theirs.
    let (_, chat) = LlmCall::start(Format::OpenAiChat, "h", "/v1/chat/completions", "{}", 1_000);
    assert_eq!(
        attr(&chat, "mlflow.message.format").and_then(AttrValue::as_str),
        Some("openai")
    );
}

/// A Responses stream that fails with an `error` event before any final response: the outputs
/// are the response the stream started with (its id, model and time), `failed`, with the API's
/// error, and no answer the API never sent. Cut short without an error, it is `incomplete` with
/// the text that came.
#[test]
fn a_responses_stream_ended_by_an_error_event_keeps_what_the_api_sent() {
    let started = json!({"id": "resp_1", "object": "response", "created_at": 1_700_000_000, "status": "in_progress",
                         "model": "gpt-4o-mini-2024-07-18", "output": []});
    let request = r#"{"model":"gpt-4o-mini","stream":true,"input":"hi"}"#;
    let run = |events: &[(&str, Value)], end: StreamEnd| {
        let (mut c, _) = LlmCall::start(
            Format::OpenAiResponses,
            "api.openai.com",
            "/v1/responses",
            request,
            0,
        );
        c.on_chunk(sse(events).as_bytes(), 1);
        c.finish_stream(end, 200, 2, &PriceTable::shipped())
    };
    let created = (
        "response.created",
        json!({"type": "response.created", "sequence_number": 0, "response": started}),
    );
    let error = (
        "error",
        json!({"type": "error", "sequence_number": 1, "code": "server_error", "message": "The server had an error", "param": null}),
    );
    let out = run(&[created.clone(), error], StreamEnd::Cancelled);
    assert_eq!(out.error.as_deref(), Some("The server had an error"));
    let outputs: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(
        outputs,
        json!({"id": "resp_1", "object": "response", "created_at": 1_700_000_000, "status": "failed",
               "model": "gpt-4o-mini-2024-07-18", "output": [],
               "error": {"code": "server_error", "message": "The server had an error", "param": null}})
    );
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("errored".into()))
    );

    let delta = (
        "response.output_text.delta",
        json!({"type": "response.output_text.delta", "sequence_number": 1, "delta": "Hel"}),
    );
    let out = run(&[created, delta], StreamEnd::Cancelled);
    let outputs: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(outputs["id"], "resp_1");
    assert_eq!(outputs["status"], "incomplete");
    assert_eq!(outputs["output"][0]["content"][0]["text"], "Hel");
    assert!(outputs.get("error").is_none());
}

/// An event that is not JSON: the official SDKs throw a SyntaxError on it and cancel the body,
/// so a stream cancelled after one failed there (an error, not the app's cancellation). A reader
/// that skips it and reads on to the end keeps a completed span, with the parse error listed.
#[test]
fn a_stream_cancelled_after_an_unreadable_event_failed_there() {
    let prices = PriceTable::shipped();
    let body = openai_stream(3);
    let garbled = format!("data: {{\"id\": \"c\", \"choices\": [{{\"delta\": \n\n{body}");
    let mut c = start(
        Format::OpenAiChat,
        r#"{"model":"gpt-4o-mini","stream":true}"#,
    );
    c.on_chunk(&garbled.as_bytes()[..60], 1);
    let out = c.finish_stream(StreamEnd::Cancelled, 200, 2, &prices);
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("errored".into()))
    );
    assert_eq!(out.exception, Some("SyntaxError"));
    assert!(
        out.error.as_deref().unwrap().contains("could not read"),
        "{:?}",
        out.error
    );

    let mut c = start(
        Format::OpenAiChat,
        r#"{"model":"gpt-4o-mini","stream":true}"#,
    );
    c.on_chunk(garbled.as_bytes(), 1);
    let out = c.finish_stream(StreamEnd::Completed, 200, 2, &prices);
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("completed".into()))
    );
    assert_eq!((out.error.as_deref(), out.exception), (None, None));
    assert!(attr(&out, "edgetrace.llm.parse_errors").is_some());

    // The app's own cancellation of a clean stream stays a cancellation.
    let mut c = start(
        Format::OpenAiChat,
        r#"{"model":"gpt-4o-mini","stream":true}"#,
    );
    c.on_chunk(&body.as_bytes()[..body.len() / 2], 1);
    let out = c.finish_stream(StreamEnd::Cancelled, 200, 2, &prices);
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("cancelled".into()))
    );
    assert_eq!(out.exception, None);
}

/// The model that answered names the span's model, as MLflow's autolog records it: a dated
/// snapshot for the alias asked for, and a priced model behind an alias the price table does not
/// know (a router's name) is priced. An answer naming no model keeps the request's.
#[test]
fn the_model_that_answered_is_the_spans_model_and_is_priced() {
    let prices = PriceTable::shipped();
    let usage = json!({"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100});
    let answer = |model: &str| {
        json!({"model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}], "usage": usage})
            .to_string()
    };
    let model = |out: &Outcome| match attr(out, "mlflow.llm.model") {
        Some(AttrValue::Str(s)) => s.to_string(),
        other => panic!("no model: {other:?}"),
    };
    for (asked, answered, recorded) in [
        (
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
            "gpt-4o-mini-2024-07-18",
        ),
        (
            "my-router-alias",
            "gpt-4o-mini-2024-07-18",
            "gpt-4o-mini-2024-07-18",
        ),
        ("gpt-4o-mini", "", "gpt-4o-mini"),
    ] {
        let mut c = start(
            Format::OpenAiChat,
            &json!({"model": asked, "messages": []}).to_string(),
        );
        let out = c.finish_body(200, answer(answered).as_bytes(), 5_000, &prices);
        assert_eq!(
            model(&out),
            recorded,
            "asked {asked}, answered {answered:?}"
        );
        let cost = json_attr(&out, "mlflow.llm.cost");
        let expected = (1000.0 * 0.15 + 100.0 * 0.6) / 1e6;
        assert!(
            (cost["total_cost"].as_f64().unwrap() - expected).abs() < 1e-15,
            "{cost}"
        );
    }
    // Streamed: OpenAI's chunks name the snapshot, Anthropic's message_start the dated model.
    let stream = openai_stream(2).replace("\"gpt-4o-mini\"", "\"gpt-4o-mini-2024-07-18\"");
    let mut c = start(
        Format::OpenAiChat,
        r#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#,
    );
    c.on_chunk(stream.as_bytes(), 2_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 4_000, &prices);
    assert_eq!(model(&out), "gpt-4o-mini-2024-07-18");
    let start_event = json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [], "usage": {"input_tokens": 11, "output_tokens": 1}}});
    let sse = format!("event: message_start\ndata: {start_event}\n\nevent: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n");
    let mut c = LlmCall::start(
        Format::Anthropic,
        "api.anthropic.com",
        "/v1/messages",
        r#"{"model":"claude-sonnet-4-5","stream":true,"messages":[]}"#,
        1_000,
    )
    .0;
    c.on_chunk(sse.as_bytes(), 2_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 4_000, &prices);
    assert_eq!(model(&out), "claude-sonnet-4-5-20250929");
}

/// Prices set for the model the request named (a router's or gateway's alias) still price a call
/// whose response names a model the table does not know; the span's model is still the served one.
#[test]
fn prices_set_for_the_asked_model_price_a_call_served_by_an_unpriced_one() {
    let prices = PriceTable::with_json(r#"{"my-router-alias":{"input":1,"output":2}}"#).unwrap();
    let body = json!({"model": "internal-llama-70b", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                      "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}});
    let mut c = start(
        Format::OpenAiChat,
        r#"{"model":"my-router-alias","messages":[]}"#,
    );
    let out = c.finish_body(200, body.to_string().as_bytes(), 5_000, &prices);
    assert!(
        matches!(attr(&out, "mlflow.llm.model"), Some(AttrValue::Str(s)) if &**s == "internal-llama-70b")
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    assert!(
        (cost["total_cost"].as_f64().unwrap() - (1000.0 * 1.0 + 100.0 * 2.0) / 1e6).abs() < 1e-15,
        "{cost}"
    );
}

/// A price the app set for the model it asked for (a gateway's alias) prices the call before the
/// shipped price of the model that answered; a price it set for the served model wins over both.
#[test]
fn an_apps_price_for_the_asked_model_comes_before_a_shipped_one_for_the_served_model() {
    let body = json!({"model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                      "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}});
    let total = |prices: &str| {
        let mut c = start(
            Format::OpenAiChat,
            r#"{"model":"my-gateway","messages":[]}"#,
        );
        let out = c.finish_body(
            200,
            body.to_string().as_bytes(),
            5_000,
            &PriceTable::with_json(prices).unwrap(),
        );
        json_attr(&out, "mlflow.llm.cost")["total_cost"]
            .as_f64()
            .unwrap()
    };
    let shipped = (1000.0 * 0.15 + 100.0 * 0.6) / 1e6;
    assert!((total("") - shipped).abs() < 1e-15);
    assert!((total(r#"{"my-gateway":{"input":1,"output":2}}"#) - 1200.0 / 1e6).abs() < 1e-15);
    assert!(
        (total(r#"{"my-gateway":{"input":1,"output":2},"gpt-4o-mini":{"input":3,"output":4}}"#)
            - 3400.0 / 1e6)
            .abs()
            < 1e-15
    );
}

/// Azure OpenAI's content filter (on by default) makes a stream's first chunk one with only the
/// prompt's filter results: `"id": ""`, `"model": ""`, `"created": 0`, no choices. The answer's
/// id, model and creation time come from the chunks after it, and the call is priced by the model
/// that answered.
#[test]
fn an_azure_stream_takes_its_model_and_id_from_the_chunks_after_the_filter_results() {
    let mut c = LlmCall::start(
        Format::OpenAiChat,
        "my-resource.openai.azure.com",
        "/openai/deployments/my-mini/chat/completions",
        r#"{"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        1_000,
    )
    .0;
    let filters = json!([{"prompt_index": 0, "content_filter_results": {"hate": {"filtered": false, "severity": "safe"}}}]);
    let mut body = format!(
        "data: {}\n\n",
        json!({"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": filters})
    );
    for (delta, finish) in [
        (json!({"role": "assistant", "content": "Hel"}), Value::Null),
        (json!({"content": "lo"}), Value::Null),
        (json!({}), json!("stop")),
    ] {
        body += &format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-az1", "object": "chat.completion.chunk", "created": 1_727_000_000, "model": "gpt-4o-mini-2024-07-18",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        );
    }
    body += &format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"id": "chatcmpl-az1", "object": "chat.completion.chunk", "created": 1_727_000_000, "model": "gpt-4o-mini-2024-07-18",
               "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}})
    );
    c.on_chunk(body.as_bytes(), 2_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped());
    let answer: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(answer["id"], "chatcmpl-az1");
    assert_eq!(answer["created"], 1_727_000_000);
    assert_eq!(answer["model"], "gpt-4o-mini-2024-07-18");
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello");
    assert_eq!(
        attr(&out, "mlflow.llm.model"),
        Some(&AttrValue::Str("gpt-4o-mini-2024-07-18".into()))
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    let expected = (1000.0 * 0.15 + 100.0 * 0.6) / 1e6;
    assert!(
        (cost["total_cost"].as_f64().unwrap() - expected).abs() < 1e-15,
        "{cost}"
    );
}

/// Gemini names the model that answered in `modelVersion`: an alias asked for
/// (`gemini-flash-latest`) is recorded and priced as the model it stood for, streamed or not.
#[test]
fn gemini_calls_are_recorded_and_priced_as_the_model_version_that_answered() {
    let usage = json!({"promptTokenCount": 1_000_000, "candidatesTokenCount": 1_000_000, "totalTokenCount": 2_000_000});
    let answer = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "hello"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"});
    let call = |path: &str| {
        LlmCall::start(
            Format::Gemini,
            "generativelanguage.googleapis.com",
            path,
            r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
            0,
        )
        .0
    };
    let plain = call("/v1beta/models/gemini-flash-latest:generateContent").finish_body(
        200,
        answer.to_string().as_bytes(),
        5,
        &PriceTable::shipped(),
    );
    let mut c = call("/v1beta/models/gemini-flash-latest:streamGenerateContent");
    c.on_chunk(format!("data: {answer}\r\n\r\n").as_bytes(), 2);
    let streamed = c.finish_stream(StreamEnd::Completed, 200, 5, &PriceTable::shipped());
    for (what, out) in [("plain", &plain), ("streamed", &streamed)] {
        assert_eq!(
            attr(out, "mlflow.llm.model"),
            Some(&AttrValue::Str("gemini-2.5-flash".into())),
            "{what}"
        );
        let cost = json_attr(out, "mlflow.llm.cost");
        assert!(
            (cost["total_cost"].as_f64().unwrap() - (0.30 + 2.50)).abs() < 1e-9,
            "{what}: {cost}"
        );
    }
    // The reassembled stream keeps the response's id and the candidate's index, as the
    // non-streamed answer has them.
    let out: Value = serde_json::from_str(streamed.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(out["responseId"], "resp-1");
    assert_eq!(out["candidates"][0]["index"], 0);
}

/// Gemini's function declarations become `mlflow.chat.tools` however the request writes them: a
/// JSON Schema given as `parametersJsonSchema` as it is, Gemini's own Schema (`parameters`) with
/// its type names in JSON Schema's lower case, and the REST API's snake_case
/// `function_declarations` too.
#[test]
fn gemini_tool_declarations_become_chat_tools_in_every_form() {
    let req = json!({"contents": [{"role": "user", "parts": [{"text": "time?"}]}], "tools": [
        {"functionDeclarations": [
            {"name": "get_time", "description": "The time in a city",
             "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            {"name": "get_weather", "parameters": {"type": "OBJECT", "properties": {
                "city": {"type": "STRING"}, "days": {"type": "ARRAY", "items": {"type": "INTEGER"}},
                "type": {"type": "STRING", "enum": ["RAIN", "SUN"]}}}},
        ]},
        {"function_declarations": [{"name": "snake", "parameters_json_schema": {"type": "object"}}]},
    ]});
    let c = LlmCall::start(
        Format::Gemini,
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        &req.to_string(),
        0,
    );
    let tools = json_attr(&c.1, "mlflow.chat.tools");
    assert_eq!(
        tools,
        json!([
            {"type": "function", "function": {"name": "get_time", "description": "The time in a city",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_weather", "description": null, "parameters": {"type": "object", "properties": {
                "city": {"type": "string"}, "days": {"type": "array", "items": {"type": "integer"}},
                "type": {"type": "string", "enum": ["RAIN", "SUN"]}}}}},
            {"type": "function", "function": {"name": "snake", "description": null, "parameters": {"type": "object"}}},
        ])
    );
}

/// An Azure OpenAI deployment stands for its model whatever the body's `model` says (the openai
/// SDK's `AzureOpenAI({ deployment })` sends `model: ""`, and Azure does not read it): a price the
/// app set for the deployment prices the call, and a call that failed, with no answer to name the
/// model, is recorded with the deployment, not an empty model. Behind a Cloudflare AI Gateway too.
#[test]
fn an_azure_deployment_stands_for_the_model_whatever_the_body_says() {
    let prices = PriceTable::with_json(r#"{"prod gpt4o":{"input":1,"output":2}}"#).unwrap();
    let answer = json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000, "total_tokens": 2_000_000}});
    for (host, path, body) in [
        (
            "res.openai.azure.com",
            "/openai/deployments/prod%20gpt4o/chat/completions",
            r#"{"model":"","messages":[]}"#,
        ),
        (
            "res.openai.azure.com",
            "/openai/deployments/prod%20gpt4o/chat/completions",
            r#"{"model":"gpt-4o","messages":[]}"#,
        ),
        (
            "gateway.ai.cloudflare.com",
            "/v1/acct/gw/azure-openai/res/prod%20gpt4o/chat/completions",
            r#"{"messages":[]}"#,
        ),
    ] {
        let start = || LlmCall::start(Format::OpenAiChat, host, path, body, 0).0;
        let ok = start().finish_body(200, answer.to_string().as_bytes(), 5, &prices);
        assert_eq!(
            attr(&ok, "mlflow.llm.model"),
            Some(&AttrValue::Str("gpt-4o-2024-08-06".into())),
            "{path} {body}"
        );
        let cost = json_attr(&ok, "mlflow.llm.cost");
        assert!(
            (cost["total_cost"].as_f64().unwrap() - 3.0).abs() < 1e-9,
            "{path} {body}: the app's price for the deployment: {cost}"
        );
        let err = json!({"error": {"code": "429", "message": "Rate limit is exceeded."}});
        let failed = start().finish_body(429, err.to_string().as_bytes(), 5, &prices);
        assert_eq!(
            attr(&failed, "mlflow.llm.model"),
            Some(&AttrValue::Str("prod gpt4o".into())),
            "{path} {body}"
        );
    }
}

/// Only Azure's paths name a deployment that stands for the model: another service's path with a
/// `deployments` segment (a gateway's own) keeps the model its body names.
#[test]
fn a_deployments_segment_outside_azure_paths_is_not_the_model() {
    let err = json!({"error": {"message": "bad request"}});
    let failed = LlmCall::start(
        Format::OpenAiChat,
        "gateway.example.com",
        "/deployments/team-a/v1/chat/completions",
        r#"{"model":"llama-3","messages":[]}"#,
        0,
    )
    .0
    .finish_body(400, err.to_string().as_bytes(), 5, &PriceTable::shipped());
    assert_eq!(
        attr(&failed, "mlflow.llm.model"),
        Some(&AttrValue::Str("llama-3".into()))
    );
}
