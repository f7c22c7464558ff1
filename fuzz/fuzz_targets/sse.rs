//! The incremental SSE parser, fed in arbitrary chunk splits: it never panics; it gives the
//! same events, trailing event and counts as a reference parser reading the whole buffer; and
//! what it returns never holds a line break it should have split on.
#![no_main]

use edgetrace::llm::sse::{SseEvent, SseParser};
use edgetrace_fuzz::{chunks, sse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let expected = sse::parse(stream);

    let mut p = SseParser::default();
    let mut events: Vec<SseEvent> = Vec::new();
    for chunk in chunks(stream, seed) {
        events.extend(p.feed(chunk));
    }
    let trailing = p.finish();
    assert_eq!(events, expected.events, "events differ from the reference");
    assert_eq!(
        trailing, expected.trailing,
        "trailing event differs from the reference"
    );
    assert_eq!(p.invalid_utf8_lines, expected.invalid_utf8_lines);
    assert_eq!(p.oversized_lines, 0);
    assert_eq!(p.bytes, stream.len() as u64);
    assert_eq!(p.finish(), None, "a second finish gives nothing");

    for e in events.iter().chain(trailing.iter()) {
        assert!(!e.data.contains('\r'), "data holds a CR: {e:?}");
        if let Some(name) = &e.event {
            assert!(
                !name.contains(['\r', '\n']),
                "event name holds a line break: {e:?}"
            );
        }
    }
});
