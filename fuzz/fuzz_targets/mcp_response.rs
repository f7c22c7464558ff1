//! MCP tool calls (`tools/call` over MCP's Streamable HTTP): a request body and a response body or
//! SSE stream, in the layout of `edgetrace_fuzz::llm` (its format byte unused). Checks that
//! nothing panics; that inputs, outputs and every JSON attribute are valid JSON, as `Outcome`
//! promises; that at most 8 parse errors are kept; and that a stream fed in arbitrary chunk
//! splits, stopping where the call says it is answered (as the JS layer stops), gives the same
//! outcome as the same stream fed in one piece.
#![no_main]

use edgetrace::llm::mcp::McpCall;
use edgetrace::llm::Outcome;
use edgetrace_fuzz::llm::LlmInput;
use edgetrace_fuzz::{check_outcome, chunks};
use libfuzzer_sys::fuzz_target;

fn check(out: &Outcome) {
    check_outcome(out, "edgetrace.mcp.parse_errors");
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = LlmInput::parse(data) else {
        return;
    };
    let request = String::from_utf8_lossy(input.request);
    let start = || McpCall::start("tools.example.com:8443", &request, 4096);

    let (mut call, started) = start();
    check(&started);
    if !input.streamed {
        let out = call.finish_body(input.status, input.response);
        check(&out);
        return;
    }

    for chunk in chunks(input.response, input.split_seed) {
        if call.on_chunk(chunk) {
            break;
        }
    }
    let split = call.finish_stream(input.end, input.status);
    check(&split);

    let (mut whole_call, _) = start();
    whole_call.on_chunk(input.response);
    let whole = whole_call.finish_stream(input.end, input.status);
    assert_eq!(
        format!("{split:?}"),
        format!("{whole:?}"),
        "the outcome depends on how the stream was split"
    );
});
