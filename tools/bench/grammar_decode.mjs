// Decode tok/s with and without a grammar (response_format json_object / json_schema) on a running node, over
// loopback. Not a test: it prints figures. A request's rate is its completion tokens over its whole time (the
// prompt is a few tokens; streamed chunks coalesce on a busy machine, so they are not timed). The formats take
// turns request by request, so a busy machine's drift hits them alike. json_schema_long forces a long string, so
// its outputs run to max_tokens as the unconstrained ones do (json_object and json_schema stop early).
//   node tools/bench/grammar_decode.mjs [--url http://127.0.0.1:8080] [--requests 8] [--max-tokens 128]
import os from 'node:os';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
const url = args.url ?? 'http://127.0.0.1:8080';
const requests = Number(args.requests ?? 8);
const maxTokens = Number(args['max-tokens'] ?? 128);
const schema = {type: 'object', properties: {name: {type: 'string'}, items: {type: 'array', items: {type: 'integer'}}},
  required: ['name', 'items']};
const formats = {
  none: undefined,
  json_object: {type: 'json_object'},
  json_schema: {type: 'json_schema', json_schema: {name: 'bench', schema, strict: true}},
  json_schema_long: {type: 'json_schema', json_schema: {name: 'long', strict: true, schema: {type: 'object',
    properties: {text: {type: 'string', minLength: 4000}}, required: ['text']}}},
};

async function one(format, seed) {
  const body = {model: 'default', prompt: 'public static int max(', max_tokens: maxTokens, temperature: 0.7, seed,
    ...(format ? {response_format: format} : {})};
  const start = performance.now();
  const response = await fetch(url + '/v1/completions', {method: 'POST', body: JSON.stringify(body)});
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  const tokens = (await response.json()).usage.completion_tokens;
  return {tokens, seconds: (performance.now() - start) / 1000};
}

const load = () => os.loadavg().map(l => l.toFixed(2)).join(' ');
console.log(`load average before: ${load()}`);
const rates = Object.fromEntries(Object.keys(formats).map(name => [name, []]));
const totals = Object.fromEntries(Object.keys(formats).map(name => [name, 0]));
for (const format of Object.values(formats)) {
  await one(format, 0);   // warm-up: JIT, and the grammar's masks for this format
}
for (let i = 1; i <= requests; i++) {
  for (const [name, format] of Object.entries(formats)) {
    const r = await one(format, i);
    if (r.tokens > 0) rates[name].push(r.tokens / r.seconds);
    totals[name] += r.tokens;
  }
}
for (const [name, list] of Object.entries(rates)) {
  list.sort((a, b) => a - b);
  console.log(`${name.padEnd(16)} ${requests} requests, ${totals[name]} tokens, decode tok/s median ${
    list[Math.floor(list.length / 2)]?.toFixed(1)} (min ${list[0]?.toFixed(1)}, max ${list.at(-1)?.toFixed(1)})`);
}
console.log(`load average after: ${load()}`);

