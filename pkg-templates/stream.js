// Passing a response body through unchanged while tracing watches it.
//
// The caller reads exactly the source's chunks. `onChunk` sees each chunk after it is handed on;
// `onEnd(how, error)` runs once, before the caller sees the end, with how the stream ended.
// A fault in either callback never reaches the caller's stream.

/** How a watched body ended (numbers as the model API parsers' `finish_stream` takes them).
 * CANCELLED: its reader cancelled it (after the final event, as Mistral's and OpenRouter's SDKs
 * do on `[DONE]`, the parsers count it whole). ABANDONED: the app let it go, its request aborted
 * (an SDK's `break`) or the body collected unread: a cancellation whatever the parsers were
 * handed ahead of the app, which may be the whole answer when it came in one network read. */
export const BodyEnd = Object.freeze({ COMPLETED: 0, ERRORED: 1, CANCELLED: 2, ABANDONED: 3 });

/** The names of {@link BodyEnd} values, for span attributes. */
export const BODY_END_NAMES = Object.freeze(['completed', 'errored', 'cancelled', 'cancelled']);

// A body the app drops without reading it to its end or cancelling it would never end: when the
// stream is collected, it ends as cancelled (where the runtime has FinalizationRegistry). The
// registry holds only `end`, which holds neither stream. What it watches is the stream's
// underlying source, a plain object the stream keeps for as long as it lives, not the stream:
// in Chromium a ReadableStream is a platform object whose JS wrapper V8 may collect (and Blink
// make again) while the stream lives on and is read, so watching it ended about one stream in
// thirty as cancelled, mid-answer, when collections came while the app read it.
const HELD = new Set();
const DROPPED = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((end) => end(BodyEnd.ABANDONED)) : null;

/**
 * Whether `e` is the app's own abort (a chat's Stop button: `abort()` on the request's `signal`),
 * not a timeout (`AbortSignal.timeout()`'s `TimeoutError`) or a failure. A plain `abort()` counts
 * once the answer has `begun`: before it, the official SDKs' own timeouts abort the same way.
 * An abort with a reason of the app's own (what the read then rejects with) counts at any time.
 */
export const isUserAbort = (e, signal, begun) => (begun && e?.name === 'AbortError') || (!!signal?.aborted && sameError(e, signal.reason) && !/^(Abort|Timeout)Error$/.test(e?.name));
// The reason itself, or (workerd rejects with a copy of it) an error of its name and message.
const sameError = (e, r) => e === r || (e instanceof Error && r instanceof Error && e.name === r.name && e.message === r.message);

/**
 * @param {ReadableStream<Uint8Array>} source
 * `register`, when given, gets a function that ends the watch as abandoned (a Worker's request
 * ends what its app stopped reading); it holds neither stream.
 * `onPull`, when given, is told each time the reader asks for more.
 * `keep`, when given, is held until the watch ends (the Request whose `signal` it follows).
 * @param {{ onChunk?: (chunk: Uint8Array) => void, onEnd: (how: number, error?: unknown) => void, signal?: AbortSignal, register?: (abandon: () => void) => void, onPull?: () => void, keep?: object }} watcher
 * @returns {ReadableStream<Uint8Array>}
 */
export function watchBody(source, { onChunk, onEnd, signal, register, onPull, keep }) {
  let ended = false;
  // A Request's signal follows the app's only while the Request lives (Node's keeps the link in
  // it): the Request is held until the body ends, or an SDK that dropped it (the AWS SDK's) would
  // have the app's abort reach the span only if no collection came first.
  if (keep) HELD.add(keep);
  // The app's abort ends the watch even when nothing reads the body any more (an SDK's `break`
  // left it unread, then `abort()`: review s49d found such spans open until a collection).
  const onAbort = () => {
    const why = signal.reason;
    if (isUserAbort(why, signal, 1)) end(BodyEnd.ABANDONED);
    else end(BodyEnd.ERRORED, why);
  };
  const end = (how, error) => {
    if (ended) return;
    ended = true;
    HELD.delete(keep);
    signal?.removeEventListener?.('abort', onAbort);
    try {
      onEnd(how, error);
    } catch {
      /* tracing never breaks the caller's stream */
    }
  };
  signal?.addEventListener?.('abort', onAbort, { once: true });
  const underlying = underlyingSource(source.getReader(), end, onChunk, signal, onPull);
  const out = new ReadableStream(underlying);
  DROPPED?.register(underlying, end, underlying);
  register?.(() => end(BodyEnd.ABANDONED));
  return out;
}

// The source of the stream the caller reads. Its `pull` and `cancel` hold the object itself
// (their scope does), so it lives for as long as the stream can still call them, in any runtime,
// whether or not the runtime keeps the object too; `end`, made in watchBody's scope, does not hold
// it, or the registry, which holds `end`, would keep it forever.
function underlyingSource(reader, end, onChunk, signal, onPull) {
  const finish = (how, error) => {
    DROPPED?.unregister(underlying);
    end(how, error);
  };
  const underlying = {
    async pull(controller) {
      onPull?.();
      let r;
      try {
        r = await reader.read();
      } catch (e) {
        // The app's own abort ends the stream as cancelled, as cancelling its reader does; a
        // failure or a timeout is an error.
        if (isUserAbort(e, signal, 1)) finish(BodyEnd.ABANDONED);
        else finish(BodyEnd.ERRORED, e);
        controller.error(e);
        return;
      }
      if (r.done) {
        finish(BodyEnd.COMPLETED);
        controller.close();
        return;
      }
      controller.enqueue(r.value);
      if (onChunk) {
        try {
          onChunk(r.value);
        } catch {
          /* tracing never breaks the caller's stream */
        }
      }
    },
    cancel(reason) {
      // The openai and Anthropic SDKs leave a stream (`break`) by aborting its request.
      finish(signal?.aborted ? BodyEnd.ABANDONED : BodyEnd.CANCELLED);
      return reader.cancel(reason);
    },
  };
  return underlying;
}
