//! Finished spans to OTLP/HTTP bodies, JSON or protobuf, following MLflow's conventions.
//!
//! Each span carries `mlflow.spanType` (a plain string), `mlflow.spanInputs` and
//! `mlflow.spanOutputs` (JSON text in string values) first, then its own attributes. Encoders
//! take [`SpanData`] and know nothing about contexts or handles. A [`PayloadBuilder`] adds spans
//! one at a time and stops before a body would pass its byte cap, so every request stays under
//! the keepalive limit unless a single span alone is bigger (then it travels alone, marked
//! [`Payload::oversize`]).

use super::wire;
use crate::attribute::AttrValue;
use crate::span::SpanData;
use crate::trace::TRACE_NAME;

/// The version written into the instrumentation scope.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Whether this build writes OTLP/JSON. The browser entry's default core leaves the JSON encoder
/// out (cargo feature `protobuf-only`: 2.7 KB of its gzip size), and loads the core built with it
/// only for `init({ format: 'json' })`. Asked for JSON, that build's [`crate::tracer::Tracer::take_batch`]
/// gives nothing.
pub const JSON: bool = !cfg!(feature = "protobuf-only");

/// The two OTLP/HTTP body encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `application/x-protobuf`.
    Protobuf,
}

impl Format {
    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Protobuf => "application/x-protobuf",
        }
    }
}

/// Who produced the spans: `service.name` and other resource attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `service.name`.
    pub service_name: String,
    /// Other resource attributes.
    pub attributes: Vec<(String, AttrValue)>,
}

impl Default for Resource {
    fn default() -> Self {
        Resource {
            service_name: "edgetrace".to_owned(),
            attributes: Vec::new(),
        }
    }
}

/// An encoded request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// The body bytes.
    pub body: Vec<u8>,
    /// Its format.
    pub format: Format,
    /// How many spans it holds.
    pub spans: usize,
    /// True when one span alone exceeded the byte cap and was sent anyway.
    pub oversize: bool,
}

/// Converts one attribute to OTLP.
pub fn key_value(key: &str, value: &AttrValue) -> wire::KeyValue {
    use wire::Value as V;
    let v = match value {
        AttrValue::Str(s) | AttrValue::Json(s) => V::StringValue(s.to_string()),
        AttrValue::Short(s) => V::StringValue(s.as_str().to_owned()),
        AttrValue::Int(n) => V::IntValue(n.get()),
        AttrValue::Double(n) => V::DoubleValue(n.get()),
        AttrValue::Bool(b) => V::BoolValue(*b),
    };
    wire::KeyValue {
        key: key.to_owned(),
        value: Some(wire::AnyValue { value: Some(v) }),
    }
}

/// Converts a finished span to its OTLP message.
pub fn span_to_wire(span: &SpanData) -> wire::Span {
    let mut attributes = Vec::with_capacity(span.attributes.len() + 3);
    attributes.push(wire::KeyValue::string(
        "mlflow.spanType",
        span.span_type.as_str(),
    ));
    if let Some(i) = &span.inputs {
        attributes.push(wire::KeyValue::string("mlflow.spanInputs", &**i));
    }
    if let Some(o) = &span.outputs {
        attributes.push(wire::KeyValue::string("mlflow.spanOutputs", &**o));
    }
    if span.names_its_trace() {
        attributes.push(wire::KeyValue::string(TRACE_NAME, &*span.name));
    }
    attributes.extend(span.attributes.iter().map(|(k, v)| key_value(k, v)));
    wire::Span {
        trace_id: span.trace_id.as_bytes().to_vec(),
        span_id: span.span_id.as_bytes().to_vec(),
        parent_span_id: span
            .parent_span_id
            .map(|p| p.as_bytes().to_vec())
            .unwrap_or_default(),
        name: String::from(&*span.name),
        kind: 1,
        start_time_unix_nano: span.start_ns,
        end_time_unix_nano: span.end_ns,
        attributes,
        events: span
            .events
            .iter()
            .map(|e| wire::Event {
                time_unix_nano: e.time_ns,
                name: e.name.clone(),
                attributes: e.attributes.iter().map(|(k, v)| key_value(k, v)).collect(),
                dropped_attributes_count: 0,
            })
            .collect(),
        status: Some(wire::Status {
            code: span.status.code as i32,
            message: span.status.message.to_string(),
        }),
        flags: 0x100 | 1, // has-is-remote known (not remote), sampled
        ..Default::default()
    }
}

/// Encodes batches for one resource in one format.
///
/// The resource and scope are encoded once, here, by the same hand-written writers as the spans,
/// so sending needs neither the wire types nor their serde and prost code (which the ingest
/// service's decoder still uses).
#[derive(Debug, Clone)]
pub struct Encoder {
    format: Format,
    json_head: String,
    resource_pb: Vec<u8>,
    scope_pb: Vec<u8>,
}

const JSON_TAIL: &str = "]}]}]}";
const SCOPE_NAME: &str = "edgetrace";

