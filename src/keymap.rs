//! The map the tracer keeps its open spans, traces and contexts in.
//!
//! Its keys are the tracer's own (span handles, context ids, trace ids), and it holds only what
//! is open now, so it is small. Values live in a slab (slots reused through a free list, so a
//! value is never moved once inserted); a vector of `(key, slot)` kept sorted by key finds them by
//! binary search. No hashing, and far less code in the wasm than a `HashMap`. Span handles and
//! context ids are issued in increasing order, so a new key usually goes at the end of the index,
//! and spans end mostly in reverse order of their starts, so removals are near its end too.

/// A map from `K` to `V`; see the module docs.
#[derive(Debug)]
pub struct KeyMap<K, V> {
    index: Vec<(K, u32)>,
    slots: Vec<Option<V>>,
    free: Vec<u32>,
}

impl<K, V> Default for KeyMap<K, V> {
    fn default() -> Self {
        KeyMap {
            index: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<K: Ord + Copy, V> KeyMap<K, V> {
    // One copy per map type in the browser's size build (cargo feature `size`): inlined into
    // every lookup it was 0.5 KB of the deflated core, and no slower per span there, measured.
    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline)]
    fn find(&self, k: &K) -> Result<usize, usize> {
        // The newest key is the likeliest (the span just started, its context).
        match self.index.last() {
            Some((last, _)) if last == k => Ok(self.index.len() - 1),
            Some((last, _)) if last < k => Err(self.index.len()),
            _ => self.index.binary_search_by(|(x, _)| x.cmp(k)),
        }
    }

    #[inline]
    fn slot(&self, i: usize) -> Option<&V> {
        let (_, s) = self.index.get(i)?;
        self.slots.get(*s as usize)?.as_ref()
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The value under `k`.
    #[inline]
    pub fn get(&self, k: &K) -> Option<&V> {
        self.slot(self.find(k).ok()?)
    }

    /// The value under `k`, to change.
    #[inline]
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.find(k).ok()?;
        let (_, s) = self.index.get(i)?;
        self.slots.get_mut(*s as usize)?.as_mut()
    }

    /// Whether `k` has a value.
    pub fn contains_key(&self, k: &K) -> bool {
        self.find(k).is_ok()
    }

    /// The value under `k`, put there by `v` first if `k` has none.
    pub fn get_or_insert_with(&mut self, k: K, v: impl FnOnce() -> V) -> &mut V {
        let s = match self.find(&k) {
            Ok(i) => self.index.get(i).map_or(0, |e| e.1),
            Err(i) => self.insert_at(i, k, v()),
        };
        // The slot was just filled or found under `k`: it holds a value.
        match self.slots.get_mut(s as usize) {
            Some(Some(v)) => v,
            _ => unreachable!("a KeyMap index entry without its value"),
        }
    }

    /// Puts `v` under `k`, or gives it back when `k` has a value (which is kept). One search.
    pub fn insert_new(&mut self, k: K, v: V) -> Result<(), V> {
        match self.find(&k) {
            Ok(_) => Err(v),
            Err(i) => {
                self.insert_at(i, k, v);
                Ok(())
            }
        }
    }

    /// Puts `v` in a free slot (or a new one) and its key at index position `i`; returns the slot.
    fn insert_at(&mut self, i: usize, k: K, v: V) -> u32 {
        let s = match self.free.pop() {
            Some(s) => {
                if let Some(slot) = self.slots.get_mut(s as usize) {
                    *slot = Some(v);
                }
                s
            }
            None => {
                self.slots.push(Some(v));
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(i, (k, s));
        s
    }

    /// Takes the value under `k` out.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let s = self.unindex(k)?;
        let v = self.slots.get_mut(s as usize)?.take();
        self.release(s);
        v
    }

    /// Drops the value under `k` where it is (no move out: in wasm, moving a large value is a
    /// call out of the module); whether there was one.
    pub fn delete(&mut self, k: &K) -> bool {
        let Some(s) = self.unindex(k) else {
            return false;
        };
        let had = self.slots.get_mut(s as usize).is_some_and(|v| {
            let had = v.is_some();
            *v = None;
            had
        });
        self.release(s);
        had
    }

    /// Takes `k` out of the index; its slot.
    fn unindex(&mut self, k: &K) -> Option<u32> {
        let i = self.find(k).ok()?;
        // The last key is the likeliest; `remove` would shift the (empty) rest all the same, and
        // in wasm that is a `memory.copy`, a call out of the module in V8.
        let e = if i + 1 == self.index.len() {
            self.index.pop()
        } else {
            Some(self.index.remove(i))
        };
        e.map(|(_, s)| s)
    }

    /// Frees slot `s`.
    fn release(&mut self, s: u32) {
        if s as usize + 1 == self.slots.len() {
            self.slots.truncate(s as usize);
        } else {
            self.free.push(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Against a BTreeMap, over a long run of inserts and removes in an order that mixes the
    /// newest, the oldest and the middle keys.
    #[test]
    fn behaves_as_a_btree_map() {
        let mut m: KeyMap<u32, u64> = KeyMap::default();
        let mut model = BTreeMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = (x % 300) as u32;
            match x % 6 {
                0 | 1 => {
                    let fresh = !model.contains_key(&k);
                    assert_eq!(
                        m.insert_new(k, step),
                        if fresh { Ok(()) } else { Err(step) }
                    );
                    model.entry(k).or_insert(step);
                }
                2 => assert_eq!(m.remove(&k), model.remove(&k)),
                3 => {
                    if let (Some(a), Some(b)) = (m.get_mut(&k), model.get_mut(&k)) {
                        *a += 1;
                        *b += 1;
                    }
                }
                4 => assert_eq!(m.delete(&k), model.remove(&k).is_some()),
                _ => {
                    let v = *m.get_or_insert_with(k, || step);
                    assert_eq!(v, *model.entry(k).or_insert(step));
                }
            }
            assert_eq!(m.len(), model.len());
            assert_eq!(m.get(&k), model.get(&k));
            assert_eq!(m.contains_key(&k), model.contains_key(&k));
        }
        for (k, v) in &model {
            assert_eq!(m.get(k), Some(v));
        }
        // Slots are reused: never more of them than the most keys held at once.
        assert!(m.slots.len() <= 300, "{}", m.slots.len());
    }
}
