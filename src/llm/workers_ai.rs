//! Cloudflare Workers AI's own API: `env.AI.run(model, inputs)` in a Worker (workerd's
//! `cloudflare-internal:ai-api`, which the JS layer wraps), its REST API
//! (`/client/v4/accounts/{account}/ai/run/{model}`) and Cloudflare AI Gateway's native route to
//! it (`/v1/{account}/{gateway}/workers-ai/{model}`).
//!
//! The request is the model's inputs (`messages` or `prompt` for text generation, `text` for
//! embeddings, …). A text model answers `{response, tool_calls, usage}`: the binding returns that
//! object, the REST API wraps it in Cloudflare's v4 envelope (`{result, success, errors,
//! messages}`). Newer models answer in OpenAI's shapes (`choices`, or a Responses `output`), with
//! their usage in OpenAI's names. A stream is SSE whose events carry a piece of `response` (and a
//! random padding, `p`), OpenAI-style `tool_calls` deltas, and at its end the usage, then `[DONE]`.

use serde_json::{json, Map, Value};

use super::openai::{self, ChatStream};
use super::usage::Usage;

/// The model a Workers AI path names: what follows `/ai/run/` (REST) or `/workers-ai/` (AI
/// Gateway), slashes included (`@cf/meta/llama-3.1-8b-instruct`), its escapes decoded.
pub fn model_from_path(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let (_, model) = path
        .split_once("/ai/run/")
        .or_else(|| path.split_once("/workers-ai/"))?;
    // AI Gateway also takes `/workers-ai/run/{model}` (the AI SDK's provider sends it so).
    let model = model.strip_prefix("run/").unwrap_or(model);
    let model = model.trim_end_matches('/');
    (!model.is_empty()).then(|| super::percent_decoded(model))
}

/// Whether a model id names an embedding model (`@cf/baai/bge-base-en-v1.5`,
/// `@cf/qwen/qwen3-embedding-0.6b`, `@cf/google/embeddinggemma-300m`).
pub fn embeds(model: &str) -> bool {
    model.contains("/bge-") || model.contains("embedding")
}

/// The answer inside Cloudflare's v4 envelope (`{result, success, errors, messages}`), which the
/// REST API and AI Gateway send and the binding takes off; any other body as it is.
pub fn result(v: &Value) -> &Value {
    match v.get("result") {
        Some(r) if v.get("success").is_some() => r,
        _ => v,
    }
}

/// Usage from an answer: `usage` in OpenAI's chat names (`prompt_tokens`, `completion_tokens`),
/// or in its Responses names (`input_tokens`, `output_tokens`), as the newer models report it.
pub fn usage(v: &Value) -> Usage {
    result(v)
        .get("usage")
        .filter(|u| u.is_object())
        .map(usage_of)
        .unwrap_or_default()
}

/// Usage from a `usage` object, in either of OpenAI's names.
fn usage_of(u: &Value) -> Usage {
    if u.get("prompt_tokens").is_some() || u.get("completion_tokens").is_some() {
        openai::chat_usage(u)
    } else {
        openai::responses_usage(u)
    }
}

