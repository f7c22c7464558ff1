// The command line shared by the tools that count something over a scenario's rounds in a child
// process (bench/lib/rounds.mjs), for a few rounds and for more, and report the difference per
// span of the extra rounds: bench/instructions.mjs and bench/garbage.mjs.
//   TOOL DIR [DIR…] [--scenario root5] [--ops N] [--rounds 2,8] [FLAG…]
import { fileURLToPath } from 'node:url';
import { opsFor, SCENARIOS } from './scenarios.mjs';

/** The script that runs the rounds. */
export const ROUNDS_SCRIPT = fileURLToPath(new URL('./rounds.mjs', import.meta.url));

/**
 * Reads the arguments of `tool` (its usage line shows `defaultOps` and `flags`). Exits with the
 * usage when they do not name a package, a known scenario, and more rounds than few.
 * @returns {{ id: string, ops: number, few: number, more: number, dirs: string[], flags: Set<string>, spans: number }}
 *   `spans`: the spans of the extra rounds, what a difference is divided by
 */
export function roundsArgs(tool, defaultOps, flags = []) {
  const argv = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv.splice(i, 2)[1] : dflt;
  };
  const id = opt('scenario', 'root5');
  const ops = Number(opt('ops', String(defaultOps)));
  const [few, more] = opt('rounds', '2,8').split(',').map(Number);
  const given = new Set(argv.filter((a) => flags.includes(a)));
  const dirs = argv.filter((a) => !flags.includes(a));
  const sc = SCENARIOS.find((s) => s.id === id);
  if (!dirs.length || !sc || !(more > few)) {
    const extra = flags.map((f) => ` [${f}]`).join('');
    console.error(`usage: node bench/${tool}.mjs DIR [DIR…] [--scenario root5] [--ops ${defaultOps}] [--rounds 2,8]${extra}`);
    process.exit(2);
  }
  return { id, ops, few, more, dirs, flags: given, spans: (more - few) * opsFor(sc, ops) * sc.spans };
}
