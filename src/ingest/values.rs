//! Counting the values a body would decode into, before decoding it.
//!
//! A small body can hold millions of tiny values (`[{},{},…]` in JSON, two bytes each in
//! protobuf), and each decoded value costs tens of bytes of memory: 8 MB of them would take a
//! Worker past its isolate's 128 MB. The count reads the body once, without allocating, and stops
//! as soon as it passes the limit.

use crate::otlp::Format;

/// Values `body` holds, counted up to just past `max`: the messages of the OTLP trace schema that
/// become elements of a list (resource and scope groups, spans, events, links, attributes and
/// their values). In JSON those are objects, so every `{` outside strings counts (an element of
/// another kind where OTLP has a message fails to decode at the first); in protobuf, every
/// length-delimited field that holds such a message. A body that is not well-formed is counted as
/// far as it is: decoding then refuses it with the reason.
pub fn count(body: &[u8], format: Format, max: usize) -> usize {
    match format {
        Format::Json => json(body, max),
        Format::Protobuf => {
            let mut n = 0;
            protobuf(body, Msg::Request, 0, &mut n, max);
            n
        }
    }
}

fn json(body: &[u8], max: usize) -> usize {
    let mut n = 0;
    for b in outside_strings(body) {
        if b == b'{' {
            n += 1;
            if n > max {
                break;
            }
        }
    }
    n
}

/// The bytes of JSON text that are not inside a string (its structure: brackets, braces, commas,
/// colons and the other literals), escapes followed. The text need not be well-formed.
pub(crate) fn outside_strings(text: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.iter().copied().filter(move |&b| {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            return false;
        }
        in_string = b == b'"';
        !in_string
    })
}

/// The OTLP trace messages that hold lists of messages.
#[derive(Debug, Clone, Copy)]
enum Msg {
    Request,
    ResourceSpans,
    Resource,
    ScopeSpans,
    Scope,
    Span,
    Event,
    Link,
    KeyValue,
    AnyValue,
    ArrayValue,
    KvList,
}

/// The message a length-delimited field of `m` holds, by the OTLP protos' field numbers.
fn child(m: Msg, field: u64) -> Option<Msg> {
    use Msg::*;
    Some(match (m, field) {
        (Request, 1) => ResourceSpans,
        (ResourceSpans, 1) => Resource,
        (ResourceSpans, 2) => ScopeSpans,
        (Resource, 1) | (Scope, 3) | (Span, 9) | (Event, 3) | (Link, 4) | (KvList, 1) => KeyValue,
        (ScopeSpans, 1) => Scope,
        (ScopeSpans, 2) => Span,
        (Span, 11) => Event,
        (Span, 13) => Link,
        (KeyValue, 2) | (ArrayValue, 1) => AnyValue,
        (AnyValue, 5) => ArrayValue,
        (AnyValue, 6) => KvList,
        _ => return None,
    })
}

/// Deeper than prost decodes: such a body is refused as too deep when decoded.
const MAX_DEPTH: u32 = 100;

fn varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

fn protobuf(buf: &[u8], m: Msg, depth: u32, n: &mut usize, max: usize) {
    let mut at = 0;
    while at < buf.len() && *n <= max {
        let Some(tag) = varint(buf, &mut at) else {
            return;
        };
        let skip = match tag & 7 {
            0 => {
                if varint(buf, &mut at).is_none() {
                    return;
                }
                0
            }
            1 => 8,
            5 => 4,
            2 => {
                let Some(len) = varint(buf, &mut at) else {
                    return;
                };
                let Some(end) = usize::try_from(len).ok().and_then(|l| at.checked_add(l)) else {
                    return;
                };
                let Some(inner) = buf.get(at..end) else {
                    return;
                };
                if let Some(c) = child(m, tag >> 3) {
                    *n += 1;
                    if depth < MAX_DEPTH {
                        protobuf(inner, c, depth + 1, n, max);
                    }
                }
                inner.len()
            }
            _ => return,
        };
        at += skip;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_counts_objects_but_not_braces_in_strings() {
        assert_eq!(
            count(br#"{"a":[{},{"b":{}}],"b":"{,[\"{]"}"#, Format::Json, 100),
            4
        );
        // Stops just past the limit.
        assert_eq!(count(&b"[{},".repeat(1000), Format::Json, 10), 11);
    }

    #[test]
    fn protobuf_counts_the_messages_of_lists() {
        use crate::otlp::wire::{
            AnyValue, ArrayValue, ExportTraceServiceRequest, KeyValue, ResourceSpans, ScopeSpans,
            Span, Value,
        };
        use prost::Message;
        let array = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue {
                values: vec![AnyValue::default(); 4],
            })),
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        Span {
                            attributes: vec![KeyValue {
                                key: "k".into(),
                                value: Some(array),
                            }],
                            ..Span::default()
                        },
                        Span::default(),
                    ],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        let body = req.encode_to_vec();
        // A resource group, a scope group, 2 spans, an attribute, its value, its array, 4 values
        // (empty values and spans encode as nothing at all but their place in the list).
        assert_eq!(count(&body, Format::Protobuf, 1000), 11);
        assert_eq!(count(&body, Format::Protobuf, 3), 4);
        // Cut short: counted as far as it goes.
        assert!(count(&body[..body.len() - 3], Format::Protobuf, 1000) < 11);
    }
}
