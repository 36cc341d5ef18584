package io.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaLibrariesTest {
    @TempDir
    Path root;

    private Path lib(String folder, String name) throws IOException {
        Path dir = Files.createDirectories(root.resolve(folder));
        return Files.writeString(dir.resolve(name), "fake");
    }

    private CudaLibraries system(Map<String, String> env) {
        return new CudaLibraries(env, root, root.resolve("home/user"));
    }

    @Test
    void nothingInstalledFallsBackToTheSystemLoaderByName() {
        CudaLibraries.Location driver = system(Map.of()).find(CudaLibraries.DRIVER);
        assertTrue(driver.path().isEmpty());
        assertEquals("libcuda.so.1", driver.name());
        assertEquals("libcuda.so.1 (system loader)", driver.toString());
        assertTrue(system(Map.of()).folders().isEmpty());
    }

    @Test
    void theNewestVersionedToolkitWinsOverOlderOnes() throws IOException {
        lib("usr/local/cuda-12.9/lib64", "libnvrtc.so.12");
        Path newest = lib("usr/local/cuda-12.10/lib64", "libnvrtc.so.12");
        assertEquals(newest, system(Map.of()).find(CudaLibraries.NVRTC).path().orElseThrow());
    }

    @Test
    void cudaHomeComesBeforeTheStandardFoldersAndTesseraCudaPathBeforeEverything() throws IOException {
        lib("usr/local/cuda/lib64", "libnvrtc.so.13");
        Path home = lib("opt/toolkit/lib64", "libnvrtc.so.13");
        Path mine = lib("mine", "libnvrtc.so.13");
        assertEquals(home, system(Map.of("CUDA_HOME", root.resolve("opt/toolkit").toString()))
                .find(CudaLibraries.NVRTC).path().orElseThrow());
        assertEquals(mine, system(Map.of("CUDA_HOME", root.resolve("opt/toolkit").toString(),
                "TESSERA_CUDA_PATH", root.resolve("nowhere") + java.io.File.pathSeparator + root.resolve("mine")))
                .find(CudaLibraries.NVRTC).path().orElseThrow());
    }

    @Test
    void aNewerSonameIsPreferredWhereverItIs() throws IOException {
        lib("usr/local/cuda/lib64", "libcublasLt.so.12");
        Path v13 = lib("usr/lib/x86_64-linux-gnu", "libcublasLt.so.13");
        assertEquals(v13, system(Map.of()).find(CudaLibraries.CUBLAS_LT).path().orElseThrow());
    }

    @Test
    void pythonWheelLayoutsAreFoundInVirtualEnvsAndUserSitePackages() throws IOException {
        Path cu13 = lib("venv/lib/python3.12/site-packages/nvidia/cu13/lib", "libnvrtc.so.13");
        Path cu12 = lib("home/user/.local/lib/python3.11/site-packages/nvidia/cublas/lib", "libcublasLt.so.12");
        CudaLibraries libs = system(Map.of("VIRTUAL_ENV", root.resolve("venv").toString()));
        assertEquals(cu13, libs.find(CudaLibraries.NVRTC).path().orElseThrow());
        assertEquals(cu12, libs.find(CudaLibraries.CUBLAS_LT).path().orElseThrow());
        assertTrue(libs.find(CudaLibraries.DRIVER).path().isEmpty());
    }

    @Test
    void theDriverIsFoundInTheDistributionsLibraryFolder() throws IOException {
        Path driver = lib("usr/lib/x86_64-linux-gnu", "libcuda.so.1");
        CudaLibraries.Location at = system(Map.of()).find(CudaLibraries.DRIVER);
        assertEquals(driver, at.path().orElseThrow());
        assertTrue(at.toString().contains("folder"));
        assertFalse(system(Map.of()).folders().contains(root.resolve("usr/local/cuda/lib64")));
    }

    @Test
    void nvrtcBringsItsBuiltinsFromItsOwnFolder() throws IOException {
        Path nvrtc = lib("site/nvidia/cu13/lib", "libnvrtc.so.13");
        Path builtins = lib("site/nvidia/cu13/lib", "libnvrtc-builtins.so.13.0");
        lib("site/nvidia/cu13/lib", "libnvrtc-builtins.alt.so.13.0");
        assertEquals(java.util.List.of(builtins), CudaLibraries.companions(nvrtc));
        assertTrue(CudaLibraries.companions(lib("site/nvidia/cu13/lib", "libcublasLt.so.13")).isEmpty());
    }
}
