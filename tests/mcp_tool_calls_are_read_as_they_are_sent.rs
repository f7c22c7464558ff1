//! MCP tool calls (`tools/call`) over MCP's Streamable HTTP transport, read as servers send them:
//! one JSON-RPC response, or an SSE stream of the server's notifications and requests followed by
//! the response, however the network splits it; a tool's failure (`isError`), a JSON-RPC error,
//! an HTTP error; and what MLflow shows of the TOOL span (arguments in, result out, the
//! attributes of OpenTelemetry's MCP conventions).

mod common;

use common::outcome_attr as attr;
use edgetrace::attribute::AttrValue;
use edgetrace::llm::mcp::McpCall;
use edgetrace::llm::{Outcome, StreamEnd};
use serde_json::{json, Value};

fn call(id: Value, name: &str, arguments: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments, "_meta": {"progressToken": 7}}}).to_string()
}

fn start(body: &str) -> (McpCall, Outcome) {
    McpCall::start("tools.example.com:8443", body, usize::MAX)
}

fn str_attr<'a>(o: &'a Outcome, k: &str) -> Option<&'a str> {
    attr(o, k).and_then(AttrValue::as_str)
}

fn int_attr(o: &Outcome, k: &str) -> Option<i64> {
    match attr(o, k) {
        Some(AttrValue::Int(n)) => Some(n.get()),
        _ => None,
    }
}

fn json_of(text: Option<&str>) -> Value {
    serde_json::from_str(text.expect("a value")).expect("JSON")
}

fn sse(messages: &[Value]) -> String {
    messages
        .iter()
        .map(|m| format!("event: message\ndata: {m}\n\n"))
        .collect()
}

const RESULT: &str = r#"{"content":[{"type":"text","text":"42"}],"structuredContent":{"sum":42}}"#;

#[test]
fn the_request_gives_the_tool_span_its_inputs_and_attributes() {
    let (_, out) = start(&call(json!(3), "add", json!({"a": 2, "b": 40})));
    assert_eq!(json_of(out.inputs.as_deref()), json!({"a": 2, "b": 40}));
    assert_eq!(str_attr(&out, "mcp.method.name"), Some("tools/call"));
    assert_eq!(str_attr(&out, "gen_ai.tool.name"), Some("add"));
    assert_eq!(
        str_attr(&out, "gen_ai.operation.name"),
        Some("execute_tool")
    );
    assert_eq!(str_attr(&out, "jsonrpc.request.id"), Some("3"));
    assert_eq!(str_attr(&out, "server.address"), Some("tools.example.com"));
    assert_eq!(int_attr(&out, "server.port"), Some(8443));
    assert!(out.error.is_none());
    // A string id is recorded as it is; a call with no arguments took none.
    let (_, out) = start(
        &json!({"jsonrpc": "2.0", "id": "req-9", "method": "tools/call", "params": {"name": "now"}})
            .to_string(),
    );
    assert_eq!(str_attr(&out, "jsonrpc.request.id"), Some("req-9"));
    assert_eq!(json_of(out.inputs.as_deref()), json!({}));
    // An IPv6 host: the address without its brackets.
    let (_, out) = McpCall::start("[::1]:3000", &call(json!(1), "x", json!({})), usize::MAX);
    assert_eq!(str_attr(&out, "server.address"), Some("::1"));
    assert_eq!(int_attr(&out, "server.port"), Some(3000));
}

