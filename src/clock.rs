//! Time, injected.
//!
//! The core never reads a clock by itself: a [`Clock`] is handed to the [`crate::tracer::Tracer`].
//! The wasm bindings use the JS clock; native tests use [`ManualClock`].

use std::cell::Cell;
use std::rc::Rc;

/// A source of wall-clock time in nanoseconds since the Unix epoch.
pub trait Clock {
    /// Now, in ns since the Unix epoch.
    fn now_ns(&self) -> u64;
}

/// The operating system's clock (native builds only; wasm32-unknown-unknown has none).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now_ns(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Rc<Cell<u64>>);

impl ManualClock {
    /// A clock reading `start_ns`.
    pub fn new(start_ns: u64) -> Self {
        Self(Rc::new(Cell::new(start_ns)))
    }

    /// Moves the clock forward by `ns`.
    pub fn advance(&self, ns: u64) {
        self.0.set(self.0.get() + ns);
    }

    /// Sets the clock to `ns`.
    pub fn set(&self, ns: u64) {
        self.0.set(ns);
    }
}

impl Clock for ManualClock {
    fn now_ns(&self) -> u64 {
        self.0.get()
    }
}
