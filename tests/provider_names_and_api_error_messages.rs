//! The provider MLflow shows is the service the call went to, named after its host (or, through
//! Cloudflare AI Gateway, the upstream the gateway calls); a failed call keeps the API's own
//! message whatever the shape of its error body, and is named as the API's own SDK names it.

mod common;

use common::outcome_attr as attr;
use edgetrace::attribute::AttrValue;
use edgetrace::llm::{cost::PriceTable, Format, LlmCall, Outcome, StreamEnd};
use serde_json::{json, Value};

fn provider(format: Format, host: &str, path: &str, body: &str) -> String {
    let (_, out) = LlmCall::start(format, host, path, body, 1_000);
    attr(&out, "mlflow.llm.provider")
        .and_then(AttrValue::as_str)
        .unwrap_or_else(|| panic!("{host}{path}: no provider"))
        .to_owned()
}

const CHAT: &str = "/v1/chat/completions";
const REQ: &str = r#"{"model":"m","messages":[]}"#;

#[test]
fn a_host_not_on_the_built_in_list_is_named_after_its_domain() {
    for (host, path, expected) in [
        (
            "api.fireworks.ai",
            "/inference/v1/chat/completions",
            "fireworks",
        ),
        (
            "api.deepinfra.com",
            "/v1/openai/chat/completions",
            "deepinfra",
        ),
        ("API.Cerebras.AI:443", CHAT, "cerebras"),
        ("api.perplexity.ai", "/chat/completions", "perplexity"),
        ("llm.example.co.uk", CHAT, "example"),
        ("api.fireworks.ai.", CHAT, "fireworks"),
        // Private names: the machine's or the service's own name.
        ("my-vllm.internal:8000", CHAT, "my-vllm"),
        ("vllm:8000", CHAT, "vllm"),
        ("vllm.models.svc.cluster.local:8000", CHAT, "vllm"),
        ("gpu-box.lan", CHAT, "gpu-box"),
        // Look-alikes of known domains are not those services.
        ("api.max.ai", CHAT, "max"),
        ("notgroq.com", CHAT, "notgroq"),
    ] {
        assert_eq!(
            provider(Format::OpenAiChat, host, path, REQ),
            expected,
            "{host}"
        );
    }
}

#[test]
fn known_hosts_and_local_servers_keep_their_names() {
    for (format, host, path, expected) in [
        (Format::OpenAiChat, "api.openai.com", CHAT, "openai"),
        (
            Format::OpenAiChat,
            "res.openai.azure.com",
            "/openai/deployments/d/chat/completions",
            "azure",
        ),
        (
            Format::Anthropic,
            "api.anthropic.com",
            "/v1/messages",
            "anthropic",
        ),
        (
            Format::Gemini,
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-2.0-flash:generateContent",
            "gemini",
        ),
        (
            Format::OpenAiChat,
            "api.groq.com",
            "/openai/v1/chat/completions",
            "groq",
        ),
        (
            Format::OpenAiChat,
            "openrouter.ai",
            "/api/v1/chat/completions",
            "openrouter",
        ),
        (Format::OpenAiChat, "api.together.xyz", CHAT, "together"),
        (Format::OpenAiChat, "api.x.ai", CHAT, "xai"),
        (
            Format::OpenAiChat,
            "api.cloudflare.com",
            "/client/v4/accounts/a/ai/v1/chat/completions",
            "cloudflare",
        ),
        (Format::OpenAiChat, "localhost:11434", CHAT, "ollama"),
        (Format::OpenAiChat, "gpu-box.lan:11434", CHAT, "ollama"),
        // A local address names no service: the call's format does, as before
        // (`registerModelApi({ provider })` names such a server).
        (Format::OpenAiChat, "localhost:1234", CHAT, "openai"),
        (Format::OpenAiChat, "127.0.0.1:8080", CHAT, "openai"),
        (Format::OpenAiChat, "[::1]:8000", CHAT, "openai"),
        (
            Format::OpenAiChat,
            "host.docker.internal:1234",
            CHAT,
            "openai",
        ),
        (Format::OpenAiChat, "app.localhost", CHAT, "openai"),
        (
            Format::Anthropic,
            "127.0.0.1:9000",
            "/v1/messages",
            "anthropic",
        ),
        (
            Format::Gemini,
            "localhost:9000",
            "/v1beta/models/gemini-2.0-flash:generateContent",
            "gemini",
        ),
        (Format::OpenAiChat, "", CHAT, "openai"),
    ] {
        assert_eq!(provider(format, host, path, REQ), expected, "{host}");
    }
}

