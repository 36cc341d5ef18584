package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.CheckpointLoader;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * The checkpoint bundle in the assembly: its CheckpointLoader opens a one-layer checkpoint written here, the
 * mapped weights outlive a stop of the bundle, and model:inspect reports on it.
 */
public class CheckpointServiceTest {
    private static final int HIDDEN = 8;
    private static final int VOCAB = 4;

    @InjectBundleContext
    BundleContext context;

    private final java.util.List<Path> written = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void deleteWritten() throws IOException {
        for (Path dir : written) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** config.json and model.safetensors of a one-layer (global attention, dense MLP) MiMo-shaped model, F32. */
    Path writeCheckpoint() throws IOException {
        Path dir = Files.createTempDirectory("tessera-itest-checkpoint");
        written.add(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["MiMoV2FlashForCausalLM"], "hidden_size": 8, "vocab_size": 4,
                 "num_hidden_layers": 1, "hybrid_layer_pattern": [0], "moe_layer_freq": [0],
                 "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4, "v_head_dim": 4,
                 "partial_rotary_factor": 0.5, "intermediate_size": 8, "n_routed_experts": 2,
                 "num_experts_per_tok": 1}
                """);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN});
        shapes.put("model.layers.0.input_layernorm.weight", new long[] {HIDDEN});
        shapes.put("model.layers.0.self_attn.q_proj.weight", new long[] {8, HIDDEN});
        shapes.put("model.layers.0.self_attn.k_proj.weight", new long[] {4, HIDDEN});
        shapes.put("model.layers.0.self_attn.v_proj.weight", new long[] {4, HIDDEN});
        shapes.put("model.layers.0.self_attn.o_proj.weight", new long[] {HIDDEN, 8});
        shapes.put("model.layers.0.post_attention_layernorm.weight", new long[] {HIDDEN});
        shapes.put("model.layers.0.mlp.gate_proj.weight", new long[] {8, HIDDEN});
        shapes.put("model.layers.0.mlp.up_proj.weight", new long[] {8, HIDDEN});
        shapes.put("model.layers.0.mlp.down_proj.weight", new long[] {HIDDEN, 8});
        shapes.put("model.norm.weight", new long[] {HIDDEN});
        shapes.put("lm_head.weight", new long[] {VOCAB, HIDDEN});
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = 4 * Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            header.append(header.length() > 1 ? "," : "").append('"').append(e.getKey())
                    .append("\":{\"dtype\":\"F32\",\"shape\":").append(Arrays.toString(e.getValue()))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + json.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(json.length).put(json);
        for (int i = 0; file.hasRemaining(); i++) {
            file.putFloat(i * 0.5f); // float i of the data section is i / 2
        }
        try (FileChannel out = FileChannel.open(dir.resolve("model.safetensors"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            out.write(file.flip());
        }
        return dir;
    }

    @Test
    void opensAndOutlivesAStopOfTheCheckpointBundle(@InjectService CheckpointLoader loader) throws Exception {
        Bundle bundle = Arrays.stream(context.getBundles())
                .filter(b -> b.getSymbolicName().equals("io.tessera.checkpoint")).findFirst().orElseThrow();
        Checkpoint checkpoint = loader.open(writeCheckpoint());
        Tensor norm = checkpoint.tensor("model.norm.weight");
        assertEquals(DType.F32, norm.dtype());
        assertEquals(1, checkpoint.config().layers().size());
        assertEquals(AttentionKind.GLOBAL, checkpoint.config().layers().get(0).attention());
        // model.norm.weight follows embed [4,8] and layer 0: norm 8, q 8x8, k 4x8, v 4x8, o 8x8, norm 8, mlp 3 x 8x8
        float first = (VOCAB * HIDDEN + 8 + 64 + 32 + 32 + 64 + 8 + 3 * 64) * 0.5f;
        assertEquals(first, norm.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
        bundle.stop();
        try {
            // the loader is gone, the weights it mapped are still readable by their holder
            assertEquals(first, norm.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
        } finally {
            bundle.start();
        }
        checkpoint.close();
        assertThrows(IllegalStateException.class, () -> norm.data().get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void reportsWhatIsMissing(@InjectService CheckpointLoader loader) throws Exception {
        Path dir = writeCheckpoint();
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json"))
                .replace("\"num_hidden_layers\": 1, \"hybrid_layer_pattern\": [0], \"moe_layer_freq\": [0]",
                        "\"num_hidden_layers\": 2, \"hybrid_layer_pattern\": [0, 1], \"moe_layer_freq\": [0, 0]"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> loader.open(dir));
        assertTrue(e.getMessage().contains("tensor 'model.layers.1.self_attn.attention_sink_bias': missing"),
                e.getMessage());
    }

    @Test
    void inspectCommand(@InjectService CommandProcessor processor) throws Exception {
        Path dir = writeCheckpoint();
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), System.out, System.err)) {
            String out = String.valueOf(session.execute("model:inspect " + dir));
            assertTrue(out.contains("    0 global") && out.contains("valid:"), out);
        }
    }
}
