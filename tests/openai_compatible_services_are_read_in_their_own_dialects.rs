//! OpenAI-compatible services each add to OpenAI's wire format: where they put a stream's usage,
//! their cache hits, their reasoning, their content parts. Each shape here is the one the
//! service's own SDK types declare (review s48a read them from `groq-sdk`,
//! `@mistralai/mistralai`, `@ai-sdk/deepseek` and `@ai-sdk/xai`), and each test fails without
//! the reading it covers. Ollama's own API (`/api/chat`, `/api/generate`, newline-delimited JSON
//! streams), as the `ollama` package's types declare it, is read here too.

mod common;

use common::{outcome_attr as attr, outcome_json as json_attr};
use edgetrace::attribute::AttrValue;
use edgetrace::llm::{cost::PriceTable, Format, LlmCall, Outcome, StreamEnd};
use serde_json::{json, Value};

fn call(host: &str, model: &str, stream: bool) -> LlmCall {
    let body = json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "capital of France?"}]});
    LlmCall::start(
        Format::OpenAiChat,
        host,
        "/v1/chat/completions",
        &body.to_string(),
        1_000,
    )
    .0
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model,
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

/// Feeds `chunks` as SSE events, then `[DONE]` when `done`, and ends the stream as `end`.
fn stream(
    mut c: LlmCall,
    chunks: &[Value],
    done: bool,
    end: StreamEnd,
    prices: &PriceTable,
) -> Outcome {
    for (i, ch) in chunks.iter().enumerate() {
        c.on_chunk(
            format!("data: {ch}\n\n").as_bytes(),
            1_000 + (i as u64 + 1) * 1_000_000,
        );
    }
    if done {
        c.on_chunk(b"data: [DONE]\n\n", 90_000_000);
    }
    c.finish_stream(end, 200, 100_000_000, prices)
}

fn message(out: &Outcome) -> Value {
    let v: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    v["choices"][0]["message"].clone()
}

