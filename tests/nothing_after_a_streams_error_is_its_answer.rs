//! A stream that carries the API's error is over there: the official SDKs throw at it and read no
//! further. Whatever the body holds after it, in the same network read or later ones, is not the
//! answer, its usage or its finish reason (review s49d: content, `finish_reason: stop` and the
//! output tokens sent after an error in one read were recorded, and priced). The call says it
//! failed (`failed()`), so the JS layer ends its span at once.

mod common;

use common::outcome_json as json_attr;
use edgetrace::attribute::AttrValue;
use edgetrace::llm::{cost::PriceTable, Format, LlmCall, Outcome, StreamEnd};
use serde_json::{json, Value};

fn run(format: Format, path: &str, request: Value, body: &str) -> (LlmCall, Outcome) {
    let (mut c, _) = LlmCall::start(format, "127.0.0.1:8000", path, &request.to_string(), 1_000);
    // One network read holds all of it.
    c.on_chunk(body.as_bytes(), 2_000_000);
    assert!(c.failed(), "the call failed at its error");
    // A later read changes nothing.
    c.on_chunk(body.as_bytes(), 3_000_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 9_000_000, &PriceTable::shipped());
    (c, out)
}

fn text(o: &Outcome, key: &str) -> Option<String> {
    o.attributes
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

fn outputs(o: &Outcome) -> Value {
    serde_json::from_str(o.outputs.as_deref().unwrap()).unwrap()
}

#[test]
fn openai_chat() {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let body = [
        chunk(
            json!({"role": "assistant", "content": "Hello"}),
            Value::Null,
        ),
        json!({"error": {"message": "The server had an error", "type": "server_error"}}),
        chunk(json!({"content": " AFTER ERROR"}), Value::Null),
        chunk(json!({}), json!("stop")),
    ]
    .iter()
    .map(|v| format!("data: {v}\n\n"))
    .collect::<String>()
        + "data: [DONE]\n\n";
    let req = json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi"}]});
    let (_, out) = run(Format::OpenAiChat, "/v1/chat/completions", req, &body);
    assert_eq!(
        outputs(&out)["choices"][0]["message"]["content"],
        json!("Hello")
    );
    assert_eq!(text(&out, "edgetrace.llm.finish_reason"), None);
    assert_eq!(
        text(&out, "edgetrace.llm.stream_end").as_deref(),
        Some("errored")
    );
    assert_eq!(out.error.as_deref(), Some("The server had an error"));
    let chunks = out
        .attributes
        .iter()
        .rev()
        .find(|(k, _)| k == "edgetrace.llm.chunks");
    assert_eq!(chunks.map(|(_, v)| v), Some(&AttrValue::Int(2.into())));
}

#[test]
fn anthropic() {
    let ev = |v: Value| format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap());
    let body = [
        json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
               "content": [], "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " AFTER ERROR"}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 500}}),
        json!({"type": "message_stop"}),
    ]
    .into_iter()
    .map(ev)
    .collect::<String>();
    let req = json!({"model": "claude-3-5-haiku-20241022", "max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "Hi"}]});
    let (_, out) = run(Format::Anthropic, "/v1/messages", req, &body);
    assert_eq!(outputs(&out)["content"][0]["text"], json!("Hello"));
    assert_eq!(outputs(&out)["stop_reason"], Value::Null);
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage")["output_tokens"],
        json!(1),
        "not the 500 sent after the error"
    );
    assert_eq!(out.error.as_deref(), Some("Overloaded"));
}

#[test]
fn ollama() {
    let body = [
        json!({"model": "llama3.2", "created_at": "t", "message": {"role": "assistant", "content": "Hello"}, "done": false}),
        json!({"error": "an error was encountered while running the model"}),
        json!({"model": "llama3.2", "created_at": "t", "message": {"role": "assistant", "content": " AFTER ERROR"}, "done": false}),
        json!({"model": "llama3.2", "created_at": "t", "message": {"role": "assistant", "content": ""}, "done": true,
               "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 3}),
    ]
    .iter()
    .map(|v| format!("{v}\n"))
    .collect::<String>();
    let req = json!({"model": "llama3.2", "messages": [{"role": "user", "content": "Hi"}]});
    let (_, out) = run(Format::Ollama, "/api/chat", req, &body);
    assert_eq!(outputs(&out)["message"]["content"], json!("Hello"));
    assert_eq!(outputs(&out)["done"], json!(false));
    assert_eq!(text(&out, "edgetrace.llm.finish_reason"), None);
    assert!(
        out.attributes
            .iter()
            .all(|(k, _)| k != "mlflow.chat.tokenUsage"),
        "no usage from after the error"
    );
}
