//! How long the model API parsers take to cut a big chat request to 32 KiB with its structure
//! kept (`src/llm/fit.rs`), against writing the request once: `cargo run --release --example fit_timing`.
use edgetrace::llm::fit::fit_json;
use serde_json::json;
use std::time::Instant;
fn main() {
    for mb in [0.1f64, 1.0, 10.0] {
        let n = (mb * 1e6 / 50.0) as usize;
        let msgs: Vec<_> = (0..20).map(|i| json!({"role": if i % 2 == 0 {"user"} else {"assistant"}, "content": "a passage, with \"quotes\" and\nnewlines. ".repeat(n / 20 + 1)})).collect();
        let v = json!({"model": "gpt-4o", "messages": msgs});
        let text = v.to_string();
        let mut best = std::time::Duration::MAX;
        let mut out = String::new();
        for _ in 0..7 {
            let t = Instant::now();
            out = fit_json(&v, text.clone(), 32 * 1024).0;
            best = best.min(t.elapsed());
        }
        let t = Instant::now();
        let whole = v.to_string().len();
        println!(
            "{} bytes -> {} in {:?} (min of 7; one to_string {:?}, {whole})",
            text.len(),
            out.len(),
            best,
            t.elapsed()
        );
    }
}