/// Mistral's reasoning models (Magistral) stream `delta.content` as an array of parts: `thinking`
/// parts (each holding an array of text parts), then `text` parts. The reassembled message holds
/// them as the non-streamed one does, each run joined; the first token is the first thinking.
#[test]
fn a_mistral_stream_of_content_parts_keeps_its_thinking_and_its_answer() {
    let m = "magistral-medium-2509";
    let think = |t: &str| json!({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": t}]}]});
    let text = |t: &str| json!({"content": [{"type": "text", "text": t}]});
    let chunks = [
        chunk(m, json!({"role": "assistant", "content": ""}), None),
        chunk(m, think("The user asks "), None),
        chunk(m, think("for a capital."), None),
        chunk(m, text("The capital "), None),
        chunk(m, text("is Paris."), None),
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": m,
               "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}),
    ];
    let out = stream(
        call("api.mistral.ai", m, true),
        &chunks,
        true,
        StreamEnd::Completed,
        &PriceTable::shipped(),
    );
    assert_eq!(
        message(&out)["content"],
        json!([
            {"type": "thinking", "thinking": [{"type": "text", "text": "The user asks for a capital."}]},
            {"type": "text", "text": "The capital is Paris."},
        ])
    );
    // The role-only first chunk (1 ms after the start) carries no token; the first thinking (2 ms) does.
    assert_eq!(
        attr(&out, "edgetrace.llm.time_to_first_token_ms"),
        Some(&AttrValue::Double(2.0.into()))
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage")["output_tokens"],
        20
    );
    assert_eq!(out.error, None);
}

/// Groq puts a stream's usage in its last chunk's `x_groq.usage` (its SDK's chunk type has no
/// `usage`): the call gets its tokens, and its cost where it is priced.
#[test]
fn a_groq_stream_takes_its_usage_from_x_groq() {
    let m = "llama-3.3-70b-versatile";
    let chunks = [
        chunk(m, json!({"role": "assistant", "content": ""}), None),
        chunk(m, json!({"content": "Paris."}), None),
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": m,
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
               "x_groq": {"id": "req_1", "usage": {"prompt_tokens": 25, "completion_tokens": 12, "total_tokens": 37,
                                                   "queue_time": 0.01, "prompt_time": 0.002, "completion_time": 0.03, "total_time": 0.032}}}),
    ];
    let prices =
        PriceTable::with_json(r#"{"llama-3.3-70b-versatile":{"input":0.59,"output":0.79}}"#)
            .unwrap();
    let out = stream(
        call("api.groq.com", m, true),
        &chunks,
        true,
        StreamEnd::Completed,
        &prices,
    );
    let usage = json_attr(&out, "mlflow.chat.tokenUsage");
    assert_eq!(
        (
            usage["input_tokens"].clone(),
            usage["output_tokens"].clone(),
            usage["total_tokens"].clone()
        ),
        (json!(25), json!(12), json!(37))
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    assert!(
        (cost["total_cost"].as_f64().unwrap() - (25.0 * 0.59 + 12.0 * 0.79) / 1e6).abs() < 1e-15,
        "{cost}"
    );
    let v: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(
        v["usage"]["prompt_tokens"], 25,
        "the reassembled response has its usage"
    );
}

/// DeepSeek reports cache hits as `prompt_cache_hit_tokens`, with no `prompt_tokens_details`:
/// they are MLflow's `cache_read_input_tokens`, priced at the cache rate.
#[test]
fn deepseek_cache_hits_are_cache_reads() {
    let body = json!({"id": "x", "object": "chat.completion", "created": 1, "model": "deepseek-chat",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 125, "completion_tokens": 12, "total_tokens": 137,
                  "prompt_cache_hit_tokens": 100, "prompt_cache_miss_tokens": 25}});
    let prices = PriceTable::with_json(
        r#"{"deepseek-chat":{"input":0.28,"output":0.42,"cachedInput":0.028}}"#,
    )
    .unwrap();
    let out = call("api.deepseek.com", "deepseek-chat", false).finish_body(
        200,
        body.to_string().as_bytes(),
        5_000,
        &prices,
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage")["cache_read_input_tokens"],
        100
    );
    let cost = json_attr(&out, "mlflow.llm.cost");
    let expected = (25.0 * 0.28 + 100.0 * 0.028 + 12.0 * 0.42) / 1e6;
    assert!(
        (cost["total_cost"].as_f64().unwrap() - expected).abs() < 1e-15,
        "{cost}"
    );
}

/// Reasoning streamed as `reasoning_content` (DeepSeek, xAI) or `reasoning` (Groq, OpenRouter,
/// Together, Ollama) is kept in the reassembled message under that key, as the non-streamed
/// message has it.
#[test]
fn streamed_reasoning_is_kept_under_the_key_it_came_as() {
    for key in ["reasoning_content", "reasoning"] {
        let m = "reasoner";
        let chunks = [
            chunk(
                m,
                json!({"role": "assistant", "content": null, key: ""}),
                None,
            ),
            chunk(
                m,
                json!({"content": null, key: "User asks capital. "}),
                None,
            ),
            chunk(m, json!({"content": null, key: "It is Paris."}), None),
            chunk(m, json!({"content": "Paris."}), None),
            chunk(m, json!({}), Some("stop")),
        ];
        let out = stream(
            call("api.example.com", m, true),
            &chunks,
            true,
            StreamEnd::Completed,
            &PriceTable::shipped(),
        );
        let msg = message(&out);
        assert_eq!(msg[key], "User asks capital. It is Paris.", "{key}: {msg}");
        assert_eq!(msg["content"], "Paris.", "{key}");
    }
}

/// xAI's `completion_tokens` leave out reasoning tokens, which its `total_tokens` adds apart: they
/// are output tokens, shown and priced as such. OpenAI's completion tokens already hold them, and
/// stay as they are.
#[test]
fn reasoning_tokens_outside_the_completion_count_are_output() {
    let prices = PriceTable::with_json(r#"{"grok-3-mini":{"input":0.3,"output":0.5}}"#).unwrap();
    for (total, completion, shown) in [(77, 12, 52), (37, 12, 12)] {
        let body = json!({"id": "x", "object": "chat.completion", "created": 1, "model": "grok-3-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 25, "completion_tokens": completion, "total_tokens": total,
                      "completion_tokens_details": {"reasoning_tokens": 40}}});
        let out = call("api.x.ai", "grok-3-mini", false).finish_body(
            200,
            body.to_string().as_bytes(),
            5_000,
            &prices,
        );
        let usage = json_attr(&out, "mlflow.chat.tokenUsage");
        assert_eq!(usage["output_tokens"], shown, "total {total}: {usage}");
        assert_eq!(usage["total_tokens"], total);
        let cost = json_attr(&out, "mlflow.llm.cost");
        let expected = (25.0 * 0.3 + shown as f64 * 0.5) / 1e6;
        assert!(
            (cost["total_cost"].as_f64().unwrap() - expected).abs() < 1e-15,
            "{cost}"
        );
    }
}

/// Mistral's and OpenRouter's SDKs cancel the body once they have read `[DONE]`: the stream
/// ended whole. A stream cancelled before its final event is still cancelled.
#[test]
fn a_stream_cancelled_after_its_final_event_completed() {
    let m = "mistral-small-latest";
    let chunks = [
        chunk(m, json!({"role": "assistant", "content": "Paris."}), None),
        chunk(m, json!({}), Some("stop")),
    ];
    for (done, end, how) in [
        (true, StreamEnd::Cancelled, "completed"),
        (false, StreamEnd::Cancelled, "cancelled"),
        // The app let it go (its request aborted, or the body collected unread): cancelled, even
        // where the parsers were handed the final event ahead of it.
        (true, StreamEnd::Abandoned, "cancelled"),
    ] {
        let out = stream(
            call("api.mistral.ai", m, true),
            &chunks,
            done,
            end,
            &PriceTable::shipped(),
        );
        assert_eq!(
            attr(&out, "edgetrace.llm.stream_end"),
            Some(&AttrValue::Str(how.into())),
            "[DONE] read: {done}, {end:?}"
        );
        assert_eq!(out.error, None);
    }
}

/// Mistral streams a tool call whole, without `"type"`: the reassembled call is a `function` one,
/// as OpenAI's messages (and MLflow's chat view) have it.
#[test]
fn a_streamed_tool_call_without_a_type_is_a_function_call() {
    let m = "mistral-small-latest";
    let chunks = [
        chunk(m, json!({"role": "assistant", "content": ""}), None),
        chunk(
            m,
            json!({"tool_calls": [{"id": "abc123xyz", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}, "index": 0}]}),
            None,
        ),
        chunk(m, json!({}), Some("tool_calls")),
    ];
    let out = stream(
        call("api.mistral.ai", m, true),
        &chunks,
        true,
        StreamEnd::Completed,
        &PriceTable::shipped(),
    );
    assert_eq!(
        message(&out)["tool_calls"],
        json!([{"id": "abc123xyz", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}, "type": "function"}])
    );
}