/// The resource's attributes as sent: `service.name` first, then the others (a `service.name`
/// among them is left out).
fn resource_attributes(resource: &Resource) -> Vec<(&str, AttrValue)> {
    let mut attrs = vec![(
        "service.name",
        AttrValue::Str(resource.service_name.clone().into()),
    )];
    attrs.extend(
        resource
            .attributes
            .iter()
            .filter(|(k, _)| k != "service.name")
            .map(|(k, v)| (k.as_str(), v.clone())),
    );
    attrs
}

impl Encoder {
    /// An encoder for `resource` in `format`.
    pub fn new(format: Format, resource: &Resource) -> Encoder {
        let attrs = resource_attributes(resource);
        let mut json_head = if JSON {
            br#"{"resourceSpans":[{"resource":{"attributes":["#.to_vec()
        } else {
            Vec::new()
        };
        let mut resource_pb = Vec::new();
        for (i, (k, v)) in attrs.iter().enumerate() {
            if JSON {
                if i > 0 {
                    json_head.push(b',');
                }
                json::key_value(&mut json_head, k, v);
            }
            pb::key_value(&mut resource_pb, 1, k, v);
        }
        if JSON {
            json_head.extend_from_slice(br#"]},"scopeSpans":[{"scope":{"name":"#);
            json::string(&mut json_head, SCOPE_NAME);
            json_head.extend_from_slice(br#","version":"#);
            json::string(&mut json_head, VERSION);
            json_head.extend_from_slice(br#"},"spans":["#);
        }
        let mut scope_pb = Vec::new();
        pb::string_field(&mut scope_pb, 1, SCOPE_NAME);
        pb::string_field(&mut scope_pb, 2, VERSION);
        Encoder {
            format,
            // Only whole strings and ASCII punctuation were written.
            json_head: if JSON {
                String::from_utf8(json_head).unwrap_or_default()
            } else {
                String::new()
            },
            resource_pb,
            scope_pb,
        }
    }

    /// The format this encoder writes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// A builder for one body of at most `max_bytes` (one oversize span excepted).
    pub fn builder(&self, max_bytes: usize) -> PayloadBuilder<'_> {
        // Room for a whole body at once (up to 64 KiB): a body grown by doubling copies itself
        // each time, about as many bytes again as it ends up with.
        self.builder_sized(max_bytes, 1 << 16)
    }

    /// A builder as [`Encoder::builder`], with room for `expected` bytes reserved at once
    /// (capped by `max_bytes`): the caller's guess of the body's size, so that a body of many
    /// spans is not grown by doubling (a 269 KiB body from 64 KiB copies 448 KiB on the way).
    pub fn builder_sized(&self, max_bytes: usize, expected: usize) -> PayloadBuilder<'_> {
        let base = match self.format {
            Format::Json if JSON => self.json_head.len() + JSON_TAIL.len(),
            // The empty envelope, plus room for the two enclosing length prefixes to grow.
            _ => pb::request(&self.resource_pb, &self.scope_pb, &[]).len() + 8,
        };
        let room = max_bytes.min(expected.max(base));
        let mut json = Vec::new();
        let mut proto = Vec::new();
        match self.format {
            Format::Json if JSON => {
                // The body is written in place: the head now, the spans, the tail at `finish`.
                json.reserve_exact(room);
                json.extend_from_slice(self.json_head.as_bytes());
            }
            _ => proto.reserve_exact(room),
        }
        PayloadBuilder {
            enc: self,
            max_bytes,
            size: base,
            json,
            proto,
            scratch: Vec::new(),
            spans: 0,
            oversize: false,
        }
    }

    /// Encodes all of `spans` into one body, with no cap.
    pub fn encode(&self, spans: &[SpanData]) -> Payload {
        let mut b = self.builder(usize::MAX);
        for s in spans {
            b.try_add(s);
        }
        b.finish()
    }
}

/// Builds one request body span by span under a byte cap.
#[derive(Debug)]
pub struct PayloadBuilder<'a> {
    enc: &'a Encoder,
    max_bytes: usize,
    size: usize,
    json: Vec<u8>,
    proto: Vec<u8>,
    scratch: Vec<u8>,
    spans: usize,
    oversize: bool,
}

