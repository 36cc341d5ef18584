package io.tessera.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backend's own kernels: the {@code .cu} sources bundled under {@code /cuda/}, compiled through the
 * {@link KernelCache} for the device's architecture, loaded as modules, and launched through one reusable argument
 * block (no allocation per launch; callers serialize launches).
 */
final class CudaKernels implements AutoCloseable {
    static final List<String> HEADERS = List.of("tessera.cuh", "gemv.cuh");
    /** Each source and the kernels it defines. */
    static final Map<String, List<String>> SOURCES = sources();

    private static Map<String, List<String>> sources() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("rows.cu", List.of("embed", "rms_norm", "add", "silu_mul", "concat", "gather_rows", "scatter_rows", "rope"));
        m.put("attention.cu", List.of("kv_store", "attention"));
        m.put("gemv.cu", List.of("gemv_f32", "gemv_bf16", "gemv_f16", "gemv_f8", "gemv_rows_f32", "gemv_rows_bf16",
                "gemv_rows_f16", "gemv_rows_f8", "quantize_fp8"));
        m.put("moe.cu", List.of("route", "expert_gate_up_f32", "expert_gate_up_bf16", "expert_gate_up_f16",
                "expert_gate_up_f8", "expert_down_f32", "expert_down_bf16", "expert_down_f16", "expert_down_f8",
                "expert_combine"));
        m.put("sample.cu", List.of("argmax", "sample", "mask_logits"));
        return java.util.Collections.unmodifiableMap(m);
    }

    private final CudaDriver driver;
    private final List<MemorySegment> modules = new ArrayList<>();
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment values = arena.allocate(CudaLayouts.KERNEL_ARG_VALUES);
    private final MemorySegment pointers = arena.allocate(CudaLayouts.KERNEL_ARG_POINTERS);
    private final Launch launch = new Launch();

    /** Where a source's device image comes from: NVRTC through the {@link KernelCache}, or prebuilt CUBINs. */
    @FunctionalInterface
    interface Images {
        byte[] image(String name, String source, Map<String, String> headers) throws Throwable;
    }

    /** Images compiled by NVRTC for {@code arch}, through the on-disk cache. */
    static Images compiled(KernelCache cache, String arch) {
        return (name, source, headers) -> cache.get(name, source, headers, arch);
    }

    /** The CUBINs the build's nvcc check wrote ({@code <source>.cubin}, sm_90a), for machines without NVRTC. */
    static Images prebuilt(java.nio.file.Path folder) {
        return (name, source, headers) -> java.nio.file.Files.readAllBytes(
                folder.resolve(name.replaceFirst("\\.cu$", ".cubin")));
    }

    /** Builds (or loads) and loads every kernel; the context must be current. */
    CudaKernels(CudaDriver driver, Images images) throws Throwable {
        this.driver = driver;
        for (int i = 0; i < CudaLayouts.MAX_KERNEL_ARGS; i++) {
            pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(8L * i, 8));
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h : HEADERS) {
            headers.put(h, source(h));
        }
        try (Arena a = Arena.ofConfined()) {
            for (Map.Entry<String, List<String>> s : SOURCES.entrySet()) {
                byte[] image = images.image(s.getKey(), source(s.getKey()), headers);
                MemorySegment module = driver.loadModule(a.allocateFrom(ValueLayout.JAVA_BYTE, nulTerminated(image)));
                modules.add(module);
                for (String k : s.getValue()) {
                    functions.put(k, driver.function(module, k));
                }
            }
        }
    }

    /** The text of a bundled source or header. */
    static String source(String name) {
        try (InputStream in = CudaKernels.class.getResourceAsStream("/cuda/" + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel source /cuda/" + name + " is missing from the bundle");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source /cuda/" + name, e);
        }
    }

    private static byte[] nulTerminated(byte[] image) {
        return image.length > 0 && image[image.length - 1] == 0 ? image : java.util.Arrays.copyOf(image, image.length + 1);
    }

    MemorySegment function(String name) {
        MemorySegment f = functions.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no CUDA kernel named " + name);
        }
        return f;
    }

    /** Starts a launch of {@code kernel}: set the geometry, append the arguments in order, then {@link Launch#go}. */
    Launch launch(String kernel) {
        return launch.start(function(kernel));
    }

    /** A launch being assembled; arguments go into 8-byte slots whose addresses cuLaunchKernel receives. */
    final class Launch {
        private MemorySegment fn;
        private int gx, gy, bx, shared, args;

        private Launch start(MemorySegment f) {
            fn = f;
            gx = gy = bx = 1;
            shared = args = 0;
            return this;
        }

        Launch grid(long x, long y) {
            if (x < 1 || y < 1 || x > Integer.MAX_VALUE || y > 65535) {
                throw new IllegalArgumentException("bad CUDA grid " + x + " x " + y);
            }
            gx = (int) x;
            gy = (int) y;
            return this;
        }

        Launch block(int x) {
            bx = x;
            return this;
        }

        Launch shared(int bytes) {
            shared = bytes;
            return this;
        }

        Launch ptr(long devicePointer) {
            values.set(ValueLayout.JAVA_LONG, slot(), devicePointer);
            return this;
        }

        Launch i64(long v) {
            return ptr(v);
        }

        Launch i32(int v) {
            values.set(ValueLayout.JAVA_INT, slot(), v);
            return this;
        }

        Launch f32(float v) {
            values.set(ValueLayout.JAVA_FLOAT, slot(), v);
            return this;
        }

        Launch f64(double v) {
            values.set(ValueLayout.JAVA_DOUBLE, slot(), v);
            return this;
        }

        private long slot() {
            if (args == CudaLayouts.MAX_KERNEL_ARGS) {
                throw new IllegalStateException("more than " + CudaLayouts.MAX_KERNEL_ARGS + " kernel arguments");
            }
            return 8L * args++;
        }

        void go(MemorySegment stream) throws Throwable {
            driver.launch(fn, gx, gy, 1, bx, 1, 1, shared, stream, pointers);
        }
    }

    @Override
    public void close() {
        try {
            for (MemorySegment m : modules) {
                driver.unloadModule(m);
            }
        } catch (Throwable t) {
            throw CudaBackend.unchecked(t);
        } finally {
            modules.clear();
            functions.clear();
            arena.close();
        }
    }
}
