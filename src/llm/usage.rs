//! Token usage, as MLflow records it in `mlflow.chat.tokenUsage`.

use serde_json::{json, Value};

/// Tokens of one model call. Fields a provider did not report stay `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt / input tokens.
    pub input: Option<u64>,
    /// Completion / output tokens.
    pub output: Option<u64>,
    /// Total, as reported, or input + output.
    pub total: Option<u64>,
    /// Input tokens read from the provider's prompt cache.
    pub cached: Option<u64>,
    /// Input tokens written to the prompt cache (Anthropic).
    pub cache_creation: Option<u64>,
    /// The part of `cache_creation` written with the 1-hour time to live, which Anthropic bills
    /// at a higher rate than 5-minute writes.
    pub cache_creation_1h: Option<u64>,
    /// Output tokens spent on reasoning.
    pub reasoning: Option<u64>,
}

/// A number from JSON at `path` (keys), if it is a non-negative integer.
pub fn num(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_u64()
}

impl Usage {
    /// Whether anything was reported.
    pub fn is_empty(&self) -> bool {
        self.input.is_none() && self.output.is_none() && self.total.is_none()
    }

    /// Fields of `other` that are set replace these.
    pub fn merge(&mut self, other: Usage) {
        let pick = |a: &mut Option<u64>, b: Option<u64>| {
            if b.is_some() {
                *a = b;
            }
        };
        pick(&mut self.input, other.input);
        pick(&mut self.output, other.output);
        pick(&mut self.total, other.total);
        pick(&mut self.cached, other.cached);
        pick(&mut self.cache_creation, other.cache_creation);
        pick(&mut self.cache_creation_1h, other.cache_creation_1h);
        pick(&mut self.reasoning, other.reasoning);
    }

    /// The value of `mlflow.chat.tokenUsage`: `input_tokens`, `output_tokens`, `total_tokens`,
    /// and `cache_read_input_tokens` / `cache_creation_input_tokens` /
    /// `cache_creation_input_tokens_above_1hr` when known (the key names of MLflow's
    /// `TokenUsageKey`; MLflow prices the last at the 1-hour cache-write rate).
    pub fn to_mlflow(&self) -> Value {
        let input = self.input.unwrap_or(0);
        let output = self.output.unwrap_or(0);
        let mut v = json!({
            "input_tokens": input,
            "output_tokens": output,
            "total_tokens": self.total.unwrap_or(input.saturating_add(output)),
        });
        if let Some(c) = self.cached {
            v["cache_read_input_tokens"] = json!(c);
        }
        if let Some(c) = self.cache_creation {
            v["cache_creation_input_tokens"] = json!(c);
        }
        if let Some(c) = self.cache_creation_1h {
            v["cache_creation_input_tokens_above_1hr"] = json!(c);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn a_total_past_u64_saturates_instead_of_overflowing() {
        // Found by the llm_response fuzz target (fuzz/regressions/llm_response).
        let u = Usage {
            input: Some(u64::MAX),
            output: Some(2),
            ..Usage::default()
        };
        assert_eq!(u.to_mlflow()["total_tokens"], serde_json::json!(u64::MAX));
    }
}
