package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Opens every committed fixture checkpoint under {@code tools/fixtures/models/}: each must open and validate.
 * Skipped only when that folder does not exist; a fixture that does not open fails the build.
 */
class FixturesTest {
    static final Path MODELS = Path.of("../../tools/fixtures/models");

    @TestFactory
    Stream<DynamicTest> everyFixtureOpensAndValidates() throws Exception {
        assumeTrue(Files.isDirectory(MODELS), "no fixtures at " + MODELS.toAbsolutePath());
        List<Path> dirs;
        try (Stream<Path> list = Files.list(MODELS)) {
            dirs = list.filter(Files::isDirectory).sorted().toList();
        }
        assertFalse(dirs.isEmpty(), MODELS + " exists but holds no checkpoint directory");
        SafetensorsCheckpointLoader loader = TestModels.loader();
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            try (Checkpoint c = loader.open(dir)) {
                check(c);
            }
        }));
    }

    /** Facts every MiMo-V2-Flash-shaped checkpoint has, whatever its size. */
    private static void check(Checkpoint c) throws Exception {
        ModelConfig m = c.config();
        assertEquals(m.numHiddenLayers(), m.layers().size());
        for (LayerSpec l : m.layers()) {
            assertEquals(l.attention() == AttentionKind.SLIDING_WINDOW, l.window() > 0, "layer " + l.index());
            assertEquals(0, l.heads() % l.kvHeads(), "layer " + l.index());
        }
        long mtpPrefixes = c.tensors().stream().map(Tensor::name).filter(n -> n.startsWith("model.mtp.layers."))
                .map(n -> n.substring(0, n.indexOf('.', "model.mtp.layers.".length()))).distinct().count();
        assertEquals(mtpPrefixes, m.mtpLayers().size());
        Tensor embed = c.tensor("model.embed_tokens.weight");
        assertEquals(m.vocabSize(), embed.dim(0));
        assertEquals(m.hiddenSize(), embed.dim(1));
        // the bytes are really there: the final norm is not all zeros
        Tensor norm = c.tensor("model.norm.weight");
        boolean nonZero = false;
        for (long i = 0; i < norm.data().byteSize() && !nonZero; i++) {
            nonZero = norm.data().get(ValueLayout.JAVA_BYTE, i) != 0;
        }
        assertTrue(nonZero, "model.norm.weight is all zeros");
        for (Tensor t : c.tensors()) {
            assertEquals(t.elements() * t.dtype().bytes(), t.data().byteSize(), t.name());
            assertEquals(t.dtype() == io.tessera.api.DType.F8_E4M3, t.scaleInv().isPresent(), t.name());
        }
    }
}
