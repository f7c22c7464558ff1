// The loader of the browser's cores (cargo feature `c-abi`, src/abi.rs): they export Core's
// methods as plain wasm functions, so this is their whole glue, in place of wasm-bindgen's
// generated one (1.2 KB of the entry's gzip size). The Core it makes has the methods the JS layer
// calls on Node's and Workers' wasm-bindgen Core, and behaves the same.

const decoder = new TextDecoder();

/** Instantiates a compiled core: `{ Core, memory }`, as the entries' loaders hand it over. */
export function instantiateCore(module) {
  const x = new WebAssembly.Instance(module, {
    et: { date_now: () => Date.now(), performance_now: () => performance.now() },
  }).exports;
  // Bytes the core hands back: where their [pointer, length] pair is, or 0 for none. Copied out
  // at once (the core keeps them only until its next such call).
  const taken = (at) => {
    if (!at) return undefined;
    const [ptr, len] = new Uint32Array(x.memory.buffer, at >>> 0, 2);
    return new Uint8Array(x.memory.buffer, ptr, len).slice();
  };
  class Core {
    constructor(config, originMs, seedHi, seedLo) {
      const at = x.et_alloc(config.length) >>> 0;
      new Uint8Array(x.memory.buffer, at, config.length).set(config);
      this.p = x.et_new(at, config.length, originMs, seedHi, seedLo);
    }
    // The core's address; a freed core throws, as wasm-bindgen's does, rather than hand the core
    // address 0, which in wasm is memory like any other.
    at() {
      if (!this.p) throw new Error('edgetrace: this core was freed');
      return this.p;
    }
    cmd_buffer(cap, keep) {
      return x.et_cmd_buffer(this.at(), cap, keep) >>> 0;
    }
    run(len) {
      return x.et_run(this.at(), len) >>> 0;
    }
    take_batch(protobuf) {
      return taken(x.et_take_batch(this.at(), protobuf ? 1 : 0));
    }
    write_stats() {
      return x.et_write_stats(this.at()) >>> 0;
    }
    last_error() {
      const b = taken(x.et_last_error(this.at()));
      return b && decoder.decode(b);
    }
    free() {
      if (this.p) x.et_free(this.p);
      this.p = 0;
    }
  }
  return { Core, memory: () => x.memory };
}
