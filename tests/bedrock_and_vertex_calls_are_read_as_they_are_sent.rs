//! Amazon Bedrock Runtime and Anthropic's models on Google Vertex AI, read as they send: Converse
//! and InvokeModel bodies, their streams in the AWS event stream framing (binary messages with
//! CRC32 checksums, InvokeModel's holding the model's own events in base64), Bedrock's usage with
//! its cache tokens, the exceptions a stream can end with, and the names MLflow shows.

mod common;

use base64::Engine as _;
use common::{outcome_attr as attr, outcome_json as json_attr};
use edgetrace::attribute::AttrValue;
use edgetrace::llm::bedrock::crc32;
use edgetrace::llm::{cost::PriceTable, provider_name, Format, LlmCall, Outcome, StreamEnd};
use serde_json::{json, Value};

/// One event stream message, as AWS frames it.
fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (n, v) in headers {
        h.push(n.len() as u8);
        h.extend_from_slice(n.as_bytes());
        h.push(7); // string
        h.extend_from_slice(&(v.len() as u16).to_be_bytes());
        h.extend_from_slice(v.as_bytes());
    }
    let mut m = Vec::new();
    m.extend_from_slice(&((16 + h.len() + payload.len()) as u32).to_be_bytes());
    m.extend_from_slice(&(h.len() as u32).to_be_bytes());
    m.extend_from_slice(&crc32(&m).to_be_bytes());
    m.extend_from_slice(&h);
    m.extend_from_slice(payload);
    m.extend_from_slice(&crc32(&m).to_be_bytes());
    m
}

/// An event message with the padding (`p`) Bedrock adds to each payload.
fn event(kind: &str, mut payload: Value) -> Vec<u8> {
    payload["p"] = json!("abcdefghijklmnopqrstuvwxyzABCDEFGH");
    message(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// An InvokeModelWithResponseStream chunk holding `inner`.
fn chunk(inner: Value) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(inner.to_string());
    event("chunk", json!({ "bytes": b64 }))
}

fn start(format: Format, path: &str, body: Value) -> (LlmCall, Outcome) {
    LlmCall::start(
        format,
        "bedrock-runtime.us-east-1.amazonaws.com",
        path,
        &body.to_string(),
        1_000,
    )
}

/// Feeds `bytes` split every `split` bytes, then ends the stream as `end`.
fn stream(mut c: LlmCall, bytes: &[u8], split: usize, end: StreamEnd) -> Outcome {
    for (i, piece) in bytes.chunks(split).enumerate() {
        c.on_chunk(piece, 2_000_000 + i as u64);
    }
    c.finish_stream(end, 200, 90_000_000, &PriceTable::shipped())
}

/// Ends a non-streamed call with its `body` and `status`.
fn finish_with(c: &mut LlmCall, status: u16, body: &[u8]) -> Outcome {
    c.finish_body(status, body, 5_000_000, &PriceTable::shipped())
}

fn outputs(o: &Outcome) -> Value {
    serde_json::from_str(o.outputs.as_deref().unwrap()).unwrap()
}

fn str_attr<'a>(o: &'a Outcome, k: &str) -> Option<&'a str> {
    attr(o, k).and_then(AttrValue::as_str)
}

const HAIKU: &str = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0";

fn converse_request() -> Value {
    json!({
        "messages": [{"role": "user", "content": [{"text": "Weather in Paris?"}]}],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {"maxTokens": 256, "temperature": 0.2},
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather in a city",
            "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}}]},
    })
}

/// The events of a ConverseStream answering with text and a tool use.
fn converse_events() -> Vec<u8> {
    let mut b = event("messageStart", json!({"role": "assistant"}));
    for t in ["Let me ", "check."] {
        b.extend(event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": t}}),
        ));
    }
    b.extend(event("contentBlockStop", json!({"contentBlockIndex": 0})));
    b.extend(event("contentBlockStart", json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}})));
    for t in ["{\"city\":", "\"Paris\"}"] {
        b.extend(event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": t}}}),
        ));
    }
    b.extend(event("contentBlockStop", json!({"contentBlockIndex": 1})));
    b.extend(event("messageStop", json!({"stopReason": "tool_use"})));
    b.extend(event("metadata", json!({"usage": {"inputTokens": 1000, "outputTokens": 50, "totalTokens": 1050}, "metrics": {"latencyMs": 321}})));
    b
}

