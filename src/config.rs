//! The tracer's configuration, and its JSON form as `init()` passes it.
//!
//! Every option has a default, written next to it. Unknown keys are refused, so a typo does not
//! silently fall back to a default.

use crate::attribute::{AttrValue, Limits};
use crate::batch::BatchConfig;
use crate::error::Error;
use crate::json::{self, Value};
use crate::otlp::Resource;
use crate::text::cat;

/// Everything the tracer is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Value, attribute and event limits. Default: [`Limits::default`].
    pub limits: Limits,
    /// Queue and request limits. Default: [`BatchConfig::default`].
    pub batch: BatchConfig,
    /// `service.name` and resource attributes. Default: service `edgetrace`, no attributes.
    pub resource: Resource,
    /// Fraction of new traces kept, 0.0 to 1.0, decided from the trace id. Default: 1.0.
    pub sample_ratio: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            batch: BatchConfig::default(),
            resource: Resource::default(),
            sample_ratio: 1.0,
        }
    }
}

/// One field of a configuration: an option (`serviceName`, `maxQueueSpans`…) or a resource
/// attribute, with its value as an attribute value (numbers as integers when whole). The JSON
/// form ([`Config::from_json`]) and the core's binary form (from `init()`, see
/// [`crate::commands::config_fields`]) are both read into fields, and checked here alike.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// An option and its value.
    Option(String, AttrValue),
    /// A resource attribute.
    Resource(String, AttrValue),
}

/// The options that are sizes (whole numbers, at least 1), each with the setting it sets: one
/// table rather than a string match per option (smaller in wasm).
type SizeSetting = fn(&mut Config) -> &mut usize;
const SIZES: [(&str, SizeSetting); 8] = [
    ("maxQueueSpans", |c| &mut c.batch.max_queue_spans),
    ("maxQueueBytes", |c| &mut c.batch.max_queue_bytes),
    ("maxBatchSpans", |c| &mut c.batch.max_batch_spans),
    ("maxExportBytes", |c| &mut c.batch.max_export_bytes),
    ("maxValueBytes", |c| &mut c.limits.max_value_bytes),
    ("maxAttributes", |c| &mut c.limits.max_attributes),
    ("maxEvents", |c| &mut c.limits.max_events),
    ("maxNameBytes", |c| &mut c.limits.max_name_bytes),
];

/// The options a core takes, listed by an unknown option's error. Not in the browser's size build,
/// whose options come only from the JS layer's own list of them (`CORE_KEYS` in
/// pkg-templates/edgetrace.js): its error names the option alone.
#[cfg(not(feature = "size"))]
const KEYS: &str = "serviceName, resourceAttributes, sampleRatio, maxQueueSpans, maxQueueBytes, \
                    maxBatchSpans, maxExportBytes, maxValueBytes, maxAttributes, maxEvents, maxNameBytes";

/// The error for an option no core takes.
#[cfg(not(feature = "size"))]
fn unknown_option(key: &str) -> String {
    cat(&["unknown field `", key, "`, expected one of ", KEYS])
}

/// The error for an option no core takes (the size build: the option alone).
#[cfg(feature = "size")]
fn unknown_option(key: &str) -> String {
    cat(&["unknown field `", key, "`"])
}

/// A JSON object's members as attributes ([`attr_from_json`]). A repeated key keeps its last
/// value, as a JSON object read into a map does.
pub fn attrs_from_json(members: &[(String, Value<'_>)]) -> Vec<(String, AttrValue)> {
    let mut out: Vec<(String, AttrValue)> = Vec::with_capacity(members.len());
    for (k, v) in members {
        let v = attr_from_json(v);
        match out.iter_mut().find(|(old, _)| old == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k.clone(), v)),
        }
    }
    out
}

/// A JSON value as an attribute: strings, booleans and numbers as themselves, the rest as JSON.
pub fn attr_from_json(v: &Value<'_>) -> AttrValue {
    match v {
        Value::Str(s) => AttrValue::Str(s.clone().into()),
        Value::Bool(b) => AttrValue::Bool(*b),
        Value::Num(_) => match v.as_i64() {
            Some(i) => AttrValue::Int(i.into()),
            None => AttrValue::Double(v.as_f64().unwrap_or(f64::NAN).into()),
        },
        other => AttrValue::Json(other.to_json().into()),
    }
}

