//! The ingest service's core: an incoming OTLP request in, protobuf payloads for MLflow out.
//!
//! [`Ingest::process`] decodes OTLP/JSON or protobuf ([`validate::decode`]), refuses bad input
//! with a specific [`Refusal`] (nothing is half-accepted), bounds long values, gives spans
//! MLflow's log level (and, when configured, MLflow's attributes for spans from other SDKs:
//! [`convert`]), applies the redaction rules ([`redact`]),
//! and encodes OTLP protobuf, split into payloads no larger than a cap (a Cloudflare Queue
//! message holds at most 128 KB). Transport, keys, CORS and body-size limits live in the
//! service's JS, in front of this.
//!
//! ```
//! use edgetrace::ingest::{Ingest, IngestConfig};
//! use edgetrace::otlp::Format;
//!
//! let ingest = Ingest::new(IngestConfig { convert_conventions: true, ..IngestConfig::default() }).unwrap();
//! let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
//!     "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
//!     "name":"chat","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000",
//!     "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}]}]}]}]}"#;
//! let out = ingest.process(body, Format::Json, 1_700_000_002_000_000_000).unwrap();
//! assert_eq!((out.spans, out.trace_ids.len(), out.typed), (1, 1, 1));
//! assert_eq!(out.payloads.len(), 1);
//! assert!(ingest.process(b"{", Format::Json, 0).is_err());
//! ```

pub mod assessment;
pub mod convert;
pub mod redact;
pub mod refusal;
pub mod validate;
pub mod values;

use prost::Message;
use serde::Deserialize;

use crate::error::Error;
use crate::otlp::wire::{ExportTraceServiceRequest, ResourceSpans, ScopeSpans};
use crate::otlp::Format;
pub use redact::Redactor;
pub use refusal::{Refusal, RefusalKind};

/// The ingest core's configuration; every field has a default. JSON keys are camelCase and
/// unknown keys are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Most spans in one request. Default: 5,000.
    pub max_spans_per_request: usize,
    /// Most values in one request (spans, attributes, events, links and the values in lists:
    /// see [`values::count`]), counted before decoding: what bounds the memory a request can
    /// take, whatever its size (about 50 bytes a value at the least; a few KB gzipped can hold
    /// millions). Default: 500,000 (5,000 spans of 30 attributes each hold about 305,000).
    pub max_values_per_request: usize,
    /// Longest string attribute value in bytes; longer ones are cut (JSON kept valid) and
    /// counted. Default: 65,536.
    pub max_attribute_bytes: usize,
    /// Deepest nesting of array / key-value-list attribute values. Default: 8.
    pub max_attribute_depth: usize,
    /// Most attributes a span keeps (MLflow's own first); the rest are dropped and counted in the
    /// span's `droppedAttributesCount`. Default: 1,000 (OpenTelemetry's SDKs keep 128).
    pub max_attributes_per_span: usize,
    /// Largest protobuf payload handed back; bigger requests are split by span. 0: never split.
    /// Default: 0.
    pub max_payload_bytes: usize,
    /// How far in the future a span time may be, in seconds (sender clocks drift). Default: 86,400.
    pub max_future_seconds: u64,
    /// Apply [`redact::DEFAULT_PATTERNS`] and [`redact::DEFAULT_DROPPED`]. Default: true.
    pub default_redaction: bool,
    /// More regular expressions whose matches are replaced in every string value. Default: none.
    pub redact_patterns: Vec<String>,
    /// More attribute keys dropped (exact, or a prefix ending in `*`). Default: none.
    pub redact_attributes: Vec<String>,
    /// What a match is replaced with. Default: `[REDACTED]`.
    pub redaction_text: String,
    /// Derive MLflow attributes from GenAI / OpenInference conventions. Default: false: MLflow
    /// 3.x converts these conventions itself as it stores spans, more fully (cached tokens, its
    /// own type for each operation), and fills only what is missing, so attributes derived here
    /// first would stand in for its own. For an MLflow server that does not convert them.
    pub convert_conventions: bool,
    /// Give a span without one MLflow's log level (`mlflow.spanLogLevel`), from its
    /// `mlflow.spanType` and status (see `convert::log_level`). Default: true.
    pub log_levels: bool,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_spans_per_request: 5000,
            max_values_per_request: 500_000,
            max_attribute_bytes: 64 * 1024,
            max_attribute_depth: 8,
            max_attributes_per_span: 1000,
            max_payload_bytes: 0,
            max_future_seconds: 86_400,
            default_redaction: true,
            redact_patterns: Vec::new(),
            redact_attributes: Vec::new(),
            redaction_text: "[REDACTED]".to_owned(),
            convert_conventions: false,
            log_levels: true,
        }
    }
}

impl IngestConfig {
    /// Reads the JSON form; an empty string is the default configuration.
    pub fn from_json(text: &str) -> Result<IngestConfig, Error> {
        if text.trim().is_empty() {
            return Ok(IngestConfig::default());
        }
        let c: IngestConfig =
            serde_json::from_str(text).map_err(|e| Error::InvalidConfig(e.to_string()))?;
        if c.max_spans_per_request == 0
            || c.max_values_per_request == 0
            || c.max_attribute_bytes < 64
            || c.max_attribute_depth == 0
            || c.max_attributes_per_span == 0
        {
            return Err(Error::InvalidConfig(
                "maxSpansPerRequest, maxValuesPerRequest, maxAttributeDepth and maxAttributesPerSpan must be at least 1, maxAttributeBytes at least 64"
                    .to_owned(),
            ));
        }
        Ok(c)
    }
}