#[test]
fn a_converse_call_is_a_bedrock_chat_with_its_model_tools_usage_and_cost() {
    let (mut c, req) = start(
        Format::BedrockConverse,
        &format!("{HAIKU}/converse"),
        converse_request(),
    );
    assert_eq!(str_attr(&req, "mlflow.message.format"), Some("bedrock"));
    assert_eq!(str_attr(&req, "mlflow.llm.provider"), Some("bedrock"));
    assert_eq!(
        str_attr(&req, "mlflow.llm.model"),
        Some("anthropic.claude-3-5-haiku-20241022-v1:0")
    );
    assert_eq!(
        attr(&req, "edgetrace.llm.stream"),
        Some(&AttrValue::Bool(false))
    );
    assert_eq!(
        json_attr(&req, "mlflow.chat.tools"),
        json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    );
    assert_eq!(
        json_attr(&req, "edgetrace.llm.request_params"),
        json!({"maxTokens": 256, "temperature": 0.2})
    );
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Sunny."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1000, "outputTokens": 100, "totalTokens": 1100},
        "metrics": {"latencyMs": 300},
    });
    let out = finish_with(&mut c, 200, body.to_string().as_bytes());
    assert_eq!(outputs(&out), body);
    assert_eq!(
        str_attr(&out, "edgetrace.llm.finish_reason"),
        Some("end_turn")
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100})
    );
    // Claude 3.5 Haiku at Anthropic's list price, which Bedrock charges: $0.80 and $4 per 1M.
    let cost = json_attr(&out, "mlflow.llm.cost");
    assert!(
        (cost["total_cost"].as_f64().unwrap() - (1000.0 * 0.8 + 100.0 * 4.0) / 1e6).abs() < 1e-12,
        "{cost}"
    );
}

#[test]
fn a_converse_stream_split_anywhere_reassembles_into_the_converse_response() {
    let bytes = converse_events();
    for split in [1, 7, 64, bytes.len()] {
        let (c, _) = start(
            Format::BedrockConverse,
            &format!("{HAIKU}/converse-stream"),
            converse_request(),
        );
        assert!(c.streaming(), "the path asks for the stream");
        let out = stream(c, &bytes, split, StreamEnd::Completed);
        assert_eq!(
            str_attr(&out, "edgetrace.llm.stream_end"),
            Some("completed"),
            "split {split}"
        );
        assert_eq!(
            attr(&out, "edgetrace.llm.parse_error_count"),
            None,
            "split {split}"
        );
        assert_eq!(
            attr(&out, "edgetrace.llm.chunks"),
            Some(&AttrValue::Int(10.into()))
        );
        assert_eq!(
            outputs(&out),
            json!({
                "output": {"message": {"role": "assistant", "content": [
                    {"text": "Let me check."},
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
                ]}},
                "stopReason": "tool_use",
                "usage": {"inputTokens": 1000, "outputTokens": 50, "totalTokens": 1050},
                "metrics": {"latencyMs": 321},
            }),
            "split {split}"
        );
        assert_eq!(
            str_attr(&out, "edgetrace.llm.finish_reason"),
            Some("tool_use")
        );
        assert_eq!(
            json_attr(&out, "mlflow.chat.tokenUsage")["output_tokens"],
            json!(50)
        );
        assert!(attr(&out, "edgetrace.llm.time_to_first_token_ms").is_some());
    }
}

#[test]
fn cache_reads_and_writes_count_in_the_input_as_mlflow_counts_them_and_price_at_their_rates() {
    let (mut c, _) = start(
        Format::BedrockConverse,
        &format!("{HAIKU}/converse"),
        converse_request(),
    );
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 100, "totalTokens": 3110, "cacheReadInputTokens": 2000, "cacheWriteInputTokens": 1000},
    });
    let out = finish_with(&mut c, 200, body.to_string().as_bytes());
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 3010, "output_tokens": 100, "total_tokens": 3110,
               "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 1000})
    );
    let cost = json_attr(&out, "mlflow.llm.cost")["input_cost"]
        .as_f64()
        .unwrap();
    let expected = (10.0 * 0.8 + 2000.0 * 0.08 + 1000.0 * 0.8 * 1.25) / 1e6;
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");
}

