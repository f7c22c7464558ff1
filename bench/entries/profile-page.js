// The page bench/profile-runtimes.mjs profiles in Chromium. Served unbundled from
// bench/out/prof/ (next to a copy of the named package and of scenarios.mjs), so every function
// keeps its name and its file.
import * as et from './pkg/browser.js';
import { edgetraceRound } from './scenarios.mjs';

let pending = async () => {};
window.runRound = async (scenario, ops) => {
  const r = await edgetraceRound(et, scenario, ops, () => performance.now());
  pending = r.drain;
  return r.ms;
};
window.drain = () => pending();
window.profReady = true;
