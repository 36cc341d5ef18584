// Shared by the load tools: command-line flags and percentiles.

/** `--name value` pairs of the command line, as an object. */
export const flags = () => Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));

/** The p-th percentile of xs (nearest rank), NaN when empty. */
export const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
};

/** Exits unless the URL is this machine's: the tools only load a local node. */
export function loopbackOnly(url, tool) {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    console.error(`${tool}: ${url.hostname} is not loopback; this tool only loads a local node`);
    process.exit(2);
  }
}