impl PayloadBuilder<'_> {
    /// Adds `span` if the body stays within the cap (the first span is always taken).
    /// Returns false, adding nothing, when it would not fit.
    pub fn try_add(&mut self, span: &SpanData) -> bool {
        let added = match self.enc.format {
            Format::Json if JSON => {
                // Written straight into the body, then taken back if it does not fit.
                let mark = self.json.len();
                let sep = usize::from(self.spans > 0);
                if sep == 1 {
                    self.json.push(b',');
                }
                json::span(&mut self.json, span);
                let added = self.json.len() - mark;
                if !self.fits(added) {
                    self.json.truncate(mark);
                    return false;
                }
                added
            }
            _ => {
                self.scratch.clear();
                pb::span(&mut self.scratch, span);
                let len = self.scratch.len();
                let added = 1 + prost::length_delimiter_len(len) + len;
                if !self.fits(added) {
                    return false;
                }
                // ScopeSpans.spans (field 2), length-delimited.
                pb::len_field(&mut self.proto, 2, len);
                self.proto.extend_from_slice(&self.scratch);
                added
            }
        };
        self.size += added;
        self.spans += 1;
        true
    }

    fn fits(&mut self, added: usize) -> bool {
        if self.size.saturating_add(added) <= self.max_bytes {
            return true;
        }
        if self.spans == 0 {
            self.oversize = true;
            return true;
        }
        false
    }

    /// How many spans were added.
    pub fn len(&self) -> usize {
        self.spans
    }

    /// Whether no span was added.
    pub fn is_empty(&self) -> bool {
        self.spans == 0
    }

    /// The finished body.
    pub fn finish(self) -> Payload {
        let body = match self.enc.format {
            Format::Json if JSON => {
                let mut b = self.json;
                b.extend_from_slice(JSON_TAIL.as_bytes());
                b
            }
            _ => pb::request(&self.enc.resource_pb, &self.enc.scope_pb, &self.proto),
        };
        // The protobuf size is estimated with some slack, so a lone span taken as oversize may
        // still fit; only a body that really is over the cap is marked.
        let oversize = self.oversize && body.len() > self.max_bytes;
        Payload {
            body,
            format: self.enc.format,
            spans: self.spans,
            oversize,
        }
    }
}

/// OTLP protobuf for one span and the request around the spans, written by hand from
/// [`SpanData`]: the same bytes prost writes for [`span_to_wire`]'s message inside
/// [`Encoder::request`] (a test below holds them equal), without building those messages first.
/// As prost does, proto3 defaults are left out (empty strings and bytes, zero numbers), while a
/// set `oneof` value and a present optional message are always written.
mod pb {
    use crate::attribute::AttrValue;
    use crate::span::SpanData;
    use crate::text::put;
    use crate::trace::TRACE_NAME;

    const LEN: u32 = 2;
    const FIXED64: u32 = 1;
    const FIXED32: u32 = 5;
    const VARINT: u32 = 0;

    fn varint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    fn varint_len(n: u64) -> usize {
        prost::encoding::encoded_len_varint(n)
    }

    fn key(out: &mut Vec<u8>, field: u32, wire_type: u32) {
        varint(out, u64::from(field << 3 | wire_type));
    }

    /// The key and length of a length-delimited field.
    pub(super) fn len_field(out: &mut Vec<u8>, field: u32, len: usize) {
        key(out, field, LEN);
        varint(out, len as u64);
    }

    /// A string field, left out when empty.
    pub(super) fn string_field(out: &mut Vec<u8>, field: u32, s: &str) {
        bytes_field(out, field, s.as_bytes());
    }

    fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
        if !b.is_empty() {
            len_field(out, field, b.len());
            put(out, b);
        }
    }

    fn fixed64_field(out: &mut Vec<u8>, field: u32, n: u64) {
        if n != 0 {
            key(out, field, FIXED64);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }

    /// Length of a string or bytes field with a one-byte key (0 when left out).
    fn str_len(s: &str) -> usize {
        if s.is_empty() {
            0
        } else {
            1 + varint_len(s.len() as u64) + s.len()
        }
    }

    /// Length of an AnyValue message holding `v`.
    fn any_len(v: &AttrValue) -> usize {
        match v {
            AttrValue::Str(s) | AttrValue::Json(s) => 1 + varint_len(s.len() as u64) + s.len(),
            AttrValue::Short(s) => 1 + varint_len(s.len() as u64) + s.len(),
            AttrValue::Int(n) => 1 + varint_len(n.get() as u64),
            AttrValue::Double(_) => 9,
            AttrValue::Bool(_) => 2,
        }
    }

    fn kv_len(k: &str, v: &AttrValue) -> usize {
        let a = any_len(v);
        str_len(k) + 1 + varint_len(a as u64) + a
    }

    /// A KeyValue with a string value whose lengths all fit one-byte varints (most attributes:
    /// a key and a value of up to ~120 bytes, field numbers below 16), written with its header
    /// bytes in two groups instead of field by field. Returns false, writing nothing, otherwise.
    #[inline]
    fn short_kv_str(out: &mut Vec<u8>, field: u32, k: &[u8], s: &[u8]) -> bool {
        let (kl, sl) = (k.len(), s.len());
        // KeyValue { key: 1 (left out when empty), value: 2 } holding AnyValue { string_value: 1 }.
        let kv = kl + 2 + 4 + sl;
        // Not in the browser's size build, where every byte counts against the shipped size.
        if cfg!(feature = "size") || field >= 16 || kl == 0 || kv >= 0x80 {
            return false;
        }
        out.reserve(2 + kv);
        out.extend_from_slice(&[(field << 3 | LEN) as u8, kv as u8, 0x0a, kl as u8]);
        put(out, k);
        out.extend_from_slice(&[0x12, (sl + 2) as u8, 0x0a, sl as u8]);
        put(out, s);
        true
    }

    /// A KeyValue as a repeated field `field` of its parent.
    pub(super) fn key_value(out: &mut Vec<u8>, field: u32, k: &str, v: &AttrValue) {
        if let Some(s) = v.as_str() {
            if short_kv_str(out, field, k.as_bytes(), s.as_bytes()) {
                return;
            }
        }
        len_field(out, field, kv_len(k, v));
        bytes_field(out, 1, k.as_bytes());
        len_field(out, 2, any_len(v));
        match v {
            AttrValue::Str(s) | AttrValue::Json(s) => {
                len_field(out, 1, s.len());
                put(out, s.as_bytes());
            }
            AttrValue::Short(s) => {
                len_field(out, 1, s.len());
                put(out, s.as_bytes());
            }
            AttrValue::Bool(b) => {
                key(out, 2, VARINT);
                out.push(u8::from(*b));
            }
            AttrValue::Int(n) => {
                key(out, 3, VARINT);
                varint(out, n.get() as u64);
            }
            AttrValue::Double(d) => {
                key(out, 4, FIXED64);
                out.extend_from_slice(&d.get().to_bits().to_le_bytes());
            }
        }
    }

    fn kv_str(out: &mut Vec<u8>, field: u32, k: &str, s: &str) {
        if short_kv_str(out, field, k.as_bytes(), s.as_bytes()) {
            return;
        }
        // Same bytes as `kv` with `AttrValue::Str`, without building one.
        let a = 1 + varint_len(s.len() as u64) + s.len();
        len_field(out, field, str_len(k) + 1 + varint_len(a as u64) + a);
        bytes_field(out, 1, k.as_bytes());
        len_field(out, 2, a);
        len_field(out, 1, s.len());
        put(out, s.as_bytes());
    }

    /// The body of one Span message (without its own key and length).
    pub(super) fn span(out: &mut Vec<u8>, s: &SpanData) {
        bytes_field(out, 1, s.trace_id.as_bytes());
        bytes_field(out, 2, s.span_id.as_bytes());
        if let Some(p) = &s.parent_span_id {
            bytes_field(out, 4, p.as_bytes());
        }
        bytes_field(out, 5, s.name.as_bytes());
        key(out, 6, VARINT);
        out.push(1); // kind: internal
        fixed64_field(out, 7, s.start_ns);
        fixed64_field(out, 8, s.end_ns);
        kv_str(out, 9, "mlflow.spanType", s.span_type.as_str());
        if let Some(i) = &s.inputs {
            kv_str(out, 9, "mlflow.spanInputs", i);
        }
        if let Some(o) = &s.outputs {
            kv_str(out, 9, "mlflow.spanOutputs", o);
        }
        if s.names_its_trace() {
            kv_str(out, 9, TRACE_NAME, &s.name);
        }
        for (k, v) in &s.attributes {
            key_value(out, 9, k, v);
        }
        for e in &s.events {
            let attrs: usize = e
                .attributes
                .iter()
                .map(|(k, v)| {
                    let l = kv_len(k, v);
                    1 + varint_len(l as u64) + l
                })
                .sum();
            let len = if e.time_ns != 0 { 9 } else { 0 } + str_len(&e.name) + attrs;
            len_field(out, 11, len);
            fixed64_field(out, 1, e.time_ns);
            bytes_field(out, 2, e.name.as_bytes());
            for (k, v) in &e.attributes {
                key_value(out, 3, k, v);
            }
        }
        let code = s.status.code as i32;
        let status_len = str_len(&s.status.message) + if code != 0 { 2 } else { 0 };
        len_field(out, 15, status_len);
        bytes_field(out, 2, s.status.message.as_bytes());
        if code != 0 {
            key(out, 3, VARINT);
            out.push(code as u8);
        }
        key(out, 16, FIXED32);
        out.extend_from_slice(&(0x100u32 | 1).to_le_bytes()); // flags, as in span_to_wire
    }

    /// ExportTraceServiceRequest { resource_spans: [ResourceSpans { resource, scope_spans:
    /// [ScopeSpans { scope, spans }] }] }, with `spans` already encoded as ScopeSpans fields.
    pub(super) fn request(resource: &[u8], scope: &[u8], spans: &[u8]) -> Vec<u8> {
        let scope_spans = 1 + varint_len(scope.len() as u64) + scope.len() + spans.len();
        let resource_spans = 1
            + varint_len(resource.len() as u64)
            + resource.len()
            + 1
            + varint_len(scope_spans as u64)
            + scope_spans;
        let mut out = Vec::with_capacity(resource_spans + 8);
        len_field(&mut out, 1, resource_spans);
        len_field(&mut out, 1, resource.len());
        out.extend_from_slice(resource);
        len_field(&mut out, 2, scope_spans);
        len_field(&mut out, 1, scope.len());
        out.extend_from_slice(scope);
        out.extend_from_slice(spans);
        out
    }
}

