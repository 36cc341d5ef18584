package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;

/** Both Java backends register inside OSGi, the CPU one ranks highest, and they compute the same matmul. */
public class BackendServiceTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void cpuAndReferenceBackendsAgree() throws Exception {
        Collection<ServiceReference<KernelBackend>> refs = context.getServiceReferences(KernelBackend.class, null);
        Map<String, KernelBackend> byName = new HashMap<>();
        for (ServiceReference<KernelBackend> ref : refs) {
            byName.put((String) ref.getProperty(KernelBackend.BACKEND), context.getService(ref));
        }
        assertTrue(byName.keySet().containsAll(java.util.List.of("cpu", "reference")), byName.keySet().toString());
        assertEquals("cpu", context.getServiceReference(KernelBackend.class).getProperty(KernelBackend.BACKEND),
                "the CPU backend must outrank the reference one");

        // W [3, 5] and x [2, 5] of small integers: every product and sum is exact in F32, so results are equal
        int out = 3, in = 5, n = 2;
        MemorySegment data = Arena.ofAuto().allocate(4L * out * in);
        for (int i = 0; i < out * in; i++) {
            data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, i % 7 - 3);
        }
        Tensor w = new Tensor("itest.w", DType.F32, new long[] {out, in}, data, Optional.empty());
        float[] x = {1, 2, 3, 4, 5, -1, 0, 2, -2, 1};
        float[] cpu = matmul(byName.get("cpu"), w, x, n, out);
        float[] reference = matmul(byName.get("reference"), w, x, n, out);
        assertArrayEquals(reference, cpu);
        assertEquals(1 * -3 + 2 * -2 + 3 * -1 + 4 * 0 + 5 * 1, reference[0]);
    }

    private static float[] matmul(KernelBackend b, Tensor t, float[] x, int n, int out) {
        Weight w = b.weight(t);
        Buffer xb = b.allocate(DType.F32, n, t.dim(1));
        Buffer yb = b.allocate(DType.F32, n, out);
        try (w; xb; yb) {
            b.write(xb, 0, x, 0, x.length);
            b.matmul(xb, w, n, yb);
            float[] y = new float[n * out];
            b.read(yb, 0, y, 0, y.length);
            return y;
        }
    }
}
