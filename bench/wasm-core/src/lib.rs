//! The recorded commands of `examples/commands_cost.rs` applied by the core (`Recorded::apply`
//! into a `Tracer`) and by the fused spike (`examples/common/spike.rs`), exported to JS so V8
//! runs both as it runs the shipped core: `node bench/wasm-core.mjs`. Each export runs the
//! whole set of traces made by `setup` and returns what it made, for the runner to check.

use edgetrace::clock::ManualClock;
use edgetrace::commands::Recorded;
use edgetrace::id::SequentialIds;
use edgetrace::otlp::Format;
use edgetrace::tracer::{Config, Tracer};

#[path = "../../../examples/common/recorded.rs"]
mod recorded;
#[path = "../../../examples/common/spike.rs"]
mod spike;

use std::cell::RefCell;

#[derive(Default)]
struct State {
    defs: Vec<u8>,
    buffers: Vec<Vec<u8>>,
    kept: Option<Tracer>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// Writes the commands of `traces` traces (a root and 10 nested children, 5 string attributes
/// each), in buffers of 100 traces as the JS recorder flushes them.
#[no_mangle]
pub extern "C" fn setup(traces: u32) {
    let mut defs = recorded::W::default();
    recorded::definitions(&mut defs);
    STATE.with_borrow_mut(|s| {
        s.defs = defs.0;
        s.buffers = recorded::buffers(traces, recorded::CHILDREN);
    });
}

/// The core applies every buffer. `mode` 0: the spans stay queued (the buffer-only rows' work;
/// `drop_kept` frees them, outside the timing), and the spans queued are returned; 1 and 2: the
/// queue is emptied as OTLP protobuf (1) or JSON (2) after each buffer, and the body bytes are
/// returned.
#[no_mangle]
pub extern "C" fn run_core(mode: u32) -> u32 {
    STATE.with_borrow_mut(|s| {
        let mut config = Config::default();
        if mode == 0 {
            config.batch.max_queue_spans = usize::MAX;
            config.batch.max_queue_bytes = usize::MAX;
        }
        let mut t = Tracer::new(
            config,
            Box::new(ManualClock::new(1)),
            Box::new(SequentialIds::default()),
        );
        let mut rec = Recorded::default();
        let mut bytes = 0;
        let ok = rec.apply(&mut t, &s.defs).is_ok();
        for b in &s.buffers {
            if !ok || rec.apply(&mut t, b).is_err() || rec.failed > 0 {
                return 0;
            }
            if mode != 0 {
                bytes += empty(&mut t, mode == 2);
            }
        }
        if mode == 0 {
            let n = t.queued() as u32;
            s.kept = Some(t);
            return n;
        }
        bytes
    })
}

/// Empties what `run_core(0)` kept queued, as OTLP protobuf (`json` 0) or JSON (1): the encode
/// and the drop of the spans, without their apply. Returns the body bytes.
#[no_mangle]
pub extern "C" fn take_kept(json: u32) -> u32 {
    STATE.with_borrow_mut(|s| s.kept.as_mut().map_or(0, |t| empty(t, json == 1)))
}

/// Empties `t`'s queue as OTLP/JSON (`json`) or protobuf; returns the body bytes.
fn empty(t: &mut Tracer, json: bool) -> u32 {
    let format = if json { Format::Json } else { Format::Protobuf };
    let mut bytes = 0;
    while let Some(p) = t.take_batch(format) {
        bytes += p.body.len() as u32;
    }
    bytes
}

/// Frees what `run_core(0)` kept queued.
#[no_mangle]
pub extern "C" fn drop_kept() {
    STATE.with_borrow_mut(|s| s.kept = None);
}

/// The spike applies every buffer, each span encoded as protobuf as its commands are applied;
/// returns the bytes of the ended spans.
#[no_mangle]
pub extern "C" fn run_spike() -> u32 {
    STATE.with_borrow(|s| {
        let mut spike = spike::Spike::default();
        spike.apply(&s.defs);
        let mut bytes = 0;
        for b in &s.buffers {
            spike.apply(b);
            bytes += spike.out.len() as u32;
            spike.out.clear();
        }
        bytes
    })
}
