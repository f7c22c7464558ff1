//! Where the wasm allocator gets memory: `memory.grow` in steps of an eighth of the memory there
//! is (1 MiB at the least), not of just what the failed allocation needs.
//!
//! talc's own `WasmGrowAndExtend` grows by what the allocation needs, so a queue of spans filling
//! up grew the memory one 64 KiB page at a time: 133 grows for the first 33,000 buffered spans,
//! 9 in these steps (tests/node/wasm_memory_grows_in_steps.test.mjs). Every grow detaches the
//! memory's `ArrayBuffer`, and the JS layer makes its views of the command buffer again; in Bun
//! (JavaScriptCore) the first `memory.buffer` after a grow took 0.35 ms (`bench/RESULTS.md`,
//! session 25). Pages grown and not written to are not resident, so the larger steps cost address
//! space, not RSS.

use core::alloc::Layout;
use core::arch::wasm32::{memory_grow, memory_size};
use core::ptr::NonNull;

use talc::base::binning::Binning;
use talc::base::Talc;

const PAGE: usize = 64 * 1024;
/// The smallest step: 16 pages.
const MIN_STEP_PAGES: usize = 16;

/// A talc source that grows the wasm memory geometrically and extends its one heap into it.
#[derive(Debug, Default)]
pub struct GrowInSteps {
    end: Option<NonNull<u8>>,
}

impl GrowInSteps {
    /// A source that has grown nothing yet.
    pub const fn new() -> Self {
        GrowInSteps { end: None }
    }
}

/// Pages enough for `layout` in a fresh heap: its size and alignment plus talc's chunk overhead
/// (a tag and a unit of rounding, under 64 bytes).
fn pages_for(layout: Layout) -> usize {
    (layout.size() + layout.align() + 64).div_ceil(PAGE)
}

// SAFETY: acquires memory only through `memory.grow` and hands it to `talc` alone, and neither
// allocates nor touches the allocator except through `talc`.
unsafe impl talc::source::Source for GrowInSteps {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let need = pages_for(layout);
        let step = need.max(memory_size::<0>() / 8).max(MIN_STEP_PAGES);
        // Where the step cannot be had (the memory's maximum is near), what the allocation needs.
        let (prev, pages) = match memory_grow::<0>(step) {
            usize::MAX => match memory_grow::<0>(need) {
                usize::MAX => return Err(()),
                prev => (prev, need),
            },
            prev => (prev, step),
        };
        let base = (prev * PAGE) as *mut u8;
        let end = base.wrapping_add(pages * PAGE);
        if let Some(old_end) = talc.source.end.take() {
            if old_end.as_ptr() == base {
                // SAFETY: the heap ends where the grown memory starts, and that memory is new.
                talc.source.end = Some(unsafe { talc.extend(old_end, end) });
                return Ok(());
            }
        }
        // SAFETY: the grown memory is new and this allocator's alone.
        talc.source.end = unsafe { talc.claim(base, pages * PAGE) };
        Ok(())
    }
}
