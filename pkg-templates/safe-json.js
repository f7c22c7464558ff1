// Turning arbitrary JS values into JSON text without ever throwing.
//
// Cycles become "[Circular]", BigInt a decimal string, functions "[Function name]", symbols their
// description, DOM nodes "[Node NAME]", Errors {name, message, stack}, Map an object, Set an array,
// typed arrays and ArrayBuffers a short description. Anything else JSON.stringify refuses becomes
// a string describing it, and a part of an object or array that throws when read a string
// saying so. `warn` is told of each kind of odd value (the JS layer's warn says each text once).

/**
 * JSON text for `value`; never throws.
 * @param {unknown} value
 * @param {(msg: string) => void} [warn]
 * @param {object[]} [ancestors] objects being written part by part around this value
 * @returns {string}
 */
export function safeStringify(value, warn, ancestors = []) {
  const seen = [];
  const note = (kind) => warn?.(`${kind} values are recorded as strings`);
  function replacer(key, v) {
    // `this` is the holder; keep `seen` as the chain of ancestors of the current value.
    while (seen.length && seen[seen.length - 1] !== this) seen.pop();
    switch (typeof v) {
      case 'bigint':
      case 'symbol':
        note(typeof v); // "bigint values are recorded as strings": 12n as "12", Symbol('x') as "Symbol(x)"
        return v.toString();
      case 'function':
        // An object's own `constructor` (Next.js's Edge sandbox gives its streams one) is left
        // out, as JSON.stringify leaves out every function.
        if (key == 'constructor') return;
        note('function');
        return `[Function ${v.name || 'anonymous'}]`;
      case 'undefined':
        return key === '' ? null : undefined;
      case 'object': {
        if (v === null) return v;
        if (seen.includes(v)) {
          note('circular');
          return '[Circular]';
        }
        if (typeof Node != 'undefined' && v instanceof Node) {
          note('DOM node');
          return `[Node ${v.nodeName}]`;
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
  } catch {
    note('unserialisable');
    try {
      // Only an object (or array) gets here: a part of it that throws when read (a getter,
      // toJSON, a proxy's trap) spoils only itself, as the object is written part by part, so one
      // such argument of a traced function leaves the others readable. `ancestors` ends a cycle
      // through objects written so; past 8 levels (where JSON.stringify ran out of stack, say)
      // the value is unserialisable.
      if (ancestors.includes(value)) return '"[Circular]"';
      if (ancestors.length > 8) return '"[unserialisable]"';
      const part = (k) => {
        try {
          return safeStringify(value[k], warn, [...ancestors, value]);
        } catch (e) {
          return JSON.stringify(`[threw: ${errText(e)}]`);
        }
      };
      const keys = Object.keys(value);
      return Array.isArray(value) ? `[${keys.map(part)}]` : `{${keys.map((k) => JSON.stringify(k) + ':' + part(k))}}`;
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
