package io.tessera.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.checkpoint.SafetensorsWriter.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * MiMo-V2-Flash-shaped checkpoints for tests, built from the tensor list of spec §2 (written out here
 * independently of {@link TensorValidator}, so a wrong rule there shows up as a failing test).
 */
final class TestModels {

    /** A loader that knows the MiMo-V2-Flash, Qwen3 and Llama families, as the OSGi runtime wires them. */
    static SafetensorsCheckpointLoader loader() {
        SafetensorsCheckpointLoader loader = new SafetensorsCheckpointLoader();
        loader.addArchitecture(new io.tessera.family.mimo.MiMoArchitecture(), java.util.Map.of(
                io.tessera.api.model.ModelArchitecture.ARCHITECTURE, "MiMoV2FlashForCausalLM",
                io.tessera.api.model.ModelArchitecture.MODEL_TYPE, "mimo_v2_flash"));
        loader.addArchitecture(new io.tessera.family.qwen3.Qwen3Architecture(), java.util.Map.of(
                io.tessera.api.model.ModelArchitecture.ARCHITECTURE,
                new String[] {"Qwen3ForCausalLM", "Qwen3MoeForCausalLM"},
                io.tessera.api.model.ModelArchitecture.MODEL_TYPE, new String[] {"qwen3", "qwen3_moe"}));
        loader.addArchitecture(new io.tessera.family.llama.LlamaArchitecture(), java.util.Map.of(
                io.tessera.api.model.ModelArchitecture.ARCHITECTURE, "LlamaForCausalLM",
                io.tessera.api.model.ModelArchitecture.MODEL_TYPE, "llama"));
        return loader;
    }
    static final ObjectMapper JSON = new ObjectMapper();

    /** Model dimensions; GA layers follow the spec rule (i == 0 or (i+1) % 6 == 0), layer 0 dense. */
    record Dims(int hidden, int vocab, int layers, int heads, int kv, int swaHeads, int swaKv, int headDim,
                int vHeadDim, int inter, int moeInter, int experts, int topk, int mtp, boolean fp8) {
        static Dims real() {
            return new Dims(4096, 152576, 48, 64, 4, 64, 8, 192, 128, 16384, 2048, 256, 8, 3, true);
        }

        /** Small, with dims that are not multiples of 128 so FP8 scale grids have partial edge blocks. */
        static Dims tiny(boolean fp8) {
            return new Dims(136, 40, 3, 4, 1, 4, 2, 8, 4, 200, 8, 4, 2, 1, fp8);
        }

        boolean ga(int layer) {
            return layer == 0 || (layer + 1) % 6 == 0;
        }
    }

    private TestModels() {
    }

