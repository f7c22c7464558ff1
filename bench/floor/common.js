// What the floor stand-ins (bench/floor/node.js, bench/floor/browser.js) share: the span object,
// the package's calls they answer doing nothing, and ending a span when its callback's promise
// settles (a `.then`), as any tracer of this API must.
export class Span {
  constructor(parent) {
    this.parent = parent;
  }

  setAttributes() {
    return this;
  }
}

export function init() {}

export async function flush() {}

/** What `withSpan` returns for its callback's `result`: a promise is ended with a `.then`. */
export function settled(result) {
  if (typeof result?.then === 'function') {
    return result.then(
      (v) => v,
      (e) => {
        throw e;
      },
    );
  }
  return result;
}
