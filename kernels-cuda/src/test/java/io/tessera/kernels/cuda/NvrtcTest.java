package io.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * NVRTC needs no GPU: where the library is found (CUDA toolkit, nvidia-cuda-nvrtc wheel, TESSERA_CUDA_PATH), every
 * bundled kernel must compile through the binding exactly as activation compiles it. Skipped otherwise.
 */
@EnabledIf(value = "nvrtcFound", disabledReason = "NVRTC (libnvrtc.so.13/12) not found: set CUDA_HOME or TESSERA_CUDA_PATH")
class NvrtcTest {
    @TempDir
    Path cacheFolder;

    static boolean nvrtcFound() {
        return lookup() != null;
    }

    private static SymbolLookup lookup() {
        try {
            return CudaProbe.SYSTEM_LOADER.load(CudaLibraries.ofSystem().find(CudaLibraries.NVRTC), Arena.global());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        CudaKernels.HEADERS.forEach(name -> h.put(name, CudaKernels.source(name)));
        return h;
    }

    @Test
    void everyBundledKernelCompilesToAHopperCubin() throws Throwable {
        Nvrtc nvrtc = new Nvrtc(lookup());
        assertTrue(nvrtc.version().matches("1[2-9]\\.\\d+"), nvrtc.version());
        String arch = CudaProbe.arch(9, 0, nvrtc.supportedArchs());
        assertEquals("sm_90", arch);
        KernelCache cache = new KernelCache(cacheFolder, nvrtc.version(), nvrtc::compile);
        for (String source : CudaKernels.SOURCES.keySet()) {
            byte[] cubin = cache.get(source, CudaKernels.source(source), headers(), arch);
            assertTrue(cubin.length > 1000 && cubin[0] == 0x7f && cubin[1] == 'E' && cubin[2] == 'L' && cubin[3] == 'F',
                    source + " is not an ELF CUBIN");
            String text = new String(cubin, java.nio.charset.StandardCharsets.ISO_8859_1);
            for (String kernel : CudaKernels.SOURCES.get(source)) {
                assertTrue(text.contains(kernel), source + " lacks the kernel " + kernel);
            }
        }
    }

    @Test
    void ptxForAVirtualArchitecture() throws Throwable {
        Nvrtc nvrtc = new Nvrtc(lookup());
        byte[] ptx = nvrtc.compile("rows.cu", CudaKernels.source("rows.cu"), headers(), "compute_90");
        String text = new String(ptx, java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(text.contains(".target sm_90") && text.contains(".entry rms_norm"), text.substring(0, 200));
        assertEquals(0, ptx[ptx.length - 1], "PTX must be NUL-terminated for cuModuleLoadData");
    }

    @Test
    void aCompileErrorCarriesNvrtcsLog() throws Throwable {
        Nvrtc nvrtc = new Nvrtc(lookup());
        CudaException e = assertThrows(CudaException.class, () -> nvrtc.compile("broken.cu",
                "extern \"C\" __global__ void k(float* x) { x[0] = undefined_name; }", Map.of(), "sm_90"));
        assertEquals(6, e.code());
        assertTrue(e.getMessage().contains("NVRTC_ERROR_COMPILATION") && e.getMessage().contains("undefined_name"),
                e.getMessage());
    }
}
