package io.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelCacheTest {
    @TempDir
    Path folder;

    private final List<String> compiled = new ArrayList<>();

    private KernelCache cache(String version) {
        return new KernelCache(folder, version, (name, source, headers, arch) -> {
            compiled.add(name + "@" + arch);
            return (source + "|" + arch).getBytes();
        });
    }

    @Test
    void aMissCompilesAndStoresAHitReadsTheFile() throws Throwable {
        Map<String, String> headers = Map.of("tessera.cuh", "#define X 1");
        byte[] first = cache("13.0").get("rows.cu", "kernel A", headers, "sm_90");
        byte[] again = cache("13.0").get("rows.cu", "kernel A", headers, "sm_90");
        assertArrayEquals(first, again);
        assertEquals(List.of("rows.cu@sm_90"), compiled, "the second call must be a hit");
        try (var files = Files.list(folder)) {
            assertEquals(1, files.filter(p -> p.toString().endsWith(".cubin")).count());
        }
    }

    @Test
    void theKeyChangesWithSourceHeadersArchitectureAndCompilerVersion() {
        KernelCache c = cache("13.0");
        String key = c.key("src", Map.of("h", "1"), "sm_90");
        assertTrue(key.matches("[0-9a-f]{64}-sm_90-nvrtc13\\.0\\.cubin"), key);
        assertNotEquals(key, c.key("src2", Map.of("h", "1"), "sm_90"));
        assertNotEquals(key, c.key("src", Map.of("h", "2"), "sm_90"));
        assertNotEquals(key, c.key("src", Map.of("h", "1"), "sm_100"));
        assertNotEquals(key, cache("12.8").key("src", Map.of("h", "1"), "sm_90"));
        assertTrue(c.key("src", Map.of(), "compute_90").endsWith("-compute_90-nvrtc13.0.ptx"));
        // header order must not matter, header boundaries must
        assertEquals(c.key("s", Map.of("a", "1", "b", "2"), "sm_90"), c.key("s", Map.of("b", "2", "a", "1"), "sm_90"));
        assertNotEquals(c.key("s", Map.of("a", "12"), "sm_90"), c.key("s", Map.of("a1", "2"), "sm_90"));
    }

    @Test
    void anotherArchitectureOrCompilerVersionIsAMiss() throws Throwable {
        cache("13.0").get("k.cu", "same", Map.of(), "sm_90");
        cache("13.0").get("k.cu", "same", Map.of(), "sm_89");
        cache("13.1").get("k.cu", "same", Map.of(), "sm_90");
        assertEquals(List.of("k.cu@sm_90", "k.cu@sm_89", "k.cu@sm_90"), compiled);
    }

    @Test
    void aFailedCompilationStoresNothing() {
        KernelCache failing = new KernelCache(folder, "13.0", (name, source, headers, arch) -> {
            throw new CudaException("nvrtcCompileProgram", 6, "NVRTC_ERROR_COMPILATION", "error: expected a ;");
        });
        CudaException e = org.junit.jupiter.api.Assertions.assertThrows(CudaException.class,
                () -> failing.get("bad.cu", "x", Map.of(), "sm_90"));
        assertTrue(e.getMessage().contains("expected a ;"));
        assertTrue(!Files.exists(folder) || folder.toFile().list().length == 0);
    }
}
