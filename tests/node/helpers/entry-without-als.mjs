// The package wired as in a browser or a Worker without nodejs_compat: no AsyncLocalStorage.
import { readFileSync } from 'node:fs';
import { Core, initSync } from '../../../pkg/core/edgetrace.js';
import { _setRuntime } from '../../../pkg/edgetrace.js';

_setRuntime({
  loader: () => {
    const exports = initSync({ module: readFileSync(new URL('../../../pkg/core/edgetrace_bg.wasm', import.meta.url)) });
    return { Core, memory: () => exports.memory };
  },
});

export {
  flush, getCurrentActiveSpan, getLastActiveTraceId, init, SpanType, startSpan, trace, updateCurrentTrace, withSpan,
} from '../../../pkg/edgetrace.js';
export { traceFetch } from '../../../pkg/fetch.js';