fn ollama(path: &str, body: Value) -> (LlmCall, Outcome) {
    let format = Format::parse(if path.ends_with("generate") {
        "ollama-generate"
    } else {
        "ollama"
    })
    .unwrap();
    LlmCall::start(format, "localhost:11434", path, &body.to_string(), 1_000)
}

fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

const OLLAMA_DONE: &str = r#"{"done":true,"done_reason":"stop","total_duration":1234567890,"load_duration":12345678,"prompt_eval_count":26,"prompt_eval_duration":23456789,"eval_count":3,"eval_duration":345678901}"#;

fn ollama_done(extra: Value) -> Value {
    let mut v: Value = serde_json::from_str(OLLAMA_DONE).unwrap();
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// Ollama's own chat (`/api/chat`, as the `ollama` package calls it) streams unless asked not to,
/// as newline-delimited JSON: the pieces of the message, then an object with `done: true`, the
/// counts and `done_reason`. The reassembled response is that last object holding the whole
/// message; `prompt_eval_count` and `eval_count` are the input and output tokens.
#[test]
fn an_ollama_chat_stream_reassembles_and_counts_its_tokens() {
    let (mut c, start) = ollama(
        "/api/chat",
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(
        c.streaming(),
        "Ollama streams when the request does not say"
    );
    assert_eq!(
        attr(&start, "mlflow.llm.provider"),
        Some(&AttrValue::Str("ollama".into()))
    );
    assert_eq!(
        attr(&start, "mlflow.message.format"),
        None,
        "MLflow's UI has no format for Ollama's messages"
    );
    let head = json!({"model": "llama3.2", "created_at": "2023-11-14T22:13:20.123456789Z"});
    let piece = |t: &str, thinking: &str| {
        let mut v = head.clone();
        v["message"] = json!({"role": "assistant", "content": t});
        if !thinking.is_empty() {
            v["message"]["thinking"] = json!(thinking);
        }
        v["done"] = json!(false);
        v
    };
    let mut last = ollama_done(head.clone());
    last["message"] = json!({"role": "assistant", "content": ""});
    let body = ndjson(&[
        piece("", "Short "),
        piece("", "answer."),
        piece("Hel", ""),
        piece("lo!", ""),
        last,
    ]);
    // Split inside a line and between lines; the last line without its newline.
    let body = body.trim_end();
    let (a, b) = body.split_at(body.len() / 2);
    c.on_chunk(a.as_bytes(), 2_000_000);
    c.on_chunk(b.as_bytes(), 3_000_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 4_000_000, &PriceTable::shipped());
    assert_eq!(
        out.error,
        None,
        "{:?}",
        attr(&out, "edgetrace.llm.parse_errors")
    );
    let v: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(
        v["message"],
        json!({"role": "assistant", "content": "Hello!", "thinking": "Short answer."})
    );
    assert_eq!(
        (v["done"].clone(), v["eval_count"].clone()),
        (json!(true), json!(3))
    );
    let usage = json_attr(&out, "mlflow.chat.tokenUsage");
    assert_eq!(
        usage,
        json!({"input_tokens": 26, "output_tokens": 3, "total_tokens": 29})
    );
    assert_eq!(
        attr(&out, "edgetrace.llm.finish_reason"),
        Some(&AttrValue::Str("stop".into()))
    );
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("completed".into()))
    );
    assert_eq!(
        attr(&out, "edgetrace.llm.chunks"),
        Some(&AttrValue::Int(5.into()))
    );
    assert_eq!(
        attr(&out, "edgetrace.llm.time_to_first_token_ms"),
        Some(&AttrValue::Double(1.999.into()))
    );
}

