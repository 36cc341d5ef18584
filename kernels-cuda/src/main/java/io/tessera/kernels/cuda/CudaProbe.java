package io.tessera.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Finds out whether this machine can run the CUDA backend and, if so, opens it: driver, device, NVRTC (cuBLASLt is
 * optional: the backend's own kernels serve every op), kernels compiled for the device, and a passing self-test.
 * Every failure becomes a one-line reason; nothing here throws.
 */
final class CudaProbe {
    enum Reason {
        AVAILABLE("available"),
        NO_DRIVER("unavailable: no NVIDIA driver"),
        DRIVER_FAILED("unavailable: the NVIDIA driver failed"),
        NO_DEVICE("unavailable: no CUDA device"),
        LIBRARY_MISSING("unavailable: a CUDA library is missing"),
        KERNELS_FAILED("unavailable: the CUDA kernels did not build"),
        SELF_TEST_FAILED("unavailable: the CUDA self-test failed");

        private final String text;

        Reason(String text) {
            this.text = text;
        }
    }

    /** The result: the reason, its detail, and the opened backend when {@link Reason#AVAILABLE}. */
    record Outcome(Reason reason, String detail, CudaBackend backend) {
        String message() {
            return reason.text + " (" + detail + ")";
        }
    }

    /** Opens a found library (the system loader by name when no file was found). */
    @FunctionalInterface
    interface Loader {
        SymbolLookup load(CudaLibraries.Location location, Arena arena);
    }

    static final Loader SYSTEM_LOADER = (location, arena) -> location.path()
            .map(p -> {
                // NVRTC dlopens its builtins by soname; outside LD_LIBRARY_PATH (wheels, CUDA_HOME) load them first
                CudaLibraries.companions(p).forEach(c -> SymbolLookup.libraryLookup(c, arena));
                return SymbolLookup.libraryLookup(p, arena);
            })
            .orElseGet(() -> SymbolLookup.libraryLookup(location.name(), arena));

    private CudaProbe() {
    }

    /**
     * Probes and, on success, opens the backend. {@code arena} keeps the libraries loaded: close it only after the
     * backend.
     */
    static Outcome probe(CudaLibraries libraries, Loader loader, Arena arena, Path cacheFolder) {
        return probe(libraries, loader, arena, cacheFolder, null);
    }

    /**
     * As {@link #probe(CudaLibraries, Loader, Arena, Path)}; without NVRTC, an sm_90 device may load the build's
     * prebuilt sm_90a CUBINs from {@code prebuilt} (null: none).
     */
    static Outcome probe(CudaLibraries libraries, Loader loader, Arena arena, Path cacheFolder, Path prebuilt) {
        CudaLibraries.Location driverAt = libraries.find(CudaLibraries.DRIVER);
        SymbolLookup driverLib = load(loader, driverAt, arena);
        if (driverLib == null) {
            return fail(Reason.NO_DRIVER, "libcuda.so.1 not found in " + libraries.folders().size()
                    + " searched folders nor by the system loader");
        }
        try {
            CudaDriver driver = new CudaDriver(driverLib);
            int rc = driver.init();
            if (rc == 100) {
                return fail(Reason.NO_DEVICE, "cuInit: CUDA_ERROR_NO_DEVICE");
            }
            if (rc != 0) {
                return fail(Reason.DRIVER_FAILED, "cuInit: " + driver.errorName(rc) + " (" + rc + ")");
            }
            int devices = driver.deviceCount();
            if (devices == 0) {
                return fail(Reason.NO_DEVICE, "cuDeviceGetCount returned 0");
            }
            CudaLibraries.Location nvrtcAt = libraries.find(CudaLibraries.NVRTC);
            SymbolLookup nvrtcLib = load(loader, nvrtcAt, arena);
            CudaLibraries.Location cublasAt = libraries.find(CudaLibraries.CUBLAS_LT);
            SymbolLookup cublasLib = load(loader, cublasAt, arena);
            String cublas = cublasLib == null ? "cuBLASLt not found" : cublasInfo(new CublasLt(cublasLib))
                    + " at " + cublasAt;

            int device = driver.device(0);
            int major = driver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
            int minor = driver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
            String description = String.format(Locale.ROOT, "%s (sm_%d%d, %d SMs, %.1f GiB), driver %s",
                    driver.name(device), major, minor,
                    driver.attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
                    driver.totalMemory(device) / (double) (1L << 30), version(driver.driverVersion()));
            String kernels;
            CudaKernels.Images images;
            if (nvrtcLib != null) {
                Nvrtc nvrtc = new Nvrtc(nvrtcLib);
                String arch = arch(major, minor, nvrtc.supportedArchs());
                if (arch == null) {
                    return fail(Reason.KERNELS_FAILED, "NVRTC " + nvrtc.version() + " cannot target compute capability "
                            + major + "." + minor + " (supports " + Arrays.toString(nvrtc.supportedArchs()) + ")");
                }
                images = CudaKernels.compiled(new KernelCache(cacheFolder, nvrtc.version(), nvrtc::compile), arch);
                kernels = arch + " by NVRTC " + nvrtc.version() + " at " + nvrtcAt;
            } else if (prebuilt != null && major == 9 && minor == 0 && Files.isDirectory(prebuilt)) {
                images = CudaKernels.prebuilt(prebuilt);
                kernels = "prebuilt sm_90a CUBINs from " + prebuilt + " (NVRTC not found)";
            } else {
                return fail(Reason.LIBRARY_MISSING, "NVRTC (" + String.join(", ", CudaLibraries.NVRTC) + ") not found;"
                        + " install the CUDA toolkit or the nvidia-cuda-nvrtc wheel, or set CUDA_HOME / TESSERA_CUDA_PATH");
            }
            String libs = "kernels " + kernels + ", " + cublas + ", " + devices + " device(s)";
            return open(driver, device, images, description, libs);
        } catch (Throwable t) {
            return fail(Reason.DRIVER_FAILED, t.toString());
        }
    }

    private static Outcome open(CudaDriver driver, int device, CudaKernels.Images images, String description,
                                String libs) throws Throwable {
        MemorySegment context = driver.retainPrimaryContext(device);
        driver.setCurrent(context);
        MemorySegment stream = driver.createStream();
        CudaKernels kernels;
        try {
            kernels = new CudaKernels(driver, images);
        } catch (Throwable t) {
            driver.destroyStream(stream);
            driver.releasePrimaryContext(device);
            return fail(Reason.KERNELS_FAILED, firstLines(t.getMessage(), 6));
        }
        CudaBackend backend = new CudaBackend(driver, device, context, stream, kernels, description);
        String failure = CudaSelfTest.run(backend);
        if (failure != null) {
            backend.close();
            return fail(Reason.SELF_TEST_FAILED, failure);
        }
        return new Outcome(Reason.AVAILABLE, description + "; " + libs, backend);
    }

    /**
     * The NVRTC target for compute capability {@code major.minor}: {@code sm_XY} (a CUBIN) when NVRTC supports it,
     * else PTX for the newest supported virtual architecture below it (the driver JIT-compiles it), else null.
     */
    static String arch(int major, int minor, int[] supported) {
        int sm = major * 10 + minor, best = -1;
        for (int s : supported) {
            if (s == sm) {
                return "sm_" + sm;
            }
            if (s < sm && s > best) {
                best = s;
            }
        }
        return best < 0 ? null : "compute_" + best;
    }

    /** {@code 13000} → {@code 13.0}. */
    static String version(int cudaVersion) {
        return cudaVersion / 1000 + "." + cudaVersion % 1000 / 10;
    }

    private static String cublasInfo(CublasLt lt) throws Throwable {
        long v = lt.version();
        return "cuBLASLt " + v / 10000 + "." + v / 100 % 100 + "." + v % 100 + " (FP8 128-block scaling "
                + (lt.hasBlockScaling() ? "available" : "missing: needs 12.9+") + ")";
    }

    private static SymbolLookup load(Loader loader, CudaLibraries.Location at, Arena arena) {
        try {
            return loader.load(at, arena);
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            return null;
        }
    }

    private static Outcome fail(Reason reason, String detail) {
        return new Outcome(reason, detail, null);
    }

    static String firstLines(String text, int lines) {
        if (text == null) {
            return "no message";
        }
        String[] all = text.strip().split("\\R");
        return String.join(" | ", Arrays.copyOf(all, Math.min(lines, all.length)))
                + (all.length > lines ? " | ..." : "");
    }
}
