// Prefill and decode tokens/s of a GGUF model with node-llama-cpp (llama.cpp's prebuilt CPU binaries), measured
// the way Tessera's `bench` measures: a seeded random prompt of N ids, greedy; prefill = start to the first
// generated token, decode = first to last generated token; median, min and max of the runs after a warm-up.
//
// Setup (in a scratch folder, outside the repository):  npm install node-llama-cpp@3.22.1
// Run:  node llama_cpp_bench.mjs --model M.gguf [--threads 2] [--prompt-tokens 128] [--gen-tokens 64]
//                                [--runs 3] [--warmup 1] [--seed 0] [--kv f32|f16]
// (NODE_PATH does not apply to ES modules: run it from, or copy it into, the folder holding node_modules.)
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const defaults = {model: "", threads: "2", "prompt-tokens": "128", "gen-tokens": "64", runs: "3", warmup: "1",
    seed: "0", kv: "f32"};
const args = {...defaults};
for (let i = 2; i < process.argv.length; i += 2) {
    const key = process.argv[i].replace(/^--/, "");
    if (!(key in defaults) || i + 1 >= process.argv.length) {
        throw new Error(`unknown or incomplete option ${process.argv[i]}; options: ${Object.keys(defaults).join(", ")}`);
    }
    args[key] = process.argv[i + 1];
}
if (!args.model) throw new Error("--model is required");
const threads = Number(args.threads), promptTokens = Number(args["prompt-tokens"]), genTokens = Number(args["gen-tokens"]);
const runs = Number(args.runs), warmup = Number(args.warmup), kv = args.kv.toUpperCase();
if (!["F32", "F16"].includes(kv)) throw new Error("--kv must be f32 or f16");

// mulberry32: a small seeded generator, so the prompt is reproducible
function random(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6D2B79F5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const llama = await getLlama({gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.warn});
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0});
const nVocab = model.fileInfo.metadata[model.fileInfo.metadata.general.architecture].vocab_size
    ?? model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const next = random(Number(args.seed));
const prompt = Array.from({length: promptTokens}, () => Math.floor(next() * nVocab));
const context = await model.createContext({
    contextSize: promptTokens + genTokens + 64, batchSize: promptTokens, sequences: 1,
    threads: {ideal: threads, min: threads}, flashAttention: false,
    experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv,
});
const sequence = context.getSequence();
console.log(`llama.cpp (node-llama-cpp) ${args.model}: arch ${model.fileInfo.metadata.general.architecture}, ` +
    `prompt ${promptTokens} random ids (vocab ${nVocab}), ${genTokens} new tokens, greedy, threads ${threads}, ` +
    `flash attention off, KV ${kv}, ${warmup} warm-up + ${runs} runs`);

const prefill = [], decode = [];
for (let r = -warmup; r < runs; r++) {
    await sequence.clearHistory();
    const start = performance.now();
    let first = 0, generated = 0;
    for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
        generated++;
        if (generated === 1) first = performance.now();
        if (generated >= genTokens) break;
    }
    const end = performance.now();
    const p = promptTokens / ((first - start) / 1000), d = (generated - 1) / ((end - first) / 1000);
    const label = r < 0 ? `warm-up ${r + warmup + 1}/${warmup}` : `run ${r + 1}/${runs}`;
    console.log(`  ${label}: prefill ${p.toFixed(2)} tok/s, decode ${d.toFixed(2)} tok/s (${generated} tokens)`);
    if (r >= 0) {
        prefill.push(p);
        decode.push(d);
    }
}

function stats(values) {
    const s = [...values].sort((a, b) => a - b), n = s.length;
    const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    return `median ${median.toFixed(2)} (min ${s[0].toFixed(2)}, max ${s[n - 1].toFixed(2)})`;
}
console.log(`llama.cpp: prefill ${stats(prefill)} tok/s; decode ${stats(decode)} tok/s`);
await context.dispose();
await model.dispose();
await llama.dispose();
