// A benchmark's library process: forked from the benchmark's own script (`--child <who>`), asked
// for one round at a time by message, answering each with one message (bench/node-spans.mjs,
// bench/payload-faults.mjs).
import { fork } from 'node:child_process';

/**
 * Forks `script` with `args` (and --expose-gc); returns `{ child, next, ask }`: `next()` resolves
 * with the child's next message, `ask(msg)` sends `msg` and resolves with the answer. A child that
 * exits with an error ends the benchmark, naming `who`.
 */
export function forkChild(script, args, who) {
  const child = fork(script, args, { execArgv: ['--expose-gc'] });
  const replies = [];
  const waiting = [];
  child.on('message', (m) => (waiting.length ? waiting.shift()(m) : replies.push(m)));
  child.once('exit', (code) => {
    if (code) throw new Error(`the ${who} process exited with ${code}`);
  });
  const next = () => new Promise((ok) => (replies.length ? ok(replies.shift()) : waiting.push(ok)));
  return { child, next, ask: (msg) => (child.send(msg), next()) };
}
