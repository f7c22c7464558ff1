//! Server-side redaction: secret-looking text replaced, secret attributes dropped, before relay.
//!
//! Rules are regular expressions (the `regex-lite` syntax: no look-around, linear time) matched
//! against every string value (attribute values, nested values, event names and attributes, span
//! names, status messages), and attribute keys dropped outright (exact, or a prefix ending in
//! `*`; a dropped `http.*.header.<name>` also drops `<name>` inside a map value, as a whole
//! header map recorded as one attribute holds it, whether as an OTLP map or as JSON text). A
//! pattern with a group named `secret` replaces only that group's text, so the context that
//! found it stays readable (`https://user:[REDACTED]@host`). JSON text stays valid JSON: when a
//! replacement would break it, the whole value becomes the replacement string.

use aho_corasick::AhoCorasick;
use regex_lite::{NoExpand, Regex};

use crate::otlp::wire::{AnyValue, ExportTraceServiceRequest, KeyValue, Value};

/// Patterns applied unless turned off: API keys of the common model providers and clouds, bearer
/// tokens, JSON web tokens and passwords in URLs.
pub const DEFAULT_PATTERNS: &[&str] = &[
    // OpenAI (project and service-account keys), Anthropic, OpenRouter, DeepSeek.
    r"sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}",
    // AWS access key ids, long-lived and temporary.
    r"AKIA[0-9A-Z]{16}",
    r"ASIA[0-9A-Z]{16}",
    // An AWS secret access key has no prefix of its own: found by the name it goes by
    // (`aws_secret_access_key`, `AWS_SECRET_ACCESS_KEY`, the JS SDK's `secretAccessKey`).
    r"(?i)secret_?access_?key\W{0,6}(?P<secret>[A-Za-z0-9/+]{40})",
    r"AIza[0-9A-Za-z_-]{35}",
    // Hugging Face, Groq, xAI.
    r"hf_[A-Za-z0-9]{30,}",
    r"gsk_[A-Za-z0-9]{40,}",
    r"xai-[A-Za-z0-9]{40,}",
    // Slack, and Stripe's live secret and restricted keys.
    r"xox[abposr]-[A-Za-z0-9-]{10,}",
    r"sk_live_[A-Za-z0-9]{20,}",
    r"rk_live_[A-Za-z0-9]{20,}",
    // A JSON web token (header and payload are base64url JSON objects: `{"` is `eyJ`).
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    // The password of a URL's userinfo (`https://user:password@host`).
    r#"://[^\s/?#@:"'\\]+:(?P<secret>[^\s/?#@"'\\]+)@"#,
    r"gh[pousr]_[A-Za-z0-9]{36,}",
    // GitHub's fine-grained personal access tokens.
    r"github_pat_[A-Za-z0-9_]{22,}",
    r"(?i)bearer\s+[A-Za-z0-9._~+/-]{16,}=*",
    // HTTP Basic credentials (base64 of user:password).
    r"(?i)basic\s+[A-Za-z0-9+/]{16,}=*",
];

/// Attribute keys dropped unless turned off: credential-carrying HTTP headers.
pub const DEFAULT_DROPPED: &[&str] = &[
    "http.request.header.authorization",
    "http.request.header.cookie",
    "http.request.header.x-api-key",
    "http.request.header.api-key",
    "http.request.header.proxy-authorization",
    "http.response.header.set-cookie",
];

/// The literal every match of a pattern starts with, when it has one of 2+ bytes and no top-level
/// `|`: found in a string before the pattern's regex runs on it (regex-lite has no literal
/// optimisations of its own, and most strings hold no secret at all). Found ignoring ASCII case
/// for every pattern, as a prefilter: the regex decides.
fn literal_of(pattern: &str) -> Option<String> {
    let rest = pattern.strip_prefix("(?i)").unwrap_or(pattern);
    let mut depth = 0i32;
    let mut escaped = false;
    for c in rest.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '(') => depth += 1,
            (false, ')') => depth -= 1,
            (false, '|') if depth == 0 => return None,
            _ => {}
        }
    }
    let mut text: String = rest
        .chars()
        .take_while(|c| !"\\.+*?()[]{}^$|".contains(*c))
        .collect();
    // A quantifier right after the literal makes its last character optional.
    if matches!(rest[text.len()..].chars().next(), Some('*' | '?' | '{')) {
        text.pop();
    }
    (text.len() >= 2).then_some(text)
}

#[derive(Debug, Clone)]
struct Pattern {
    re: Regex,
    /// Index of its literal in the redactor's automaton; none: it runs on every string.
    literal: Option<usize>,
    /// Whether it has a group named `secret`, the only text it replaces.
    grouped: bool,
}

/// Which of the automaton's literals a string holds (allocated only when it holds any).
struct Found(Option<Vec<bool>>);

impl Found {
    fn has(&self, i: usize) -> bool {
        self.0.as_ref().is_some_and(|f| f[i])
    }
}

