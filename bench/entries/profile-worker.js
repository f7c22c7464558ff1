// The Worker bench/profile-runtimes.mjs profiles in workerd. Loaded unbundled from
// bench/out/prof/ (next to a copy of the named package and of scenarios.mjs), so every function
// keeps its name and its file. GET /?scenario=&ops= runs a round; GET /drain empties its queue.
import * as et from './pkg/workerd.js';
import { edgetraceRound } from './scenarios.mjs';

let pending = async () => {};
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/drain') await pending();
    else pending = (await edgetraceRound(et, url.searchParams.get('scenario'), Number(url.searchParams.get('ops')), () => Date.now())).drain;
    return new Response('ok');
  },
};