/// OTLP/JSON for one span, written by hand from [`SpanData`]: the same bytes as serializing
/// [`span_to_wire`]'s message with serde_json (a test below holds them equal), without building
/// that message and its copies of every string first. Field order and omitted defaults follow the
/// serde attributes in `wire.rs`.
mod json {
    use crate::attribute::AttrValue;
    use crate::span::SpanData;

    pub(super) fn span(out: &mut Vec<u8>, s: &SpanData) {
        out.extend_from_slice(b"{\"traceId\":\"");
        hex(out, s.trace_id.as_bytes());
        out.extend_from_slice(b"\",\"spanId\":\"");
        hex(out, s.span_id.as_bytes());
        out.push(b'"');
        if let Some(p) = &s.parent_span_id {
            out.extend_from_slice(b",\"parentSpanId\":\"");
            hex(out, p.as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b",\"name\":");
        string(out, &s.name);
        out.extend_from_slice(b",\"kind\":1,\"startTimeUnixNano\":\"");
        decimal(out, s.start_ns);
        out.extend_from_slice(b"\",\"endTimeUnixNano\":\"");
        decimal(out, s.end_ns);
        out.extend_from_slice(b"\",\"attributes\":[");
        // MLflow's own keys, each written with what comes before its value as one piece.
        out.extend_from_slice(b"{\"key\":\"mlflow.spanType\",\"value\":{\"stringValue\":");
        string_value(out, s.span_type.as_str());
        if let Some(i) = &s.inputs {
            out.extend_from_slice(b",{\"key\":\"mlflow.spanInputs\",\"value\":{\"stringValue\":");
            string_value(out, i);
        }
        if let Some(o) = &s.outputs {
            out.extend_from_slice(b",{\"key\":\"mlflow.spanOutputs\",\"value\":{\"stringValue\":");
            string_value(out, o);
        }
        if s.names_its_trace() {
            // In two pieces of at most 64 bytes, which LLVM writes by moves, not a `memory.copy`.
            out.extend_from_slice(b",{\"key\":\"mlflow.traceTag.mlflow.traceName\",");
            out.extend_from_slice(b"\"value\":{\"stringValue\":");
            string_value(out, &s.name);
        }
        for (k, v) in &s.attributes {
            out.push(b',');
            key_value(out, k, v);
        }
        out.push(b']');
        if !s.events.is_empty() {
            out.extend_from_slice(b",\"events\":[");
            for (i, e) in s.events.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"timeUnixNano\":\"");
                decimal(out, e.time_ns);
                out.extend_from_slice(b"\",\"name\":");
                string(out, &e.name);
                if !e.attributes.is_empty() {
                    out.extend_from_slice(b",\"attributes\":[");
                    for (j, (k, v)) in e.attributes.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        key_value(out, k, v);
                    }
                    out.push(b']');
                }
                out.push(b'}');
            }
            out.push(b']');
        }
        out.extend_from_slice(b",\"status\":{");
        if !s.status.message.is_empty() {
            out.extend_from_slice(b"\"message\":");
            string(out, &s.status.message);
            out.push(b',');
        }
        out.extend_from_slice(b"\"code\":");
        decimal(out, s.status.code as i32 as u64);
        out.extend_from_slice(b"},\"flags\":257}");
    }

    fn key_string(out: &mut Vec<u8>, key: &str, value: &str) {
        out.extend_from_slice(b"{\"key\":");
        string(out, key);
        out.extend_from_slice(b",\"value\":{\"stringValue\":");
        string_value(out, value);
    }

    /// A string attribute's value and what closes the attribute.
    fn string_value(out: &mut Vec<u8>, value: &str) {
        string(out, value);
        out.extend_from_slice(b"}}");
    }

    pub(super) fn key_value(out: &mut Vec<u8>, key: &str, value: &AttrValue) {
        match value {
            AttrValue::Str(s) | AttrValue::Json(s) => return key_string(out, key, s),
            AttrValue::Short(s) => return key_string(out, key, s),
            _ => {}
        }
        out.extend_from_slice(b"{\"key\":");
        string(out, key);
        out.extend_from_slice(b",\"value\":{");
        match value {
            AttrValue::Int(n) => {
                let n = n.get();
                out.extend_from_slice(b"\"intValue\":\"");
                if n < 0 {
                    out.push(b'-');
                }
                decimal(out, n.unsigned_abs());
                out.push(b'"');
            }
            AttrValue::Double(d) => {
                let d = d.get();
                out.extend_from_slice(b"\"doubleValue\":");
                if d.is_finite() {
                    // serde_json's own float formatting (zmij), so the text is exactly what
                    // serde_json writes.
                    out.extend_from_slice(zmij::Buffer::new().format_finite(d).as_bytes());
                } else if d.is_nan() {
                    out.extend_from_slice(b"\"NaN\"");
                } else if d > 0.0 {
                    out.extend_from_slice(b"\"Infinity\"");
                } else {
                    out.extend_from_slice(b"\"-Infinity\"");
                }
            }
            AttrValue::Bool(b) => {
                out.extend_from_slice(if *b {
                    b"\"boolValue\":true"
                } else {
                    b"\"boolValue\":false"
                });
            }
            AttrValue::Str(_) | AttrValue::Short(_) | AttrValue::Json(_) => {}
        }
        out.extend_from_slice(b"}}");
    }

    /// Lowercase hex of an id (at most 16 bytes), four bytes at a time by 64-bit arithmetic
    /// ([`hex4`]), made on the stack and appended in one copy (by fixed-size moves: see
    /// `text::put`). A table lookup per nibble took two loads and two bounds checks a byte.
    pub(super) fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
        let mut buf = [0u8; 32];
        let n = bytes.len().min(16);
        for (i, c) in bytes[..n].chunks(4).enumerate() {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            buf[8 * i..8 * i + 8].copy_from_slice(&hex4(u32::from_le_bytes(w)).to_le_bytes());
        }
        crate::text::put(out, &buf[..2 * n]);
    }

    /// The eight lowercase hex digits of four bytes (`x`'s little-endian bytes, in their order),
    /// as the little-endian bytes of the result: each byte spread to 16 bits, its high nibble in
    /// the low byte, then every nibble made a digit at once (`+ '0'`, and `'a' - '0' - 10` more
    /// where adding 6 carries into bit 4, that is, where the nibble is 10 or more).
    pub(super) fn hex4(x: u32) -> u64 {
        const LOW: u64 = 0x000F_000F_000F_000F;
        let y = u64::from(x);
        let y = (y | (y << 16)) & 0x0000_FFFF_0000_FFFF;
        let y = (y | (y << 8)) & 0x00FF_00FF_00FF_00FF;
        let z = ((y >> 4) & LOW) | ((y & LOW) << 8);
        let letters = ((z + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
        z + 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'0' - 10)
    }

    /// `n` in decimal. Wasm has no 64-bit multiply-high, so LLVM leaves a `u64` division by a
    /// constant as an `i64.div_u`: digit by digit, the 19 digits of a time in ns took 19 of them.
    /// Here two 64-bit divisions cut `n` into parts of eight digits, written two digits at a time
    /// by 32-bit arithmetic (which LLVM makes multiplications).
    pub(super) fn decimal(out: &mut Vec<u8>, mut n: u64) {
        const EIGHT: u64 = 100_000_000;
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let two = |buf: &mut [u8; 20], i: &mut usize, d: u32| {
            let d = 2 * d as usize;
            *i -= 2;
            buf[*i] = PAIRS[d];
            buf[*i + 1] = PAIRS[d + 1];
        };
        while n >= EIGHT {
            let q = n / EIGHT;
            let mut r = (n - q * EIGHT) as u32;
            for _ in 0..4 {
                two(&mut buf, &mut i, r % 100);
                r /= 100;
            }
            n = q;
        }
        let mut r = n as u32;
        while r >= 100 {
            two(&mut buf, &mut i, r % 100);
            r /= 100;
        }
        if r >= 10 {
            two(&mut buf, &mut i, r);
        } else {
            i -= 1;
            buf[i] = b'0' + r as u8;
        }
        // Up to 20 digits: by fixed-size moves, not a `memory.copy` call (see `text::put`).
        crate::text::put(out, &buf[i..]);
    }

    /// "00" to "99", each two digits.
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";

    /// A JSON string, escaped as serde_json escapes it.
    pub(super) use crate::json::write_str as string;
}

