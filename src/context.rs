//! The context table: many independent flows, each with its stack of open spans.
//!
//! A context stands for one concurrent flow of control (a request, an async task, the page's
//! synchronous code). Its stack says which span a new span nests under when no parent is given.
//! Context [`ContextTable::DEFAULT`] always exists. Ending a span that is not on top of its stack
//! takes it out from where it is; the spans above it stay open and keep their parent links.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::Error;
use crate::keymap::KeyMap;

/// A fast, non-cryptographic hasher (the multiply-rotate scheme of rustc's `FxHasher`) for the
/// core's own keys: span handles, context ids and trace ids. std's SipHash costs more than the
/// rest of a map lookup in wasm. The maps keyed this way hold only what is open now (handles and
/// context ids the core issues itself; trace ids of traces with open spans), so crafted keys
/// could only slow lookups among a process's own open spans.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Where a span was found when it was taken off its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// It was on top (the usual, well-nested case).
    WasTop,
    /// It was below `above` other open spans (ended out of order).
    OutOfOrder {
        /// How many spans were above it.
        above: usize,
    },
    /// It was on no stack (its context was closed).
    NotOnStack,
}

/// Stacks of open span handles, keyed by context id.
#[derive(Debug)]
pub struct ContextTable {
    stacks: KeyMap<u32, Vec<u32>>,
    /// Emptied stacks of closed contexts, reused by the next opens: every trace the JS layer
    /// starts opens a context, and this saves an allocation and a free per trace.
    spare: Vec<Vec<u32>>,
    next: u32,
}

impl Default for ContextTable {
    fn default() -> Self {
        let mut stacks = KeyMap::default();
        let _ = stacks.insert_new(Self::DEFAULT, Vec::new());
        ContextTable {
            stacks,
            spare: Vec::new(),
            next: 1,
        }
    }
}

impl ContextTable {
    /// The context that always exists.
    pub const DEFAULT: u32 = 0;
    /// The most emptied stacks kept for reuse.
    const SPARE: usize = 64;

    /// Opens a new, empty context.
    pub fn open(&mut self) -> u32 {
        loop {
            let id = self.next;
            self.next = ((self.next + 1) % crate::tracer::GIVEN_HANDLES).max(1);
            let stack = self.spare.pop().unwrap_or_default();
            match self.stacks.insert_new(id, stack) {
                Ok(()) => return id,
                Err(stack) => self.spare.push(stack),
            }
        }
    }

    /// Opens a new, empty context under a chosen id; fails if that id is open.
    pub fn open_as(&mut self, id: u32) -> Result<(), Error> {
        let stack = self.spare.pop().unwrap_or_default();
        self.stacks.insert_new(id, stack).map_err(|stack| {
            self.spare.push(stack);
            Error::ContextInUse(id)
        })
    }

    /// Closes a context and returns the handles still open on it (they stay open, off any stack).
    /// The default context cannot be closed; closing it only empties it.
    pub fn close(&mut self, ctx: u32) -> Result<Vec<u32>, Error> {
        if ctx == Self::DEFAULT {
            let s = self.stacks.get_mut(&ctx).map(std::mem::take);
            return Ok(s.unwrap_or_default());
        }
        let stack = self.stacks.remove(&ctx).ok_or(Error::UnknownContext(ctx))?;
        if !stack.is_empty() {
            return Ok(stack);
        }
        if self.spare.len() < Self::SPARE && stack.capacity() <= 64 {
            self.spare.push(stack);
        }
        Ok(Vec::new())
    }

    /// The span on top of `ctx`'s stack.
    pub fn top(&self, ctx: u32) -> Result<Option<u32>, Error> {
        self.stacks
            .get(&ctx)
            .map(|s| s.last().copied())
            .ok_or(Error::UnknownContext(ctx))
    }

    /// Pushes a span onto `ctx`'s stack.
    pub fn push(&mut self, ctx: u32, handle: u32) -> Result<(), Error> {
        self.stacks
            .get_mut(&ctx)
            .ok_or(Error::UnknownContext(ctx))?
            .push(handle);
        Ok(())
    }

    /// Takes a span off `ctx`'s stack, wherever it is.
    pub fn remove(&mut self, ctx: u32, handle: u32) -> Removal {
        let Some(stack) = self.stacks.get_mut(&ctx) else {
            return Removal::NotOnStack;
        };
        match stack.iter().rposition(|h| *h == handle) {
            Some(i) => {
                let above = stack.len() - 1 - i;
                if above == 0 {
                    // Not `remove`: it shifts the (empty) rest all the same, and in wasm that
                    // is a `memory.copy`, a call out of the module in V8.
                    stack.pop();
                    Removal::WasTop
                } else {
                    stack.remove(i);
                    Removal::OutOfOrder { above }
                }
            }
            None => Removal::NotOnStack,
        }
    }

    /// How many spans are open on `ctx`.
    pub fn depth(&self, ctx: u32) -> usize {
        self.stacks.get(&ctx).map_or(0, Vec::len)
    }

    /// How many contexts are open (the default included).
    pub fn len(&self) -> usize {
        self.stacks.len()
    }

    /// Never true: the default context always exists.
    pub fn is_empty(&self) -> bool {
        self.stacks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_removal_is_reported_and_keeps_the_rest() {
        let mut t = ContextTable::default();
        let c = t.open();
        for h in [1, 2, 3] {
            t.push(c, h).unwrap();
        }
        assert_eq!(t.remove(c, 1), Removal::OutOfOrder { above: 2 });
        assert_eq!(t.top(c).unwrap(), Some(3));
        assert_eq!(t.remove(c, 3), Removal::WasTop);
        assert_eq!(t.remove(c, 9), Removal::NotOnStack);
        assert_eq!(t.close(c).unwrap(), vec![2]);
        assert_eq!(t.close(c), Err(Error::UnknownContext(c)));
        assert_eq!(t.top(c), Err(Error::UnknownContext(c)));
    }
}