#[test]
fn a_json_answer_is_the_result() {
    let (mut c, _) = start(&call(json!(1), "add", json!({"a": 2, "b": 40})));
    let body = format!(r#"{{"result":{RESULT},"jsonrpc":"2.0","id":1}}"#);
    let out = c.finish_body(200, body.as_bytes());
    assert_eq!(
        json_of(out.outputs.as_deref()),
        serde_json::from_str::<Value>(RESULT).unwrap()
    );
    assert!(out.error.is_none() && out.exception.is_none());
    assert_eq!(attr(&out, "error.type"), None);
    assert_eq!(int_attr(&out, "http.response.status_code"), Some(200));
}

#[test]
fn an_sse_answer_is_read_however_the_network_splits_it() {
    let stream = sse(&[
        json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 7, "progress": 1, "total": 2}}),
        json!({"jsonrpc": "2.0", "id": 0, "method": "sampling/createMessage", "params": {"messages": []}}),
        json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 7, "progress": 2, "total": 2}}),
        json!({"jsonrpc": "2.0", "id": 5, "result": {"content": [{"type": "text", "text": "done"}]}}),
    ]);
    let bytes = stream.as_bytes();
    let mut whole = None;
    for size in [1, 2, 7, 64, bytes.len()] {
        let (mut c, _) = start(&call(json!(5), "count", json!({"to": 2})));
        let mut answered_at = None;
        for (i, piece) in bytes.chunks(size).enumerate() {
            if c.on_chunk(piece) && answered_at.is_none() {
                answered_at = Some(i);
            }
        }
        // The call is answered with the chunk that completes its response, not before.
        let last = bytes.chunks(size).count() - 1;
        assert_eq!(answered_at, Some(last), "split into {size}-byte pieces");
        let out = c.finish_stream(StreamEnd::Completed, 200);
        assert_eq!(
            json_of(out.outputs.as_deref()),
            json!({"content": [{"type": "text", "text": "done"}]})
        );
        assert_eq!(int_attr(&out, "edgetrace.mcp.notifications"), Some(2));
        assert_eq!(int_attr(&out, "edgetrace.mcp.server_requests"), Some(1));
        assert_eq!(
            str_attr(&out, "edgetrace.mcp.stream_end"),
            Some("completed")
        );
        assert!(out.error.is_none());
        match &whole {
            None => whole = Some(out),
            Some(w) => assert_eq!(&out, w, "split into {size}-byte pieces"),
        }
    }
}

