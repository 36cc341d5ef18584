package io.tessera.kernels.cuda;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds out at activation whether this machine can run the CUDA backend: the driver library loads, {@code cuInit}
 * succeeds and at least one device is present. The outcome is kept as a one-line reason for operators; the
 * backend service itself is registered only when the probe succeeds, so the CPU backend serves otherwise.
 */
@Component(service = CudaDriverProbe.class, immediate = true)
public class CudaDriverProbe {
    static final String DRIVER = "libcuda.so.1";
    private static final Logger LOG = LoggerFactory.getLogger(CudaDriverProbe.class);

    private final String status;

    @Activate
    public CudaDriverProbe() {
        status = probe();
        LOG.info("CUDA backend: {}", status);
    }

    /** {@code "available: N device(s)"} or why the backend is unavailable. */
    public String status() {
        return status;
    }

    static String probe() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup cuda;
            try {
                cuda = SymbolLookup.libraryLookup(DRIVER, arena);
            } catch (IllegalArgumentException e) {
                return "unavailable: no NVIDIA driver (" + DRIVER + " not found)";
            }
            Linker linker = Linker.nativeLinker();
            MethodHandle cuInit = linker.downcallHandle(cuda.findOrThrow("cuInit"),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            int rc = (int) cuInit.invokeExact(0);
            if (rc != 0) {
                return "unavailable: cuInit failed with CUresult " + rc
                        + (rc == 100 ? " (CUDA_ERROR_NO_DEVICE)" : "");
            }
            MethodHandle count = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetCount"),
                    FunctionDescriptor.of(JAVA_INT, java.lang.foreign.ValueLayout.ADDRESS));
            MemorySegment n = arena.allocate(JAVA_INT);
            rc = (int) count.invokeExact(n);
            int devices = n.get(JAVA_INT, 0);
            if (rc != 0 || devices == 0) {
                return "unavailable: no CUDA device (cuDeviceGetCount returned " + rc + ")";
            }
            return "available: " + devices + " device(s); the FP8 kernels are not built yet";
        } catch (Throwable t) {
            return "unavailable: probing the driver failed: " + t;
        }
    }
}