/// Compiled redaction rules.
#[derive(Debug, Clone)]
pub struct Redactor {
    patterns: Vec<Pattern>,
    /// Dropped attribute keys, lowercase (exact, or a prefix ending in `*`).
    dropped: Vec<String>,
    /// The header names dropped `http.*.header.<name>` keys name, lowercase; each one's quoted
    /// form (`"cookie"`) is literal `header_literals + i`, to find in a header map recorded as
    /// JSON text before parsing it.
    headers: Vec<String>,
    header_literals: usize,
    /// Every pattern's literal and every quoted header name, found in one pass over a string.
    literals: Option<AhoCorasick>,
    replacement: String,
}

impl Redactor {
    /// Compiles `patterns` and `dropped` keys; an invalid pattern is an error naming it.
    pub fn new(
        patterns: &[String],
        dropped: &[String],
        replacement: &str,
    ) -> Result<Redactor, String> {
        let mut literals = Vec::new();
        let patterns = patterns
            .iter()
            .map(|p| {
                let re = Regex::new(p).map_err(|e| format!("redaction pattern {p:?}: {e}"))?;
                let grouped = re.capture_names().any(|n| n == Some("secret"));
                let literal = literal_of(p).map(|l| {
                    literals.push(l);
                    literals.len() - 1
                });
                Ok(Pattern {
                    re,
                    literal,
                    grouped,
                })
            })
            .collect::<Result<_, String>>()?;
        let headers: Vec<String> = dropped
            .iter()
            .filter_map(|rule| rule.rsplit_once(".header.").map(|(_, h)| h))
            .filter(|h| !h.ends_with('*'))
            .map(str::to_ascii_lowercase)
            .collect();
        let header_literals = literals.len();
        literals.extend(headers.iter().map(|h| format!("\"{h}\"")));
        let automaton = (!literals.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&literals)
                    .map_err(|e| format!("redaction patterns' literals: {e}"))
            })
            .transpose()?;
        Ok(Redactor {
            patterns,
            dropped: dropped.iter().map(|d| d.to_ascii_lowercase()).collect(),
            headers,
            header_literals,
            literals: automaton,
            replacement: replacement.to_owned(),
        })
    }

    /// Redacts the whole request in place; returns how many values were changed or dropped.
    pub fn apply(&self, req: &mut ExportTraceServiceRequest) -> usize {
        let mut n = 0;
        for rs in &mut req.resource_spans {
            if let Some(r) = &mut rs.resource {
                n += self.attrs(&mut r.attributes, false);
            }
            for ss in &mut rs.scope_spans {
                for span in &mut ss.spans {
                    n += usize::from(self.text(&mut span.name));
                    n += self.attrs(&mut span.attributes, false);
                    for ev in &mut span.events {
                        n += usize::from(self.text(&mut ev.name));
                        n += self.attrs(&mut ev.attributes, false);
                    }
                    for link in &mut span.links {
                        n += self.attrs(&mut link.attributes, false);
                    }
                    if let Some(status) = &mut span.status {
                        n += usize::from(self.text(&mut status.message));
                    }
                }
            }
        }
        n
    }

    fn found(&self, s: &str) -> Found {
        let Some(ac) = &self.literals else {
            return Found(None);
        };
        let mut found: Option<Vec<bool>> = None;
        for m in ac.find_overlapping_iter(s) {
            found.get_or_insert_with(|| vec![false; ac.patterns_len()])[m.pattern().as_usize()] =
                true;
        }
        Found(found)
    }

    fn is_dropped(&self, key: &str) -> bool {
        self.dropped
            .iter()
            .any(|rule| match rule.strip_suffix('*') {
                Some(prefix) => key
                    .as_bytes()
                    .get(..prefix.len())
                    .is_some_and(|k| k.eq_ignore_ascii_case(prefix.as_bytes())),
                None => key.eq_ignore_ascii_case(rule),
            })
    }

    /// Whether `key`, a key inside a map value (`http.request.headers` as `{authorization: …}`),
    /// is a header that a dropped `http.*.header.<name>` key names.
    fn is_dropped_header(&self, key: &str) -> bool {
        self.headers
            .iter()
            .any(|name| name.eq_ignore_ascii_case(key))
    }

    /// Redacts attributes, or the entries of a map value (`nested`).
    fn attrs(&self, attrs: &mut Vec<KeyValue>, nested: bool) -> usize {
        let before = attrs.len();
        attrs.retain(|kv| !(self.is_dropped(&kv.key) || nested && self.is_dropped_header(&kv.key)));
        let mut n = before - attrs.len();
        for kv in attrs {
            if let Some(v) = &mut kv.value {
                n += self.value(v);
            }
        }
        n
    }

    fn value(&self, v: &mut AnyValue) -> usize {
        match &mut v.value {
            Some(Value::StringValue(s)) => {
                let mut found = self.found(s);
                let dropped = self.json_headers(s, &found);
                if dropped > 0 {
                    found = self.found(s);
                }
                dropped + usize::from(self.replace(s, &found))
            }
            Some(Value::ArrayValue(a)) => a.values.iter_mut().map(|i| self.value(i)).sum(),
            Some(Value::KvlistValue(l)) => self.attrs(&mut l.values, true),
            _ => 0,
        }
    }

    /// A map recorded as JSON text (edgetrace's SDK, and MLflow's convention, record an object
    /// attribute so): the entries of dropped headers removed from its objects, at any depth, as
    /// from a map value. Returns how many were removed.
    fn json_headers(&self, s: &mut String, found: &Found) -> usize {
        if !s.starts_with('{')
            || !(0..self.headers.len()).any(|i| found.has(self.header_literals + i))
        {
            return 0;
        }
        let Ok(mut v) = serde_json::from_str::<serde_json::Value>(s) else {
            return 0;
        };
        let n = self.strip_headers(&mut v);
        if n > 0 {
            *s = v.to_string();
        }
        n
    }

    fn strip_headers(&self, v: &mut serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(map) => {
                let before = map.len();
                map.retain(|k, _| !self.is_dropped_header(k));
                let n = before - map.len();
                n + map
                    .values_mut()
                    .map(|v| self.strip_headers(v))
                    .sum::<usize>()
            }
            serde_json::Value::Array(a) => a.iter_mut().map(|v| self.strip_headers(v)).sum(),
            _ => 0,
        }
    }

    /// Replaces every match in `s`; true when anything matched.
    fn text(&self, s: &mut String) -> bool {
        self.redact_text(s)
    }

    /// Redacts one string in place by the patterns (not the dropped keys); true when it changed.
    pub fn redact_text(&self, s: &mut String) -> bool {
        let found = self.found(s);
        self.replace(s, &found)
    }

    /// Replaces every match in `s`, which holds the `found` literals; true when anything matched.
    fn replace(&self, s: &mut String, found: &Found) -> bool {
        let mut out: Option<String> = None;
        let mut was_json = false;
        for p in &self.patterns {
            if p.literal.is_some_and(|i| !found.has(i)) {
                continue;
            }
            let current = out.as_deref().unwrap_or(s);
            if !p.re.is_match(current) {
                continue;
            }
            if out.is_none() {
                was_json = is_json(s);
            }
            let next = if p.grouped {
                self.replace_secret_groups(&p.re, current)
            } else {
                p.re.replace_all(current, NoExpand(&self.replacement))
                    .into_owned()
            };
            out = Some(next);
        }
        let Some(mut out) = out else {
            return false;
        };
        if was_json && !is_json(&out) {
            out = serde_json::Value::String(self.replacement.clone()).to_string();
        }
        *s = out;
        true
    }

    /// `s` with the text of each match's `secret` group replaced, the rest of the match kept.
    fn replace_secret_groups(&self, re: &Regex, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for caps in re.captures_iter(s) {
            if let Some(m) = caps.name("secret") {
                out.push_str(&s[last..m.start()]);
                out.push_str(&self.replacement);
                last = m.end();
            }
        }
        out.push_str(&s[last..]);
        out
    }
}

