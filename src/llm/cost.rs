//! Cost of a model call from a price table, as MLflow records it in `mlflow.llm.cost` (USD).
//!
//! Prices are USD per million tokens, matched by the longest model-name prefix. The shipped table
//! ([`PriceTable::shipped`]) holds list prices of common models; users extend or override it with
//! `init({ prices: { "my-model": { input: 1, output: 2, cachedInput: 0.5 } } })`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::usage::Usage;

/// Prices of one model, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    /// Input (prompt) tokens.
    pub input: f64,
    /// Output (completion) tokens.
    pub output: f64,
    /// Cached input tokens; defaults to the input price.
    #[serde(default)]
    pub cached_input: Option<f64>,
}

/// Model-name prefixes and their prices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceTable {
    /// Prefix, price, and whether the app set it (`init({ prices })`) rather than it shipping.
    entries: Vec<(String, Price, bool)>,
}

const fn p(input: f64, output: f64, cached: f64) -> Price {
    Price {
        input,
        output,
        cached_input: Some(cached),
    }
}

/// List prices (USD per 1M tokens) shipped with edgetrace.
const SHIPPED: &[(&str, Price)] = &[
    ("gpt-4o-mini", p(0.15, 0.60, 0.075)),
    ("gpt-4o", p(2.50, 10.00, 1.25)),
    ("gpt-4.1-nano", p(0.10, 0.40, 0.025)),
    ("gpt-4.1-mini", p(0.40, 1.60, 0.10)),
    ("gpt-4.1", p(2.00, 8.00, 0.50)),
    ("gpt-5-nano", p(0.05, 0.40, 0.005)),
    ("gpt-5-mini", p(0.25, 2.00, 0.025)),
    ("gpt-5", p(1.25, 10.00, 0.125)),
    ("o4-mini", p(1.10, 4.40, 0.275)),
    ("o3-mini", p(1.10, 4.40, 0.55)),
    ("o3", p(2.00, 8.00, 0.50)),
    ("gpt-3.5-turbo", p(0.50, 1.50, 0.50)),
    ("text-embedding-3-small", p(0.02, 0.0, 0.02)),
    ("text-embedding-3-large", p(0.13, 0.0, 0.13)),
    ("text-embedding-ada-002", p(0.10, 0.0, 0.10)),
    // Opus 4 and 4.1; from 4.5 on, Opus costs a third as much (as in MLflow's model catalog).
    ("claude-opus-4", p(15.00, 75.00, 1.50)),
    ("claude-opus-4-5", p(5.00, 25.00, 0.50)),
    ("claude-opus-4-6", p(5.00, 25.00, 0.50)),
    ("claude-opus-4-7", p(5.00, 25.00, 0.50)),
    ("claude-opus-4-8", p(5.00, 25.00, 0.50)),
    ("claude-opus-5", p(5.00, 25.00, 0.50)),
    ("claude-opus-5-5", p(4.00, 20.00, 0.20)),
    ("claude-sonnet-4", p(3.00, 15.00, 0.30)),
    ("claude-3-7-sonnet", p(3.00, 15.00, 0.30)),
    ("claude-3-5-sonnet", p(3.00, 15.00, 0.30)),
    ("claude-3-5-haiku", p(0.80, 4.00, 0.08)),
    ("claude-haiku-4", p(1.00, 5.00, 0.10)),
    ("claude-3-haiku", p(0.25, 1.25, 0.03)),
    // Gemini's cached input as MLflow's model catalog has it (its 2.5 models' caching prices
    // were cut in 2025).
    ("gemini-3-pro", p(2.00, 12.00, 0.20)),
    ("gemini-3-flash", p(0.50, 3.00, 0.05)),
    ("gemini-2.5-pro", p(1.25, 10.00, 0.125)),
    ("gemini-2.5-flash", p(0.30, 2.50, 0.03)),
    ("gemini-2.5-flash-lite", p(0.10, 0.40, 0.01)),
    ("gemini-2.0-flash", p(0.10, 0.40, 0.025)),
    ("gemini-1.5-flash", p(0.075, 0.30, 0.01875)),
    ("gemini-1.5-pro", p(1.25, 5.00, 0.3125)),
];