#[test]
fn only_the_response_to_this_request_is_its_result() {
    let (mut c, _) = start(&call(json!(2), "add", json!({})));
    // Other requests' responses on the same stream (ids are the client's), then this one's.
    let stream = sse(&[
        json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "not mine"}]}}),
        json!({"jsonrpc": "2.0", "id": "02x", "result": {"content": [{"type": "text", "text": "not a number"}]}}),
        json!({"jsonrpc": "2.0", "id": "", "result": {"content": [{"type": "text", "text": "no id"}]}}),
        json!({"jsonrpc": "2.0", "id": null, "result": {"content": [{"type": "text", "text": "null"}]}}),
    ]);
    assert!(!c.on_chunk(stream.as_bytes()));
    assert!(c.on_chunk(
        sse(&[json!({"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "mine"}]}})]).as_bytes()
    ));
    // What comes after the response is not read.
    assert!(c.on_chunk(b"data: not json\n\n"));
    let out = c.finish_stream(StreamEnd::Completed, 200);
    assert_eq!(
        json_of(out.outputs.as_deref())["content"][0]["text"],
        "mine"
    );
    assert_eq!(attr(&out, "edgetrace.mcp.parse_errors"), None);
}

#[test]
fn a_number_echoed_as_a_string_answers_the_request_as_the_sdks_client_reads_it() {
    // The TypeScript SDK's client takes a response's id as `Number(response.id)`: a server that
    // echoes the request 2 as "2" (or 2.0) answers it in the app, and so on the span.
    for echoed in [json!("2"), json!(2.0), json!(" 2 ")] {
        let (mut c, _) = start(&call(json!(2), "add", json!({})));
        let m = json!({"jsonrpc": "2.0", "id": echoed, "result": {"content": [{"type": "text", "text": "mine"}]}});
        assert!(c.on_chunk(sse(&[m]).as_bytes()), "{echoed} answers 2");
        let out = c.finish_stream(StreamEnd::Completed, 200);
        assert_eq!(
            json_of(out.outputs.as_deref())["content"][0]["text"],
            "mine"
        );
        assert_eq!(out.error, None);
    }
    // A string id is matched as it is.
    let (mut c, _) = start(&call(json!("req-7"), "add", json!({})));
    let other = json!({"jsonrpc": "2.0", "id": "req-8", "result": {"content": []}});
    assert!(!c.on_chunk(sse(&[other]).as_bytes()));
    let mine = json!({"jsonrpc": "2.0", "id": "req-7", "result": {"content": [{"type": "text", "text": "mine"}]}});
    assert!(c.on_chunk(sse(&[mine]).as_bytes()));
}

#[test]
fn a_tool_failure_is_the_spans_error_with_what_the_tool_said() {
    let (mut c, _) = start(&call(json!(4), "fail", json!({})));
    let result = json!({"content": [{"type": "text", "text": "no network"}, {"type": "text", "text": "try later"}], "isError": true});
    let body = json!({"jsonrpc": "2.0", "id": 4, "result": result});
    let out = c.finish_body(200, body.to_string().as_bytes());
    assert_eq!(out.error.as_deref(), Some("no network\ntry later"));
    // No exception reached the client (it got a result); the event marks the span in MLflow.
    assert_eq!(out.exception, Some("ToolError"));
    assert_eq!(str_attr(&out, "error.type"), Some("tool_error"));
    assert_eq!(json_of(out.outputs.as_deref()), result);
    // A failure that says nothing.
    let (mut c, _) = start(&call(json!(4), "fail", json!({})));
    let body = json!({"jsonrpc": "2.0", "id": 4, "result": {"content": [], "isError": true}});
    let out = c.finish_body(200, body.to_string().as_bytes());
    assert_eq!(out.error.as_deref(), Some("the tool reported an error"));
}

#[test]
fn a_json_rpc_error_is_the_spans_error_and_exception() {
    let (mut c, _) = start(&call(json!(6), "missing", json!({})));
    let error = json!({"code": -32602, "message": "Unknown tool: missing"});
    let stream = sse(&[json!({"jsonrpc": "2.0", "id": 6, "error": error})]);
    assert!(c.on_chunk(stream.as_bytes()));
    let out = c.finish_stream(StreamEnd::Completed, 200);
    assert_eq!(
        out.error.as_deref(),
        Some("MCP error -32602: Unknown tool: missing")
    );
    assert_eq!(out.exception, Some("McpError"));
    assert_eq!(str_attr(&out, "error.type"), Some("-32602"));
    assert_eq!(str_attr(&out, "rpc.response.status_code"), Some("-32602"));
    assert_eq!(json_of(out.outputs.as_deref()), error);
}

#[test]
fn an_http_error_is_the_spans_error_with_the_servers_message() {
    let (mut c, _) = start(&call(json!(1), "add", json!({})));
    let body = json!({"jsonrpc": "2.0", "error": {"code": -32000, "message": "Session not found"}, "id": null});
    let out = c.finish_body(404, body.to_string().as_bytes());
    assert_eq!(out.error.as_deref(), Some("HTTP 404: Session not found"));
    assert_eq!(out.exception, Some("StreamableHTTPError"));
    assert_eq!(str_attr(&out, "error.type"), Some("404"));
    assert_eq!(json_of(out.outputs.as_deref()), body);
    // A body that is not JSON: the status alone, the body kept as a string.
    let (mut c, _) = start(&call(json!(1), "add", json!({})));
    let out = c.finish_body(502, b"<html>Bad Gateway</html>");
    assert_eq!(out.error.as_deref(), Some("HTTP 502"));
    assert_eq!(
        json_of(out.outputs.as_deref()),
        json!("<html>Bad Gateway</html>")
    );
    assert_eq!(int_attr(&out, "edgetrace.mcp.parse_error_count"), Some(1));
    // A short text body (a proxy's `text/plain`) is the message.
    let (mut c, _) = start(&call(json!(1), "add", json!({})));
    let out = c.finish_body(401, b"Unauthorized: bad token\n");
    assert_eq!(
        out.error.as_deref(),
        Some("HTTP 401: Unauthorized: bad token")
    );
}

#[test]
fn a_batch_answer_holds_the_response_among_others() {
    let (mut c, _) = start(&call(json!(9), "add", json!({})));
    let body = json!([
        {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "hi"}},
        {"jsonrpc": "2.0", "id": 9, "result": {"content": [{"type": "text", "text": "ok"}]}}
    ]);
    let out = c.finish_body(200, body.to_string().as_bytes());
    assert_eq!(
        json_of(out.outputs.as_deref()),
        json!({"content": [{"type": "text", "text": "ok"}]})
    );
    assert_eq!(int_attr(&out, "edgetrace.mcp.notifications"), Some(1));
}

#[test]
fn a_stream_that_ends_without_the_response_says_how_it_ended() {
    let progress = sse(&[
        json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 7, "progress": 1}}),
    ]);
    for (end, how, error) in [
        // No failure of its own: the client may resume the stream and get the result there.
        (StreamEnd::Completed, "truncated", None),
        (
            StreamEnd::Errored,
            "errored",
            Some("the response stream failed"),
        ),
        (StreamEnd::Cancelled, "cancelled", None),
        (StreamEnd::Abandoned, "cancelled", None),
    ] {
        let (mut c, _) = start(&call(json!(1), "count", json!({})));
        // A priming event (an id, no data) first, as servers that resume streams send.
        assert!(!c.on_chunk(b"id: ev-0\ndata: \n\n"));
        assert!(!c.on_chunk(progress.as_bytes()));
        // Half of the response, cut off.
        assert!(!c.on_chunk(b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"res"));
        let out = c.finish_stream(end, 200);
        assert_eq!(str_attr(&out, "edgetrace.mcp.stream_end"), Some(how));
        assert_eq!(out.error.as_deref(), error, "{how}");
        assert_eq!(out.outputs, None);
        assert_eq!(int_attr(&out, "edgetrace.mcp.notifications"), Some(1));
    }
    // A response whose stream closed without the blank line after it is not read: the SDKs'
    // clients drop such an event, and the app never gets the result.
    let (mut c, _) = start(&call(json!(1), "count", json!({})));
    c.on_chunk(b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}");
    let out = c.finish_stream(StreamEnd::Completed, 200);
    assert_eq!(
        str_attr(&out, "edgetrace.mcp.stream_end"),
        Some("truncated")
    );
    assert_eq!(out.outputs, None);
    // With no event id the client cannot resume it: the call failed there.
    assert_eq!(
        out.error.as_deref(),
        Some("the stream ended before the tool's result")
    );
}

