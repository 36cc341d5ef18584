package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.TensorLayout;
import io.tessera.checkpoint.SafetensorsWriter.Spec;
import io.tessera.checkpoint.TestModels.Dims;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoaderTest {
    private final SafetensorsCheckpointLoader loader = TestModels.loader();

    @TempDir
    Path tmp;

    @Test
    void opensSingleFileAndReadsTheBytesInPlace() throws Exception {
        Dims d = Dims.tiny(false);
        List<Spec> tensors = TestModels.withData(TestModels.hubTensors(d));
        Path dir = TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(d), tensors);
        try (Checkpoint c = loader.open(dir)) {
            assertEquals(TensorLayout.HUB, c.layout());
            assertEquals(tensors.size(), c.tensors().size());
            for (Spec s : tensors) {
                Tensor t = c.tensor(s.name());
                assertEquals(DType.valueOf(s.dtype()), t.dtype());
                assertArrayEquals(s.shape(), t.shape());
                assertArrayEquals(s.data(), t.data().toArray(ValueLayout.JAVA_BYTE), s.name());
                assertTrue(t.data().isReadOnly());
            }
            Tensor q = c.tensor("model.layers.1.self_attn.q_proj.weight");
            assertThrows(IllegalArgumentException.class, () -> q.data().set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            assertTrue(c.find("nope").isEmpty());
        }
    }

    @Test
    void shardedFp8AttachesScalesAndCountsMtpBlocks() throws Exception {
        Dims d = Dims.tiny(true);
        List<Spec> tensors = TestModels.withData(TestModels.hubTensors(d));
        Path dir = TestModels.writeSharded(tmp.resolve("m"), TestModels.hubConfig(d), tensors, TestModels.byLayer(d));
        try (Checkpoint c = loader.open(dir)) {
            Tensor q = c.tensor("model.layers.0.self_attn.q_proj.weight");
            assertEquals(DType.F8_E4M3, q.dtype());
            Tensor scale = q.scaleInv().orElseThrow();
            assertEquals(DType.F32, scale.dtype());
            assertArrayEquals(new long[] {1, 2}, scale.shape()); // [ceil(32/128), ceil(136/128)]: partial blocks
            Spec written = tensors.stream().filter(s -> s.name().equals(scale.name())).findFirst().orElseThrow();
            assertArrayEquals(written.data(), scale.data().toArray(ValueLayout.JAVA_BYTE));
            assertTrue(c.find(scale.name()).isEmpty(), "scales are attached, not listed");
            assertTrue(c.tensors().stream().noneMatch(t -> t.name().endsWith("_scale_inv")));
            assertTrue(c.tensor("model.layers.0.self_attn.o_proj.weight").scaleInv().isEmpty());

            ModelConfig config = c.config();
            assertEquals(1, config.mtpLayers().size());
            LayerSpec mtp = config.mtpLayers().get(0);
            assertEquals(new LayerSpec(3, AttentionKind.SLIDING_WINDOW, 4, 2, 8, 4, 4, 10_000, 4, true, 0.707f, false), mtp);
            assertEquals(config.layers().get(1).ropeTheta(), mtp.ropeTheta());
        }
    }

    @Test
    void referenceCountingUnmapsOnLastReleaseOnly() throws Exception {
        Dims d = Dims.tiny(false);
        Path dir = TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(d), TestModels.hubTensors(d));
        Checkpoint c = loader.open(dir);
        Tensor t = c.tensor("model.norm.weight");
        assertEquals(c, c.retain());
        c.close();
        t.data().get(ValueLayout.JAVA_BYTE, 0); // still held by the retain
        c.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, c::retain);
        c.close(); // after the last release: nothing happens
        assertEquals(0, ((MappedCheckpoint) c).references());
    }

    @Test
    void releasingWhileAnotherThreadReadsGivesThatThreadAnException() throws Exception {
        Dims d = Dims.tiny(false);
        Path dir = TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(d), TestModels.hubTensors(d));
        Checkpoint c = loader.open(dir);
        Tensor embed = c.tensor("model.embed_tokens.weight");
        var started = new java.util.concurrent.CountDownLatch(1);
        var reader = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            var result = reader.submit(() -> {
                started.countDown();
                long sum = 0;
                while (true) { // reads until the arena closes under it
                    for (long i = 0; i < embed.data().byteSize(); i += 4) {
                        sum += embed.data().get(ValueLayout.JAVA_INT_UNALIGNED, i);
                    }
                    if (sum == 42) {
                        return sum; // never: keeps the loop from being optimised away
                    }
                }
            });
            started.await();
            Thread.sleep(50);
            c.close();
            var e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> result.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
        } finally {
            reader.shutdownNow();
        }
    }

    @Test
    void aFailedOpenLeavesNothingMapped() throws Exception {
        Dims d = Dims.tiny(false);
        List<Spec> tensors = TestModels.hubTensors(d);
        tensors.removeIf(s -> s.name().equals("model.norm.weight"));
        Path dir = TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(d), tensors);
        SafetensorsCheckpointLoader.Loaded loaded = loader.load(dir);
        assertEquals(List.of("tensor 'model.norm.weight': missing (expected [136])"), loaded.problems());
        loaded.checkpoint().close();
        assertEquals(0, loaded.checkpoint().references());
    }

    @Test
    void transformersNativeLayoutOpens() throws Exception {
        Dims d = Dims.tiny(false);
        var config = TestModels.JSON.createObjectNode();
        config.putArray("architectures").add("MiMoV2FlashForCausalLM");
        config.put("hidden_size", d.hidden()).put("vocab_size", d.vocab()).put("num_hidden_layers", d.layers());
        config.put("num_attention_heads", d.heads()).put("num_key_value_heads", d.kv());
        config.put("head_dim", d.headDim()).put("v_head_dim", d.vHeadDim());
        config.put("intermediate_size", d.inter()).put("moe_intermediate_size", d.moeInter());
        config.put("n_routed_experts", d.experts()).put("num_experts_per_tok", d.topk());
        config.put("rms_norm_eps", 1e-6).put("sliding_window", 4);
        config.putArray("layer_types").add("full_attention").add("sliding_attention").add("sliding_attention");
        config.putArray("mlp_layer_types").add("dense").add("sparse").add("sparse");
        var rope = config.putObject("rope_parameters");
        rope.putObject("full_attention").put("rope_type", "default").put("rope_theta", 1e6).put("partial_rotary_factor", 0.5);
        rope.putObject("sliding_attention").put("rope_type", "default").put("rope_theta", 1e4).put("partial_rotary_factor", 0.25);
        // save_pretrained: experts stacked, sinks renamed, no MTP
        List<Spec> tensors = new java.util.ArrayList<>();
        for (Spec s : TestModels.hubTensors(d)) {
            String n = s.name();
            if (n.startsWith("model.mtp.") || n.matches(".*experts\\.[0-9]+\\..*")) {
                continue;
            }
            tensors.add(n.endsWith("attention_sink_bias")
                    ? new Spec(n.replace("attention_sink_bias", "sinks"), s.dtype(), s.shape()) : s);
        }
        for (int i = 1; i < d.layers(); i++) {
            tensors.add(new Spec("model.layers." + i + ".mlp.experts.gate_up_proj", "F32", d.experts(), 2L * d.moeInter(), d.hidden()));
            tensors.add(new Spec("model.layers." + i + ".mlp.experts.down_proj", "F32", d.experts(), d.hidden(), d.moeInter()));
        }
        Path dir = TestModels.writeSingle(tmp.resolve("native"), config, tensors);
        try (Checkpoint c = loader.open(dir)) {
            assertEquals(TensorLayout.NATIVE, c.layout());
            ModelConfig m = c.config();
            assertEquals(1e-6, m.rmsNormEps());
            assertEquals(List.of(), m.mtpLayers());
            assertEquals(new LayerSpec(0, AttentionKind.GLOBAL, 4, 1, 8, 4, 4, 1e6, 0, false, 0.707f, false), m.layers().get(0));
            // SWA: kv heads twice the GA ones, sinks, its own rope parameters
            assertEquals(new LayerSpec(1, AttentionKind.SLIDING_WINDOW, 4, 2, 8, 4, 2, 1e4, 4, true, 0.707f, true), m.layers().get(1));
            assertArrayEquals(new long[] {4, 16, 136}, c.tensor("model.layers.2.mlp.experts.gate_up_proj").shape());
        }
    }

    @Test
    void readConfigNeedsNoWeights() throws Exception {
        Dims d = Dims.tiny(true);
        Path dir = tmp.resolve("config-only");
        java.nio.file.Files.createDirectories(dir);
        TestModels.JSON.writeValue(dir.resolve("config.json").toFile(), TestModels.hubConfig(d));
        ModelConfig m = loader.readConfig(dir.resolve("config.json"));
        assertEquals(3, m.layers().size());
        assertFalse(m.quantization().isEmpty());
    }
}
