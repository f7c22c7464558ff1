//! Trace-level information: tags, metadata, session and user.
//!
//! MLflow 3.17.2's OTLP route builds a trace's info from its spans: `mlflow.traceTag.<key>` root
//! attributes become tags, `session.id` and `user.id` become the `mlflow.trace.session` and
//! `mlflow.trace.user` metadata, and the request and response previews come from the root's
//! inputs and outputs. [`TraceInfo::root_attributes`] writes a trace's info in that form; the
//! tracer stamps it onto the root span when the root ends.

use crate::attribute::AttrValue;
use crate::text::cat;

/// Attribute prefix MLflow turns into trace tags.
pub const TAG_PREFIX: &str = "mlflow.traceTag.";
/// The root attribute of the tag that names a trace (`mlflow.traceName`).
pub const TRACE_NAME: &str = "mlflow.traceTag.mlflow.traceName";
/// Attribute prefix for other trace metadata (kept on the root span; MLflow 3.17.2 does not
/// promote it through OTLP).
pub const METADATA_PREFIX: &str = "mlflow.traceMetadata.";

/// A map of strings kept sorted by key, as a `BTreeMap<String, String>` would be, in one vector:
/// a trace has a handful of tags, and std's B-tree costs ~4 KB of wasm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrMap(Vec<(String, String)>);

impl StrMap {
    /// Sets `key` to `value`, replacing an old value.
    pub fn insert(&mut self, key: String, value: String) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(&self.0[i].1)
    }

    /// The entries, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl Extend<(String, String)> for StrMap {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, entries: I) {
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for StrMap {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// What is known about a trace beyond its spans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceInfo {
    /// Tags (`mlflow.traceTag.*`).
    pub tags: StrMap,
    /// Metadata.
    pub metadata: StrMap,
    /// Session id (`session.id`).
    pub session_id: Option<String>,
    /// User id (`user.id`).
    pub user_id: Option<String>,
    /// The client's own id for this request.
    pub client_request_id: Option<String>,
    /// A preview of the request, overriding the one MLflow derives from the root's inputs.
    pub request_preview: Option<String>,
    /// A preview of the response, overriding the one MLflow derives from the root's outputs.
    pub response_preview: Option<String>,
}

/// A change to a trace's info, as `updateCurrentTrace` sends it (JSON, camelCase keys): the
/// same fields, merged into the info by [`TraceInfo::apply`] (maps extended, given fields replace).
pub type TraceUpdate = TraceInfo;

impl TraceUpdate {
    /// Reads the JSON form: an object with `tags` and `metadata` (objects of strings) and
    /// `sessionId`, `userId`, `clientRequestId`, `requestPreview`, `responsePreview` (strings),
    /// all optional (`null` is absent). Other keys are ignored.
    ///
    /// ```
    /// let u = edgetrace::trace::TraceUpdate::from_json(r#"{"tags":{"a":"b"},"userId":"u1"}"#).unwrap();
    /// assert_eq!(u.tags.get("a"), Some("b"));
    /// assert_eq!(u.user_id.as_deref(), Some("u1"));
    /// assert!(edgetrace::trace::TraceUpdate::from_json(r#"{"tags":{"a":1}}"#).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<TraceUpdate, String> {
        use crate::json::Value;
        let Value::Obj(members) = crate::json::parse(text)? else {
            return Err("a trace update is a JSON object".into());
        };
        let mut u = TraceUpdate::default();
        for (key, v) in members {
            let text = |v: Value<'_>| match v {
                Value::Null => Ok(None),
                Value::Str(s) => Ok(Some(s)),
                _ => Err(cat(&[&key, " must be a string"])),
            };
            let map = |v: Value<'_>, into: &mut StrMap| match v {
                Value::Null => Ok(()),
                Value::Obj(m) => m.into_iter().try_for_each(|(k, v)| match v {
                    Value::Str(s) => {
                        into.insert(k, s);
                        Ok(())
                    }
                    _ => Err(cat(&[&key, ".", &k, " must be a string"])),
                }),
                _ => Err(cat(&[&key, " must be an object of strings"])),
            };
            match key.as_str() {
                "tags" => map(v, &mut u.tags)?,
                "metadata" => map(v, &mut u.metadata)?,
                "sessionId" => u.session_id = text(v)?,
                "userId" => u.user_id = text(v)?,
                "clientRequestId" => u.client_request_id = text(v)?,
                "requestPreview" => u.request_preview = text(v)?,
                "responsePreview" => u.response_preview = text(v)?,
                _ => {}
            }
        }
        Ok(u)
    }
}

impl TraceInfo {
    /// Merges an update: maps are extended, given fields replace old ones.
    pub fn apply(&mut self, update: TraceUpdate) {
        self.tags.extend(update.tags);
        self.metadata.extend(update.metadata);
        let keep = |old: &mut Option<String>, new: Option<String>| {
            if new.is_some() {
                *old = new;
            }
        };
        keep(&mut self.session_id, update.session_id);
        keep(&mut self.user_id, update.user_id);
        keep(&mut self.client_request_id, update.client_request_id);
        keep(&mut self.request_preview, update.request_preview);
        keep(&mut self.response_preview, update.response_preview);
    }

    /// The root-span attributes that carry this info to MLflow.
    pub fn root_attributes(&self) -> Vec<(String, AttrValue)> {
        let mut out = Vec::new();
        for (k, v) in self.tags.iter() {
            out.push((cat(&[TAG_PREFIX, k]), AttrValue::Str(v.into())));
        }
        for (k, v) in self.metadata.iter() {
            out.push((cat(&[METADATA_PREFIX, k]), AttrValue::Str(v.into())));
        }
        let mut put = |key: &str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((key.to_owned(), AttrValue::Str(v.clone().into())));
            }
        };
        put("session.id", &self.session_id);
        put("user.id", &self.user_id);
        put("mlflow.clientRequestId", &self.client_request_id);
        put("mlflow.requestPreview", &self.request_preview);
        put("mlflow.responsePreview", &self.response_preview);
        out
    }
}