#[test]
fn cloudflare_ai_gateway_names_the_upstream_provider() {
    let gw = "gateway.ai.cloudflare.com";
    for (format, path, body, expected) in [
        (
            Format::OpenAiChat,
            "/v1/acct/gw/openai/chat/completions",
            REQ,
            "openai",
        ),
        (
            Format::Anthropic,
            "/v1/acct/gw/anthropic/v1/messages",
            REQ,
            "anthropic",
        ),
        (
            Format::Gemini,
            "/v1/acct/gw/google-ai-studio/v1beta/models/gemini-2.0-flash:generateContent",
            "{}",
            "gemini",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/azure-openai/res/dep/chat/completions",
            REQ,
            "azure",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/workers-ai/v1/chat/completions",
            REQ,
            "cloudflare",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/groq/chat/completions",
            REQ,
            "groq",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/grok/v1/chat/completions",
            REQ,
            "xai",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/perplexity-ai/chat/completions",
            REQ,
            "perplexity",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/cerebras/chat/completions",
            REQ,
            "cerebras",
        ),
        // The unified endpoint names the upstream in the model.
        (
            Format::OpenAiChat,
            "/v1/acct/gw/compat/chat/completions",
            r#"{"model":"anthropic/claude-sonnet-4-5","messages":[]}"#,
            "anthropic",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/compat/chat/completions",
            r#"{"model":"google-ai-studio/gemini-2.0-flash","messages":[]}"#,
            "gemini",
        ),
        (
            Format::OpenAiChat,
            "/v1/acct/gw/compat/chat/completions",
            REQ,
            "cloudflare",
        ),
        // A path that names no upstream is the gateway's.
        (Format::OpenAiChat, "/chat/completions", REQ, "cloudflare"),
    ] {
        assert_eq!(provider(format, gw, path, body), expected, "{path} {body}");
    }
}

fn failed(format: Format, status: u16, body: &Value) -> Outcome {
    let (mut c, _) = LlmCall::start(format, "api.example.com", CHAT, REQ, 1_000);
    c.finish_body(
        status,
        body.to_string().as_bytes(),
        2_000,
        &PriceTable::shipped(),
    )
}

#[test]
fn error_bodies_of_other_shapes_keep_the_apis_message() {
    for (status, body, expected) in [
        // Cloudflare API v4 (Workers AI).
        (
            400,
            json!({"success": false, "errors": [{"code": 5007, "message": "No such model @cf/nope"}], "messages": [], "result": null}),
            "HTTP 400: No such model @cf/nope",
        ),
        (
            400,
            json!({"success": false, "errors": [{"code": 1, "message": "first"}, {"code": 2, "message": "second"}]}),
            "HTTP 400: first; second",
        ),
        // Cloudflare AI Gateway: `error` is a list.
        (
            401,
            json!({"success": false, "error": [{"code": 2009, "message": "Unauthorized"}]}),
            "HTTP 401: Unauthorized",
        ),
        // vLLM's older shape, with a top-level message.
        (
            404,
            json!({"object": "error", "message": "The model `nope` does not exist.", "type": "NotFoundError", "param": null, "code": 404}),
            "HTTP 404: The model `nope` does not exist.",
        ),
        // FastAPI servers (`detail`, a string or a list of validation errors).
        (404, json!({"detail": "Not Found"}), "HTTP 404: Not Found"),
        (
            422,
            json!({"detail": [{"loc": ["body", "model"], "msg": "Field required", "type": "missing"}]}),
            "HTTP 422: Field required",
        ),
        // The shapes read before still are.
        (
            429,
            json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
            "HTTP 429: Rate limit reached",
        ),
        (
            529,
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            "HTTP 529: Overloaded",
        ),
        (
            503,
            json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
            "HTTP 503: The model is overloaded.",
        ),
        (
            424,
            json!({"error": "Model is loading", "error_type": "unhealthy"}),
            "HTTP 424: Model is loading",
        ),
        // No message anywhere: the status alone.
        (
            500,
            json!({"success": false, "errors": []}),
            "HTTP 500: HTTP 500",
        ),
        (500, json!({"message": 3}), "HTTP 500: HTTP 500"),
        (500, json!({}), "HTTP 500: HTTP 500"),
    ] {
        let out = failed(Format::OpenAiChat, status, &body);
        assert_eq!(out.error.as_deref(), Some(expected), "{body}");
        assert!(out.exception.is_some(), "{body}");
    }
}