/// The first labels of a Bedrock model id: a cross-region inference profile's geography, then
/// the model's maker (`us.anthropic.claude-sonnet-4-20250514-v1:0`).
const BEDROCK_PREFIXES: [&str; 20] = [
    "us",
    "eu",
    "apac",
    "global",
    "us-gov",
    "jp",
    "au",
    "ca",
    "anthropic",
    "meta",
    "amazon",
    "mistral",
    "cohere",
    "ai21",
    "deepseek",
    "openai",
    "qwen",
    "writer",
    "google",
    "moonshot",
];

/// A Bedrock model id without its geography and maker, which is the maker's own name for the
/// model and so prices as it (`claude-sonnet-4-20250514-v1:0`); any other name as it is.
///
/// ```
/// use edgetrace::llm::cost::PriceTable;
/// let t = PriceTable::shipped();
/// let haiku = t.lookup("claude-3-5-haiku-20241022").unwrap();
/// assert_eq!(t.lookup("anthropic.claude-3-5-haiku-20241022-v1:0"), Some(haiku));
/// assert_eq!(t.lookup("us.anthropic.claude-3-5-haiku-20241022-v1:0"), Some(haiku));
/// // Vertex AI's names (`@` before the date) price as the model they name.
/// assert_eq!(t.lookup("claude-3-5-haiku@20241022"), Some(haiku));
/// assert!(t.lookup("meta.llama3-8b-instruct-v1:0").is_none());
/// ```
fn without_bedrock_prefixes(m: &str) -> &str {
    let mut rest = m;
    for _ in 0..2 {
        match rest.split_once('.') {
            Some((head, tail)) if BEDROCK_PREFIXES.contains(&head) => rest = tail,
            _ => break,
        }
    }
    rest
}

impl PriceTable {
    /// The shipped table.
    pub fn shipped() -> PriceTable {
        PriceTable {
            entries: SHIPPED
                .iter()
                .map(|(m, p)| ((*m).to_owned(), *p, false))
                .collect(),
        }
    }

    /// The shipped table extended by `prices` in their JSON form,
    /// `{ "model-prefix": { "input": usd_per_1m, "output": usd_per_1m, "cachedInput": usd_per_1m } }`
    /// (`init({ prices })`); empty text is no prices. Prefixes are matched lowercased.
    ///
    /// ```
    /// use edgetrace::llm::cost::PriceTable;
    /// let t = PriceTable::with_json(r#"{"My-Model":{"input":1,"output":2}}"#).unwrap();
    /// assert_eq!(t.lookup("my-model-v2").unwrap().output, 2.0);
    /// assert!(PriceTable::with_json(r#"{"m":{"input":-1,"output":2}}"#).is_err());
    /// ```
    pub fn with_json(text: &str) -> Result<PriceTable, crate::Error> {
        let mut t = PriceTable::shipped();
        if text.trim().is_empty() {
            return Ok(t);
        }
        let prices: std::collections::BTreeMap<String, Price> = serde_json::from_str(text)
            .map_err(|e| crate::Error::InvalidConfig(format!("prices: {e}")))?;
        for (model, price) in &prices {
            if !(price.input >= 0.0
                && price.output >= 0.0
                && price.cached_input.unwrap_or(0.0) >= 0.0)
            {
                return Err(crate::Error::InvalidConfig(format!(
                    "prices.{model}: prices must be non-negative numbers"
                )));
            }
            t.set(&model.to_ascii_lowercase(), *price);
        }
        Ok(t)
    }

    /// Adds or replaces the price of a model prefix.
    pub fn set(&mut self, prefix: &str, price: Price) {
        match self.entries.iter_mut().find(|(m, ..)| m == prefix) {
            Some(slot) => *slot = (prefix.to_owned(), price, true),
            None => self.entries.push((prefix.to_owned(), price, true)),
        }
    }

    /// Whether `model`'s price is one the app set (`init({ prices })`), not a shipped one.
    pub fn set_by_app(&self, model: &str) -> bool {
        self.entry(model).is_some_and(|e| e.2)
    }

