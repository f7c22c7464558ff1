//! The ingest service's JS boundary (wasm32 with the `ingest` feature only).
//!
//! [`IngestCore::process`] returns the protobuf payloads as an array of `Uint8Array`s, or throws
//! a plain object `{status, error, message}` that the service sends back as is. The summary of
//! the last accepted request is read with [`IngestCore::summary`].

use wasm_bindgen::prelude::*;

use crate::ingest::{Ingest, IngestConfig, Refusal};
use crate::otlp::Format;

/// The ingest core, as the service's JS sees it.
#[wasm_bindgen]
pub struct IngestCore {
    inner: Ingest,
    summary: String,
}

#[wasm_bindgen]
impl IngestCore {
    /// Builds the core from JSON configuration (see `IngestConfig`); throws a clear error when it
    /// is invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str) -> Result<IngestCore, JsError> {
        let config =
            IngestConfig::from_json(config_json).map_err(|e| JsError::new(&e.to_string()))?;
        let inner = Ingest::new(config).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(IngestCore {
            inner,
            summary: String::new(),
        })
    }

    /// Processes one body (`json`: OTLP/JSON, else protobuf) at `now_ms` (JS epoch ms). Returns
    /// the payloads to relay; throws `{status, error, message}` for a refused body.
    pub fn process(
        &mut self,
        body: &[u8],
        json: bool,
        now_ms: f64,
    ) -> Result<js_sys::Array, JsValue> {
        let format = if json { Format::Json } else { Format::Protobuf };
        let now_ns = (now_ms.max(0.0) * 1e6) as u64;
        match self.inner.process(body, format, now_ns) {
            Ok(accepted) => {
                let ids: Vec<String> = accepted
                    .trace_ids
                    .iter()
                    .map(|id| format!("\"{id}\""))
                    .collect();
                self.summary = format!(
                    r#"{{"spans":{},"traces":{},"truncated":{},"redacted":{},"typed":{},"traceIds":[{}]}}"#,
                    accepted.spans,
                    accepted.trace_ids.len(),
                    accepted.truncated,
                    accepted.redacted,
                    accepted.typed,
                    ids.join(",")
                );
                let out = js_sys::Array::new();
                for p in &accepted.payloads {
                    out.push(&js_sys::Uint8Array::from(p.as_slice()));
                }
                Ok(out)
            }
            Err(refusal) => Err(refusal_object(&refusal)?),
        }
    }

    /// Checks feedback on trace `trace_id` (the route's `tr-<32 hex>`) and returns it rebuilt as
    /// `{"assessment": {...}}` for MLflow, redacted; throws `{status, error, message}` when it is
    /// refused. `redacted` in [`IngestCore::summary`] counts the strings redaction changed.
    pub fn assessment(&mut self, body: &[u8], trace_id: &str) -> Result<String, JsValue> {
        match self.inner.assessment(body, trace_id) {
            Ok(a) => {
                self.summary = format!(r#"{{"redacted":{}}}"#, a.redacted);
                Ok(a.json)
            }
            Err(refusal) => Err(refusal_object(&refusal)?),
        }
    }

    /// JSON counts of the last accepted request: spans, traces, truncated, redacted, typed, and
    /// its trace ids (`traceIds`, hex).
    pub fn summary(&self) -> String {
        self.summary.clone()
    }
}

/// `{status, error, message}`, as the service answers a refusal.
fn refusal_object(refusal: &Refusal) -> Result<JsValue, JsValue> {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    set("status", JsValue::from(refusal.kind.status()))?;
    set("error", JsValue::from_str(refusal.kind.code()))?;
    set("message", JsValue::from_str(&refusal.message))?;
    Ok(o.into())
}
