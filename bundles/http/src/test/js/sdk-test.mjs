// Real OpenAI client SDKs against a running Tessera node: the official `openai` package and the Vercel AI SDK
// (`ai` + `@ai-sdk/openai-compatible`). Run by io.tessera.itest.HttpApiTest after `npm ci`:
//   TESSERA_BASE_URL=http://127.0.0.1:PORT/v1 TESSERA_MODEL=<fixture model> TESSERA_ECHO_MODEL=echo node sdk-test.mjs
// The fixture model's weights are random, so its text is noise: tests compare the SDKs with each other and with
// greedy determinism. The echo model answers with the text after "REPLY:" in the last message (a test double for
// the model only), which is how the tool-call tests make it emit MiMo's XML tool calls. Exits 1 on any failure.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { generateText, generateObject, streamText, tool, jsonSchema } from 'ai';
import { z } from 'zod';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';

const baseURL = process.env.TESSERA_BASE_URL;
const model = process.env.TESSERA_MODEL;
const echo = process.env.TESSERA_ECHO_MODEL;
assert.ok(baseURL && model && echo, 'set TESSERA_BASE_URL, TESSERA_MODEL and TESSERA_ECHO_MODEL');

const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
const provider = createOpenAICompatible({ name: 'tessera', baseURL, apiKey: 'unused' });
const structured = createOpenAICompatible({ name: 'tessera', baseURL, apiKey: 'unused', supportsStructuredOutputs: true });

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather forecast for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
};
const call = (city, days) => `REPLY:<tool_call>\n<function=get_weather>\n<parameter=city>\n${city}\n</parameter>\n`
  + `<parameter=days>\n${days}\n</parameter>\n</function>\n</tool_call>`;
const hello = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }];

const tests = [];
const test = (name, fn) => tests.push([name, fn]);

let greedy;   // the fixture model's greedy answer to `hello`, as the openai SDK got it

test('openai: chat completion', async () => {
  const r = await client.chat.completions.create({ model, messages: hello, max_tokens: 12, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 12);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  greedy = r.choices[0].message.content;
});

test('openai: streaming gives the same greedy text, then usage, then [DONE]', async () => {
  const stream = await client.chat.completions.create({
    model, messages: hello, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(text, greedy);
  assert.ok(['stop', 'length'].includes(finish));
  assert.ok(usage && usage.completion_tokens > 0, 'the final chunk carries usage');
});

test('openai: logprobs with top_logprobs', async () => {
  const r = await client.chat.completions.create({
    model, messages: hello, max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 3);
    assert.ok(t.logprob <= 0);
    assert.ok(Math.abs(t.logprob - t.top_logprobs[0].logprob) < 1e-5, 'greedy picks the most likely token');
  }
});

test('openai: tool call parsed from the model\'s XML, typed by the schema', async () => {
  const r = await client.chat.completions.create({
    model: echo, messages: [{ role: 'user', content: call('Paris', 3) }], tools: [weather],
  });
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(m.tool_calls.length, 1);
  assert.equal(m.tool_calls[0].type, 'function');
  assert.equal(m.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(m.tool_calls[0].function.arguments), { city: 'Paris', days: 3 });
});

test('openai: streamed tool call', async () => {
  const stream = await client.chat.completions.create({
    model: echo, messages: [{ role: 'user', content: call('Oslo', 5) }], tools: [weather], stream: true,
  });
  const calls = [];
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      for (const d of c.delta.tool_calls ?? []) {
        calls[d.index] ??= { name: '', arguments: '' };
        calls[d.index].name += d.function?.name ?? '';
        calls[d.index].arguments += d.function?.arguments ?? '';
      }
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].arguments), { city: 'Oslo', days: 5 });
});

test('openai: a call that breaks the schema is reported, not passed on', async () => {
  const r = await client.chat.completions.create({
    model: echo, messages: [{ role: 'user', content: call('Rome', 'three') }], tools: [weather],
  });
  const m = r.choices[0].message;
  assert.equal(m.tool_calls, undefined);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(m.invalid_tool_calls.length, 1);
  assert.match(m.invalid_tool_calls[0].error, /days/);
});

test('openai: tool results go back into the conversation', async () => {
  const r = await client.chat.completions.create({
    model: echo, tools: [weather], messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'user', content: 'REPLY:It is sunny.' },
    ],
  });
  assert.equal(r.choices[0].message.content, 'It is sunny.');
});

test('openai: unknown model is a 404 error the SDK raises', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: hello }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
});

test('ai-sdk: generateText equals the openai SDK\'s greedy text', async () => {
  const r = await generateText({
    model: provider.chatModel(model), system: 'You are terse.', prompt: 'Say hello.', maxOutputTokens: 12,
    temperature: 0,
  });
  assert.equal(r.text, greedy);
  assert.ok(r.usage.outputTokens > 0);
});

test('ai-sdk: streamText', async () => {
  const r = streamText({
    model: provider.chatModel(model), system: 'You are terse.', prompt: 'Say hello.', maxOutputTokens: 12,
    temperature: 0,
  });
  let text = '';
  for await (const part of r.textStream) text += part;
  assert.equal(text, greedy);
});

const weatherTool = tool({
  description: 'Weather forecast for a city',
  inputSchema: jsonSchema(weather.function.parameters),
});

test('ai-sdk: generateText tool call', async () => {
  const r = await generateText({
    model: provider.chatModel(echo), prompt: call('Lima', 2), tools: { get_weather: weatherTool },
  });
  assert.equal(r.toolCalls.length, 1);
  assert.equal(r.toolCalls[0].toolName, 'get_weather');
  assert.deepEqual(r.toolCalls[0].input, { city: 'Lima', days: 2 });
  assert.equal(r.finishReason, 'tool-calls');
});

