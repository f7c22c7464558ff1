//! Text put together without `core::fmt`. The core the browser loads leaves Rust's formatting
//! machinery out (about 4 KB of wasm), so its messages and generated keys are joined from pieces.

/// `parts`, one after another.
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The decimal digits of `n`.
pub fn dec(mut n: usize) -> String {
    let mut digits = Vec::with_capacity(20);
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_writes_numbers_as_format_would() {
        for n in [
            0usize,
            7,
            10,
            99,
            100,
            65_536,
            u32::MAX as usize,
            usize::MAX,
        ] {
            assert_eq!(dec(n), format!("{n}"));
        }
        assert_eq!(cat(&["span ", &dec(42), " is open"]), "span 42 is open");
        assert_eq!(cat(&[]), "");
    }
}
