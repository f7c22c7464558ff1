//! OTLP: the wire messages ([`wire`]) and the encoders from finished spans ([`encode`]).

pub mod encode;
pub mod wire;

pub use encode::{Encoder, Format, Payload, PayloadBuilder, Resource};
