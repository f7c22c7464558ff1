//! Finished spans to OTLP/HTTP bodies, JSON or protobuf, following MLflow's conventions.
//!
//! Each span carries `mlflow.spanType` (a plain string), `mlflow.spanInputs` and
//! `mlflow.spanOutputs` (JSON text in string values) first, then its own attributes. Encoders
//! take [`SpanData`] and know nothing about contexts or handles. A [`PayloadBuilder`] adds spans
//! one at a time and stops before a body would pass its byte cap, so every request stays under
//! the keepalive limit unless a single span alone is bigger (then it travels alone, marked
//! [`Payload::oversize`]).

use prost::Message;

use super::wire;
use crate::attribute::AttrValue;
use crate::span::SpanData;

/// The version written into the instrumentation scope.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

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
        AttrValue::Str(s) | AttrValue::Json(s) => V::StringValue(s.clone()),
        AttrValue::Int(n) => V::IntValue(*n),
        AttrValue::Double(n) => V::DoubleValue(*n),
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
        attributes.push(wire::KeyValue::string("mlflow.spanInputs", i.as_str()));
    }
    if let Some(o) = &span.outputs {
        attributes.push(wire::KeyValue::string("mlflow.spanOutputs", o.as_str()));
    }
    attributes.extend(span.attributes.iter().map(|(k, v)| key_value(k, v)));
    wire::Span {
        trace_id: span.trace_id.as_bytes().to_vec(),
        span_id: span.span_id.as_bytes().to_vec(),
        parent_span_id: span
            .parent_span_id
            .map(|p| p.as_bytes().to_vec())
            .unwrap_or_default(),
        name: span.name.clone(),
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
            message: span.status.message.clone(),
        }),
        flags: 0x100 | 1, // has-is-remote known (not remote), sampled
        ..Default::default()
    }
}

/// Encodes batches for one resource in one format.
#[derive(Debug, Clone)]
pub struct Encoder {
    format: Format,
    resource: wire::Resource,
    scope: wire::InstrumentationScope,
    json_head: String,
}

const JSON_TAIL: &str = "]}]}]}";

impl Encoder {
    /// An encoder for `resource` in `format`.
    pub fn new(format: Format, resource: &Resource) -> Encoder {
        let mut attrs = vec![wire::KeyValue::string(
            "service.name",
            resource.service_name.as_str(),
        )];
        attrs.extend(
            resource
                .attributes
                .iter()
                .filter(|(k, _)| k != "service.name")
                .map(|(k, v)| key_value(k, v)),
        );
        let resource = wire::Resource {
            attributes: attrs,
            dropped_attributes_count: 0,
        };
        let scope = wire::InstrumentationScope {
            name: "edgetrace".to_owned(),
            version: VERSION.to_owned(),
            ..Default::default()
        };
        let json_head = format!(
            "{{\"resourceSpans\":[{{\"resource\":{},\"scopeSpans\":[{{\"scope\":{},\"spans\":[",
            serde_json::to_string(&resource).unwrap_or_else(|_| "{}".into()),
            serde_json::to_string(&scope).unwrap_or_else(|_| "{}".into()),
        );
        Encoder {
            format,
            resource,
            scope,
            json_head,
        }
    }

    /// The format this encoder writes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// A builder for one body of at most `max_bytes` (one oversize span excepted).
    pub fn builder(&self, max_bytes: usize) -> PayloadBuilder<'_> {
        let base = match self.format {
            Format::Json => self.json_head.len() + JSON_TAIL.len(),
            // The empty envelope, plus room for the two enclosing length prefixes to grow.
            Format::Protobuf => self.request(Vec::new()).encoded_len() + 8,
        };
        PayloadBuilder {
            enc: self,
            max_bytes,
            size: base,
            json: Vec::new(),
            proto: Vec::new(),
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

    fn request(&self, spans: Vec<wire::Span>) -> wire::ExportTraceServiceRequest {
        wire::ExportTraceServiceRequest {
            resource_spans: vec![wire::ResourceSpans {
                resource: Some(self.resource.clone()),
                scope_spans: vec![wire::ScopeSpans {
                    scope: Some(self.scope.clone()),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }
}

/// Builds one request body span by span under a byte cap.
#[derive(Debug)]
pub struct PayloadBuilder<'a> {
    enc: &'a Encoder,
    max_bytes: usize,
    size: usize,
    json: Vec<u8>,
    proto: Vec<wire::Span>,
    spans: usize,
    oversize: bool,
}

impl PayloadBuilder<'_> {
    /// Adds `span` if the body stays within the cap (the first span is always taken).
    /// Returns false, adding nothing, when it would not fit.
    pub fn try_add(&mut self, span: &SpanData) -> bool {
        let w = span_to_wire(span);
        let added = match self.enc.format {
            Format::Json => {
                let text = match serde_json::to_vec(&w) {
                    Ok(t) => t,
                    Err(_) => return false,
                };
                let sep = usize::from(self.spans > 0);
                let added = text.len() + sep;
                if !self.fits(added) {
                    return false;
                }
                if sep == 1 {
                    self.json.push(b',');
                }
                self.json.extend_from_slice(&text);
                added
            }
            Format::Protobuf => {
                let len = w.encoded_len();
                let added = 1 + prost::length_delimiter_len(len) + len;
                if !self.fits(added) {
                    return false;
                }
                self.proto.push(w);
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
            Format::Json => {
                let mut b = Vec::with_capacity(self.size);
                b.extend_from_slice(self.enc.json_head.as_bytes());
                b.extend_from_slice(&self.json);
                b.extend_from_slice(JSON_TAIL.as_bytes());
                b
            }
            Format::Protobuf => self.enc.request(self.proto).encode_to_vec(),
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