/// A generation (`/api/generate`) streams `response` pieces; a chat's tool calls come whole, their
/// arguments an object; `stream: false` is one body, read as it came.
#[test]
fn ollama_generations_tool_calls_and_whole_bodies_are_read() {
    let (mut c, _) = ollama(
        "/api/generate",
        json!({"model": "llama3.2", "prompt": "why?"}),
    );
    let head = json!({"model": "llama3.2", "created_at": "t"});
    let mut lines: Vec<Value> = ["Because", " it is."]
        .iter()
        .map(|t| {
            let mut v = head.clone();
            v["response"] = json!(t);
            v["done"] = json!(false);
            v
        })
        .collect();
    lines.push(ollama_done(
        json!({"model": "llama3.2", "created_at": "t", "response": "", "context": [1, 2, 3]}),
    ));
    c.on_chunk(ndjson(&lines).as_bytes(), 2_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped());
    let v: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(v["response"], "Because it is.");
    assert_eq!(
        v["context"], "[3 token ids]",
        "the token ids are counted, not listed"
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage")["output_tokens"],
        3
    );

    let call = json!({"function": {"name": "get_weather", "arguments": {"city": "Paris"}}});
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let (mut c, start) = ollama(
        "/api/chat",
        json!({"model": "llama3.2", "messages": [], "tools": tools}),
    );
    assert_eq!(json_attr(&start, "mlflow.chat.tools"), tools);
    let mut first = head.clone();
    first["message"] = json!({"role": "assistant", "content": "", "tool_calls": [call]});
    first["done"] = json!(false);
    let mut last = ollama_done(head.clone());
    last["message"] = json!({"role": "assistant", "content": ""});
    c.on_chunk(ndjson(&[first, last]).as_bytes(), 2_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped());
    let v: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(v["message"]["tool_calls"], json!([call]));

    let (c, _) = ollama(
        "/api/chat",
        json!({"model": "llama3.2", "stream": false, "messages": []}),
    );
    assert!(!c.streaming());
    let mut c = c;
    let mut whole = ollama_done(head);
    whole["message"] = json!({"role": "assistant", "content": "Hi."});
    let out = c.finish_body(
        200,
        whole.to_string().as_bytes(),
        3_000,
        &PriceTable::shipped(),
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage")["input_tokens"],
        26
    );
    assert_eq!(
        attr(&out, "edgetrace.llm.finish_reason"),
        Some(&AttrValue::Str("stop".into()))
    );
}

