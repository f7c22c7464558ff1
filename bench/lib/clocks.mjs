// The clocks the Node per-span rounds are measured by (bench/node-spans.mjs), in ms.

/**
 * The process's CPU time, user + system (`process.cpuUsage`): what per-span CPU means, and what
 * the host's other work does not add to while the process waits for a core. It counts V8's
 * helper threads too (concurrent GC, compilers), as the cost of the library whose work they do.
 * A helper thread's last few ms can be folded in late (the kernel accounts a running thread's
 * time at its next tick), so a round should last well over that.
 */
export const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Wall time. */
export const wallNow = () => performance.now();
