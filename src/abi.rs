//! The browser's core boundary (cargo feature `c-abi`): [`Core`]'s methods as plain wasm exports,
//! numbers in and numbers out, called by a hand-written loader (`pkg-templates/core-abi.js`).
//!
//! Node and Workers reach the same [`Core`] through wasm-bindgen. The browser entry ships its
//! core inline, and there wasm-bindgen's generated glue (its class, its string and array copies,
//! its externref table, its loader) would be 1.2 KB of gzip for six calls that pass only numbers
//! and two byte strings back. Here a core is a pointer to a [`Boundary`]; bytes coming back
//! (an export body, an error message) stay in it until the next such call, and the export
//! returns where their `[pointer, length]` pair is, or 0 for none.

use crate::bindings::Core;

/// A core and the bytes it last handed back.
pub struct Boundary {
    core: Core,
    out: Vec<u8>,
    at: [u32; 2],
}

impl Boundary {
    fn give(&mut self, bytes: Option<Vec<u8>>) -> u32 {
        // Nothing to hand back: the last bytes (an export body of up to `maxExportBytes`) are
        // freed, so a drained queue keeps no body alive.
        let Some(b) = bytes else {
            self.out = Vec::new();
            return 0;
        };
        self.out = b;
        self.at = [self.out.as_ptr() as u32, self.out.len() as u32];
        self.at.as_ptr() as u32
    }
}

/// A buffer of `len` bytes for [`et_new`]'s configuration, which takes it back.
#[no_mangle]
pub extern "C" fn et_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast()
}

/// [`Core::new`], from a configuration in a buffer of [`et_alloc`] (freed here).
///
/// # Safety
/// `config` and `len` are what [`et_alloc`] gave and was asked for.
#[no_mangle]
pub unsafe extern "C" fn et_new(
    config: *mut u8,
    len: usize,
    origin_ms: f64,
    seed_hi: u32,
    seed_lo: u32,
) -> *mut Boundary {
    // SAFETY: the caller passes back a buffer of et_alloc, whole.
    let bytes = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(config, len)) };
    Box::into_raw(Box::new(Boundary {
        core: Core::new(&bytes, origin_ms, seed_hi, seed_lo),
        out: Vec::new(),
        at: [0; 2],
    }))
}

/// Frees a core.
///
/// # Safety
/// `b` is a core of [`et_new`], not freed before.
#[no_mangle]
pub unsafe extern "C" fn et_free(b: *mut Boundary) {
    // SAFETY: as above.
    drop(unsafe { Box::from_raw(b) });
}

/// [`Core::cmd_buffer`].
///
/// # Safety
/// `b` is a live core of [`et_new`] (so for every function below).
#[no_mangle]
pub unsafe extern "C" fn et_cmd_buffer(b: *mut Boundary, cap: u32, keep: u32) -> u32 {
    // SAFETY: the caller's.
    unsafe { &mut *b }.core.cmd_buffer(cap, keep)
}

/// [`Core::run`].
///
/// # Safety
/// As [`et_cmd_buffer`].
#[no_mangle]
pub unsafe extern "C" fn et_run(b: *mut Boundary, len: u32) -> u32 {
    // SAFETY: the caller's.
    unsafe { &mut *b }.core.run(len)
}

/// [`Core::take_batch`]: where the body's `[pointer, length]` is, or 0 when nothing waits.
///
/// # Safety
/// As [`et_cmd_buffer`].
#[no_mangle]
pub unsafe extern "C" fn et_take_batch(b: *mut Boundary, protobuf: u32) -> u32 {
    // SAFETY: the caller's.
    let b = unsafe { &mut *b };
    let body = b.core.take_batch(protobuf != 0);
    b.give(body)
}

/// [`Core::last_error`]: where its UTF-8 `[pointer, length]` is, or 0 when there is none.
///
/// # Safety
/// As [`et_cmd_buffer`].
#[no_mangle]
pub unsafe extern "C" fn et_last_error(b: *mut Boundary) -> u32 {
    // SAFETY: the caller's.
    let b = unsafe { &mut *b };
    let e = b.core.last_error().map(String::into_bytes);
    b.give(e)
}

/// [`Core::write_stats`].
///
/// # Safety
/// As [`et_cmd_buffer`].
#[no_mangle]
pub unsafe extern "C" fn et_write_stats(b: *mut Boundary) -> u32 {
    // SAFETY: the caller's.
    unsafe { &mut *b }.core.write_stats()
}