/// Ollama's errors: `{"error": "…"}`, as a failed call's body (the `ollama` package throws
/// `ResponseError`) or as a line of a stream that has begun (it throws a plain `Error`); a stream
/// cut before its last object is truncated.
#[test]
fn ollama_errors_and_cut_streams_fail_the_call() {
    let (mut c, _) = ollama("/api/chat", json!({"model": "nope", "stream": false}));
    let out = c.finish_body(
        404,
        br#"{"error":"model \"nope\" not found, try pulling it first"}"#,
        3_000,
        &PriceTable::shipped(),
    );
    assert_eq!(
        out.error.as_deref(),
        Some(r#"HTTP 404: model "nope" not found, try pulling it first"#)
    );
    assert_eq!(out.exception, Some("ResponseError"));

    let piece = json!({"model": "llama3.2", "created_at": "t", "message": {"role": "assistant", "content": "Hel"}, "done": false});
    let (mut c, _) = ollama("/api/chat", json!({"model": "llama3.2"}));
    c.on_chunk(
        ndjson(&[
            piece.clone(),
            json!({"error": "an error was encountered while running the model"}),
        ])
        .as_bytes(),
        2_000,
    );
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped());
    assert_eq!(
        out.error.as_deref(),
        Some("an error was encountered while running the model")
    );
    assert_eq!(out.exception, Some("Error"));
    let v: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(
        (v["message"]["content"].clone(), v["done"].clone()),
        (json!("Hel"), json!(false)),
        "the partial text is kept"
    );

    let (mut c, _) = ollama("/api/chat", json!({"model": "llama3.2"}));
    c.on_chunk(ndjson(&[piece]).as_bytes(), 2_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped());
    assert_eq!(
        attr(&out, "edgetrace.llm.stream_end"),
        Some(&AttrValue::Str("truncated".into()))
    );
}

/// An Ollama stream split at any byte (inside a line, inside a UTF-8 sequence) reads the same.
#[test]
fn an_ollama_stream_split_anywhere_reads_the_same() {
    let head = json!({"model": "llama3.2", "created_at": "t"});
    let mut lines: Vec<Value> = ["Ça ", "va ", "très ", "bien 👍"]
        .iter()
        .map(|t| {
            let mut v = head.clone();
            v["message"] = json!({"role": "assistant", "content": t});
            v["done"] = json!(false);
            v
        })
        .collect();
    let mut last = ollama_done(head);
    last["message"] = json!({"role": "assistant", "content": ""});
    lines.push(last);
    let body = ndjson(&lines);
    let whole = |splits: &[usize]| {
        let (mut c, _) = ollama("/api/chat", json!({"model": "llama3.2"}));
        let mut from = 0;
        for &to in splits.iter().chain([&body.len()]) {
            c.on_chunk(&body.as_bytes()[from..to], 2_000);
            from = to;
        }
        c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped())
    };
    let reference = whole(&[]);
    let v: Value = serde_json::from_str(reference.outputs.as_deref().unwrap()).unwrap();
    assert_eq!(v["message"]["content"], "Ça va très bien 👍");
    for at in 1..body.len() {
        let out = whole(&[at]);
        assert_eq!(out.outputs, reference.outputs, "split at {at}");
        assert_eq!(
            attr(&out, "edgetrace.llm.parse_errors"),
            None,
            "split at {at}"
        );
    }
}

