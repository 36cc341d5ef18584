package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.TensorLayout;
import io.tessera.checkpoint.SafetensorsWriter.Spec;
import io.tessera.checkpoint.TestModels.Dims;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full tensor list and headers of the real MiMo-V2-Flash (48 layers, 256 experts, 3 MTP blocks, FP8 with
 * block scales) in sparse shards whose weight bytes are never written: opening must cost milliseconds and heap
 * proportional to the tensor count, not the ~313 GB of weights.
 */
class RealScaleTest {
    @TempDir
    Path tmp;

    @Test
    void opensAndValidatesTheFullSizeTensorListQuickly() throws Exception {
        Dims d = Dims.real();
        List<Spec> tensors = TestModels.hubTensors(d);
        ObjectNode config = (ObjectNode) TestModels.JSON.readTree(ConfigTest.realConfig().toFile());
        Path dir = TestModels.writeSharded(tmp.resolve("mimo"), config, tensors, TestModels.byLayer(d));
        long fileBytes = 0;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                fileBytes += Files.size(f);
            }
        }
        SafetensorsCheckpointLoader loader = TestModels.loader();
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var memory = ManagementFactory.getMemoryMXBean();
        long cold = System.nanoTime();
        loader.open(dir).close(); // the first open in this JVM also pays for class loading and the JIT
        long coldMillis = (System.nanoTime() - cold) / 1_000_000;
        long warmMillis = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t = System.nanoTime();
            loader.open(dir).close();
            warmMillis = Math.min(warmMillis, (System.nanoTime() - t) / 1_000_000);
        }

        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        long cpuBefore = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        Checkpoint c = loader.open(dir);
        long millis = (System.nanoTime() - start) / 1_000_000;
        long cpuMillis = (threads.getCurrentThreadCpuTime() - cpuBefore) / 1_000_000; // less sensitive to load
        long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
        System.gc();
        long retained = memory.getHeapMemoryUsage().getUsed() - heapBefore;
        try (c) {
            int listed = c.tensors().size();
            System.out.printf("real-scale checkpoint: %d tensors in the headers (%d listed, scales attached), "
                            + "%d shards, %.1f GB of sparse files; open+validate: first %d ms, best of 3 warm %d ms, this one %d ms (%d ms CPU), "
                            + "%.1f MB allocated, "
                            + "%.1f MB retained (%d bytes per listed tensor)%n", tensors.size(), listed,
                    d.layers() + 2, fileBytes / 1e9, coldMillis, warmMillis, millis, cpuMillis, allocated / 1e6, retained / 1e6,
                    listed == 0 ? 0 : retained / listed);

            assertEquals(TensorLayout.HUB, c.layout());
            assertEquals(tensors.stream().filter(s -> !s.name().endsWith("_scale_inv")).count(), listed);
            assertEquals(3, c.config().mtpLayers().size());
            assertEquals(AttentionKind.SLIDING_WINDOW, c.config().mtpLayers().get(2).attention());
            Tensor q = c.tensor("model.layers.5.self_attn.q_proj.weight");
            assertEquals(DType.F8_E4M3, q.dtype());
            assertEquals(12288L * 4096, q.data().byteSize());
            assertArrayEquals(new long[] {96, 32}, q.scaleInv().orElseThrow().shape());
            Tensor down = c.tensor("model.layers.47.mlp.experts.255.down_proj.weight");
            assertArrayEquals(new long[] {32, 16}, down.scaleInv().orElseThrow().shape());
            assertEquals(0, down.data().get(ValueLayout.JAVA_BYTE, down.data().byteSize() - 1), "a hole reads as 0");
            long weightBytes = c.tensors().stream().mapToLong(t -> t.data().byteSize()).sum();
            assertTrue(weightBytes > 300e9 && weightBytes < 320e9, "about 309B parameters: " + weightBytes);

            // bounds generous enough for a loaded 2-core machine; typical figures are printed above
            assertTrue(millis < 20_000, "open took " + millis + " ms");
            assertTrue(retained < 200_000_000L, "open retained " + retained + " bytes of heap");
        }
    }
}