impl Config {
    /// Reads the JSON form (camelCase keys, all optional; `null` is absent):
    /// `serviceName`, `resourceAttributes`, `sampleRatio`, `maxQueueSpans`, `maxQueueBytes`,
    /// `maxBatchSpans`, `maxExportBytes`, `maxValueBytes`, `maxAttributes`, `maxEvents`,
    /// `maxNameBytes`. (Model prices belong to the model API parsers:
    /// [`crate::llm::cost::PriceTable::with_json`].)
    ///
    /// ```
    /// let c = edgetrace::config::Config::from_json(r#"{"serviceName":"chat","maxExportBytes":30000}"#).unwrap();
    /// assert_eq!(c.resource.service_name, "chat");
    /// assert_eq!(c.batch.max_export_bytes, 30000);
    /// assert!(edgetrace::config::Config::from_json(r#"{"maxExportByte":1}"#).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<Config, Error> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let v = json::parse(text).map_err(Error::InvalidConfig)?;
        let Value::Obj(members) = v else {
            return Err(Error::InvalidConfig(
                "the configuration is not a JSON object".into(),
            ));
        };
        let mut fields = Vec::new();
        for (key, v) in members {
            match v {
                Value::Null => {}
                Value::Obj(m) if key == "resourceAttributes" => fields.extend(
                    attrs_from_json(&m)
                        .into_iter()
                        .map(|(k, v)| Field::Resource(k, v)),
                ),
                v => fields.push(Field::Option(key, attr_from_json(&v))),
            }
        }
        Config::from_fields(fields)
    }

    /// Reads fields ([`Field`]), checking each option: unknown keys, wrong types, sizes that
    /// are not whole numbers of at least 1, a `sampleRatio` outside 0 to 1 and value or name
    /// limits below 64 are refused, with a message naming the option. A resource attribute
    /// repeated keeps its last value.
    pub fn from_fields(fields: Vec<Field>) -> Result<Config, Error> {
        let bad = |m: String| Error::InvalidConfig(m);
        let mut c = Config::default();
        let mut service_name = None;
        let mut resource: Vec<(String, AttrValue)> = Vec::new();
        for field in fields {
            let (key, v) = match field {
                Field::Resource(k, v) => {
                    match resource.iter_mut().find(|(old, _)| *old == k) {
                        Some(slot) => slot.1 = v,
                        None => resource.push((k, v)),
                    }
                    continue;
                }
                Field::Option(k, v) => (k, v),
            };
            let size = |slot: &mut usize| -> Result<(), Error> {
                let n = match v {
                    AttrValue::Int(n) => n.get() as f64,
                    AttrValue::Double(d) => d.get(),
                    _ => return Err(bad(cat(&[&key, " must be a number"]))),
                };
                if n.fract() != 0.0 || !n.is_finite() {
                    return Err(bad(cat(&[&key, " must be a whole number"])));
                }
                if n < 1.0 {
                    return Err(bad(cat(&[&key, " must be at least 1"])));
                }
                // Saturates: any size beyond memory means no limit.
                *slot = n as usize;
                Ok(())
            };
            match key.as_str() {
                "serviceName" => match v {
                    AttrValue::Str(s) => service_name = Some(s),
                    AttrValue::Short(s) => service_name = Some(s.as_str().into()),
                    _ => return Err(bad("serviceName must be a string".into())),
                },
                "resourceAttributes" => {
                    return Err(bad("resourceAttributes must be an object".into()))
                }
                "sampleRatio" => {
                    let r = match v {
                        AttrValue::Int(n) => n.get() as f64,
                        AttrValue::Double(d) => d.get(),
                        _ => return Err(bad("sampleRatio must be a number".into())),
                    };
                    if !(0.0..=1.0).contains(&r) {
                        return Err(bad("sampleRatio must be between 0 and 1".into()));
                    }
                    c.sample_ratio = r;
                }
                other => match SIZES.iter().find(|(k, _)| *k == other) {
                    Some((_, setting)) => size(setting(&mut c))?,
                    None => return Err(bad(unknown_option(other))),
                },
            }
        }
        // `serviceName` wins; failing it, a string `service.name` among the resource attributes
        // (the encoder writes `service.name` from `service_name` only, so it would be lost).
        let from_attributes = resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .and_then(|(_, v)| v.as_str());
        if let Some(s) = service_name.as_deref().or(from_attributes) {
            c.resource.service_name = s.to_owned();
        }
        c.resource.attributes = resource;
        if c.limits.max_value_bytes < 64 {
            return Err(bad("maxValueBytes must be at least 64".into()));
        }
        if c.limits.max_name_bytes < 64 {
            return Err(bad("maxNameBytes must be at least 64".into()));
        }
        Ok(c)
    }
}
