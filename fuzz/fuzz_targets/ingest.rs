//! The ingest service's core, `Ingest::process` with the default configuration: an OTLP body
//! behind a 2-byte header (byte 0: `b'j'` OTLP/JSON, `b'p'` protobuf, any other byte by its
//! parity; byte 1: the payload cap in units of 64 bytes, 0 for none). Checks that nothing
//! panics; that a refusal is a 4xx with a reason; that an accepted request's payloads decode,
//! hold exactly the accepted spans, stay under the cap unless a span travels alone, and are
//! accepted again; and that an accepted OTLP/JSON body gives the same result as the same
//! request sent as protobuf.
#![no_main]

use edgetrace::ingest::{validate, Ingest, IngestConfig};
use edgetrace::otlp::wire::ExportTraceServiceRequest;
use edgetrace::otlp::Format;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use std::sync::OnceLock;

const NOW_NS: u64 = 1_700_000_100_000_000_000;

/// One core per payload cap, built once (building compiles the redaction patterns).
fn ingest(cap_units: u8) -> &'static Ingest {
    static CORES: [OnceLock<Ingest>; 256] = [const { OnceLock::new() }; 256];
    CORES[usize::from(cap_units)].get_or_init(|| {
        Ingest::new(IngestConfig {
            max_payload_bytes: usize::from(cap_units) * 64,
            ..IngestConfig::default()
        })
        .expect("the default configuration is valid")
    })
}

fn span_count(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let format = match data[0] {
        b'j' => Format::Json,
        b'p' => Format::Protobuf,
        b if b % 2 == 0 => Format::Json,
        _ => Format::Protobuf,
    };
    let cap = usize::from(data[1]) * 64;
    let body = &data[2..];
    let core = ingest(data[1]);

    let accepted = match core.process(body, format, NOW_NS) {
        Ok(a) => a,
        Err(refusal) => {
            let status = refusal.kind.status();
            assert!((400..500).contains(&status), "refusal status {status}");
            assert!(!refusal.message.is_empty(), "a refusal without a reason");
            return;
        }
    };

    let mut spans = 0;
    for p in &accepted.payloads {
        let req = ExportTraceServiceRequest::decode(p.as_slice()).expect("a payload decodes");
        let n = span_count(&req);
        assert!(n > 0, "an empty payload");
        spans += n;
        if cap > 0 && n > 1 {
            assert!(
                p.len() <= cap,
                "a payload of {n} spans is {} bytes, over the cap {cap}",
                p.len()
            );
        }
        let again = core
            .process(p, Format::Protobuf, NOW_NS)
            .unwrap_or_else(|r| panic!("a relayed payload is refused: {r:?}"));
        let again_spans: usize = again.spans;
        assert_eq!(
            again_spans, n,
            "a relayed payload lost spans on its second pass"
        );
    }
    assert_eq!(
        spans, accepted.spans,
        "payloads hold a different number of spans"
    );

    if format == Format::Json {
        let req = validate::decode(body, Format::Json).expect("accepted JSON decodes");
        let as_pb = req.encode_to_vec();
        match core.process(&as_pb, Format::Protobuf, NOW_NS) {
            Ok(from_pb) => assert_eq!(
                from_pb, accepted,
                "the same request as protobuf is processed differently"
            ),
            Err(r) => panic!("accepted as OTLP/JSON, refused as protobuf: {r:?}"),
        }
    }
});