/// Whether `s` is a JSON object or array (the JSON text MLflow attributes hold).
fn is_json(s: &str) -> bool {
    matches!(s.trim_start().as_bytes().first(), Some(b'{' | b'['))
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::{literal_of, Redactor};

    #[test]
    fn a_secret_group_is_all_that_is_replaced_and_the_replacement_is_taken_literally() {
        let r = Redactor::new(
            &[r"key=(?P<secret>\w+)".into(), r"pin \d{4}".into()],
            &[],
            "$1-gone",
        )
        .unwrap();
        let mut s = "key=abc, key=def, pin 1234".to_owned();
        assert!(r.text(&mut s));
        assert_eq!(s, "key=$1-gone, key=$1-gone, $1-gone");
        let mut plain = "nothing here".to_owned();
        assert!(!r.text(&mut plain));
    }

    #[test]
    fn literals_are_what_every_match_starts_with() {
        let n = |p: &str| literal_of(p);
        assert_eq!(n(super::DEFAULT_PATTERNS[0]).as_deref(), Some("sk-"));
        assert_eq!(n(r"AKIA[0-9A-Z]{16}").as_deref(), Some("AKIA"));
        assert_eq!(n(r"(?i)bearer\s+x").as_deref(), Some("bearer"));
        assert_eq!(n(r"(?i)secret_?access").as_deref(), Some("secret"));
        assert_eq!(n(r"gh[pousr]_").as_deref(), Some("gh"));
        assert_eq!(n(r"abc?d").as_deref(), Some("ab"));
        assert_eq!(n(r"ab*"), None);
        assert_eq!(n(r"foo|bar"), None);
        assert_eq!(n(r"\b\d{3}"), None);
    }

    #[test]
    fn literals_are_found_in_any_case_and_patterns_without_one_always_run() {
        let r = Redactor::new(
            &[r"(?i)bearer \w+".into(), r"\d{3}-\d{4}".into()],
            &["http.request.header.cookie".into()],
            "X",
        )
        .unwrap();
        let mut s = "Authorization: BEARER abc, call 555-1234".to_owned();
        assert!(r.text(&mut s));
        assert_eq!(s, "Authorization: X, call X");
        assert!(r.is_dropped("HTTP.Request.Header.Cookie"));
        assert!(r.found("{\"COOKIE\": 1}").has(r.header_literals));
    }
}