    /** The hub config.json for these dims (keys as in spec §1). */
    static ObjectNode hubConfig(Dims d) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("MiMoV2FlashForCausalLM");
        c.put("model_type", "mimo_v2_flash");
        c.put("hidden_size", d.hidden()).put("vocab_size", d.vocab()).put("num_hidden_layers", d.layers());
        c.put("num_attention_heads", d.heads()).put("num_key_value_heads", d.kv());
        c.put("swa_num_attention_heads", d.swaHeads()).put("swa_num_key_value_heads", d.swaKv());
        c.put("head_dim", d.headDim()).put("swa_head_dim", d.headDim());
        c.put("v_head_dim", d.vHeadDim()).put("swa_v_head_dim", d.vHeadDim());
        c.put("partial_rotary_factor", 0.5).put("rope_theta", 5_000_000).put("swa_rope_theta", 10_000);
        c.putNull("rope_scaling");
        c.put("sliding_window", 4);
        ArrayNode pattern = c.putArray("hybrid_layer_pattern");
        ArrayNode moe = c.putArray("moe_layer_freq");
        for (int i = 0; i < d.layers(); i++) {
            pattern.add(d.ga(i) ? 0 : 1);
            moe.add(i == 0 ? 0 : 1);
        }
        c.put("add_swa_attention_sink_bias", true).put("add_full_attention_sink_bias", false);
        c.put("attention_value_scale", 0.707).put("attention_bias", false);
        c.put("intermediate_size", d.inter()).put("moe_intermediate_size", d.moeInter());
        c.put("n_routed_experts", d.experts()).put("num_experts_per_tok", d.topk()).putNull("n_shared_experts");
        c.put("scoring_func", "sigmoid").put("topk_method", "noaux_tc").put("n_group", 1).put("topk_group", 1);
        c.put("norm_topk_prob", true).putNull("routed_scaling_factor");
        c.put("hidden_act", "silu").put("layernorm_epsilon", 1e-5).put("max_position_embeddings", 262144);
        c.put("tie_word_embeddings", false).put("bos_token_id", 1).put("eos_token_id", 2);
        if (d.fp8()) {
            ObjectNode q = c.putObject("quantization_config");
            q.put("quant_method", "fp8").put("fmt", "e4m3").put("activation_scheme", "dynamic");
            q.putArray("weight_block_size").add(128).add(128);
            ArrayNode ignored = q.putArray("ignored_layers");
            for (int i = 0; i < d.layers(); i++) {
                ignored.add("model.layers." + i + ".self_attn.o_proj");
            }
        }
        return c;
    }

    /** Every tensor of the hub layout (spec §2), FP8 projections with their scales when {@code d.fp8()}. */
    static List<Spec> hubTensors(Dims d) {
        List<Spec> t = new ArrayList<>();
        String act = d.fp8() ? "BF16" : "F32";
        t.add(new Spec("model.embed_tokens.weight", act, d.vocab(), d.hidden()));
        for (int i = 0; i < d.layers(); i++) {
            String p = "model.layers." + i + ".";
            boolean ga = d.ga(i);
            t.add(new Spec(p + "input_layernorm.weight", act, d.hidden()));
            attention(t, d, p, ga ? d.heads() : d.swaHeads(), ga ? d.kv() : d.swaKv(), !ga);
            t.add(new Spec(p + "post_attention_layernorm.weight", act, d.hidden()));
            if (i == 0) {
                dense(t, d, p + "mlp.");
            } else {
                t.add(new Spec(p + "mlp.gate.weight", "F32", d.experts(), d.hidden()));
                t.add(new Spec(p + "mlp.gate.e_score_correction_bias", "F32", d.experts()));
                for (int e = 0; e < d.experts(); e++) {
                    String x = p + "mlp.experts." + e + ".";
                    linear(t, d, x + "gate_proj.weight", d.moeInter(), d.hidden());
                    linear(t, d, x + "up_proj.weight", d.moeInter(), d.hidden());
                    linear(t, d, x + "down_proj.weight", d.hidden(), d.moeInter());
                }
            }
        }
        t.add(new Spec("model.norm.weight", act, d.hidden()));
        t.add(new Spec("lm_head.weight", act, d.vocab(), d.hidden()));
        for (int k = 0; k < d.mtp(); k++) {
            String p = "model.mtp.layers." + k + ".";
            t.add(new Spec(p + "enorm.weight", act, d.hidden()));
            t.add(new Spec(p + "hnorm.weight", act, d.hidden()));
            t.add(new Spec(p + "eh_proj.weight", act, d.hidden(), 2L * d.hidden()));
            t.add(new Spec(p + "input_layernorm.weight", act, d.hidden()));
            attention(t, d, p, d.swaHeads(), d.swaKv(), true);
            t.add(new Spec(p + "pre_mlp_layernorm.weight", act, d.hidden()));
            dense(t, d, p + "mlp.");
            t.add(new Spec(p + "final_layernorm.weight", act, d.hidden()));
        }
        return t;
    }

    private static void attention(List<Spec> t, Dims d, String p, int heads, int kv, boolean sink) {
        linear(t, d, p + "self_attn.q_proj.weight", (long) heads * d.headDim(), d.hidden());
        linear(t, d, p + "self_attn.k_proj.weight", (long) kv * d.headDim(), d.hidden());
        linear(t, d, p + "self_attn.v_proj.weight", (long) kv * d.vHeadDim(), d.hidden());
        t.add(new Spec(p + "self_attn.o_proj.weight", d.fp8() ? "BF16" : "F32", d.hidden(), (long) heads * d.vHeadDim()));
        if (sink) {
            t.add(new Spec(p + "self_attn.attention_sink_bias", d.fp8() ? "BF16" : "F32", heads));
        }
    }

    private static void dense(List<Spec> t, Dims d, String p) {
        linear(t, d, p + "gate_proj.weight", d.inter(), d.hidden());
        linear(t, d, p + "up_proj.weight", d.inter(), d.hidden());
        linear(t, d, p + "down_proj.weight", d.hidden(), d.inter());
    }

    private static void linear(List<Spec> t, Dims d, String name, long out, long in) {
        if (d.fp8()) {
            t.add(new Spec(name, "F8_E4M3", out, in));
            t.add(new Spec(name + "_scale_inv", "F32", Math.ceilDiv(out, 128), Math.ceilDiv(in, 128)));
        } else {
            t.add(new Spec(name, "F32", out, in));
        }
    }

    /** Gives every tensor deterministic bytes: byte j of tensor i is (i * 31 + j) mod 251. */
    static List<Spec> withData(List<Spec> tensors) {
        List<Spec> out = new ArrayList<>();
        for (int i = 0; i < tensors.size(); i++) {
            Spec s = tensors.get(i);
            byte[] data = new byte[Math.toIntExact(s.bytes())];
            for (int j = 0; j < data.length; j++) {
                data[j] = (byte) ((i * 31 + j) % 251);
            }
            out.add(new Spec(s.name(), s.dtype(), s.shape(), data));
        }
        return out;
    }

    /** Writes config.json and a single model.safetensors. */
    static Path writeSingle(Path dir, ObjectNode config, List<Spec> tensors) throws IOException {
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        return dir;
    }

    /** Writes config.json, shards chosen by {@code shardOf} and model.safetensors.index.json. */
    static Path writeSharded(Path dir, ObjectNode config, List<Spec> tensors, Function<String, String> shardOf)
            throws IOException {
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        Map<String, List<Spec>> shards = new LinkedHashMap<>();
        for (Spec s : tensors) {
            shards.computeIfAbsent(shardOf.apply(s.name()), k -> new ArrayList<>()).add(s);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", tensors.stream().mapToLong(Spec::bytes).sum());
        ObjectNode map = index.putObject("weight_map");
        for (Map.Entry<String, List<Spec>> shard : shards.entrySet()) {
            SafetensorsWriter.write(dir.resolve(shard.getKey()), shard.getValue());
            shard.getValue().forEach(s -> map.put(s.name(), shard.getKey()));
        }
        JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        return dir;
    }

    /** Shard name by layer: globals in shard 0, layer L in shard L+1, MTP blocks in the last shard. */
    static Function<String, String> byLayer(Dims d) {
        int shards = d.layers() + 2;
        return name -> {
            int shard = 0;
            if (name.startsWith("model.layers.")) {
                shard = 1 + Integer.parseInt(name.substring(13, name.indexOf('.', 13)));
            } else if (name.startsWith("model.mtp.")) {
                shard = shards - 1;
            }
            return String.format("model-%05d-of-%05d.safetensors", shard + 1, shards);
        };
    }
}