#[cfg(test)]
mod tests {
    use super::{json, key_value, span_to_wire, wire, Encoder, Format, Resource, VERSION};
    use crate::attribute::AttrValue;
    use prost::Message;

    /// The request as the wire types describe it (what the encoders wrote before they were
    /// written by hand), to hold the hand-written bytes against serde_json's and prost's.
    fn wire_request(
        resource: &Resource,
        spans: Vec<wire::Span>,
    ) -> wire::ExportTraceServiceRequest {
        let mut attributes = vec![wire::KeyValue::string(
            "service.name",
            resource.service_name.as_str(),
        )];
        attributes.extend(
            resource
                .attributes
                .iter()
                .filter(|(k, _)| k != "service.name")
                .map(|(k, v)| key_value(k, v)),
        );
        wire::ExportTraceServiceRequest {
            resource_spans: vec![wire::ResourceSpans {
                resource: Some(wire::Resource {
                    attributes,
                    dropped_attributes_count: 0,
                }),
                scope_spans: vec![wire::ScopeSpans {
                    scope: Some(wire::InstrumentationScope {
                        name: "edgetrace".to_owned(),
                        version: VERSION.to_owned(),
                        ..Default::default()
                    }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    #[test]
    fn ids_in_hex_are_what_format_writes() {
        // Every byte value in every position of a word, then ids of both lengths.
        for b in 0..=255u8 {
            for at in 0..4 {
                let mut w = [0x5au8; 4];
                w[at] = b;
                let want: String = w.iter().map(|b| format!("{b:02x}")).collect();
                let got = json::hex4(u32::from_le_bytes(w)).to_le_bytes();
                assert_eq!(std::str::from_utf8(&got).unwrap(), want);
            }
        }
        for id in [
            &[0u8; 16][..],
            &[0xffu8; 16][..],
            &[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            &[
                0xa9, 0x0f, 0x10, 0xfa, 0x9a, 0x00, 0x99, 0xaa, 0xbb, 0xcc, 0x3c, 0xc3, 0x7e, 0xe7,
                0x5, 0x50,
            ],
        ] {
            let mut out = Vec::new();
            json::hex(&mut out, id);
            let want: String = id.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    #[test]
    fn decimals_are_what_format_writes() {
        let mut xs = vec![0, 1, 9, 10, 99, 100, u64::MAX, u64::MAX - 1];
        for edge in [
            u64::from(u32::MAX),
            1_000_000_000,
            1_000_000_000_000_000_000,
            4_294_967_296_000_000_000,
            1_764_806_400_000_000_007,
        ] {
            xs.extend([edge - 1, edge, edge + 1]);
        }
        // And 10,000 pseudo-random values of every length (an LCG, top bits shifted away).
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..10_000u64 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            xs.push(x >> (i % 64));
        }
        for n in xs {
            let mut out = Vec::new();
            json::decimal(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn the_empty_envelope_is_what_prost_writes() {
        for r in [
            resource(),
            Resource::default(),
            Resource {
                service_name: "a\"b".into(),
                attributes: vec![("service.name".into(), AttrValue::Str("x".into()))],
            },
        ] {
            let enc = Encoder::new(Format::Protobuf, &r);
            assert_eq!(
                super::pb::request(&enc.resource_pb, &enc.scope_pb, &[]),
                wire_request(&r, Vec::new()).encode_to_vec()
            );
            let enc = Encoder::new(Format::Json, &r);
            let json = format!("{}{}", enc.json_head, super::JSON_TAIL);
            assert_eq!(
                json,
                serde_json::to_string(&wire_request(&r, Vec::new())).unwrap()
            );
        }
    }

    fn resource() -> Resource {
        Resource {
            service_name: "svc".into(),
            attributes: vec![
                ("deployment".into(), AttrValue::Str("test".into())),
                ("n".into(), AttrValue::Int((-3).into())),
            ],
        }
    }
    use crate::id::{SpanId, TraceId};
    use crate::span::{Event, SpanData, SpanType, Status, StatusCode};

    fn sample(parent: bool, text: &str, status: &str, events: bool) -> SpanData {
        SpanData {
            trace_id: TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
            span_id: SpanId::from_hex("b7ad6b7169203331").unwrap(),
            parent_span_id: parent.then(|| SpanId::from_hex("00f067aa0ba902b7").unwrap()),
            name: text.into(),
            span_type: SpanType::parse("CHAT_MODEL"),
            start_ns: 0,
            end_ns: u64::MAX,
            inputs: Some(format!("{{\"q\":{}}}", serde_json::to_string(text).unwrap()).into()),
            outputs: None,
            attributes: vec![
                ("s".into(), AttrValue::Str(text.into())),
                // Held inline when it is short (`""`, `"plain"`), else a `String`.
                ("t".into(), AttrValue::text(text)),
                ("j".into(), AttrValue::Json("[1,2]".into())),
                ("i".into(), AttrValue::Int(i64::MIN.into())),
                ("i2".into(), AttrValue::Int(42.into())),
                ("d".into(), AttrValue::Double((0.1 + 0.2).into())),
                ("d2".into(), AttrValue::Double(1e300.into())),
                ("d3".into(), AttrValue::Double((-0.0).into())),
                ("nan".into(), AttrValue::Double(f64::NAN.into())),
                ("inf".into(), AttrValue::Double(f64::INFINITY.into())),
                ("-inf".into(), AttrValue::Double(f64::NEG_INFINITY.into())),
                ("b".into(), AttrValue::Bool(true)),
                ("b2".into(), AttrValue::Bool(false)),
                (text.into(), AttrValue::Int(7.into())),
            ],
            events: if events {
                vec![
                    Event {
                        name: "exception".into(),
                        time_ns: 1_700_000_000_123_456_789,
                        attributes: vec![
                            ("exception.message".into(), AttrValue::Str(text.into())),
                            ("exception.type".into(), AttrValue::text(text)),
                        ],
                    },
                    Event {
                        name: text.to_owned(),
                        time_ns: 5,
                        attributes: vec![],
                    },
                ]
                .into()
            } else {
                Default::default()
            },
            status: Status {
                code: match status {
                    "" => StatusCode::Ok,
                    "unset" => StatusCode::Unset,
                    _ => StatusCode::Error,
                },
                message: if status == "unset" {
                    Box::default()
                } else {
                    status.into()
                },
            },
        }
    }

    #[test]
    fn string_attributes_either_side_of_one_byte_lengths_are_what_prost_writes() {
        // A KeyValue of key k and string value v is 2 + k + 4 + v bytes: below 128 its lengths
        // are one-byte varints and it is written in one go; from 128 field by field.
        for k in [0, 1, 5, 60, 120, 121, 122, 130] {
            for v in [
                0, 1, 14, 15, 60, 115, 116, 117, 121, 122, 126, 127, 128, 300,
            ] {
                let mut span = sample(true, "x", "", true);
                let key = "k".repeat(k);
                span.attributes = vec![
                    (key.as_str().into(), AttrValue::Str("v".repeat(v).into())),
                    (key.as_str().into(), AttrValue::text(&"w".repeat(v))),
                ];
                span.inputs = Some("i".repeat(v).into());
                span.events[0].attributes =
                    vec![(key.clone(), AttrValue::Str("e".repeat(v).into()))];
                let enc = Encoder::new(Format::Protobuf, &resource());
                let mut b = enc.builder(usize::MAX);
                assert!(b.try_add(&span));
                let wire = wire_request(&resource(), vec![span_to_wire(&span)]);
                assert_eq!(
                    b.finish().body,
                    wire.encode_to_vec(),
                    "key {k} B, value {v} B"
                );
            }
        }
    }

    /// Spans whose protobuf lengths take one, two and three bytes, side by side in one body, and
    /// spans refused by the cap: the body is prost's bytes for the spans taken.
    #[test]
    fn spans_of_one_two_and_three_byte_lengths_are_what_prost_writes() {
        let sized = |n: usize| {
            let mut span = sample(false, "", "", false);
            span.attributes.clear();
            span.inputs = (n > 0).then(|| "i".repeat(n).into());
            span
        };
        let mut lengths = Vec::new();
        for n in (0..140).chain(16_200..16_420).step_by(3) {
            let span = sized(n);
            lengths.push(span_to_wire(&span).encoded_len());
            let batch = [sized(n / 2), span, sized(0)];
            let enc = Encoder::new(Format::Protobuf, &resource());
            let mut b = enc.builder(usize::MAX);
            assert!(batch.iter().all(|s| b.try_add(s)));
            let wire = wire_request(&resource(), batch.iter().map(span_to_wire).collect());
            assert_eq!(b.finish().body, wire.encode_to_vec(), "inputs of {n} B");
            // Under a cap the first span alone fits: the others are refused and leave nothing.
            let alone = wire_request(&resource(), vec![span_to_wire(&batch[0])]).encode_to_vec();
            let mut b = enc.builder(alone.len());
            assert!(b.try_add(&batch[0]));
            assert!(
                !b.try_add(&batch[1]) && !b.try_add(&batch[2]),
                "inputs of {n} B"
            );
            assert_eq!(b.finish().body, alone, "inputs of {n} B");
        }
        // The lengths were on both sides of 128 and of 16,384.
        for (lo, hi) in [(0, 128), (128, 16_384), (16_384, usize::MAX)] {
            assert!(
                lengths.iter().any(|l| (lo..hi).contains(l)),
                "no span of {lo}..{hi} B"
            );
        }
    }

    #[test]
    fn hand_written_json_and_protobuf_are_byte_for_byte_serde_json_and_prost() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        let texts = [
            "",
            "plain",
            "quote \" and \\ backslash /",
            "é ✓ 🦀 \u{7f} \u{2028}",
            &all_controls,
        ];
        for text in texts {
            for parent in [false, true] {
                for status in ["", "unset", "Error: \"boom\"\n"] {
                    for events in [false, true] {
                        let span = sample(parent, text, status, events);
                        let mut mine = Vec::new();
                        json::span(&mut mine, &span);
                        let theirs = serde_json::to_vec(&span_to_wire(&span)).unwrap();
                        assert_eq!(
                            String::from_utf8(mine).unwrap(),
                            String::from_utf8(theirs).unwrap()
                        );
                        for format in [Format::Protobuf, Format::Json] {
                            let enc = Encoder::new(format, &resource());
                            let batch = [span.clone(), sample(!parent, "x", "", !events)];
                            let mut b = enc.builder(usize::MAX);
                            assert!(b.try_add(&batch[0]) && b.try_add(&batch[1]));
                            let body = b.finish().body;
                            let wire =
                                wire_request(&resource(), batch.iter().map(span_to_wire).collect());
                            if format == Format::Protobuf {
                                assert_eq!(body, wire.encode_to_vec());
                            } else {
                                assert_eq!(
                                    String::from_utf8(body).unwrap(),
                                    serde_json::to_string(&wire).unwrap()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
