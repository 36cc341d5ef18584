package io.tessera.kernels.cuda;

import static io.tessera.kernels.cuda.Native.INT;
import static io.tessera.kernels.cuda.Native.PTR;
import static io.tessera.kernels.cuda.Native.SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * NVRTC through FFM: compiles CUDA C++ source to a CUBIN for a real architecture ({@code sm_90}) or to PTX for a
 * virtual one ({@code compute_90}). Needs no GPU.
 */
final class Nvrtc {
    private final MethodHandle nvrtcVersion, nvrtcGetNumSupportedArchs, nvrtcGetSupportedArchs, nvrtcCreateProgram,
            nvrtcDestroyProgram, nvrtcCompileProgram, nvrtcGetCUBINSize, nvrtcGetCUBIN, nvrtcGetPTXSize, nvrtcGetPTX,
            nvrtcGetProgramLogSize, nvrtcGetProgramLog, nvrtcGetErrorString;

    Nvrtc(SymbolLookup lib) {
        Native n = new Native("libnvrtc", lib);
        nvrtcVersion = n.status("nvrtcVersion", PTR, PTR);
        nvrtcGetNumSupportedArchs = n.status("nvrtcGetNumSupportedArchs", PTR);
        nvrtcGetSupportedArchs = n.status("nvrtcGetSupportedArchs", PTR);
        nvrtcCreateProgram = n.status("nvrtcCreateProgram", PTR, PTR, PTR, INT, PTR, PTR);
        nvrtcDestroyProgram = n.status("nvrtcDestroyProgram", PTR);
        nvrtcCompileProgram = n.status("nvrtcCompileProgram", PTR, INT, PTR);
        nvrtcGetCUBINSize = n.status("nvrtcGetCUBINSize", PTR, PTR);
        nvrtcGetCUBIN = n.status("nvrtcGetCUBIN", PTR, PTR);
        nvrtcGetPTXSize = n.status("nvrtcGetPTXSize", PTR, PTR);
        nvrtcGetPTX = n.status("nvrtcGetPTX", PTR, PTR);
        nvrtcGetProgramLogSize = n.status("nvrtcGetProgramLogSize", PTR, PTR);
        nvrtcGetProgramLog = n.status("nvrtcGetProgramLog", PTR, PTR);
        nvrtcGetErrorString = n.handle("nvrtcGetErrorString", FunctionDescriptor.of(PTR, INT));
    }

    /** {@code "13.0"}: part of the kernel cache key. */
    String version() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(INT), minor = a.allocate(INT);
            check((int) nvrtcVersion.invokeExact(major, minor), "nvrtcVersion", null);
            return major.get(INT, 0) + "." + minor.get(INT, 0);
        }
    }

    /** The SM numbers this NVRTC can target, e.g. [75, 80, ..., 90, 100, 120]. */
    int[] supportedArchs() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(INT);
            check((int) nvrtcGetNumSupportedArchs.invokeExact(count), "nvrtcGetNumSupportedArchs", null);
            MemorySegment archs = a.allocate(INT, Math.max(1, count.get(INT, 0)));
            check((int) nvrtcGetSupportedArchs.invokeExact(archs), "nvrtcGetSupportedArchs", null);
            return archs.asSlice(0, count.get(INT, 0) * 4L).toArray(INT);
        }
    }

    /**
     * Compiles {@code source} with {@code headers} (include name → text) for {@code arch}: {@code sm_XX[a]} gives a
     * CUBIN, {@code compute_XX} PTX (NUL-terminated, as cuModuleLoadData wants it).
     *
     * @throws CudaException with NVRTC's log when the source does not compile
     */
    byte[] compile(String name, String source, Map<String, String> headers, String arch) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment prog = a.allocate(PTR);
            MemorySegment headerTexts = a.allocate(PTR, Math.max(1, headers.size()));
            MemorySegment headerNames = a.allocate(PTR, Math.max(1, headers.size()));
            int i = 0;
            for (Map.Entry<String, String> h : headers.entrySet()) {
                headerTexts.setAtIndex(PTR, i, a.allocateFrom(h.getValue()));
                headerNames.setAtIndex(PTR, i++, a.allocateFrom(h.getKey()));
            }
            check((int) nvrtcCreateProgram.invokeExact(prog, a.allocateFrom(source), a.allocateFrom(name),
                    headers.size(), headerTexts, headerNames), "nvrtcCreateProgram(" + name + ")", null);
            MemorySegment program = prog.get(PTR, 0);
            try {
                List<String> options = new ArrayList<>(List.of("--gpu-architecture=" + arch, "--std=c++17"));
                MemorySegment opts = a.allocate(PTR, options.size());
                for (int o = 0; o < options.size(); o++) {
                    opts.setAtIndex(PTR, o, a.allocateFrom(options.get(o)));
                }
                int rc = (int) nvrtcCompileProgram.invokeExact(program, options.size(), opts);
                check(rc, "nvrtcCompileProgram(" + name + ", " + arch + ")", rc == 0 ? null : log(program, a));
                boolean cubin = arch.startsWith("sm_");
                MemorySegment size = a.allocate(SIZE_T);
                check((int) (cubin ? nvrtcGetCUBINSize : nvrtcGetPTXSize).invokeExact(program, size),
                        cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize", null);
                MemorySegment image = a.allocate(size.get(SIZE_T, 0));
                check((int) (cubin ? nvrtcGetCUBIN : nvrtcGetPTX).invokeExact(program, image),
                        cubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX", null);
                return image.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            } finally {
                int ignored = (int) nvrtcDestroyProgram.invokeExact(prog);
            }
        }
    }

    private String log(MemorySegment program, Arena a) throws Throwable {
        MemorySegment size = a.allocate(SIZE_T);
        if ((int) nvrtcGetProgramLogSize.invokeExact(program, size) != 0) {
            return null;
        }
        MemorySegment log = a.allocate(Math.max(1, size.get(SIZE_T, 0)));
        return (int) nvrtcGetProgramLog.invokeExact(program, log) == 0 ? log.getString(0).strip() : null;
    }

    private void check(int rc, String call, String log) throws Throwable {
        if (rc != 0) {
            MemorySegment s = (MemorySegment) nvrtcGetErrorString.invokeExact(rc);
            String name = Native.string(s, CudaErrors.nvrtcResultName(rc));
            throw new CudaException(call, rc, name, log);
        }
    }
}
