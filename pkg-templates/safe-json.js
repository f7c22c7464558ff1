// Turning arbitrary JS values into JSON text without ever throwing.
//
// Cycles become "[Circular]", BigInt a decimal string, functions "[Function name]", symbols their
// description, DOM nodes "[Node NAME]", Errors {name, message, stack}, Map an object, Set an array,
// typed arrays and ArrayBuffers a short description. Anything else JSON.stringify refuses becomes
// a string describing it. `warn` is called once per kind of odd value.

const ODD = new Set();

function describeNode(v) {
  const name = v.nodeName || v.constructor?.name || 'Node';
  return `[Node ${name}]`;
}

function isNode(v) {
  return typeof Node !== 'undefined' && v instanceof Node;
}

/**
 * JSON text for `value`; never throws.
 * @param {unknown} value
 * @param {(msg: string) => void} [warn]
 * @returns {string}
 */
export function safeStringify(value, warn) {
  const seen = [];
  const note = (kind) => {
    if (warn && !ODD.has(kind)) {
      ODD.add(kind);
      warn(`edgetrace: ${kind} values are recorded as strings`);
    }
  };
  function replacer(key, v) {
    // `this` is the holder; keep `seen` as the chain of ancestors of the current value.
    while (seen.length && seen[seen.length - 1] !== this) seen.pop();
    switch (typeof v) {
      case 'bigint':
        note('BigInt');
        return v.toString();
      case 'function':
        note('function');
        return `[Function ${v.name || 'anonymous'}]`;
      case 'symbol':
        note('symbol');
        return v.toString();
      case 'undefined':
        return key === '' ? null : undefined;
      case 'object': {
        if (v === null) return v;
        if (seen.includes(v)) {
          note('circular');
          return '[Circular]';
        }
        if (isNode(v)) {
          note('DOM node');
          return describeNode(v);
        }
        if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
          return `[${v.constructor.name} ${v.byteLength} bytes]`;
        }
        let r = v;
        if (v instanceof Error) r = { name: v.name, message: v.message, stack: v.stack };
        else if (v instanceof Map) r = Object.fromEntries(Array.from(v, ([k, x]) => [String(k), x]));
        else if (v instanceof Set) r = Array.from(v);
        // The value stands for itself among the ancestors; a replacement is the holder of its
        // children, so both go on the chain.
        seen.push(v);
        if (r !== v) seen.push(r);
        return r;
      }
      default:
        return v;
    }
  }
  try {
    const out = JSON.stringify(value, replacer);
    return out === undefined ? 'null' : out;
  } catch (e) {
    note('unserialisable');
    try {
      return JSON.stringify(String(value));
    } catch {
      return '"[unserialisable]"';
    }
  }
}

/** A thrown value's message, read so that reading it cannot throw in turn (a thrown proxy can). */
export function errText(e) {
  try {
    return String(e?.message || e);
  } catch {
    return '?';
  }
}
