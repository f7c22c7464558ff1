//! The wasm bindings, run by wasm-bindgen-test in headless Chromium.
#![cfg(target_arch = "wasm32")]

mod wasm_common;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn nested_spans_encode_into_one_batch() {
    wasm_common::nested_spans_encode_into_one_batch();
}

#[wasm_bindgen_test]
fn misuse_returns_failure_and_keeps_the_trace() {
    wasm_common::misuse_returns_failure_and_keeps_the_trace();
}

#[wasm_bindgen_test]
fn ids_are_random_and_traceparent_continues_a_trace() {
    wasm_common::ids_are_random_and_traceparent_continues_a_trace();
}

#[wasm_bindgen_test]
fn bad_config_is_a_clear_error() {
    wasm_common::bad_config_is_a_clear_error();
}