/// A generation's `context` (the conversation's token ids, sent back for the next call) grows with
/// the conversation: past `maxValueBytes` it took all the room, and the answer was cut away. It is
/// recorded as its count, streamed and not, and the answer stays whole, as JSON.
#[test]
fn an_ollama_generations_context_leaves_the_answer_its_room() {
    let context: Vec<u32> = (0..6_000).map(|i| 100_000 + i).collect();
    let done = ollama_done(
        json!({"model": "llama3.2", "created_at": "t", "response": "", "context": context}),
    );
    for stream in [true, false] {
        let body = json!({"model": "llama3.2", "prompt": "why?", "stream": stream}).to_string();
        let (mut c, _) = LlmCall::start_within(
            Format::parse("ollama-generate").unwrap(),
            "localhost:11434",
            "/api/generate",
            &body,
            1_000,
            32 * 1024,
        );
        let out = if stream {
            let piece = json!({"model": "llama3.2", "created_at": "t", "response": "Because.", "done": false});
            c.on_chunk(ndjson(&[piece, done.clone()]).as_bytes(), 2_000);
            c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped())
        } else {
            let mut whole = done.clone();
            whole["response"] = json!("Because.");
            c.finish_body(
                200,
                whole.to_string().as_bytes(),
                3_000,
                &PriceTable::shipped(),
            )
        };
        let v: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
        assert_eq!(v["response"], "Because.", "streamed: {stream}");
        assert_eq!(v["context"], "[6000 token ids]");
        assert_eq!(v["eval_count"], 3);
    }
}

/// A streamed message of only tool calls, or a refusal, has `content: null`, as the non-streamed
/// one has, though its first chunk carries `content: ""` with the role (Groq, Mistral, OpenAI).
#[test]
fn a_streamed_message_without_text_has_null_content() {
    let m = "gpt-4o-mini";
    let call_chunk = json!({"tool_calls": [{"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
    for (second, key) in [
        (call_chunk, "tool_calls"),
        (json!({"refusal": "I can't help with that."}), "refusal"),
    ] {
        let chunks = [
            chunk(m, json!({"role": "assistant", "content": ""}), None),
            chunk(m, second, None),
            chunk(m, json!({}), Some("stop")),
        ];
        let out = stream(
            call("api.openai.com", m, true),
            &chunks,
            true,
            StreamEnd::Completed,
            &PriceTable::shipped(),
        );
        let msg = message(&out);
        assert_eq!(msg["content"], Value::Null, "{key}: {msg}");
        assert!(!msg[key].is_null(), "{key}: {msg}");
    }
    // An empty answer with neither stays an empty string.
    let chunks = [
        chunk(m, json!({"role": "assistant", "content": ""}), None),
        chunk(m, json!({}), Some("stop")),
    ];
    let out = stream(
        call("api.openai.com", m, true),
        &chunks,
        true,
        StreamEnd::Completed,
        &PriceTable::shipped(),
    );
    assert_eq!(message(&out)["content"], "");
}

/// The next generation sends `context` back (how the `ollama` package continues a conversation):
/// the request is recorded with it as its count too, so the prompt keeps its room and the
/// request its structure, whatever order the app wrote its keys in.
#[test]
fn an_ollama_request_sending_its_context_back_keeps_its_prompt() {
    let context: Vec<u32> = (0..8_000).map(|i| 100_000 + i).collect();
    let body = json!({"model": "llama3.2", "context": context, "system": "Be brief.", "prompt": "And then?"});
    let (_, start) = LlmCall::start_within(
        Format::parse("ollama-generate").unwrap(),
        "localhost:11434",
        "/api/generate",
        &body.to_string(),
        1_000,
        32 * 1024,
    );
    let inputs: Value = serde_json::from_str(start.inputs.as_deref().unwrap()).unwrap();
    assert_eq!(inputs["prompt"], "And then?");
    assert_eq!(inputs["system"], "Be brief.");
    assert_eq!(inputs["context"], "[8000 token ids]");
}
