#!/usr/bin/env node
// Load test of a Tessera node's OpenAI-compatible API: N concurrent streaming clients for M seconds, each sending
// one streamed /v1/completions request after another. Reports throughput, time to first token (TTFT) and the
// time between tokens (p50 / p99), and errors. Loopback only, bounded in clients and time. No dependencies.
// One request per client runs first, uncounted, so JIT warm-up is not measured.
// Hostile company while the clients measure: --abandon K keeps K clients that send non-streamed 1024-token requests
// and leave after 0.5 s, again and again; --half-open K keeps K connections whose request headers never complete.
//   node tools/loadtest/loadtest.mjs [--url http://127.0.0.1:8080] [--model default] [--clients 8] [--seconds 30]
//                                    [--max-tokens 64] [--key API_KEY] [--abandon 0] [--half-open 0]
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { flags, loopbackOnly, pct } from './stats.mjs';

const args = flags();
const url = new URL(args.url ?? 'http://127.0.0.1:8080');
const model = args.model ?? 'default';
const clients = Number(args.clients ?? 8);
const seconds = Number(args.seconds ?? 30);
const maxTokens = Number(args['max-tokens'] ?? 64);
loopbackOnly(url, 'loadtest');
const abandoning = Number(args.abandon ?? 0);
const halfOpen = Number(args['half-open'] ?? 0);
if (!(clients >= 1 && clients <= 256) || !(seconds >= 1 && seconds <= 600) || !(maxTokens >= 1 && maxTokens <= 4096)
    || !(abandoning >= 0 && abandoning <= 256) || !(halfOpen >= 0 && halfOpen <= 1000)) {
  console.error('loadtest: --clients 1-256, --seconds 1-600, --max-tokens 1-4096, --abandon 0-256, --half-open 0-1000');
  process.exit(2);
}

let ttft = [];
let gaps = [];
let tokens = 0;
let requests = 0;
const errors = {};
let end = Infinity;

async function once(id, n) {
  const start = performance.now();
  const response = await fetch(new URL('/v1/completions', url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(args.key ? { Authorization: `Bearer ${args.key}` } : {}) },
    body: JSON.stringify({ model, prompt: `Client ${id}, request ${n}:`, max_tokens: maxTokens, temperature: 0.7,
      seed: id * 100000 + n, stream: true, stream_options: { include_usage: true } }),
  });
  if (response.status !== 200) {
    throw new Error(`HTTP ${response.status}`);
  }
  let last = null;
  let buffer = '';
  let done = false;
  const decoder = new TextDecoder();
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!event.startsWith('data: ')) continue;
      if (event === 'data: [DONE]') { done = true; continue; }
      const chunk = JSON.parse(event.slice(6));
      if (chunk.error) throw new Error(`stream error: ${chunk.error.message}`);
      if (chunk.usage) tokens += chunk.usage.completion_tokens;
      if (chunk.choices?.length) {
        const now = performance.now();
        if (last === null) ttft.push(now - start); else gaps.push(now - last);
        last = now;
      }
    }
  }
  if (!done) throw new Error('stream ended without [DONE]');
  requests++;
}

async function client(id) {
  for (let n = 0; performance.now() < end; n++) {
    try {
      await once(id, n);
    } catch (e) {
      const key = String(e.message ?? e);
      errors[key] = (errors[key] ?? 0) + 1;
    }
  }
}

/** A socket that writes `text` and is closed after `ms` (or stays until the server closes it, then reopens). */
const hostile = { abandoned: 0, halfOpen: 0, running: true };
function abandoner(id) {
  if (!hostile.running) return;
  const body = JSON.stringify({ model, prompt: `Abandoned ${id}:`, max_tokens: 1024, temperature: 0.7 });
  const s = net.connect(Number(url.port || 80), url.hostname, () => {
    s.write(`POST /v1/completions HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    setTimeout(() => { s.destroy(); hostile.abandoned++; abandoner(id); }, 500);
  });
  s.on('error', () => { });
}
function halfOpener() {
  if (!hostile.running) return;
  const s = net.connect(Number(url.port || 80), url.hostname, () => {
    s.write(`POST /v1/completions HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: appl`);   // never finished
    hostile.halfOpen++;
  });
  s.on('error', () => { });
  s.on('close', () => setTimeout(halfOpener, 100));   // the server's idle timeout closed it: open another
  s.resume();
}

await Promise.all(Array.from({ length: clients }, (_, i) => once(i, -1)));   // warm-up, not counted
for (let i = 0; i < abandoning; i++) abandoner(i);
for (let i = 0; i < halfOpen; i++) halfOpener();
ttft = [];
gaps = [];
tokens = 0;
requests = 0;
const began = performance.now();
end = began + seconds * 1000;
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
const elapsed = (performance.now() - began) / 1000;
hostile.running = false;
const report = {
  url: url.origin, model, clients, seconds: Number(elapsed.toFixed(1)), max_tokens: maxTokens, requests, tokens,
  abandoned_requests: hostile.abandoned, half_open_connections: hostile.halfOpen,
  tokens_per_second: Number((tokens / elapsed).toFixed(1)),
  ttft_ms: { p50: Number(pct(ttft, 50).toFixed(1)), p99: Number(pct(ttft, 99).toFixed(1)) },
  inter_token_ms: { p50: Number(pct(gaps, 50).toFixed(1)), p99: Number(pct(gaps, 99).toFixed(1)) },
  errors: Object.values(errors).reduce((a, b) => a + b, 0), error_kinds: errors,
};
console.log(JSON.stringify(report, null, 2));
process.exit(report.errors ? 1 : 0);
