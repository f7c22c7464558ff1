//! OTLP protobuf bodies: decoding never panics, and whatever decodes round-trips through
//! protobuf and OTLP/JSON unchanged (see `edgetrace_fuzz::otlp::check_round_trips`).
#![no_main]

use edgetrace::otlp::Format;
use edgetrace_fuzz::otlp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(req) = otlp::decode(data, Format::Protobuf) {
        otlp::check_round_trips(&req);
    }
});
