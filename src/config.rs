//! The tracer's configuration, and its JSON form as `init()` passes it.
//!
//! Every option has a default, written next to it. Unknown keys are refused, so a typo does not
//! silently fall back to a default.

use crate::attribute::{AttrValue, Limits};
use crate::batch::BatchConfig;
use crate::error::Error;
use crate::json::{self, Value};
use crate::otlp::Resource;

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

/// The JSON form, read field by field.
#[derive(Default)]
struct ConfigJson<'a> {
    service_name: Option<String>,
    resource_attributes: Vec<(String, Value<'a>)>,
    sample_ratio: Option<(f64, &'a str)>,
    max_queue_spans: Option<usize>,
    max_queue_bytes: Option<usize>,
    max_batch_spans: Option<usize>,
    max_export_bytes: Option<usize>,
    max_value_bytes: Option<usize>,
    max_attributes: Option<usize>,
    max_events: Option<usize>,
    max_name_bytes: Option<usize>,
}

const KEYS: &str = "serviceName, resourceAttributes, sampleRatio, maxQueueSpans, maxQueueBytes, \
                    maxBatchSpans, maxExportBytes, maxValueBytes, maxAttributes, maxEvents, maxNameBytes";

impl<'a> ConfigJson<'a> {
    fn read(v: Value<'a>) -> Result<ConfigJson<'a>, String> {
        let Value::Obj(members) = v else {
            return Err("the configuration is not a JSON object".into());
        };
        let mut j = ConfigJson::default();
        for (key, v) in members {
            if v == Value::Null {
                continue;
            }
            let size = |v: &Value<'_>| -> Result<Option<usize>, String> {
                match v {
                    Value::Num(n) => n
                        .parse::<usize>()
                        .map(Some)
                        .map_err(|_| format!("{key} must be a whole number, not {n}")),
                    _ => Err(format!("{key} must be a number")),
                }
            };
            match key.as_str() {
                "serviceName" => match v {
                    Value::Str(s) => j.service_name = Some(s),
                    _ => return Err("serviceName must be a string".into()),
                },
                "resourceAttributes" => match v {
                    Value::Obj(m) => j.resource_attributes = m,
                    _ => return Err("resourceAttributes must be an object".into()),
                },
                "sampleRatio" => match v {
                    Value::Num(n) => j.sample_ratio = Some((v.as_f64().unwrap_or(f64::NAN), n)),
                    _ => return Err("sampleRatio must be a number".into()),
                },
                "maxQueueSpans" => j.max_queue_spans = size(&v)?,
                "maxQueueBytes" => j.max_queue_bytes = size(&v)?,
                "maxBatchSpans" => j.max_batch_spans = size(&v)?,
                "maxExportBytes" => j.max_export_bytes = size(&v)?,
                "maxValueBytes" => j.max_value_bytes = size(&v)?,
                "maxAttributes" => j.max_attributes = size(&v)?,
                "maxEvents" => j.max_events = size(&v)?,
                "maxNameBytes" => j.max_name_bytes = size(&v)?,
                other => return Err(format!("unknown field `{other}`, expected one of {KEYS}")),
            }
        }
        Ok(j)
    }
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
        Value::Str(s) => AttrValue::Str(s.clone()),
        Value::Bool(b) => AttrValue::Bool(*b),
        Value::Num(_) => match v.as_i64() {
            Some(i) => AttrValue::Int(i),
            None => AttrValue::Double(v.as_f64().unwrap_or(f64::NAN)),
        },
        other => AttrValue::Json(other.to_json()),
    }
}

impl Config {
    /// Reads the JSON form (camelCase keys, all optional):
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
        let j = if text.trim().is_empty() {
            ConfigJson::default()
        } else {
            json::parse(text)
                .and_then(ConfigJson::read)
                .map_err(Error::InvalidConfig)?
        };
        let mut c = Config::default();
        // `serviceName` wins; failing it, a string `service.name` among the resource attributes
        // (the encoder writes `service.name` from `service_name` only, so it would be lost).
        let from_attributes = j
            .resource_attributes
            .iter()
            .rev()
            .find(|(k, _)| k == "service.name")
            .and_then(|(_, v)| v.as_str());
        if let Some(s) = j.service_name.as_deref().or(from_attributes) {
            c.resource.service_name = s.to_owned();
        }
        c.resource.attributes = attrs_from_json(&j.resource_attributes);
        if let Some((r, text)) = j.sample_ratio {
            if !(0.0..=1.0).contains(&r) {
                return Err(Error::InvalidConfig(format!(
                    "sampleRatio {text} is not between 0 and 1"
                )));
            }
            c.sample_ratio = r;
        }
        let positive = |name: &str, v: Option<usize>, slot: &mut usize| -> Result<(), Error> {
            match v {
                Some(0) => Err(Error::InvalidConfig(format!("{name} must be at least 1"))),
                Some(n) => {
                    *slot = n;
                    Ok(())
                }
                None => Ok(()),
            }
        };
        positive(
            "maxQueueSpans",
            j.max_queue_spans,
            &mut c.batch.max_queue_spans,
        )?;
        positive(
            "maxQueueBytes",
            j.max_queue_bytes,
            &mut c.batch.max_queue_bytes,
        )?;
        positive(
            "maxBatchSpans",
            j.max_batch_spans,
            &mut c.batch.max_batch_spans,
        )?;
        positive(
            "maxExportBytes",
            j.max_export_bytes,
            &mut c.batch.max_export_bytes,
        )?;
        positive(
            "maxValueBytes",
            j.max_value_bytes,
            &mut c.limits.max_value_bytes,
        )?;
        positive(
            "maxAttributes",
            j.max_attributes,
            &mut c.limits.max_attributes,
        )?;
        positive("maxEvents", j.max_events, &mut c.limits.max_events)?;
        positive(
            "maxNameBytes",
            j.max_name_bytes,
            &mut c.limits.max_name_bytes,
        )?;
        if c.limits.max_value_bytes < 64 || c.limits.max_name_bytes < 64 {
            return Err(Error::InvalidConfig(
                "maxValueBytes and maxNameBytes must be at least 64".into(),
            ));
        }
        Ok(c)
    }
}
