package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.TensorLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A tiny checkpoint written by transformers 5.18 {@code save_pretrained} (src/test/python/save_pretrained_tiny.py):
 * native config spelling, hub tensor names (transformers converts back on save), six shards. The values read
 * through the mapped views must equal what safetensors' own reader gave (expected.json).
 */
class SavedByTransformersTest {

    @Test
    void opensWithTheNativeConfigAndReadsTheSameValues() throws Exception {
        Path dir = Path.of(getClass().getResource("/saved-by-transformers/config.json").toURI()).getParent();
        try (Checkpoint c = TestModels.loader().open(dir)) {
            assertEquals(TensorLayout.HUB, c.layout());
            ModelConfig m = c.config();
            assertEquals(new LayerSpec(0, AttentionKind.GLOBAL, 2, 1, 24, 8, 8, 5_000_000, 0, false, 0.707f, false),
                    m.layers().get(0));
            assertEquals(new LayerSpec(1, AttentionKind.SLIDING_WINDOW, 2, 2, 24, 8, 8, 10_000, 4, true, 0.707f, true),
                    m.layers().get(1));
            assertEquals(AttentionKind.GLOBAL, m.layers().get(5).attention());
            assertEquals(List.of(2), m.eosTokenIds());
            assertEquals(1e-5, m.rmsNormEps());
            assertEquals(256, m.maxPositionEmbeddings());

            JsonNode expected = TestModels.JSON.readTree(dir.resolve("expected.json").toFile());
            for (Map.Entry<String, JsonNode> e : expected.properties()) {
                Tensor t = c.tensor(e.getKey());
                assertEquals(e.getValue().get("dtype").asText(), t.dtype().name());
                assertArrayEquals(TestModels.JSON.treeToValue(e.getValue().get("shape"), long[].class), t.shape());
                JsonNode first = e.getValue().get("first");
                for (int i = 0; i < first.size(); i++) {
                    assertEquals((float) first.get(i).asDouble(),
                            t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i), e.getKey() + "[" + i + "]");
                }
            }
        }
    }
}