#[test]
fn an_exception_in_the_stream_is_the_calls_error_named_as_the_aws_sdk_throws_it() {
    let mut bytes = event("messageStart", json!({"role": "assistant"}));
    bytes.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "Hal"}}),
    ));
    bytes.extend(message(
        &[
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        br#"{"message":"Too many tokens, please wait before trying again."}"#,
    ));
    let (c, _) = start(
        Format::BedrockConverse,
        &format!("{HAIKU}/converse-stream"),
        converse_request(),
    );
    // The SDK throws and lets the body go.
    let out = stream(c, &bytes, 9, StreamEnd::Cancelled);
    assert_eq!(str_attr(&out, "edgetrace.llm.stream_end"), Some("errored"));
    assert_eq!(out.exception, Some("ThrottlingException"));
    assert_eq!(
        out.error.as_deref(),
        Some("ThrottlingException: Too many tokens, please wait before trying again.")
    );
    assert_eq!(
        outputs(&out)["output"]["message"]["content"],
        json!([{"text": "Hal"}])
    );
}

#[test]
fn a_stream_cut_inside_a_message_is_truncated_and_a_corrupt_one_is_reported() {
    let bytes = converse_events();
    let (c, _) = start(
        Format::BedrockConverse,
        &format!("{HAIKU}/converse-stream"),
        converse_request(),
    );
    let out = stream(c, &bytes[..bytes.len() / 2], 5, StreamEnd::Completed);
    assert_eq!(
        str_attr(&out, "edgetrace.llm.stream_end"),
        Some("truncated")
    );
    assert!(out.error.is_some());

    let mut bad = bytes.clone();
    // Inside the first delta's payload (the second message): that message fails its checksum.
    let first = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    bad[first + 100] ^= 0x20;
    let (c, _) = start(
        Format::BedrockConverse,
        &format!("{HAIKU}/converse-stream"),
        converse_request(),
    );
    let out = stream(c, &bad, 4096, StreamEnd::Completed);
    assert_eq!(
        attr(&out, "edgetrace.llm.parse_error_count"),
        Some(&AttrValue::Int(1.into()))
    );
    assert!(json_attr(&out, "edgetrace.llm.parse_errors")[0]
        .as_str()
        .unwrap()
        .contains("checksum"));
    // The AWS SDK throws there (review s49b): the call failed, with what came before it, and
    // nothing after it is read.
    assert_eq!(str_attr(&out, "edgetrace.llm.stream_end"), Some("errored"));
    assert_eq!(out.exception, Some("Error"));
    assert!(out.error.as_deref().unwrap().contains("checksum"));
    assert_eq!(outputs(&out)["output"]["message"]["content"], json!([]));
    assert_eq!(str_attr(&out, "edgetrace.llm.finish_reason"), None);
}