    /// The price of the longest prefix of `model` (provider prefixes such as `openai/` ignored).
    pub fn lookup(&self, model: &str) -> Option<Price> {
        self.entry(model).map(|e| e.1)
    }

    fn entry(&self, model: &str) -> Option<&(String, Price, bool)> {
        let m = model
            .rsplit('/')
            .next()
            .unwrap_or(model)
            .to_ascii_lowercase();
        let bare = without_bedrock_prefixes(&m);
        // A prefix with a slash names the whole id (`@cf/meta/llama-3.1-8b-instruct`, a
        // router's `openai/gpt-4o`): it matches the id as the call names it.
        let full = model.to_ascii_lowercase();
        self.entries
            .iter()
            .filter(|(prefix, ..)| {
                m.starts_with(prefix.as_str())
                    || bare.starts_with(prefix.as_str())
                    || (prefix.contains('/') && full.starts_with(prefix.as_str()))
            })
            .max_by_key(|(prefix, ..)| prefix.len())
    }

    /// `{"input_cost", "output_cost", "total_cost"}` in USD, or `None` for an unknown model or
    /// no usage. Cached input tokens (part of the input for OpenAI and Gemini) are priced at the
    /// cached rate; Anthropic reports them apart from its input tokens. Cache writes are priced at
    /// 1.25 times the input price, or 2 times for those written with a 1-hour time to live.
    pub fn cost(&self, model: &str, usage: &Usage, cached_is_part_of_input: bool) -> Option<Value> {
        let price = self.lookup(model)?;
        if usage.is_empty() {
            return None;
        }
        let input = usage.input.unwrap_or(0) as f64;
        let cached = usage.cached.unwrap_or(0) as f64;
        // Anthropic bills a cache write by its time to live: 1.25 times the input price for the
        // default 5 minutes, 2 times for 1 hour. The 1-hour writes are a part of all writes, split
        // off as MLflow's `cost_per_token` does (at most all of them).
        let created = usage.cache_creation.unwrap_or(0);
        let created_1h = usage.cache_creation_1h.unwrap_or(0).min(created);
        let created_5m = (created - created_1h) as f64;
        let created_1h = created_1h as f64;
        let cached_rate = price.cached_input.unwrap_or(price.input);
        let fresh = if cached_is_part_of_input {
            (input - cached).max(0.0)
        } else {
            input
        };
        let input_cost = (fresh * price.input
            + cached * cached_rate
            + created_5m * price.input * 1.25
            + created_1h * price.input * 2.0)
            / 1e6;
        let output_cost = usage.output.unwrap_or(0) as f64 * price.output / 1e6;
        Some(json!({
            "input_cost": input_cost,
            "output_cost": output_cost,
            "total_cost": input_cost + output_cost,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_overrides_apply() {
        let mut t = PriceTable::shipped();
        assert_eq!(t.lookup("gpt-4o-mini-2024-07-18").unwrap().input, 0.15);
        assert_eq!(t.lookup("openai/gpt-4o-2024-08-06").unwrap().input, 2.5);
        assert!(t.lookup("llama3").is_none());
        // Opus 4 and 4.1 at their price, the later ones at theirs, dated or not.
        assert_eq!(t.lookup("claude-opus-4-20250514").unwrap().input, 15.0);
        assert_eq!(t.lookup("claude-opus-4-1-20250805").unwrap().input, 15.0);
        assert_eq!(t.lookup("claude-opus-4-5-20251101").unwrap().input, 5.0);
        assert_eq!(t.lookup("claude-opus-4-7").unwrap().output, 25.0);
        assert_eq!(t.lookup("claude-opus-5-5").unwrap().input, 4.0);
        t.set(
            "llama3",
            Price {
                input: 1.0,
                output: 2.0,
                cached_input: None,
            },
        );
        let u = Usage {
            input: Some(1_000_000),
            output: Some(500_000),
            ..Default::default()
        };
        let c = t.cost("llama3:8b", &u, true).unwrap();
        assert_eq!(c["total_cost"], json!(2.0));
    }
}