/// An accepted request, ready to relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// OTLP protobuf bodies for MLflow, each under the payload cap unless one span alone is bigger.
    pub payloads: Vec<Vec<u8>>,
    /// Spans accepted.
    pub spans: usize,
    /// The distinct traces among them: their ids in hex, sorted (the service checks with MLflow
    /// that each new one is not another experiment's trace).
    pub trace_ids: Vec<String>,
    /// Values cut to the size limit.
    pub truncated: usize,
    /// Values replaced or attributes dropped by redaction, and MLflow's reserved trace tags
    /// dropped (see [`convert::drop_reserved_tags`]).
    pub redacted: usize,
    /// Spans given MLflow attributes from another convention.
    pub typed: usize,
}

/// The ingest core: configuration and compiled redaction rules.
#[derive(Debug, Clone)]
pub struct Ingest {
    config: IngestConfig,
    redactor: Redactor,
}

impl Ingest {
    /// Builds the core; fails on an invalid redaction pattern.
    pub fn new(config: IngestConfig) -> Result<Ingest, Error> {
        let mut patterns: Vec<String> = Vec::new();
        let mut dropped: Vec<String> = Vec::new();
        if config.default_redaction {
            patterns.extend(redact::DEFAULT_PATTERNS.iter().map(|s| (*s).to_owned()));
            dropped.extend(redact::DEFAULT_DROPPED.iter().map(|s| (*s).to_owned()));
        }
        patterns.extend(config.redact_patterns.iter().cloned());
        dropped.extend(config.redact_attributes.iter().cloned());
        let redactor = Redactor::new(&patterns, &dropped, &config.redaction_text)
            .map_err(Error::InvalidConfig)?;
        Ok(Ingest { config, redactor })
    }

    /// The configuration in use.
    pub fn config(&self) -> &IngestConfig {
        &self.config
    }

    /// Checks feedback on trace `trace_id` (`tr-<32 hex>`) and rebuilds it for MLflow, redacted
    /// (see [`assessment`]).
    pub fn assessment(&self, body: &[u8], trace_id: &str) -> Result<assessment::Assessed, Refusal> {
        assessment::check(body, trace_id, &self.redactor)
    }

    /// Decodes, validates, converts, redacts and re-encodes one request body. `now_ns` is the
    /// current time, for the future-timestamp check.
    pub fn process(&self, body: &[u8], format: Format, now_ns: u64) -> Result<Accepted, Refusal> {
        let max = self.config.max_values_per_request;
        if values::count(body, format, max) > max {
            return Err(Refusal::new(
                RefusalKind::TooManyValues,
                format!(
                    "more than {max} values (spans, attributes and their elements) in one request"
                ),
            ));
        }
        let mut req = validate::decode(body, format)?;
        let bounds = validate::Bounds {
            max_spans: self.config.max_spans_per_request,
            max_value_bytes: self.config.max_attribute_bytes,
            max_depth: self.config.max_attribute_depth,
            max_attributes: self.config.max_attributes_per_span,
            now_ns,
            max_future_ns: self.config.max_future_seconds.saturating_mul(1_000_000_000),
        };
        let counts = validate::validate(&mut req, &bounds)?;
        let mut typed = 0;
        let mut reserved = 0;
        for span in req
            .resource_spans
            .iter_mut()
            .flat_map(|r| &mut r.scope_spans)
            .flat_map(|s| &mut s.spans)
        {
            reserved += convert::drop_reserved_tags(span);
            if self.config.convert_conventions {
                typed += usize::from(convert::to_mlflow(span));
            }
            // After the conversion, which may have given the span its type.
            if self.config.log_levels {
                convert::log_level(span);
            }
        }
        let redacted = self.redactor.apply(&mut req) + reserved;
        Ok(Accepted {
            trace_ids: counts
                .trace_ids
                .iter()
                .map(|id| crate::id::encode_hex(id))
                .collect(),
            payloads: split(req, self.config.max_payload_bytes),
            spans: counts.spans,
            truncated: counts.truncated,
            redacted,
            typed,
        })
    }
}

/// Encodes `req` as protobuf bodies of at most `max` bytes each (0: one body), splitting by span
/// and repeating each group's resource and scope. A span bigger than `max` alone travels alone.
pub fn split(req: ExportTraceServiceRequest, max: usize) -> Vec<Vec<u8>> {
    if validate::span_count(&req) == 0 {
        return Vec::new();
    }
    if max == 0 || req.encoded_len() <= max {
        return vec![req.encode_to_vec()];
    }
    let mut out = Vec::new();
    let mut current = ExportTraceServiceRequest::default();
    let mut size = 0usize;
    for rs in req.resource_spans {
        let resource_len = rs.resource.as_ref().map_or(0, |r| r.encoded_len() + 6);
        for ss in rs.scope_spans {
            let scope_len = ss.scope.as_ref().map_or(0, |s| s.encoded_len() + 6);
            let group_len = resource_len + scope_len + 12;
            let mut open_group = false;
            for span in ss.spans {
                let span_len = span.encoded_len() + 6;
                let extra = if open_group {
                    span_len
                } else {
                    span_len + group_len
                };
                if size > 0 && size + extra > max {
                    out.push(std::mem::take(&mut current).encode_to_vec());
                    size = 0;
                    open_group = false;
                }
                if !open_group {
                    current.resource_spans.push(ResourceSpans {
                        resource: rs.resource.clone(),
                        scope_spans: vec![ScopeSpans {
                            scope: ss.scope.clone(),
                            spans: Vec::new(),
                            schema_url: ss.schema_url.clone(),
                        }],
                        schema_url: rs.schema_url.clone(),
                    });
                    size += group_len;
                    open_group = true;
                }
                let group = current
                    .resource_spans
                    .last_mut()
                    .expect("a group was just opened");
                group.scope_spans[0].spans.push(span);
                size += span_len;
            }
        }
    }
    if size > 0 {
        out.push(current.encode_to_vec());
    }
    out
}