#[test]
fn anthropic_on_bedrock_invoke_is_read_as_anthropic_messages_from_the_base64_chunks() {
    let req = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
                     "messages": [{"role": "user", "content": "Hi"}]});
    let (c, r) = start(
        Format::BedrockInvoke,
        "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke-with-response-stream",
        req.clone(),
    );
    assert_eq!(str_attr(&r, "mlflow.message.format"), Some("anthropic"));
    assert_eq!(str_attr(&r, "mlflow.llm.provider"), Some("bedrock"));
    assert_eq!(
        str_attr(&r, "mlflow.llm.model"),
        Some("us.anthropic.claude-3-5-haiku-20241022-v1:0")
    );
    let mut bytes = Vec::new();
    for ev in [
        json!({"type": "message_start", "message": {"id": "msg_bdrk_1", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
               "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 3}}),
        json!({"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 12, "outputTokenCount": 3, "invocationLatency": 400, "firstByteLatency": 100}}),
    ] {
        bytes.extend(chunk(ev));
    }
    let out = stream(c, &bytes, 33, StreamEnd::Completed);
    assert_eq!(
        str_attr(&out, "edgetrace.llm.stream_end"),
        Some("completed")
    );
    let o = outputs(&out);
    assert_eq!(
        o["content"],
        json!([{"type": "text", "text": "Hello there"}])
    );
    assert_eq!(o["stop_reason"], json!("end_turn"));
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 12, "output_tokens": 3, "total_tokens": 15})
    );
    // The answer names the model as Anthropic does; both names price as Claude 3.5 Haiku.
    assert_eq!(
        str_attr(&out, "mlflow.llm.model"),
        Some("us.anthropic.claude-3-5-haiku-20241022-v1:0")
    );
    assert!(attr(&out, "mlflow.llm.cost").is_some());

    // Not streamed: Anthropic's message as the body.
    let (mut c, _) = start(Format::BedrockInvoke, &format!("{HAIKU}/invoke"), req);
    let body = json!({"id": "msg_bdrk_2", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
                      "content": [{"type": "text", "text": "Hi!"}], "stop_reason": "end_turn", "stop_sequence": null,
                      "usage": {"input_tokens": 8, "output_tokens": 2}});
    let out = finish_with(&mut c, 200, body.to_string().as_bytes());
    assert_eq!(outputs(&out), body);
    assert_eq!(
        str_attr(&out, "edgetrace.llm.finish_reason"),
        Some("end_turn")
    );
}

#[test]
fn other_families_on_invoke_keep_their_bodies_with_their_usage_and_their_streamed_text_joined() {
    let path = "/model/meta.llama3-8b-instruct-v1%3A0/invoke-with-response-stream";
    let (c, r) = start(
        Format::BedrockInvoke,
        path,
        json!({"prompt": "Hi", "max_gen_len": 64}),
    );
    assert_eq!(str_attr(&r, "mlflow.message.format"), None);
    assert_eq!(
        str_attr(&r, "mlflow.llm.model"),
        Some("meta.llama3-8b-instruct-v1:0")
    );
    assert_eq!(c.span_type(), "LLM");
    let mut bytes = chunk(
        json!({"generation": "Hello", "prompt_token_count": 5, "generation_token_count": 1, "stop_reason": null}),
    );
    bytes.extend(chunk(json!({"generation": " world", "prompt_token_count": null, "generation_token_count": 2, "stop_reason": "stop",
        "amazon-bedrock-invocationMetrics": {"inputTokenCount": 5, "outputTokenCount": 2, "invocationLatency": 90, "firstByteLatency": 30}})));
    let out = stream(c, &bytes, 11, StreamEnd::Completed);
    assert_eq!(
        str_attr(&out, "edgetrace.llm.stream_end"),
        Some("completed")
    );
    assert_eq!(outputs(&out)["generation"], json!("Hello world"));
    // Earlier chunks' values the last leaves null are kept (review s49b).
    assert_eq!(outputs(&out)["prompt_token_count"], json!(5));
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 5, "output_tokens": 2, "total_tokens": 7})
    );
    assert_eq!(str_attr(&out, "edgetrace.llm.finish_reason"), Some("stop"));

    let (mut c, _) = start(
        Format::BedrockInvoke,
        "/model/meta.llama3-8b-instruct-v1%3A0/invoke",
        json!({"prompt": "Hi"}),
    );
    let body = json!({"generation": "Hello", "prompt_token_count": 5, "generation_token_count": 1, "stop_reason": "stop"});
    let out = finish_with(&mut c, 200, body.to_string().as_bytes());
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 5, "output_tokens": 1, "total_tokens": 6})
    );

    // An embedding model's call is an EMBEDDING span.
    let (c, _) = start(
        Format::BedrockInvoke,
        "/model/amazon.titan-embed-text-v2%3A0/invoke",
        json!({"inputText": "Hi"}),
    );
    assert_eq!(c.span_type(), "EMBEDDING");
    // Another family's chat (`messages`) is a chat.
    let (c, _) = start(
        Format::BedrockInvoke,
        "/model/mistral.mistral-large-2402-v1%3A0/invoke",
        json!({"messages": [{"role": "user", "content": "Hi"}]}),
    );
    assert_eq!(c.span_type(), "CHAT_MODEL");
}

