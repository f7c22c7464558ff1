//! Cloudflare Workers AI's own API, read as it sends: the binding's and the REST API's answers
//! (the latter in Cloudflare's v4 envelope), its SSE streams with their padding, tool call deltas
//! and closing usage, however the network splits them, and the names and types MLflow shows.

mod common;

use common::{outcome_attr as attr, outcome_json as json_attr};
use edgetrace::attribute::AttrValue;
use edgetrace::llm::{cost::PriceTable, Format, LlmCall, Outcome, StreamEnd};
use serde_json::{json, Value};

const LLAMA: &str = "@cf/meta/llama-3.1-8b-instruct";

fn start(path: &str, body: Value) -> (LlmCall, Outcome) {
    LlmCall::start(
        Format::WorkersAi,
        "api.cloudflare.com",
        path,
        &body.to_string(),
        1_000,
    )
}

fn rest(model: &str) -> String {
    format!("/client/v4/accounts/0123abcd/ai/run/{model}")
}

fn outputs(o: &Outcome) -> Value {
    serde_json::from_str(o.outputs.as_deref().unwrap()).unwrap()
}

/// Ends a non-streamed call with its JSON `body` and `status`, priced by `prices`.
fn finish(c: &mut LlmCall, status: u16, body: &Value, prices: &PriceTable) -> Outcome {
    c.finish_body(status, body.to_string().as_bytes(), 2_000_000, prices)
}

fn str_attr<'a>(o: &'a Outcome, k: &str) -> Option<&'a str> {
    attr(o, k).and_then(AttrValue::as_str)
}

