package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
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
                + "(installed: MiMoV2FlashForCausalLM)"), unknown.problems());
        Files.writeString(file, "{\"num_hidden_layers\": 2}");
        CheckpointException missing = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> loader.readConfig(file));
        assertEquals(List.of("field 'architectures': missing, and no 'model_type' either"), missing.problems());
        Files.writeString(file, "{\"model_type\": \"mimo_v2_flash\", \"num_hidden_layers\": 2}");
        assertEquals("mimo_v2_flash", loader.readConfig(file).architecture(), "model_type alone selects the family");
    }
}
