package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.checkpoint.SafetensorsWriter.Spec;
import io.tessera.checkpoint.TestModels.Dims;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input fails with a CheckpointException naming the file and the tensor or field. */
class BadInputTest {
    private final SafetensorsCheckpointLoader loader = TestModels.loader();
    private final Dims dims = Dims.tiny(true);

    @TempDir
    Path tmp;

    private Path good() throws IOException {
        return TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(dims), TestModels.hubTensors(dims));
    }

    private CheckpointException fails(Path dir, String file, String... named) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> loader.open(dir));
        assertEquals(file, String.valueOf(e.file().getFileName()), e.getMessage());
        assertTrue(e.getMessage().startsWith(e.file().toString()), e.getMessage());
        for (String n : named) {
            assertTrue(e.getMessage().contains(n), "'" + n + "' not in: " + e.getMessage());
        }
        return e;
    }

    /** A single-file checkpoint whose model.safetensors has this raw header and data size. */
    private Path rawShard(String header, long dataBytes) throws IOException {
        Path dir = good();
        SafetensorsWriter.writeRaw(dir.resolve("model.safetensors"), header.getBytes(StandardCharsets.UTF_8), dataBytes);
        return dir;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void truncatedShard() throws IOException {
        Path dir = good();
        Path shard = dir.resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() - 1);
        }
        fails(dir, "model.safetensors", "tensor 'model.mtp.layers.0.final_layernorm.weight'", "outside the data section");
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path dir = good();
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        fails(dir, "model.safetensors", "truncated", "3 bytes");
    }

    @Test
    void headerLengthLargerThanTheFile() throws IOException {
        Path dir = good();
        Files.write(dir.resolve("model.safetensors"), ByteBuffer.allocate(108).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(1000).array());
        fails(dir, "model.safetensors", "header length 1000 exceeds the 100 bytes");
    }

    @Test
    void absurdHeaderLengthIsCappedBeforeAllocating() throws IOException {
        Path dir = good();
        writeLength(dir.resolve("model.safetensors"), 1L << 40);
        fails(dir, "model.safetensors", "header length 1099511627776 is out of range");
        writeLength(dir.resolve("model.safetensors"), -1);
        fails(dir, "model.safetensors", "header length 18446744073709551615 is out of range");
    }

    private static void writeLength(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array());
        }
    }

    @Test
    void malformedHeaderJson() throws IOException {
        fails(rawShard("{\"a\":{\"dtype\":\"F32\",", 0), "model.safetensors", "header JSON is malformed");
        fails(rawShard("[1,2]", 0), "model.safetensors", "not a JSON object");
        fails(rawShard("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}xyz", 4),
                "model.safetensors", "malformed");
        fails(rawShard("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "model.safetensors",
                "tensor 'w'", "needs dtype, shape and data_offsets");
        fails(rawShard("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), "model.safetensors",
                "tensor 'w': shape must hold non-negative 64-bit integers");
        fails(rawShard("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8), "model.safetensors",
                "tensor 'w': data_offsets has more than 2 entries");
        fails(rawShard("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "model.safetensors",
                "tensor 'w' appears twice");
    }

    @Test
    void overlappingDataOffsets() throws IOException {
        fails(rawShard("{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 8, 24) + "}", 24),
                "model.safetensors", "'a' and 'b' overlap");
    }

    @Test
    void outOfRangeDataOffsets() throws IOException {
        fails(rawShard("{" + entry("a", "F32", "[4]", 16, 32) + "}", 16), "model.safetensors",
                "tensor 'a'", "outside the data section of 16 bytes");
        fails(rawShard("{" + entry("a", "F32", "[0]", 8, 4) + "}", 16), "model.safetensors", "tensor 'a'");
    }

    @Test
    void unknownDtype() throws IOException {
        fails(rawShard("{" + entry("a", "F4", "[4]", 0, 2) + "}", 2), "model.safetensors",
                "tensor 'a'", "unknown dtype 'F4'");
    }

    @Test
    void shapeTimesDtypeDiffersFromTheByteRange() throws IOException {
        fails(rawShard("{" + entry("a", "BF16", "[4,2]", 0, 12) + "}", 12), "model.safetensors",
                "tensor 'a'", "needs 16 bytes but data_offsets span 12");
        fails(rawShard("{" + entry("a", "F32", "[4294967296,4294967296]", 0, 12) + "}", 12), "model.safetensors",
                "tensor 'a'", "overflows");
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Path dir = TestModels.writeSharded(tmp.resolve("s"), TestModels.hubConfig(dims), TestModels.hubTensors(dims),
                TestModels.byLayer(dims));
        Files.delete(dir.resolve("model-00003-of-00005.safetensors"));
        fails(dir, "model.safetensors.index.json", "shard 'model-00003-of-00005.safetensors' not found",
                "tensor 'model.layers.1.");
    }

    @Test
    void indexNamingAFileOutsideTheDirectory() throws IOException {
        Path dir = good();
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"model.norm.weight\":\"../model.safetensors\"}}");
        fails(dir, "model.safetensors.index.json", "tensor 'model.norm.weight'", "not a file name");
    }

    @Test
    void indexAndShardHeaderDisagree() throws IOException {
        Path dir = TestModels.writeSharded(tmp.resolve("s"), TestModels.hubConfig(dims), TestModels.hubTensors(dims),
                n -> "model-00001-of-00001.safetensors");
        ObjectNode index = (ObjectNode) TestModels.JSON.readTree(dir.resolve("model.safetensors.index.json").toFile());
        ((ObjectNode) index.get("weight_map")).remove("model.norm.weight");
        ((ObjectNode) index.get("weight_map")).put("model.ghost.weight", "model-00001-of-00001.safetensors");
        TestModels.JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        CheckpointException e = fails(dir, "s", "tensor 'model.norm.weight': in model-00001-of-00001.safetensors but the index does not list it",
                "tensor 'model.ghost.weight': the index puts it in");
        assertEquals(2, e.problems().size(), e.getMessage());
    }

    @Test
    void missingFiles() throws IOException {
        Path dir = good();
        Files.delete(dir.resolve("model.safetensors"));
        fails(dir, "m", "neither model.safetensors.index.json nor model.safetensors");
        Files.delete(dir.resolve("config.json"));
        fails(dir, "config.json", "file not found");
        fails(dir.resolve("absent"), "absent", "not a directory");
    }

    @Test
    void everyValidationProblemInOneException() throws IOException {
        List<Spec> tensors = new ArrayList<>();
        for (Spec s : TestModels.hubTensors(dims)) {
            switch (s.name()) {
                case "model.layers.2.mlp.experts.3.up_proj.weight", "model.layers.2.mlp.experts.3.up_proj.weight_scale_inv",
                     "model.layers.1.self_attn.attention_sink_bias" -> { }
                case "model.layers.0.self_attn.k_proj.weight" -> tensors.add(new Spec(s.name(), "F8_E4M3", 16, 136));
                case "model.norm.weight" -> tensors.add(new Spec(s.name(), "I32", 136));
                case "model.mtp.layers.0.mlp.down_proj.weight_scale_inv" -> tensors.add(new Spec(s.name(), "F32", 1, 1));
                default -> tensors.add(s);
            }
        }
        tensors.add(new Spec("model.layers.0.self_attn.o_proj.weight_scale_inv", "F32", 2, 1));
        Path dir = TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(dims), tensors);
        CheckpointException e = fails(dir, "m",
                "tensor 'model.layers.2.mlp.experts.3.up_proj.weight': missing (expected [8, 136])",
                "tensor 'model.layers.1.self_attn.attention_sink_bias': missing (expected [4])",
                "tensor 'model.layers.0.self_attn.k_proj.weight': shape [16, 136], expected [8, 136]",
                "tensor 'model.norm.weight': dtype I32, expected F32, BF16 or F16",
                "tensor 'model.mtp.layers.0.mlp.down_proj.weight_scale_inv': F32[1, 1], expected F32[2, 2]",
                "tensor 'model.layers.0.self_attn.o_proj.weight_scale_inv': block scales without an F8_E4M3 weight");
        assertEquals(6, e.problems().size(), e.getMessage());
    }

    @Test
    void expectedCountMatchesTheSpecTensorList() throws Exception {
        for (Dims d : List.of(Dims.tiny(true), Dims.real())) {
            long listed = TestModels.hubTensors(d).stream().filter(s -> !s.name().endsWith("_scale_inv")).count();
            var config = TestModels.loader().config(Path.of("config.json"), TestModels.hubConfig(d), d.mtp());
            assertEquals(listed, new TensorValidator(config, io.tessera.api.checkpoint.TensorLayout.HUB, java.util.Map.of())
                    .expectedCount());
        }
    }

    @Test
    void aConfigForAMuchBiggerModelGivesOneSummary() throws IOException {
        badConfig(c -> c.put("n_routed_experts", 5000), "field 'n_routed_experts': 5000 is more than"); // config check first
        Path dir = good();
        ObjectNode config = TestModels.hubConfig(dims);
        config.put("n_routed_experts", 4000).put("num_experts_per_tok", 8);
        TestModels.JSON.writeValue(dir.resolve("config.json").toFile(), config);
        CheckpointException e = fails(dir, "m", "config.json implies 24044 tensors but the checkpoint holds 68");
        assertEquals(1, e.problems().size());
    }

    @Test
    void thousandsOfProblemsAreListedUpToACap() throws IOException {
        Dims config = new Dims(136, 40, 3, 4, 1, 4, 2, 8, 4, 200, 8, 300, 2, 1, false);
        Dims stored = new Dims(136, 40, 3, 4, 1, 4, 2, 8, 4, 200, 16, 300, 2, 1, false); // experts twice as wide
        Path dir = TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(config), TestModels.hubTensors(stored));
        CheckpointException e = fails(dir, "m", "model.layers.1.mlp.experts.0.gate_proj.weight': shape [16, 136], expected [8, 136]",
                "... and 800 more problems");
        assertEquals(TensorValidator.MAX_LISTED + 1, e.problems().size());
    }

    @Test
    void fp8WeightWithoutScalesOrQuantizationConfig() throws IOException {
        List<Spec> tensors = TestModels.hubTensors(dims);
        tensors.removeIf(s -> s.name().equals("model.layers.1.self_attn.q_proj.weight_scale_inv"));
        ObjectNode config = TestModels.hubConfig(dims);
        config.remove("quantization_config");
        Path dir = TestModels.writeSingle(tmp.resolve("m"), config, tensors);
        CheckpointException e = fails(dir, "m",
                "tensor 'model.layers.1.self_attn.q_proj.weight': F8_E4M3 weight without model.layers.1.self_attn.q_proj.weight_scale_inv",
                "tensor 'model.layers.0.self_attn.q_proj.weight': F8_E4M3 but config.json has no quantization_config");
        assertTrue(e.problems().size() > 10, e.getMessage());
    }

    @Test
    void mtpBlocksMustBeNumberedFromZero() throws IOException {
        List<Spec> tensors = new ArrayList<>();
        for (Spec s : TestModels.hubTensors(dims)) {
            tensors.add(new Spec(s.name().replace("model.mtp.layers.0.", "model.mtp.layers.2."), s.dtype(), s.shape()));
        }
        fails(TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(dims), tensors), "m",
                "MTP blocks [2] are not numbered 0..0");
    }

    // config.json: wrong types and impossible values, each naming its field; all problems reported together

    private CheckpointException badConfig(java.util.function.Consumer<ObjectNode> edit, String... named)
            throws IOException {
        Path dir = good();
        ObjectNode config = TestModels.hubConfig(dims);
        edit.accept(config);
        TestModels.JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return fails(dir, "config.json", named);
    }

    @Test
    void configWithWrongTypes() throws IOException {
        CheckpointException e = badConfig(c -> c.put("hidden_size", "big").put("norm_topk_prob", 1)
                        .put("rope_theta", "x").putObject("partial_rotary_factor"),
                "field 'hidden_size': expected a positive integer, got \"big\"",
                "field 'norm_topk_prob': expected true or false, got 1",
                "field 'rope_theta': expected a number, got \"x\"",
                "field 'partial_rotary_factor': expected a number, got object");
        assertEquals(4, e.problems().size(), e.getMessage());
        badConfig(c -> c.put("hybrid_layer_pattern", "0,1,1"), "field 'hybrid_layer_pattern'");
        badConfig(c -> c.putArray("eos_token_id").add("x"), "field 'eos_token_id'");
    }

    @Test
    void configWithImpossibleValues() throws IOException {
        badConfig(c -> c.put("num_hidden_layers", -3), "field 'num_hidden_layers': expected a positive integer, got -3");
        badConfig(c -> c.put("vocab_size", 0), "field 'vocab_size'");
        badConfig(c -> c.put("num_attention_heads", 6).put("num_key_value_heads", 4),
                "field 'num_key_value_heads': 4 does not divide num_attention_heads 6");
        badConfig(c -> c.put("swa_num_key_value_heads", 3), "field 'swa_num_key_value_heads': 3 does not divide");
        badConfig(c -> c.put("num_hidden_layers", 4),
                "field 'hybrid_layer_pattern': expected a list of num_hidden_layers (4) entries, got 3 entries",
                "field 'moe_layer_freq'");
        badConfig(c -> c.withArray("hybrid_layer_pattern").set(1, 2), "field 'hybrid_layer_pattern[1]': expected 0 or 1, got 2");
        badConfig(c -> c.put("num_experts_per_tok", 9), "field 'num_experts_per_tok': 9 exceeds n_routed_experts 4");
        badConfig(c -> c.put("partial_rotary_factor", 1.5), "field 'partial_rotary_factor'");
        badConfig(c -> c.put("layernorm_epsilon", -1e-5), "field 'layernorm_epsilon'");
        badConfig(c -> c.put("hidden_size", 1e12), "field 'hidden_size'");
        badConfig(c -> c.withObject("quantization_config").put("quant_method", "gptq"), "field 'quantization_config'");
        badConfig(c -> c.put("n_shared_experts", 1), "field 'n_shared_experts'");
        badConfig(c -> c.put("hidden_act", "gelu"), "field 'hidden_act'");
        badConfig(c -> c.put("num_hidden_layers", 2_000_000_000), "field 'num_hidden_layers': 2000000000 is more than");
    }

    @Test
    void configThatIsNotJson() throws IOException {
        Path dir = good();
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 4096,");
        fails(dir, "config.json", "malformed JSON");
        Files.writeString(dir.resolve("config.json"), "[]");
        fails(dir, "config.json", "not a JSON object");
        Files.writeString(dir.resolve("config.json"), "[".repeat(10_000));
        fails(dir, "config.json", "malformed JSON");
    }
}
