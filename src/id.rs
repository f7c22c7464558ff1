//! Trace and span identifiers.
//!
//! A [`TraceId`] is 16 bytes and a [`SpanId`] 8 bytes, as in W3C trace context and OTLP. Neither is
//! ever all zeros (the invalid id in both specs). MLflow names a trace `tr-<32 hex>`; see
//! [`TraceId::to_mlflow`].

use std::fmt;

use crate::error::Error;

/// A 16-byte trace id, never all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId([u8; 16]);

/// An 8-byte span id, never all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId([u8; 8]);

macro_rules! id_impl {
    ($ty:ident, $len:expr, $what:expr) => {
        impl $ty {
            /// Builds an id from raw bytes; all-zero bytes are refused.
            pub fn from_bytes(bytes: [u8; $len]) -> Result<Self, Error> {
                if bytes.iter().all(|b| *b == 0) {
                    return Err(Error::InvalidId(concat!($what, " is all zeros")));
                }
                Ok(Self(bytes))
            }

            /// Builds an id from a byte slice of exactly the right length.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
                let arr: [u8; $len] = bytes
                    .try_into()
                    .map_err(|_| Error::InvalidId(concat!($what, " has the wrong length")))?;
                Self::from_bytes(arr)
            }

            /// Parses lowercase or uppercase hex of exactly `2 * len` digits.
            pub fn from_hex(hex: &str) -> Result<Self, Error> {
                let mut out = [0u8; $len];
                decode_hex(hex, &mut out).ok_or(Error::InvalidId(concat!(
                    $what,
                    " is not ",
                    stringify!($len),
                    " bytes of hex"
                )))?;
                Self::from_bytes(out)
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Lowercase hex, as in OTLP/JSON and `traceparent`.
            pub fn to_hex(&self) -> String {
                encode_hex(&self.0)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($ty), self.to_hex())
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

id_impl!(TraceId, 16, "trace id");
id_impl!(SpanId, 8, "span id");

impl TraceId {
    /// The id MLflow gives a trace received over OTLP: `tr-` and 32 lowercase hex digits.
    ///
    /// ```
    /// use edgetrace::id::TraceId;
    /// let id = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
    /// assert_eq!(id.to_mlflow(), "tr-0af7651916cd43dd8448eb211c80319c");
    /// ```
    pub fn to_mlflow(&self) -> String {
        crate::text::cat(&["tr-", &self.to_hex()])
    }
}

/// Where new ids come from. Injected so tests can be deterministic.
pub trait IdGenerator {
    /// A new, non-zero trace id.
    fn trace_id(&mut self) -> TraceId;
    /// A new, non-zero span id.
    fn span_id(&mut self) -> SpanId;
}

/// Ids from the platform's secure random source (`crypto.getRandomValues` in wasm). Not in the
/// browser's cores (cargo feature `c-abi`): there the JS layer draws every id, and linking
/// getrandom would link wasm-bindgen and js-sys with it, whose exports no glue would strip.
#[cfg(not(all(target_arch = "wasm32", feature = "c-abi")))]
#[derive(Debug, Default)]
pub struct RandomIds {
    pool: Vec<u8>,
}

#[cfg(not(all(target_arch = "wasm32", feature = "c-abi")))]
impl RandomIds {
    const POOL: usize = 512;

    fn fill(&mut self, out: &mut [u8]) {
        loop {
            if self.pool.len() < out.len() {
                self.pool.resize(Self::POOL, 0);
                // getrandom only fails when the platform has no entropy source at all; then a
                // counter-seeded fallback keeps tracing alive rather than panicking.
                if getrandom::fill(&mut self.pool).is_err() {
                    fallback_fill(&mut self.pool);
                }
            }
            let at = self.pool.len() - out.len();
            out.copy_from_slice(&self.pool[at..]);
            self.pool.truncate(at);
            if out.iter().any(|b| *b != 0) {
                return;
            }
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", feature = "c-abi")))]
fn fallback_fill(buf: &mut [u8]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    for chunk in buf.chunks_mut(8) {
        let z = splitmix64(STATE.fetch_add(SPLITMIX_STEP, Ordering::Relaxed));
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}

/// SplitMix64's increment between states.
const SPLITMIX_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output for state `z`.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(not(all(target_arch = "wasm32", feature = "c-abi")))]
impl IdGenerator for RandomIds {
    fn trace_id(&mut self) -> TraceId {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        TraceId(b)
    }

    fn span_id(&mut self) -> SpanId {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        SpanId(b)
    }
}

/// Ids from a 64-bit seed (SplitMix64), for a core whose caller draws ids itself: the wasm core,
/// where the JS layer writes every span's ids into its `START` command (from
/// `crypto.getRandomValues`) and also hands over the seed. This is only the fallback for a start
/// that carries none, and it keeps the platform's random source out of the module.
#[derive(Debug)]
pub struct SeededIds {
    state: u64,
}

impl SeededIds {
    /// A generator from `seed` (any value, zero included).
    pub fn new(seed: u64) -> SeededIds {
        SeededIds { state: seed }
    }

    fn next(&mut self) -> u64 {
        loop {
            self.state = self.state.wrapping_add(SPLITMIX_STEP);
            let z = splitmix64(self.state);
            if z != 0 {
                return z;
            }
        }
    }
}

impl IdGenerator for SeededIds {
    fn trace_id(&mut self) -> TraceId {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next().to_be_bytes());
        b[8..].copy_from_slice(&self.next().to_be_bytes());
        TraceId(b)
    }

    fn span_id(&mut self) -> SpanId {
        SpanId(self.next().to_be_bytes())
    }
}

/// Sequential ids for tests: trace ids `…01`, `…02`, span ids likewise.
#[derive(Debug, Default)]
pub struct SequentialIds {
    next_trace: u128,
    next_span: u64,
}

impl IdGenerator for SequentialIds {
    fn trace_id(&mut self) -> TraceId {
        self.next_trace += 1;
        TraceId(self.next_trace.to_be_bytes())
    }

    fn span_id(&mut self) -> SpanId {
        self.next_span += 1;
        SpanId(self.next_span.to_be_bytes())
    }
}

/// The lowercase hex digits, by value (ids here, `\u00xx` escapes and OTLP/JSON ids elsewhere).
pub(crate) const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub fn encode_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Decodes hex into `out`; `None` unless `hex` is exactly `2 * out.len()` hex digits.
pub fn decode_hex(hex: &str, out: &mut [u8]) -> Option<()> {
    let h = hex.as_bytes();
    if h.len() != out.len() * 2 {
        return None;
    }
    fn nib(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nib(h[2 * i])? << 4) | nib(h[2 * i + 1])?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_never_zero_and_differ() {
        let mut g = RandomIds::default();
        let a = g.trace_id();
        let b = g.trace_id();
        assert_ne!(a, b);
        assert!(a.as_bytes().iter().any(|x| *x != 0));
        for _ in 0..1000 {
            assert!(g.span_id().as_bytes().iter().any(|x| *x != 0));
        }
    }

    #[test]
    fn hex_round_trips_and_refuses_bad_input() {
        let t = TraceId::from_hex("0AF7651916CD43DD8448EB211C80319C").unwrap();
        assert_eq!(t.to_hex(), "0af7651916cd43dd8448eb211c80319c");
        assert!(TraceId::from_hex("00000000000000000000000000000000").is_err());
        assert!(TraceId::from_hex("0af7").is_err());
        assert!(SpanId::from_hex("zzzzzzzzzzzzzzzz").is_err());
        assert!(SpanId::from_hex("b7ad6b7169203331").is_ok());
        assert!(SpanId::from_hex("é7ad6b716920333").is_err());
    }

    #[test]
    fn seeded_ids_are_non_zero_distinct_and_follow_the_seed() {
        let mut a = SeededIds::new(0);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let t = a.trace_id();
            let s = a.span_id();
            assert!(t.0.iter().any(|b| *b != 0) && s.0.iter().any(|b| *b != 0));
            assert!(seen.insert(t.0.to_vec()) && seen.insert(s.0.to_vec()));
        }
        assert_ne!(SeededIds::new(1).trace_id(), SeededIds::new(2).trace_id());
        assert_eq!(SeededIds::new(7).span_id(), SeededIds::new(7).span_id());
    }
}