/// Why generation stopped, where the answer says: an OpenAI-shaped one's first choice, or a
/// Responses-shaped one's status. Workers AI's own shape says nothing.
pub fn finish_reason(v: &Value) -> Option<String> {
    let r = result(v);
    openai::chat_finish_reason(r).or_else(|| {
        r.get("output")
            .and(r.get("status"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
}

/// The request's tools in OpenAI's shape, which MLflow's UI shows: Workers AI takes its own
/// (`{name, description, parameters}`) and OpenAI's (`{type: "function", function}`).
pub fn tools(req: &Value) -> Option<Value> {
    let tools = req.get("tools")?.as_array()?;
    Some(Value::Array(
        tools
            .iter()
            .map(|t| {
                if t.get("function").is_some() {
                    t.clone()
                } else {
                    json!({"type": "function", "function": t})
                }
            })
            .collect(),
    ))
}

/// Tool calls kept from a stream at most; more are dropped.
const MAX_TOOL_CALLS: usize = 128;

/// Reassembles a Workers AI stream into the answer the call would have had unstreamed:
/// `{response, tool_calls, usage}` from Workers AI's own events, or, when the events are OpenAI's
/// chunks (`choices`), the `chat.completion` they make.
#[derive(Debug, Default)]
pub struct WorkersAiStream {
    text: String,
    /// Tool calls as their deltas build them (by `index`), or whole.
    tool_calls: Vec<Map<String, Value>>,
    usage_raw: Option<Value>,
    /// OpenAI's chunks, where the model streams them.
    chat: Option<ChatStream>,
    /// Usage, from the event that carries it (the last before `[DONE]`).
    pub usage: Usage,
    /// Whether `[DONE]` (or an error) arrived.
    pub done: bool,
    /// The service's error, from an event holding `error` or `errors`.
    pub error: Option<String>,
    /// Whether an event carried generated text or a tool call.
    pub has_content: bool,
}

impl WorkersAiStream {
    /// Takes one SSE data payload.
    pub fn on_data(&mut self, data: &str) -> Result<(), String> {
        if data.trim() == "[DONE]" {
            self.done = true;
            if let Some(c) = &mut self.chat {
                c.done = true;
            }
            return Ok(());
        }
        let v: Value = serde_json::from_str(data).map_err(|e| format!("event is not JSON: {e}"))?;
        if v.get("choices").is_some() || self.chat.is_some() {
            let chat = self.chat.get_or_insert_with(ChatStream::default);
            chat.on_data(data)?;
            self.usage = chat.usage;
            self.has_content |= chat.has_content;
            self.error = chat.error.clone();
            self.done |= chat.done;
            return Ok(());
        }
        let failed = |k: &str| v.get(k).is_some_and(|e| !e.is_null() && e != &json!([]));
        if failed("error") || failed("errors") {
            self.done = true;
            self.error = Some(super::error_message(&v).unwrap_or_else(|| "stream error".into()));
            return Ok(());
        }
        if let Some(t) = v.get("response").and_then(Value::as_str) {
            self.has_content |= !t.is_empty();
            self.text.push_str(t);
        }
        for tc in v
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
        {
            self.has_content = true;
            self.tool_call(tc);
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage.merge(usage_of(u));
            self.usage_raw = Some(u.clone());
        }
        Ok(())
    }

    /// Adds a tool call, or a delta of one: a delta (with `index`) adds to the call at its index,
    /// its `function.arguments` appended; a whole call is kept as it is.
    fn tool_call(&mut self, tc: &Map<String, Value>) {
        let Some(i) = tc.get("index").and_then(Value::as_u64) else {
            if self.tool_calls.len() < MAX_TOOL_CALLS {
                self.tool_calls.push(tc.clone());
            }
            return;
        };
        let at = self
            .tool_calls
            .iter()
            .position(|c| c.get("index").and_then(Value::as_u64) == Some(i));
        let call = match at {
            Some(at) => &mut self.tool_calls[at],
            None if self.tool_calls.len() < MAX_TOOL_CALLS => {
                self.tool_calls.push(Map::new());
                let last = self.tool_calls.len() - 1;
                &mut self.tool_calls[last]
            }
            None => return,
        };
        for (k, v) in tc {
            if k != "function" {
                if !v.is_null() {
                    call.insert(k.clone(), v.clone());
                }
                continue;
            }
            let f = call
                .entry("function")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            let (Some(f), Some(delta)) = (f, v.as_object()) else {
                continue;
            };
            for (fk, fv) in delta {
                match (fk.as_str(), fv, f.get_mut(fk)) {
                    ("arguments", Value::String(piece), Some(Value::String(sofar))) => {
                        sofar.push_str(piece)
                    }
                    (_, fv, _) if !fv.is_null() => {
                        f.insert(fk.clone(), fv.clone());
                    }
                    _ => {}
                }
            }
        }
    }

    /// Why generation stopped: only OpenAI's chunks say.
    pub fn finish_reason(&self) -> Option<String> {
        self.chat.as_ref().and_then(ChatStream::finish_reason)
    }

    /// The reassembled answer.
    pub fn output(&self) -> Value {
        if let Some(c) = &self.chat {
            return c.output();
        }
        let mut out = json!({ "response": self.text });
        if !self.tool_calls.is_empty() {
            out["tool_calls"] = Value::Array(
                self.tool_calls
                    .iter()
                    .cloned()
                    .map(openai::typed_tool_call)
                    .collect(),
            );
        }
        if let Some(u) = &self.usage_raw {
            out["usage"] = u.clone();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_the_rest_of_the_path() {
        let rest = "/client/v4/accounts/abc/ai/run/@cf/meta/llama-3.1-8b-instruct";
        assert_eq!(
            model_from_path(rest).as_deref(),
            Some("@cf/meta/llama-3.1-8b-instruct")
        );
        let gw = "/v1/abc/my-gw/workers-ai/%40cf%2Fbaai%2Fbge-m3/";
        assert_eq!(model_from_path(gw).as_deref(), Some("@cf/baai/bge-m3"));
        assert_eq!(model_from_path("/client/v4/accounts/abc/ai/run/"), None);
        let run = "/v1/abc/my-gw/workers-ai/run/@cf/meta/llama-3.1-8b-instruct";
        assert_eq!(
            model_from_path(run).as_deref(),
            Some("@cf/meta/llama-3.1-8b-instruct")
        );
        assert!(embeds("@cf/baai/bge-m3") && !embeds("@cf/meta/llama-3.1-8b-instruct"));
    }

    #[test]
    fn the_envelope_is_taken_off_for_usage_and_kept_otherwise() {
        let rest = json!({"result": {"response": "hi", "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}},
                          "success": true, "errors": [], "messages": []});
        assert_eq!(result(&rest)["response"], "hi");
        assert_eq!(usage(&rest).input, Some(3));
        assert_eq!(usage(&rest).total, Some(4));
        // An answer that only has a `result` key of its own is not an envelope.
        let own = json!({"result": 1});
        assert_eq!(result(&own), &own);
        let responses = json!({"output": [], "status": "completed", "usage": {"input_tokens": 5, "output_tokens": 2}});
        assert_eq!(usage(&responses).output, Some(2));
        assert_eq!(finish_reason(&responses).as_deref(), Some("completed"));
    }

    #[test]
    fn a_stream_joins_its_pieces_tool_call_deltas_and_usage() {
        let mut s = WorkersAiStream::default();
        for d in [
            r#"{"response":"Hel","p":"abc"}"#,
            r#"{"response":"lo","p":"a"}"#,
            r#"{"response":"","tool_calls":[{"id":"t1","type":"function","index":0,"function":{"name":"get_weather","arguments":""}}]}"#,
            r#"{"response":"","tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"#,
            r#"{"response":"","tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"#,
            r#"{"response":"","usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
            "[DONE]",
        ] {
            s.on_data(d).unwrap();
        }
        assert!(s.done && s.has_content && s.error.is_none());
        let out = s.output();
        assert_eq!(out["response"], "Hello");
        assert_eq!(
            out["tool_calls"][0]["function"]["arguments"],
            r#"{"city":"Paris"}"#
        );
        assert_eq!(out["tool_calls"][0]["function"]["name"], "get_weather");
        assert_eq!(out["usage"]["total_tokens"], 10);
        assert_eq!(s.usage.output, Some(3));
    }

    #[test]
    fn openai_chunks_are_read_as_openai_and_an_error_event_is_the_calls_error() {
        let mut s = WorkersAiStream::default();
        s.on_data(r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#).unwrap();
        s.on_data(r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#).unwrap();
        s.on_data("[DONE]").unwrap();
        assert_eq!(s.output()["choices"][0]["message"]["content"], "Hi");
        assert_eq!(s.finish_reason().as_deref(), Some("stop"));
        let mut e = WorkersAiStream::default();
        e.on_data(r#"{"errors":[{"code":3040,"message":"Capacity temporarily exceeded"}]}"#)
            .unwrap();
        assert_eq!(e.error.as_deref(), Some("Capacity temporarily exceeded"));
        assert!(e.on_data("{not json").is_err());
    }
}
