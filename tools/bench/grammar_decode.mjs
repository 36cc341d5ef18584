// Decode tok/s with and without a grammar (response_format json_object / json_schema) on a running node, over
// loopback. Not a test: it prints figures. Streams each request and times the first to the last token.
//   node tools/bench/grammar_decode.mjs [--url http://127.0.0.1:8080] [--requests 8] [--max-tokens 128]
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
};

async function one(format, seed) {
  const body = {model: 'default', prompt: 'public static int max(', max_tokens: maxTokens, temperature: 0.7, seed,
    stream: true, stream_options: {include_usage: true}, ...(format ? {response_format: format} : {})};
  const response = await fetch(url + '/v1/completions', {method: 'POST', body: JSON.stringify(body)});
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  let first = 0, last = 0, tokens = 0, buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, {stream: true});
    let at;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, at); buffer = buffer.slice(at + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice(6));
      if (data.usage) tokens = data.usage.completion_tokens;
      if (data.choices?.length && data.choices[0].text) { last = performance.now(); if (!first) first = last; }
    }
  }
  return {tokens, seconds: (last - first) / 1000};
}

for (const [name, format] of Object.entries(formats)) {
  await one(format, 0);   // warm-up: JIT, and the grammar's masks for this format
  const rates = [];
  let total = 0;
  for (let i = 1; i <= requests; i++) {
    const r = await one(format, i);
    if (r.tokens > 1 && r.seconds > 0) rates.push((r.tokens - 1) / r.seconds);
    total += r.tokens;
  }
  rates.sort((a, b) => a - b);
  console.log(`${name.padEnd(12)} ${requests} requests, ${total} tokens, decode tok/s median ${
    rates[Math.floor(rates.length / 2)]?.toFixed(1)} (min ${rates[0]?.toFixed(1)}, max ${rates.at(-1)?.toFixed(1)})`);
}
