// The browser entry's wasm modules ship deflated, as base64 (scripts/build.mjs): base64 of the
// deflated module gzips to about the .wasm's own gzip size, where a string of its bytes is ~8 %
// bigger, and it is a third of that string's raw size. They are inflated with the browser's
// DecompressionStream and compiled asynchronously (off the main thread).

/** The bytes of a base64 text of raw-deflated data, inflated. Without DecompressionStream (Safari
 * before 16.4, Firefox before 113) it rejects with the runtime's own "DecompressionStream is not
 * defined", which says it as well as a check of ours would, in bytes the page loads. */
export async function inflateBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(inflated).arrayBuffer();
}