test('ai-sdk: streamText tool call', async () => {
  const r = streamText({
    model: provider.chatModel(echo), prompt: call('Kyiv', 7), tools: { get_weather: weatherTool },
  });
  const calls = await r.toolCalls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].toolName, 'get_weather');
  assert.deepEqual(calls[0].input, { city: 'Kyiv', days: 7 });
});

// Structured outputs on the random-weight fixture: whatever its weights, the grammar makes the answer valid. The
// schemas are bounded (enums, ranges, short strings), so the grammar also makes every answer end.
const forecast = {
  type: 'object',
  properties: {
    city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
    note: { type: 'string', maxLength: 6 },
  },
  required: ['city', 'days'],
  additionalProperties: false,
};
const checkForecast = (v) => {
  assert.ok(['Paris', 'Oslo', 'Lima'].includes(v.city), JSON.stringify(v));
  assert.ok(Number.isInteger(v.days) && v.days >= 1 && v.days <= 7, JSON.stringify(v));
  assert.ok(v.note === undefined || (typeof v.note === 'string' && [...v.note].length <= 6), JSON.stringify(v));
  assert.deepEqual(Object.keys(v).filter((k) => !['city', 'days', 'note'].includes(k)), []);
};
const boundedWeather = { type: 'function', function: { name: 'get_weather', description: 'Weather forecast',
  parameters: forecast } };

test('openai: response_format json_schema (strict) gives JSON that validates', async () => {
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({
      model, messages: hello, max_tokens: 400, temperature: 1, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'forecast', schema: forecast, strict: true } },
    });
    assert.equal(r.choices[0].finish_reason, 'stop');
    checkForecast(JSON.parse(r.choices[0].message.content));
  }
});

test('openai: response_format json_object gives a JSON object where it stops', async () => {
  const r = await client.chat.completions.create({
    model, messages: hello, max_tokens: 300, temperature: 0, response_format: { type: 'json_object' },
  });
  const choice = r.choices[0];
  assert.ok(['stop', 'length'].includes(choice.finish_reason));
  if (choice.finish_reason === 'stop') {
    const v = JSON.parse(choice.message.content);
    assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v));
  }
});

test('openai: an unsupported schema keyword is a 400 naming it', async () => {
  await assert.rejects(client.chat.completions.create({
    model, messages: hello, response_format: { type: 'json_schema', json_schema: { name: 'x',
      schema: { type: 'object', patternProperties: { '^a': { type: 'string' } } } } },
  }), (e) => e instanceof OpenAI.BadRequestError && /patternProperties/.test(e.message));
});

test('openai: tool_choice naming a function forces a valid call of it', async () => {
  for (const parallel of [false, true]) {
    const r = await client.chat.completions.create({
      model, messages: hello, max_tokens: 400, temperature: 1, seed: 5, parallel_tool_calls: parallel,
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
        boundedWeather], tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const m = r.choices[0].message;
    // parallel calls may go on until max_tokens cuts the last one (which then is an invalid_tool_call)
    assert.ok(parallel ? ['tool_calls', 'length'].includes(r.choices[0].finish_reason)
      : r.choices[0].finish_reason === 'tool_calls', JSON.stringify(m));
    assert.ok(parallel ? m.tool_calls.length >= 1 : m.tool_calls.length === 1, JSON.stringify(m));
    for (const c of m.tool_calls) {
      assert.equal(c.function.name, 'get_weather');
      checkForecast(JSON.parse(c.function.arguments));
    }
  }
});

test('openai: tool_choice required calls one of the tools', async () => {
  const r = await client.chat.completions.create({
    model, messages: hello, max_tokens: 400, temperature: 1, seed: 6, parallel_tool_calls: false,
    tools: [boundedWeather], tool_choice: 'required',
  });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(r.choices[0].message.tool_calls.length, 1);
  checkForecast(JSON.parse(r.choices[0].message.tool_calls[0].function.arguments));
});

test('openai: logit_bias +100 makes greedy decoding pick that token', async () => {
  const first = await client.chat.completions.create({
    model, messages: hello, max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 5,
  });
  const r = await client.chat.completions.create({
    model, messages: hello, max_tokens: 4, temperature: 0, logprobs: true, logit_bias: { 42: 100 },
  });
  const tokens = r.choices[0].logprobs.content;
  assert.equal(tokens.length, 4);
  assert.ok(tokens.every((t) => t.token === tokens[0].token), JSON.stringify(tokens));
  assert.notEqual(tokens[0].token, first.choices[0].logprobs.content[0].token, 'the bias changed the choice');
});

test('ai-sdk: generateObject with a zod schema', async () => {
  const r = await generateObject({
    model: structured.chatModel(model), prompt: 'The weather, please.', maxOutputTokens: 400, temperature: 1,
    seed: 7, schema: z.object({ city: z.enum(['Paris', 'Oslo', 'Lima']), days: z.number().int().min(1).max(7),
      sunny: z.boolean() }),
  });
  assert.ok(['Paris', 'Oslo', 'Lima'].includes(r.object.city));
  assert.ok(Number.isInteger(r.object.days) && r.object.days >= 1 && r.object.days <= 7);
  assert.equal(typeof r.object.sunny, 'boolean');
});

let failed = 0;
for (const [name, fn] of tests) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}
console.log(`${tests.length - failed}/${tests.length} passed`);
process.exit(failed ? 1 : 0);
