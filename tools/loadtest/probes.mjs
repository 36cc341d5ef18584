#!/usr/bin/env node
// Probe latency while long prefills run: one client sends prompts of about --prompt-tokens tokens (max_tokens 1,
// a different first line each time so no prefix is shared) one after another, while GET /health and GET /v1/models
// are sent --rate times a second each, every probe on a new connection as a Kubernetes probe does. Reports p50 / p99
// / max of the probes that ran while a prefill was in flight (from the second prefill on: the first one warms the JIT
// up), the prefills' length, and the load average before and after (the figure is only as good as the machine is
// quiet). Loopback only, bounded. No dependencies.
//   node tools/loadtest/probes.mjs [--url http://127.0.0.1:8080] [--model default] [--prompt-tokens 4000]
//                                  [--seconds 30] [--rate 10] [--key API_KEY]
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { flags, loopbackOnly, pct } from './stats.mjs';

const args = flags();
const url = new URL(args.url ?? 'http://127.0.0.1:8080');
const model = args.model ?? 'default';
const promptTokens = Number(args['prompt-tokens'] ?? 4000);
const seconds = Number(args.seconds ?? 30);
const rate = Number(args.rate ?? 10);
loopbackOnly(url, 'probes');
if (!(promptTokens >= 16 && promptTokens <= 32768) || !(seconds >= 1 && seconds <= 600) || !(rate >= 1 && rate <= 100)) {
  console.error('probes: --prompt-tokens 16-32768, --seconds 1-600, --rate 1-100');
  process.exit(2);
}
const auth = args.key ? { Authorization: `Bearer ${args.key}` } : {};

/** One request on a connection of its own; resolves to [status, body, milliseconds]. */
function request(path, body) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const r = http.request(new URL(path, url), {
      method: body ? 'POST' : 'GET', agent: false,
      headers: { ...auth, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    }, response => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', chunk => { text += chunk; });
      response.on('end', () => resolve([response.statusCode, text, performance.now() - start]));
    });
    r.on('error', reject);
    r.end(body);
  });
}

// the prompt: a sentence repeated as often as the model's tokenizer needs for --prompt-tokens, measured first
const sentence = 'The quick brown fox jumps over the lazy dog again. ';
async function tokensOf(prompt) {
  const [status, text] = await request('/v1/completions', JSON.stringify({ model, prompt, max_tokens: 1 }));
  if (status !== 200) {
    console.error(`probes: a short completion failed with HTTP ${status}: ${text.slice(0, 300)}`);
    process.exit(1);
  }
  return JSON.parse(text).usage.prompt_tokens;
}
const head = `Run 0 of ${process.pid}:\n`;
const perSentence = (await tokensOf(head + sentence.repeat(11))) - (await tokensOf(head + sentence));
const repeats = Math.max(1, Math.floor((promptTokens - 2 * (await tokensOf(head))) / (perSentence / 10)));
let prefilling = false;
let warm = false;   // the first prefill has ended
const prefills = [];
const promptLengths = [];
const errors = {};
const end = performance.now() + seconds * 1000;

async function prefiller() {
  for (let n = 0; performance.now() < end; n++) {
    const prompt = `Run ${n} of ${process.pid}:\n` + sentence.repeat(repeats);
    prefilling = true;
    try {
      const [status, text, ms] = await request('/v1/completions',
        JSON.stringify({ model, prompt, max_tokens: 1, temperature: 0 }));
      if (status !== 200) {
        console.error(`probes: the long completion failed with HTTP ${status}: ${text.slice(0, 300)}`);
        process.exit(1);
      }
      if (warm) prefills.push(ms);
      promptLengths.push(JSON.parse(text).usage.prompt_tokens);
      warm = true;
    } catch (e) {
      errors[e.message] = (errors[e.message] ?? 0) + 1;
    } finally {
      prefilling = false;
    }
  }
}

const probes = { '/health': [], '/v1/models': [] };
async function prober(path) {
  while (performance.now() < end) {
    const next = performance.now() + 1000 / rate;
    const during = prefilling && warm;
    try {
      const [status, , ms] = await request(path);
      if (status !== 200) throw new Error(`${path} HTTP ${status}`);
      if (during && prefilling) probes[path].push(ms);
    } catch (e) {
      errors[e.message] = (errors[e.message] ?? 0) + 1;
    }
    await new Promise(r => setTimeout(r, Math.max(0, next - performance.now())));
  }
}

const loadBefore = os.loadavg().map(x => Number(x.toFixed(2)));
await Promise.all([prefiller(), ...Object.keys(probes).map(prober)]);
const summary = xs => ({ count: xs.length, p50: Number(pct(xs, 50).toFixed(1)), p99: Number(pct(xs, 99).toFixed(1)),
  max: Number(Math.max(...xs).toFixed(1)) });
const report = {
  url: url.origin, model, seconds, rate, cpus: os.cpus().length, load_average_before: loadBefore,
  load_average_after: os.loadavg().map(x => Number(x.toFixed(2))),
  prefills: prefills.length, prompt_tokens: promptLengths.length ? Math.min(...promptLengths) : 0,
  prefill_ms: summary(prefills),
  probe_ms_during_prefill: Object.fromEntries(Object.entries(probes).map(([path, xs]) => [path, summary(xs)])),
  errors: Object.values(errors).reduce((a, b) => a + b, 0), error_kinds: errors,
};
console.log(JSON.stringify(report, null, 2));
process.exit(report.errors ? 1 : 0);
