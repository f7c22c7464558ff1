//! `mlflow.chat.messages`: the conversation of a call whose request and answer are in no format
//! MLflow's UI reads (Workers AI's own API, Ollama's), as OpenAI's chat messages, the answer's
//! message last. MLflow's UI shows a span's chat from this attribute before it tries to read its
//! inputs and outputs, so such calls render as a conversation too, as MLflow's own autologs made
//! them with it (`mlflow.tracing.utils.set_span_chat_messages`). The UI takes it only when every
//! message is one it knows: a role of `system`, `user`, `assistant` or `tool`, content that is
//! text or a list of parts, and tool calls with a string `id`, `function.name` and
//! `function.arguments`.

use serde_json::{json, Map, Value};

/// A tool call in OpenAI's shape, from OpenAI's own, Ollama's (`{function: {name, arguments:
/// {…}}}`) or Workers AI's (`{name, arguments: {…}}`); `i` numbers one that has no id.
fn tool_call(tc: &Value, i: usize) -> Option<Value> {
    let f = tc.get("function").unwrap_or(tc);
    let name = f.get("name")?.as_str()?;
    let arguments = match f.get("arguments") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => "{}".to_owned(),
    };
    let id = tc
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| format!("call_{i}"), str::to_owned);
    Some(json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}))
}

/// A message as MLflow's UI reads it, or None when it cannot be one.
fn message(m: &Value) -> Option<Value> {
    let role = match m.get("role")?.as_str()? {
        // OpenAI's newer name for the system's instructions.
        "developer" => "system",
        r @ ("system" | "user" | "assistant" | "tool") => r,
        _ => return None,
    };
    let content = match m.get("content") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(s),
        // Parts the UI may not know (Workers AI's and Ollama's images are their own): their text.
        Some(Value::Array(parts)) => json!(parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")),
        Some(other) => json!(other.to_string()),
    };
    let mut out = Map::new();
    out.insert("role".into(), json!(role));
    out.insert("content".into(), content);
    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
        let calls: Vec<Value> = calls
            .iter()
            .enumerate()
            .filter_map(|(i, tc)| tool_call(tc, i))
            .collect();
        if !calls.is_empty() {
            out.insert("tool_calls".into(), Value::Array(calls));
        }
    }
    Some(Value::Object(out))
}

/// The conversation as MLflow's UI reads it: the request's system and user messages, then the
/// answer's message. None when the request has no messages, or one of them is none the UI can
/// read.
///
/// The request's assistant turns and tool results are left out: where a span's own outputs are
/// in no format it reads, MLflow 3.17's UI shows every assistant and tool message of this
/// attribute as the call's output (review s50c: an earlier turn's tool call read as this call's).
pub fn conversation(request_messages: &[Value], answer: Option<Value>) -> Option<Value> {
    let mut out = Vec::new();
    for m in request_messages {
        match m.get("role")?.as_str()? {
            "assistant" | "tool" => {}
            _ => out.push(message(m)?),
        }
    }
    if out.is_empty() {
        return None;
    }
    if let Some(a) = answer.as_ref().and_then(message) {
        out.push(a);
    }
    Some(Value::Array(out))
}

/// The answer's message in a Workers AI answer (`{response, tool_calls}`, or OpenAI's `choices`)
/// or an Ollama chat's (`message`).
pub fn answer_message(answer: &Value) -> Option<Value> {
    if let Some(m) = answer.get("message").filter(|m| m.is_object()) {
        let mut m = m.clone();
        m["role"] = json!("assistant");
        return Some(m);
    }
    if let Some(m) = answer.pointer("/choices/0/message") {
        return Some(m.clone());
    }
    let text = answer.get("response")?;
    let mut m = json!({"role": "assistant", "content": if text.is_string() { text.clone() } else { Value::Null }});
    if let Some(calls) = answer
        .get("tool_calls")
        .filter(|c| c.as_array().is_some_and(|c| !c.is_empty()))
    {
        m["tool_calls"] = calls.clone();
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workers_ai_tool_call_gets_openais_shape_and_the_conversation_ends_with_the_answer() {
        let req = vec![
            json!({"role": "system", "content": "Be brief"}),
            json!({"role": "user", "content": "Weather in Paris?"}),
        ];
        let answer = json!({"response": null, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]});
        let c = conversation(&req, answer_message(&answer)).unwrap();
        assert_eq!(c.as_array().unwrap().len(), 3);
        assert_eq!(
            c[2],
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]})
        );
    }

    #[test]
    fn earlier_turns_are_left_out_as_the_ui_shows_them_as_this_calls_output() {
        let req = vec![
            json!({"role": "user", "content": "Weather in Paris?"}),
            json!({"role": "assistant", "content": null, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}),
            json!({"role": "tool", "name": "get_weather", "content": "Sunny"}),
            json!({"role": "user", "content": "And tomorrow?"}),
        ];
        let c = conversation(&req, answer_message(&json!({"response": "Rain"}))).unwrap();
        assert_eq!(
            c,
            json!([{"role": "user", "content": "Weather in Paris?"}, {"role": "user", "content": "And tomorrow?"},
                   {"role": "assistant", "content": "Rain"}])
        );
    }

    #[test]
    fn an_ollama_answer_and_a_message_the_ui_cannot_read() {
        let req = vec![json!({"role": "user", "content": "Hi", "images": ["aGk="]})];
        let answer = json!({"model": "llama3.2", "message": {"role": "assistant", "content": "Hello",
                            "tool_calls": [{"function": {"name": "f", "arguments": {}}}]}, "done": true});
        let c = conversation(&req, answer_message(&answer)).unwrap();
        assert_eq!(c[0], json!({"role": "user", "content": "Hi"}));
        assert_eq!(c[1]["tool_calls"][0]["function"]["arguments"], "{}");
        // A role the UI does not know: no conversation, rather than a wrong one.
        let odd = vec![json!({"role": "narrator", "content": "x"})];
        assert_eq!(conversation(&odd, None), None);
        assert_eq!(conversation(&[], answer_message(&answer)), None);
    }
}
