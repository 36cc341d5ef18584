package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.RopeScaling;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    private final SafetensorsCheckpointLoader loader = TestModels.loader();

    @TempDir
    Path tmp;

    static Path realConfig() throws URISyntaxException {
        return Path.of(ConfigTest.class.getResource("/mimo-v2-flash/config.json").toURI());
    }

    @Test
    void realMimoV2FlashConfig() throws Exception {
        ModelConfig c = loader.readConfig(realConfig());
        assertEquals("MiMoV2FlashForCausalLM", c.architecture());
        assertEquals(48, c.layers().size());
        assertEquals(List.of(0, 5, 11, 17, 23, 29, 35, 41, 47), IntStream.range(0, 48)
                .filter(i -> c.layers().get(i).attention() == AttentionKind.GLOBAL).boxed().toList());
        assertEquals(new LayerSpec(0, AttentionKind.GLOBAL, 64, 4, 192, 128, 64, 5_000_000, 0, false, 0.707f, false),
                c.layers().get(0));
        assertEquals(new LayerSpec(1, AttentionKind.SLIDING_WINDOW, 64, 8, 192, 128, 64, 10_000, 128, true, 0.707f, true),
                c.layers().get(1));
        assertEquals(new LayerSpec(47, AttentionKind.GLOBAL, 64, 4, 192, 128, 64, 5_000_000, 0, false, 0.707f, true),
                c.layers().get(47));
        assertEquals(List.of(), c.mtpLayers(), "MTP blocks are counted from the tensor index, not the config");
        assertEquals(4096, c.hiddenSize());
        assertEquals(152576, c.vocabSize());
        assertEquals(16384, c.intermediateSize());
        assertEquals(2048, c.moeIntermediateSize());
        assertEquals(256, c.routedExperts());
        assertEquals(8, c.expertsPerToken());
        assertEquals("sigmoid", c.scoringFunc());
        assertEquals("noaux_tc", c.topkMethod());
        assertEquals(1, c.nGroup());
        assertEquals(1, c.topkGroup());
        assertTrue(c.normTopkProb());
        assertEquals(1.0, c.routedScalingFactor(), "null means 1.0");
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(262144, c.maxPositionEmbeddings());
        assertEquals(false, c.tieWordEmbeddings());
        ModelConfig.Quantization q = c.quantization().orElseThrow();
        assertEquals("fp8", q.method());
        assertEquals("e4m3", q.format());
        assertEquals(128, q.blockRows());
        assertEquals(128, q.blockCols());
        assertEquals(49, q.ignoredLayers().size());
        assertTrue(q.ignoredLayers().contains("model.layers.47.self_attn.o_proj"));
        assertEquals(Optional.of(151643), c.bosTokenId());
        assertEquals(List.of(151645), c.eosTokenIds());
    }

    /** Reads a MiMo config (these tests are about its mapping: the architecture is added when absent). */
    private ModelConfig read(String json) throws Exception {
        Path file = tmp.resolve("config.json");
        String body = json.substring(1).strip();
        Files.writeString(file, json.contains("\"architectures\"") ? json
                : "{\"architectures\": [\"MiMoV2FlashForCausalLM\"]" + (body.startsWith("}") ? "" : ", ") + body);
        return loader.readConfig(file);
    }

    @Test
    void absentKeysTakeTheTransformersDefaults() throws Exception {
        ModelConfig c = read("{}");
        assertEquals(48, c.numHiddenLayers());
        assertEquals(List.of(0, 5, 11, 17, 23, 29, 35, 41, 47), IntStream.range(0, 48)
                .filter(i -> c.layers().get(i).attention() == AttentionKind.GLOBAL).boxed().toList());
        assertEquals(new LayerSpec(0, AttentionKind.GLOBAL, 64, 4, 192, 128, 64, 5_000_000, 0, false, 0.707f, false),
                c.layers().get(0));
        assertEquals(new LayerSpec(1, AttentionKind.SLIDING_WINDOW, 64, 8, 192, 128, 64, 10_000, 128, true, 0.707f, true),
                c.layers().get(1));
        assertEquals(131072, c.maxPositionEmbeddings(), "transformers' default, not the hub value");
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(152576, c.vocabSize());
        assertEquals(Optional.of(1), c.bosTokenId());
        assertEquals(List.of(), c.eosTokenIds());
        assertEquals(Optional.empty(), c.quantization());
        assertEquals(1.0, c.routedScalingFactor());
    }

    @Test
    void explicitNullValueScaleMeansNoScaling() throws Exception {
        assertEquals(1.0f, read("{\"attention_value_scale\": null}").layers().get(0).valueScale());
    }

    @Test
    void hubKeysWinAndAlternativeSpellingsAreRead() throws Exception {
        ModelConfig c = read("""
                {"num_hidden_layers": 2, "hybrid_layer_pattern": [1, 0], "moe_layer_freq": [1, 0],
                 "sliding_window_size": 64, "swa_num_attention_heads": 32, "swa_num_key_value_heads": 2,
                 "swa_head_dim": 96, "swa_v_head_dim": 64, "partial_rotary_factor": 0.5,
                 "add_full_attention_sink_bias": true, "add_swa_attention_sink_bias": false,
                 "rms_norm_eps": 1e-6, "eos_token_id": [7, 9], "bos_token_id": null, "routed_scaling_factor": 2.5}
                """);
        assertEquals(new LayerSpec(0, AttentionKind.SLIDING_WINDOW, 32, 2, 96, 64, 48, 10_000, 64, false, 0.707f, true),
                c.layers().get(0));
        assertEquals(new LayerSpec(1, AttentionKind.GLOBAL, 64, 4, 192, 128, 96, 5_000_000, 0, true, 0.707f, false),
                c.layers().get(1));
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(List.of(7, 9), c.eosTokenIds());
        assertEquals(Optional.empty(), c.bosTokenId());
        assertEquals(2.5, c.routedScalingFactor());
    }

    @Test
    void nativeConfigSpelling() throws Exception {
        ModelConfig c = read("""
                {"num_hidden_layers": 3, "num_key_value_heads": 2,
                 "layer_types": ["sliding_attention", "full_attention", "sliding_attention"],
                 "mlp_layer_types": ["dense", "sparse", "dense"],
                 "rope_parameters": {"full_attention": {"rope_theta": 1000000.0, "partial_rotary_factor": 0.25},
                                     "sliding_attention": {"rope_theta": 20000.0, "partial_rotary_factor": 0.5}}}
                """);
        assertEquals(new LayerSpec(0, AttentionKind.SLIDING_WINDOW, 64, 4, 192, 128, 96, 20_000, 128, true, 0.707f, false),
                c.layers().get(0));
        assertEquals(new LayerSpec(1, AttentionKind.GLOBAL, 64, 2, 192, 128, 48, 1_000_000, 0, false, 0.707f, true),
                c.layers().get(1));
        assertEquals(false, c.layers().get(2).moe());
    }

    @Test
    void nativeSpellingErrorsNameTheField() {
        CheckpointException e = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> read("{\"num_hidden_layers\": 2, \"layer_types\": [\"full_attention\", \"linear\"],"
                        + " \"rope_parameters\": {\"full_attention\": {\"rope_theta\": \"big\"}}}"));
        assertEquals(List.of("field 'rope_parameters.full_attention.rope_theta': expected a number, got \"big\"",
                "field 'layer_types[1]': expected \"full_attention\" or \"sliding_attention\", got \"linear\""),
                e.problems());
    }

    @Test
    void theArchitectureChoosesTheFamily() throws Exception {
        Path file = tmp.resolve("config.json");
        Files.writeString(file, "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\"}");
        CheckpointException unknown = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> loader.readConfig(file));
        assertEquals(List.of("field 'architectures': GPT2LMHeadModel is served by no installed model family "
                + "(installed: LlamaForCausalLM, MiMoV2FlashForCausalLM, Qwen3ForCausalLM, Qwen3MoeForCausalLM)"),
                unknown.problems());
        Files.writeString(file, "{\"num_hidden_layers\": 2}");
        CheckpointException missing = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> loader.readConfig(file));
        assertEquals(List.of("field 'architectures': missing, and no 'model_type' either"), missing.problems());
        Files.writeString(file, "{\"model_type\": \"mimo_v2_flash\", \"num_hidden_layers\": 2}");
        assertEquals("mimo_v2_flash", loader.readConfig(file).architecture(), "model_type alone selects the family");
    }

    /** transformers' _compute_llama3_parameters (float32) for head_dim 64, theta 5e5, factor 8, 1/4, 8192. */
    private static final double[] LLAMA3_INV_FREQ = {1.0, 0.03760603070259094, 0.00729266507551074,
            0.0005248460220173001, 3.428102354519069e-05, 6.647869668086059e-06, 3.76732259610435e-07};
    private static final int[] LLAMA3_INDICES = {0, 8, 12, 16, 20, 24, 31};

    @Test
    void llamaOlderAndNewerRopeSpellingsGiveTheSameTable() throws Exception {
        String sizes = "\"hidden_size\": 256, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
                + "\"head_dim\": 64, \"num_hidden_layers\": 2, \"vocab_size\": 1000, \"intermediate_size\": 512, ";
        String scaling = "\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                + "\"original_max_position_embeddings\": 8192";
        ModelConfig older = read("{\"architectures\": [\"LlamaForCausalLM\"], " + sizes + "\"rope_theta\": 500000.0, "
                + "\"rope_scaling\": {\"type\": \"llama3\", " + scaling + "}, \"tie_word_embeddings\": true}");
        ModelConfig older31 = read("{\"architectures\": [\"LlamaForCausalLM\"], " + sizes + "\"rope_theta\": 500000.0, "
                + "\"rope_scaling\": {\"rope_type\": \"llama3\", " + scaling + "}}");
        ModelConfig newer = read("{\"architectures\": [\"LlamaForCausalLM\"], " + sizes + "\"rope_parameters\": "
                + "{\"rope_type\": \"llama3\", \"rope_theta\": 500000.0, " + scaling + "}}");
        for (ModelConfig c : List.of(older, older31, newer)) {
            LayerSpec l = c.layers().get(1);
            assertEquals(AttentionKind.GLOBAL, l.attention());
            assertEquals(List.of(4, 2, 64, 64, 64), List.of(l.heads(), l.kvHeads(), l.headDim(), l.valueHeadDim(),
                    l.rotaryDim()));
            assertEquals(500000.0, l.ropeTheta());
            assertEquals("llama3", l.ropeScaling().type());
            assertEquals(1f, l.valueScale());
            assertTrue(!l.sink() && !l.qkNorm() && !l.moe());
            double[] inv = l.inverseFrequencies();
            assertEquals(32, inv.length);
            for (int i = 0; i < LLAMA3_INDICES.length; i++) {
                double want = LLAMA3_INV_FREQ[i];
                assertEquals(want, inv[LLAMA3_INDICES[i]], 1e-6 * want, "inverse frequency " + LLAMA3_INDICES[i]);
            }
        }
        assertTrue(older.tieWordEmbeddings());
        assertEquals(older.layers(), newer.layers(), "both spellings give the same layers");
    }

    @Test
    void qwen3MoeHubSpellingAndItsLayerRule() throws Exception {
        ModelConfig c = read("{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"hidden_size\": 64, "
                + "\"num_attention_heads\": 4, \"num_key_value_heads\": 1, \"head_dim\": 32, \"num_hidden_layers\": 6, "
                + "\"num_experts\": 16, \"num_experts_per_tok\": 4, \"moe_intermediate_size\": 48, "
                + "\"decoder_sparse_step\": 2, \"mlp_only_layers\": [3], \"norm_topk_prob\": true, "
                + "\"rope_theta\": 1000000.0, \"rope_scaling\": null, \"quantization_config\": {\"quant_method\": "
                + "\"fp8\", \"fmt\": \"e4m3\", \"activation_scheme\": \"dynamic\", \"weight_block_size\": [128, 128]}}");
        // sparse where (i + 1) % decoder_sparse_step == 0 and i is not in mlp_only_layers
        assertEquals(List.of(false, true, false, false, false, true), c.layers().stream().map(LayerSpec::moe).toList());
        assertEquals(List.of(16, 4, 48), List.of(c.routedExperts(), c.expertsPerToken(), c.moeIntermediateSize()));
        assertEquals("softmax/greedy", c.scoringFunc() + "/" + c.topkMethod());
        assertTrue(c.normTopkProb() && c.layers().getFirst().qkNorm());
        assertEquals(RopeScaling.NONE, c.layers().getFirst().ropeScaling());
        assertEquals(32, c.layers().getFirst().headDim());
        assertEquals(128, c.quantization().orElseThrow().blockRows());
    }

    @Test
    void unsupportedRopeRulesAndCompressedTensorsAreRefusedByName() {
        CheckpointException yarn = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> read("{\"architectures\": [\"Qwen3ForCausalLM\"], \"rope_scaling\": {\"type\": \"yarn\", "
                        + "\"factor\": 4.0}}"));
        assertEquals(List.of("field 'rope_scaling': rope_type 'yarn' is not supported (supported: default, linear, "
                + "llama3)"), yarn.problems());
        CheckpointException missing = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> read("{\"architectures\": [\"LlamaForCausalLM\"], \"rope_parameters\": {\"rope_type\": "
                        + "\"llama3\", \"factor\": 8.0}}"));
        assertEquals(List.of("field 'rope_parameters': rope_type 'llama3' needs 'low_freq_factor'"),
                missing.problems());
        CheckpointException compressed = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> read("{\"architectures\": [\"LlamaForCausalLM\"], \"quantization_config\": "
                        + "{\"quant_method\": \"compressed-tensors\", \"format\": \"float-quantized\"}}"));
        assertTrue(compressed.problems().getFirst().contains("compressed-tensors checkpoints"),
                compressed.problems().toString());
        CheckpointException sliding = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> read("{\"architectures\": [\"Qwen3ForCausalLM\"], \"use_sliding_window\": true}"));
        assertTrue(sliding.problems().getFirst().startsWith("field 'use_sliding_window'"),
                sliding.problems().toString());
    }
}
