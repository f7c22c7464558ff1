// The recorder of Node and Workers: a full command buffer is kept by the wasm core (its speed-built
// core keeps them: src/bindings.rs `Core::cmd_buffer`), not copied out to JS memory as in browsers,
// whose size-built core leaves that out. In wasm memory, the spans applied from a kept buffer take
// its memory once it is freed; copies in JS memory, freed after they were applied, stayed in
// workerd's RSS (0.53 of OpenTelemetry's RSS per buffered span against 0.43, in run BG).
import { CAP, Recorder } from './recorder.js';

export class CoreKeptRecorder extends Recorder {
  keep(len) {
    // Recorded before the core loaded (not in Node or Workers), or behind commands waiting in JS
    // (none wait while a buffer is kept today): kept in JS too, so the core applies it in order.
    if (!this.core || this.waiting.length) return super.keep(len);
    try {
      this.ptr = this.core.cmd_buffer(CAP, len);
      this.logged += len;
    } catch (e) {
      // The core trapped: what was recorded is lost, and the caller's code goes on.
      this.onFailed(8, e);
    }
    this.view();
  }
}
