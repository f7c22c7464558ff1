//! Model API calls (OpenAI chat, Responses, embeddings, Anthropic, Gemini): a request body and a
//! response body or SSE stream, in the layout of `edgetrace_fuzz::llm`. Checks that nothing
//! panics; that inputs, outputs and every JSON attribute are valid JSON, as `Outcome` promises;
//! that at most 8 parse errors are kept; and that a stream fed in arbitrary chunk splits gives
//! the same outcome as the same stream fed in one piece.
#![no_main]

use edgetrace::llm::cost::PriceTable;
use edgetrace::llm::{LlmCall, Outcome};
use edgetrace_fuzz::llm::LlmInput;
use edgetrace_fuzz::{check_outcome, chunks};
use libfuzzer_sys::fuzz_target;

const START_NS: u64 = 1_700_000_000_000_000_000;
const FIRST_BYTE_NS: u64 = START_NS + 120_000_000;
const END_NS: u64 = START_NS + 900_000_000;

fn check(out: &Outcome) {
    check_outcome(out, "edgetrace.llm.parse_errors");
}

/// The outcome with the chunk count (which depends on the split) taken out, as text so that a
/// NaN compares equal to itself.
fn split_independent(out: &Outcome) -> String {
    let mut o = out.clone();
    o.attributes.retain(|(k, _)| k != "edgetrace.llm.chunks");
    format!("{o:?}")
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = LlmInput::parse(data) else {
        return;
    };
    let prices = PriceTable::shipped();
    let (host, path) = input.host_and_path();
    let request = String::from_utf8_lossy(input.request);
    let start = |_: ()| LlmCall::start(input.format, host, path, &request, START_NS);

    let (mut call, started) = start(());
    check(&started);
    if !input.streamed {
        let out = call.finish_body(input.status, input.response, END_NS, &prices);
        check(&out);
        assert!(out.outputs.is_some(), "a finished body always has outputs");
        return;
    }

    for chunk in chunks(input.response, input.split_seed) {
        call.on_chunk(chunk, FIRST_BYTE_NS);
    }
    let split = call.finish_stream(input.end, input.status, END_NS, &prices);
    check(&split);

    let (mut whole_call, _) = start(());
    // `chunks` gives no chunk at all for an empty response; a call of `on_chunk` with no bytes
    // would still start the reassembly (and so give an empty output).
    if !input.response.is_empty() {
        whole_call.on_chunk(input.response, FIRST_BYTE_NS);
    }
    let whole = whole_call.finish_stream(input.end, input.status, END_NS, &prices);
    assert_eq!(
        split_independent(&split),
        split_independent(&whole),
        "the outcome depends on how the stream was split"
    );
});