#[test]
fn a_bedrock_error_is_the_aws_sdks_exception_with_the_services_message() {
    let (mut c, _) = start(
        Format::BedrockConverse,
        &format!("{HAIKU}/converse"),
        converse_request(),
    );
    let out = finish_with(
        &mut c,
        429,
        br#"{"message":"Too many requests, please wait before trying again."}"#,
    );
    assert_eq!(
        out.error.as_deref(),
        Some("HTTP 429: Too many requests, please wait before trying again.")
    );
    assert_eq!(out.exception, Some("ThrottlingException"));
    let (mut c, _) = start(
        Format::BedrockConverse,
        &format!("{HAIKU}/converse"),
        converse_request(),
    );
    let out = finish_with(&mut c, 403, br#"{"Message":"User: arn:aws:iam::1:user/x is not authorized to perform: bedrock:InvokeModel"}"#);
    assert_eq!(out.exception, Some("AccessDeniedException"));
    assert!(out.error.unwrap().contains("is not authorized"));
    // Made by the AWS SDK, the exception is the one `x-amzn-errortype` names (review s49b: a 403
    // is also an expired token or a bad signature), or by status when it names none it knows.
    for (header, status, named) in [
        ("ExpiredTokenException", 403, "ExpiredTokenException"),
        (
            "MissingAuthenticationTokenException",
            403,
            "MissingAuthenticationTokenException",
        ),
        (
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            429,
            "ThrottlingException",
        ),
        (
            "SomethingNewException:http://internal.amazon.com/coral/x/",
            429,
            "ThrottlingException",
        ),
        ("", 503, "ServiceUnavailableException"),
    ] {
        let (mut c, _) = start(
            Format::BedrockConverse,
            &format!("{HAIKU}/converse"),
            converse_request(),
        );
        c.aws_sdk(header);
        let out = finish_with(&mut c, status, br#"{"message":"no"}"#);
        assert_eq!(out.exception, Some(named), "{header}");
    }
    // An Anthropic body through the AWS SDK (InvokeModel) is named as the AWS SDK throws it too;
    // through Anthropic's own Bedrock SDK (no aws_sdk), as Anthropic's SDK does.
    let anthropic = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]});
    let (mut c, _) = start(
        Format::BedrockInvoke,
        &format!("{HAIKU}/invoke"),
        anthropic.clone(),
    );
    c.aws_sdk("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");
    assert_eq!(
        finish_with(&mut c, 429, b"{}").exception,
        Some("ThrottlingException")
    );
    let (mut c, _) = start(Format::BedrockInvoke, &format!("{HAIKU}/invoke"), anthropic);
    assert_eq!(
        finish_with(&mut c, 429, b"{}").exception,
        Some("RateLimitError")
    );
}

#[test]
fn converse_images_and_documents_give_their_room_to_the_text_beside_them() {
    // Review s49b: two 1 MB images in a Converse message took as much of maxValueBytes as the
    // prompt; their base64 `bytes` are binary data now, recorded by their length.
    let image = "iVBORw0KGgo".repeat(100_000);
    let text = "A question about these pictures. ".repeat(300);
    let req = json!({"messages": [{"role": "user", "content": [
        {"text": text},
        {"image": {"format": "png", "source": {"bytes": image}}},
        {"document": {"format": "pdf", "name": "doc", "source": {"bytes": image}}},
    ]}]});
    let (_, r) = LlmCall::start_within(
        Format::BedrockConverse,
        "bedrock-runtime.us-east-1.amazonaws.com",
        &format!("{HAIKU}/converse"),
        &req.to_string(),
        1_000,
        32 * 1024,
    );
    let inputs: Value = serde_json::from_str(r.inputs.as_deref().unwrap()).unwrap();
    assert_eq!(
        inputs["messages"][0]["content"][0]["text"],
        json!(text),
        "the text whole"
    );
    let kept = inputs["messages"][0]["content"][1]["image"]["source"]["bytes"]
        .as_str()
        .unwrap();
    assert!(kept.len() < 200, "the image as a short marker: {kept}");
}

