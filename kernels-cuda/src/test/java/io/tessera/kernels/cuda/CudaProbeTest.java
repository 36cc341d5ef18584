package io.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaProbeTest {
    @TempDir
    Path root;

    @Test
    void noDriverIsAReasonNotAStackTrace() {
        CudaLibraries none = new CudaLibraries(Map.of(), root, root);
        CudaProbe.Loader missing = (at, arena) -> {
            throw new IllegalArgumentException("Cannot open library: " + at.name());
        };
        CudaProbe.Outcome o = CudaProbe.probe(none, missing, Arena.global(), root.resolve("cache"));
        assertEquals(CudaProbe.Reason.NO_DRIVER, o.reason());
        assertNull(o.backend());
        assertEquals("unavailable: no NVIDIA driver (libcuda.so.1 not found in 0 searched folders nor by the system "
                + "loader)", o.message());
    }

    @Test
    void everyReasonReadsAsOneLine() {
        for (CudaProbe.Reason r : CudaProbe.Reason.values()) {
            String m = new CudaProbe.Outcome(r, "detail", null).message();
            assertTrue(m.startsWith(r == CudaProbe.Reason.AVAILABLE ? "available (" : "unavailable: "), m);
            assertTrue(m.endsWith("(detail)") && !m.contains("\n"), m);
        }
        assertEquals("a | b | ...", CudaProbe.firstLines("a\nb\nc\n", 2));
        assertEquals("no message", CudaProbe.firstLines(null, 2));
    }

    @Test
    void theProbeOfThisMachineGivesAReason() {
        CudaProbe.Outcome o = CudaProbe.probe(CudaLibraries.ofSystem(), CudaProbe.SYSTEM_LOADER, Arena.global(),
                root.resolve("cache"));
        try {
            assertTrue(o.message().startsWith("available (") == (o.backend() != null), o.message());
        } finally {
            if (o.backend() != null) {
                o.backend().close();
            }
        }
    }

    @Test
    void theArchitectureIsTheDevicesWhenNvrtcHasItElsePtxForTheNewestBelow() {
        int[] nvrtc13 = {75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121};
        assertEquals("sm_90", CudaProbe.arch(9, 0, nvrtc13));
        assertEquals("sm_120", CudaProbe.arch(12, 0, nvrtc13));
        assertEquals("compute_121", CudaProbe.arch(13, 0, nvrtc13));
        assertNull(CudaProbe.arch(7, 0, nvrtc13), "Volta is not supported by NVRTC 13");
    }

    @Test
    void versionsAndCacheFolderReadAsDocumented() {
        assertEquals("13.0", CudaProbe.version(13000));
        assertEquals("12.8", CudaProbe.version(12080));
        assertEquals(Path.of("/x/y"), CudaDriverProbe.cacheFolder(Map.of("cache.folder", "/x/y")));
        assertTrue(CudaDriverProbe.cacheFolder(Map.of()).endsWith(Path.of(".cache", "tessera", "cuda"))
                || System.getProperty("tessera.cuda.cache") != null);
    }

    @Test
    void prebuiltCubinsAreReadByTheirSourceName() throws Throwable {
        java.nio.file.Files.write(root.resolve("rows.cubin"), new byte[] {0x7f, 'E', 'L', 'F'});
        org.junit.jupiter.api.Assertions.assertArrayEquals(new byte[] {0x7f, 'E', 'L', 'F'},
                CudaKernels.prebuilt(root).image("rows.cu", "ignored", Map.of()));
        assertEquals(root, CudaDriverProbe.prebuiltFolder(Map.of("prebuilt.folder", root.toString())));
        assertEquals(System.getProperty("tessera.cuda.prebuilt") == null, CudaDriverProbe.prebuiltFolder(Map.of()) == null);
    }
}