/// Workers AI's stream: each piece with its padding, tool call deltas, then usage and `[DONE]`.
fn sse(tool: bool) -> String {
    let mut events = vec![
        json!({"response": "Bonjour", "p": "abcdefghij"}),
        json!({"response": " tout", "p": "ab"}),
        json!({"response": " le monde.", "p": "abcdefghijklmnopq"}),
    ];
    if tool {
        events.push(json!({"response": "", "tool_calls": [{"id": "chatcmpl-tool-1", "type": "function", "index": 0,
                                                            "function": {"name": "get_weather", "arguments": ""}}], "p": "a"}));
        events.push(json!({"response": "", "tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}));
        events.push(json!({"response": "", "tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}));
    }
    events.push(json!({"response": "", "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}));
    let mut s: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s
}

#[test]
fn a_chat_through_the_rest_api_is_a_chat_model_span_of_cloudflares() {
    let (mut c, start_out) = start(
        &rest(LLAMA),
        json!({"messages": [{"role": "user", "content": "Say hello in French"}], "max_tokens": 64, "temperature": 0.2}),
    );
    assert_eq!(c.span_type(), "CHAT_MODEL");
    assert_eq!(
        str_attr(&start_out, "mlflow.llm.provider"),
        Some("cloudflare")
    );
    assert_eq!(str_attr(&start_out, "mlflow.llm.model"), Some(LLAMA));
    // Its answers fit no chat format MLflow's UI reads: none is claimed.
    assert!(attr(&start_out, "mlflow.message.format").is_none());
    assert_eq!(
        json_attr(&start_out, "edgetrace.llm.request_params"),
        json!({"max_tokens": 64, "temperature": 0.2})
    );
    let body = json!({"result": {"response": "Bonjour tout le monde.", "tool_calls": [],
                                 "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}},
                      "success": true, "errors": [], "messages": []});
    let out = finish(&mut c, 200, &body, &PriceTable::shipped());
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 12, "output_tokens": 5, "total_tokens": 17})
    );
    // The body as the API sent it, envelope and all.
    assert_eq!(outputs(&out), body);
    // And the conversation as MLflow's UI reads it, the answer last.
    assert_eq!(
        json_attr(&out, "mlflow.chat.messages"),
        json!([{"role": "user", "content": "Say hello in French"},
               {"role": "assistant", "content": "Bonjour tout le monde."}])
    );
    assert!(out.error.is_none());
}

#[test]
fn a_stream_is_reassembled_into_the_answer_however_it_is_split() {
    let req = json!({"messages": [{"role": "user", "content": "Weather in Paris?"}], "stream": true,
                     "tools": [{"name": "get_weather", "description": "The weather", "parameters": {"type": "object"}}]});
    let whole = sse(true);
    let mut seen = None;
    for split in [1, 3, 7, 64, whole.len()] {
        let (mut c, s) = start(&rest(LLAMA), req.clone());
        assert!(c.streaming());
        // Workers AI's own tool shape, shown in OpenAI's, which MLflow's UI reads.
        assert_eq!(
            json_attr(&s, "mlflow.chat.tools"),
            json!([{"type": "function", "function": {"name": "get_weather", "description": "The weather", "parameters": {"type": "object"}}}])
        );
        for (i, piece) in whole.as_bytes().chunks(split).enumerate() {
            c.on_chunk(piece, 2_000_000 + i as u64);
        }
        let out = c.finish_stream(
            StreamEnd::Completed,
            200,
            90_000_000,
            &PriceTable::shipped(),
        );
        assert_eq!(
            str_attr(&out, "edgetrace.llm.stream_end"),
            Some("completed")
        );
        assert_eq!(
            json_attr(&out, "mlflow.chat.tokenUsage"),
            json!({"input_tokens": 12, "output_tokens": 5, "total_tokens": 17})
        );
        let o = outputs(&out);
        assert_eq!(o["response"], "Bonjour tout le monde.");
        assert_eq!(
            o["tool_calls"],
            json!([{"id": "chatcmpl-tool-1", "type": "function", "index": 0,
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
        );
        assert!(attr(&out, "edgetrace.llm.time_to_first_token_ms").is_some());
        assert_eq!(
            json_attr(&out, "mlflow.chat.messages")[1],
            json!({"role": "assistant", "content": "Bonjour tout le monde.", "tool_calls": [
                {"id": "chatcmpl-tool-1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]})
        );
        // Alike however the network split it.
        let same = (o, json_attr(&out, "mlflow.chat.tokenUsage"));
        if let Some(prev) = &seen {
            assert_eq!(prev, &same, "split every {split} bytes");
        }
        seen = Some(same);
    }
}

#[test]
fn a_stream_cut_before_done_is_truncated_and_an_error_event_fails_the_call() {
    let whole = sse(false);
    let cut = &whole[..whole.find("data: {\"response\":\"\",\"usage\"").unwrap()];
    let (mut c, _) = start(&rest(LLAMA), json!({"prompt": "Hi", "stream": true}));
    c.on_chunk(cut.as_bytes(), 2_000_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000_000, &PriceTable::shipped());
    assert_eq!(
        str_attr(&out, "edgetrace.llm.stream_end"),
        Some("truncated")
    );
    assert_eq!(outputs(&out)["response"], "Bonjour tout le monde.");

    let (mut c, _) = start(&rest(LLAMA), json!({"prompt": "Hi", "stream": true}));
    let failing = "data: {\"response\":\"Bon\"}\n\ndata: {\"errors\":[{\"code\":3040,\"message\":\"Capacity temporarily exceeded\"}]}\n\ndata: {\"response\":\"jour\"}\n\n";
    c.on_chunk(failing.as_bytes(), 2_000_000);
    assert!(c.failed());
    let out = c.finish_stream(StreamEnd::Cancelled, 200, 3_000_000, &PriceTable::shipped());
    assert_eq!(out.error.as_deref(), Some("Capacity temporarily exceeded"));
    assert_eq!(str_attr(&out, "edgetrace.llm.stream_end"), Some("errored"));
    // Nothing after the error is the answer.
    assert_eq!(outputs(&out)["response"], "Bon");
}

#[test]
fn prompts_embeddings_and_other_tasks_get_their_span_types() {
    let (c, _) = start(&rest(LLAMA), json!({"prompt": "Once upon a time"}));
    assert_eq!(c.span_type(), "LLM");
    let (c, s) = start(
        &rest("@cf/baai/bge-base-en-v1.5"),
        json!({"text": ["a", "b"]}),
    );
    assert_eq!(c.span_type(), "EMBEDDING");
    // The text to embed is the input, not a parameter.
    assert!(attr(&s, "edgetrace.llm.request_params").is_none());
    let (c, s) = start(
        &rest("@cf/meta/m2m100-1.2b"),
        json!({"text": "Hello", "source_lang": "en", "target_lang": "fr"}),
    );
    assert_eq!(c.span_type(), "LLM");
    assert_eq!(
        json_attr(&s, "edgetrace.llm.request_params"),
        json!({"source_lang": "en", "target_lang": "fr"})
    );
}

#[test]
fn ai_gateways_route_and_the_binding_name_the_model_and_provider_alike() {
    let path = format!("/v1/0123abcd/my-gateway/workers-ai/{LLAMA}");
    assert_eq!(Format::detect(&path), Some(Format::WorkersAi));
    let (c, s) = LlmCall::start(
        Format::WorkersAi,
        "gateway.ai.cloudflare.com",
        &path,
        r#"{"messages":[]}"#,
        0,
    );
    assert_eq!(c.model(), Some(LLAMA));
    assert_eq!(str_attr(&s, "mlflow.llm.provider"), Some("cloudflare"));
    // The JS layer names the binding's calls so.
    let (c, s) = LlmCall::start(
        Format::parse("workers-ai").unwrap(),
        "workers-binding.ai",
        &format!("/ai/run/{LLAMA}"),
        r#"{"messages":[]}"#,
        0,
    );
    assert_eq!(c.model(), Some(LLAMA));
    assert_eq!(str_attr(&s, "mlflow.llm.provider"), Some("cloudflare"));
}

#[test]
fn a_failed_rest_call_reads_cloudflares_error_and_an_answer_in_openais_shape_is_read_so() {
    let (mut c, _) = start(&rest(LLAMA), json!({"prompt": "Hi", "messages": []}));
    let body = json!({"result": null, "success": false,
                      "errors": [{"code": 5006, "message": "AiError: Bad input: prompt and messages are mutually exclusive"}],
                      "messages": []});
    let out = finish(&mut c, 400, &body, &PriceTable::shipped());
    assert_eq!(
        out.error.as_deref(),
        Some("HTTP 400: AiError: Bad input: prompt and messages are mutually exclusive")
    );
    // The `cloudflare` SDK (made by Stainless, as OpenAI's) throws a 400 as a BadRequestError.
    assert_eq!(out.exception, Some("BadRequestError"));

    let (mut c, _) = start(
        &rest("@cf/qwen/qwen3-30b-a3b-fp8"),
        json!({"messages": [{"role": "user", "content": "Hi"}]}),
    );
    let body = json!({"result": {"id": "chatcmpl-1", "object": "chat.completion", "model": "@cf/qwen/qwen3-30b-a3b-fp8",
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}},
                      "success": true, "errors": [], "messages": []});
    let out = finish(&mut c, 200, &body, &PriceTable::shipped());
    assert_eq!(str_attr(&out, "edgetrace.llm.finish_reason"), Some("stop"));
    assert_eq!(json_attr(&out, "mlflow.chat.tokenUsage")["total_tokens"], 6);
}

#[test]
fn a_price_the_app_sets_for_the_whole_model_id_prices_the_call() {
    // Workers AI ships no prices (it bills in neurons); the README's `init({ prices })` key is the
    // id as the app writes it, slashes and all.
    let prices = PriceTable::with_json(
        r#"{"@cf/meta/llama-3.1-8b-instruct": {"input": 0.282, "output": 0.827}}"#,
    )
    .unwrap();
    let (mut c, _) = start(&rest(LLAMA), json!({"prompt": "Hi"}));
    let body = json!({"result": {"response": "Hello", "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 2_000_000, "total_tokens": 3_000_000}},
                      "success": true, "errors": [], "messages": []});
    let out = finish(&mut c, 200, &body, &prices);
    let cost = json_attr(&out, "mlflow.llm.cost");
    assert!(
        (cost["total_cost"].as_f64().unwrap() - (0.282 + 2.0 * 0.827)).abs() < 1e-9,
        "{cost}"
    );
    // Not a model of the same name from another maker.
    let (mut c, _) = start(
        &rest("@hf/other/llama-3.1-8b-instruct"),
        json!({"prompt": "Hi"}),
    );
    let out = finish(&mut c, 200, &body, &prices);
    assert!(attr(&out, "mlflow.llm.cost").is_none());
}