#[test]
fn anthropic_on_vertex_ai_takes_its_model_from_the_path_and_is_named_vertex_ai() {
    let path = "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-3-5-haiku@20241022:streamRawPredict";
    assert_eq!(Format::detect(path), Some(Format::Anthropic));
    let req = json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 100, "stream": true,
                     "messages": [{"role": "user", "content": "Hi"}]});
    let (c, r) = LlmCall::start(
        Format::Anthropic,
        "us-east5-aiplatform.googleapis.com",
        path,
        &req.to_string(),
        1_000,
    );
    assert!(c.streaming());
    assert_eq!(
        str_attr(&r, "mlflow.llm.model"),
        Some("claude-3-5-haiku@20241022")
    );
    assert_eq!(str_attr(&r, "mlflow.llm.provider"), Some("vertex_ai"));
    assert_eq!(str_attr(&r, "mlflow.message.format"), Some("anthropic"));
    // Gemini on Vertex AI stays `gemini`, as MLflow's Gemini autolog names it.
    let gemini = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent";
    assert_eq!(
        provider_name(
            "us-central1-aiplatform.googleapis.com",
            gemini,
            Format::Gemini,
            None
        ),
        "gemini"
    );
    assert_eq!(
        provider_name("aiplatform.googleapis.com", path, Format::Anthropic, None),
        "vertex_ai"
    );
    // Bedrock by any host: its own, a VPC endpoint's, a local stand-in's.
    for host in [
        "bedrock-runtime.eu-west-1.amazonaws.com",
        "vpce-0abc.bedrock-runtime.us-east-1.vpce.amazonaws.com",
        "127.0.0.1:9000",
    ] {
        assert_eq!(
            provider_name(host, "/model/x/converse", Format::BedrockConverse, None),
            "bedrock"
        );
    }
}

#[test]
fn mistrals_invoke_model_takes_its_usage_from_the_headers_and_joins_its_streamed_outputs() {
    const MISTRAL: &str = "/model/mistral.mistral-7b-instruct-v0%3A2";
    let req = json!({"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 64});
    let (mut c, _) = start(
        Format::BedrockInvoke,
        &format!("{MISTRAL}/invoke"),
        req.clone(),
    );
    c.header_usage(Some(9), Some(4));
    let out = finish_with(
        &mut c,
        200,
        br#"{"outputs":[{"text":"Hello there","stop_reason":"stop"}]}"#,
    );
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage"),
        json!({"input_tokens": 9, "output_tokens": 4, "total_tokens": 13})
    );
    // A body that counts its tokens is believed over the headers.
    let (mut c, _) = start(
        Format::BedrockInvoke,
        &format!("{MISTRAL}/invoke"),
        req.clone(),
    );
    c.header_usage(Some(1), Some(1));
    let out = finish_with(
        &mut c,
        200,
        br#"{"generation":"Hi","prompt_token_count":5,"generation_token_count":2}"#,
    );
    assert_eq!(json_attr(&out, "mlflow.chat.tokenUsage")["total_tokens"], 7);
    let mut bytes = Vec::new();
    for piece in ["Hello", " there", ""] {
        let stop = if piece.is_empty() {
            json!("stop")
        } else {
            Value::Null
        };
        let mut inner = json!({"outputs": [{"text": piece, "stop_reason": stop}]});
        if piece.is_empty() {
            inner["amazon-bedrock-invocationMetrics"] =
                json!({"inputTokenCount": 9, "outputTokenCount": 4});
        }
        bytes.extend(chunk(inner));
    }
    let (c, _) = start(
        Format::BedrockInvoke,
        &format!("{MISTRAL}/invoke-with-response-stream"),
        req,
    );
    let out = stream(c, &bytes, 13, StreamEnd::Completed);
    assert_eq!(outputs(&out)["outputs"][0]["text"], "Hello there");
    assert_eq!(str_attr(&out, "edgetrace.llm.finish_reason"), Some("stop"));
    assert_eq!(
        json_attr(&out, "mlflow.chat.tokenUsage")["total_tokens"],
        13
    );
}