#[test]
fn what_cannot_be_read_is_counted_and_the_rest_kept() {
    // A body that is no tools/call request: kept as a string, and said so.
    let (mut c, out) = start("{\"jsonrpc\":\"2.0\",\"method\":\"tools/list\",\"id\":1}");
    assert_eq!(
        json_of(out.inputs.as_deref()),
        json!("{\"jsonrpc\":\"2.0\",\"method\":\"tools/list\",\"id\":1}")
    );
    assert_eq!(int_attr(&out, "edgetrace.mcp.parse_error_count"), Some(1));
    let out = c.finish_body(200, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
    assert_eq!(
        out.error.as_deref(),
        Some("the response held no result for request ?")
    );
    // Garbled SSE: lines that are not UTF-8 and messages that are not JSON, then the answer.
    let (mut c, _) = start(&call(json!(1), "add", json!({})));
    assert!(!c.on_chunk(b"data: \xff\xfe\n\ndata: {oops\n\nevent: ping\ndata: {}\n\n"));
    assert!(c.on_chunk(b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}\n\n"));
    let out = c.finish_stream(StreamEnd::Completed, 200);
    assert!(out.error.is_none());
    let errors = json_of(match attr(&out, "edgetrace.mcp.parse_errors") {
        Some(AttrValue::Json(t)) => Some(&**t),
        _ => None,
    });
    assert!(errors.as_array().is_some_and(|e| !e.is_empty()), "{errors}");
}

#[test]
fn long_arguments_and_results_are_cut_with_their_structure_kept() {
    let long = "x".repeat(10_000);
    let (mut c, out) = McpCall::start(
        "h",
        &call(json!(1), "echo", json!({"text": long, "n": 1})),
        1_000,
    );
    let inputs = json_of(out.inputs.as_deref());
    assert_eq!(inputs["n"], 1);
    assert!(inputs["text"].as_str().unwrap().len() < 1_000);
    assert_eq!(out.truncated, 1);
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": long}]}});
    let out = c.finish_body(200, body.to_string().as_bytes());
    let outputs = json_of(out.outputs.as_deref());
    assert_eq!(outputs["content"][0]["type"], "text");
    assert!(out.outputs.as_deref().unwrap().len() <= 1_000);
    assert_eq!(out.truncated, 1);
}

#[test]
fn an_http_error_whose_body_answers_the_request_is_the_http_error() {
    // A 400 whose body is a JSON-RPC error for this very request: the transport throws on the
    // status (`StreamableHTTPError`), not the JSON-RPC error.
    let (mut c, _) = start(&call(json!(1), "add", json!({})));
    let error = json!({"code": -32600, "message": "Invalid Request"});
    let body = json!({"jsonrpc": "2.0", "id": 1, "error": error});
    let out = c.finish_body(400, body.to_string().as_bytes());
    assert_eq!(out.error.as_deref(), Some("HTTP 400: Invalid Request"));
    assert_eq!(out.exception, Some("StreamableHTTPError"));
    assert_eq!(str_attr(&out, "error.type"), Some("400"));
    assert_eq!(attr(&out, "rpc.response.status_code"), None);
    assert_eq!(json_of(out.outputs.as_deref()), error);
}

#[test]
fn an_accepted_post_whose_result_comes_elsewhere_is_no_error() {
    // MCP's old HTTP+SSE transport answers every POST `202 Accepted`; the result comes on the
    // server's SSE stream.
    let (mut c, _) = start(&call(json!(1), "add", json!({})));
    let out = c.finish_body(202, b"Accepted");
    assert_eq!(out.error, None);
    assert_eq!(out.outputs, None);
    assert_eq!(
        attr(&out, "edgetrace.mcp.answered_elsewhere"),
        Some(&AttrValue::Bool(true))
    );
}

#[test]
fn a_lone_surrogate_as_javascript_writes_it_is_read() {
    // `JSON.stringify('ok 😀'.slice(0, 4))`: a string cut inside a character, which JavaScript
    // reads back and serde_json alone would refuse.
    let (mut c, out) = start(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok \ud83d","pair":"\ud83d\ude00","low":"\ude00"}}}"#,
    );
    assert_eq!(str_attr(&out, "gen_ai.tool.name"), Some("echo"));
    assert_eq!(
        json_of(out.inputs.as_deref()),
        json!({"text": "ok \u{fffd}", "pair": "😀", "low": "\u{fffd}"})
    );
    let sse = r#"data: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok \ud83d"}]}}"#;
    assert!(c.on_chunk(format!("{sse}\n\n").as_bytes()));
    let out = c.finish_stream(StreamEnd::Completed, 200);
    assert!(out.error.is_none());
    assert_eq!(
        json_of(out.outputs.as_deref())["content"][0]["text"],
        "ok \u{fffd}"
    );
    // An escaped backslash before `u` is no escape of a surrogate.
    let (_, out) = start(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"p","arguments":{"path":"C:\\ud83d","bad":"\ud800"}}}"#,
    );
    assert_eq!(
        json_of(out.inputs.as_deref()),
        json!({"path": "C:\\ud83d", "bad": "\u{fffd}"})
    );
}

#[test]
fn a_byte_order_mark_opening_the_stream_is_skipped() {
    let stream = "\u{feff}event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}\n\n";
    for split in [1, 2, 5, 100] {
        let (mut c, _) = start(&call(json!(1), "add", json!({})));
        let answered = stream.as_bytes().chunks(split).any(|p| c.on_chunk(p));
        assert!(answered, "split {split}");
        let out = c.finish_stream(StreamEnd::Completed, 200);
        assert_eq!(
            str_attr(&out, "edgetrace.mcp.stream_end"),
            Some("completed")
        );
    }
}