#[test]
fn a_stream_chunk_with_a_null_error_is_not_an_error() {
    let (mut c, _) = LlmCall::start(
        Format::OpenAiChat,
        "api.example.com",
        CHAT,
        r#"{"model":"m","stream":true,"messages":[]}"#,
        1_000,
    );
    let chunk = json!({"id": "c", "object": "chat.completion.chunk", "model": "m", "message": "not an error",
                       "error": null, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}]});
    c.on_chunk(
        format!("data: {chunk}\n\ndata: [DONE]\n\n").as_bytes(),
        2_000,
    );
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped());
    assert_eq!(out.error, None);
    assert_eq!(out.exception, None);
}

#[test]
fn gemini_errors_are_the_genai_sdks_api_error() {
    // @google/genai throws `ApiError` for every HTTP status.
    let body = json!({"error": {"code": 429, "message": "Resource has been exhausted.", "status": "RESOURCE_EXHAUSTED"}});
    let out = failed(Format::Gemini, 429, &body);
    assert_eq!(
        out.error.as_deref(),
        Some("HTTP 429: Resource has been exhausted.")
    );
    assert_eq!(out.exception, Some("ApiError"));
    for status in [400, 401, 403, 404, 418, 429, 500, 503, 504] {
        let out = failed(Format::Gemini, status, &json!({}));
        assert_eq!(out.exception, Some("ApiError"), "{status}");
    }
    // The other APIs keep their SDKs' names.
    assert_eq!(
        failed(Format::OpenAiChat, 429, &json!({})).exception,
        Some("RateLimitError")
    );
    assert_eq!(
        failed(Format::Anthropic, 529, &json!({})).exception,
        Some("OverloadedError")
    );
}

#[test]
fn a_legacy_completions_stream_keeps_its_text() {
    // vLLM's (and OpenAI's) `/v1/completions`, under a base URL registered as `openai`: its
    // chunks carry `choices[].text`, not `delta.content`.
    let (mut c, _) = LlmCall::start(
        Format::OpenAiChat,
        "127.0.0.1:8000",
        "/v1/completions",
        r#"{"model":"m","prompt":"Tell me a story","stream":true,"stream_options":{"include_usage":true}}"#,
        1_000,
    );
    let chunk = |text: &str, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "cmpl-1", "object": "text_completion", "created": 7, "model": "m",
                   "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": finish, "stop_reason": null}], "usage": null})
        )
    };
    let mut body = String::new();
    for w in ["Once", " upon", " a", " time"] {
        body += &chunk(w, Value::Null);
    }
    body += &chunk("", json!("length"));
    body += &format!(
        "data: {}\n\n",
        json!({"id": "cmpl-1", "object": "text_completion", "created": 7, "model": "m", "choices": [],
               "usage": {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}})
    );
    body += "data: [DONE]\n\n";
    c.on_chunk(body.as_bytes(), 2_000);
    let out = c.finish_stream(StreamEnd::Completed, 200, 3_000, &PriceTable::shipped());
    assert_eq!(out.error, None);
    let o: Value = serde_json::from_str(out.outputs.as_deref().unwrap()).unwrap();
    // The non-streamed response's shape.
    assert_eq!(o["object"], "text_completion", "{o}");
    assert_eq!(o["id"], "cmpl-1");
    assert_eq!(o["choices"][0]["text"], "Once upon a time", "{o}");
    assert_eq!(o["choices"][0]["finish_reason"], "length");
    assert_eq!(o["usage"]["completion_tokens"], 4);
    assert!(
        attr(&out, "edgetrace.llm.time_to_first_token_ms").is_some(),
        "the text is generated content"
    );
    assert!(attr(&out, "edgetrace.llm.parse_errors").is_none());
}
