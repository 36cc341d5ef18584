package io.tessera.kernels.cuda;

import static io.tessera.kernels.cuda.Native.INT;
import static io.tessera.kernels.cuda.Native.LONG;
import static io.tessera.kernels.cuda.Native.PTR;
import static io.tessera.kernels.cuda.Native.SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API ({@code libcuda.so.1}) through FFM: device queries, the primary context, memory, streams,
 * modules, kernel launches and stream capture into graphs. Device pointers are {@code long}s ({@code CUdeviceptr});
 * contexts, streams, modules, functions and graphs are opaque {@link MemorySegment} addresses. Versioned entry
 * points are the ones cuda.h maps the plain names to ({@code cuMemAlloc → cuMemAlloc_v2}, ...).
 */
final class CudaDriver {
    static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    static final int CU_STREAM_NON_BLOCKING = 1;
    static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetAttribute,
            cuDeviceGetName, cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxSetCurrent,
            cuMemGetInfo, cuMemAlloc, cuMemFree, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync,
            cuMemsetD8Async, cuStreamCreate, cuStreamSynchronize, cuStreamDestroy, cuModuleLoadData,
            cuModuleGetFunction, cuModuleUnload, cuFuncSetAttribute, cuLaunchKernel, cuStreamBeginCapture,
            cuStreamEndCapture, cuGraphInstantiate, cuGraphLaunch, cuGraphExecDestroy, cuGraphDestroy,
            cuGetErrorName, cuGetErrorString;

    CudaDriver(SymbolLookup lib) {
        Native n = new Native("libcuda", lib);
        cuInit = n.status("cuInit", INT);
        cuDriverGetVersion = n.status("cuDriverGetVersion", PTR);
        cuDeviceGetCount = n.status("cuDeviceGetCount", PTR);
        cuDeviceGet = n.status("cuDeviceGet", PTR, INT);
        cuDeviceGetAttribute = n.status("cuDeviceGetAttribute", PTR, INT, INT);
        cuDeviceGetName = n.status("cuDeviceGetName", PTR, INT, INT);
        cuDeviceTotalMem = n.status("cuDeviceTotalMem_v2", PTR, INT);
        cuDevicePrimaryCtxRetain = n.status("cuDevicePrimaryCtxRetain", PTR, INT);
        cuDevicePrimaryCtxRelease = n.status("cuDevicePrimaryCtxRelease_v2", INT);
        cuCtxSetCurrent = n.status("cuCtxSetCurrent", PTR);
        cuMemGetInfo = n.status("cuMemGetInfo_v2", PTR, PTR);
        cuMemAlloc = n.status("cuMemAlloc_v2", PTR, SIZE_T);
        cuMemFree = n.status("cuMemFree_v2", LONG);
        cuMemcpyHtoDAsync = n.status("cuMemcpyHtoDAsync_v2", LONG, PTR, SIZE_T, PTR);
        cuMemcpyDtoHAsync = n.status("cuMemcpyDtoHAsync_v2", PTR, LONG, SIZE_T, PTR);
        cuMemcpyDtoDAsync = n.status("cuMemcpyDtoDAsync_v2", LONG, LONG, SIZE_T, PTR);
        cuMemsetD8Async = n.status("cuMemsetD8Async", LONG, java.lang.foreign.ValueLayout.JAVA_BYTE, SIZE_T, PTR);
        cuStreamCreate = n.status("cuStreamCreate", PTR, INT);
        cuStreamSynchronize = n.status("cuStreamSynchronize", PTR);
        cuStreamDestroy = n.status("cuStreamDestroy_v2", PTR);
        cuModuleLoadData = n.status("cuModuleLoadData", PTR, PTR);
        cuModuleGetFunction = n.status("cuModuleGetFunction", PTR, PTR, PTR);
        cuModuleUnload = n.status("cuModuleUnload", PTR);
        cuFuncSetAttribute = n.status("cuFuncSetAttribute", PTR, INT, INT);
        cuLaunchKernel = n.status("cuLaunchKernel", PTR, INT, INT, INT, INT, INT, INT, INT, PTR, PTR, PTR);
        cuStreamBeginCapture = n.status("cuStreamBeginCapture_v2", PTR, INT);
        cuStreamEndCapture = n.status("cuStreamEndCapture", PTR, PTR);
        cuGraphInstantiate = n.status("cuGraphInstantiateWithFlags", PTR, PTR, LONG);
        cuGraphLaunch = n.status("cuGraphLaunch", PTR, PTR);
        cuGraphExecDestroy = n.status("cuGraphExecDestroy", PTR);
        cuGraphDestroy = n.status("cuGraphDestroy", PTR);
        cuGetErrorName = n.status("cuGetErrorName", INT, PTR);
        cuGetErrorString = n.status("cuGetErrorString", INT, PTR);
    }

    // ---- errors ---------------------------------------------------------------------------------------------

    /** Throws a {@link CudaException} naming {@code call} unless {@code rc} is {@code CUDA_SUCCESS}. */
    void check(int rc, String call) {
        if (rc != 0) {
            throw new CudaException(call, rc, errorName(rc), errorString(rc));
        }
    }

    String errorName(int rc) {
        return describe(cuGetErrorName, rc, CudaErrors.cuResultName(rc));
    }

    String errorString(int rc) {
        return describe(cuGetErrorString, rc, null);
    }

    private static String describe(MethodHandle h, int rc, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            int status = (int) h.invokeExact(rc, out);
            return status == 0 ? Native.string(out.get(PTR, 0), fallback) : fallback;
        } catch (Throwable t) {
            return fallback;
        }
    }

    // ---- device ---------------------------------------------------------------------------------------------

    /** {@code cuInit(0)}; returns the CUresult (the probe turns it into a reason). */
    int init() throws Throwable {
        return (int) cuInit.invokeExact(0);
    }

    int driverVersion() throws Throwable {
        return intOut(cuDriverGetVersion, "cuDriverGetVersion");
    }

    int deviceCount() throws Throwable {
        return intOut(cuDeviceGetCount, "cuDeviceGetCount");
    }

    int device(int ordinal) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(INT);
            check((int) cuDeviceGet.invokeExact(out, ordinal), "cuDeviceGet");
            return out.get(INT, 0);
        }
    }

    int attribute(int attribute, int device) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(INT);
            check((int) cuDeviceGetAttribute.invokeExact(out, attribute, device), "cuDeviceGetAttribute");
            return out.get(INT, 0);
        }
    }

    String name(int device) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(out, 256, device), "cuDeviceGetName");
            return out.getString(0);
        }
    }

    long totalMemory(int device) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(SIZE_T);
            check((int) cuDeviceTotalMem.invokeExact(out, device), "cuDeviceTotalMem");
            return out.get(SIZE_T, 0);
        }
    }

    /** Free and total device memory of the current context. */
    long[] memoryInfo() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(SIZE_T), total = a.allocate(SIZE_T);
            check((int) cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo");
            return new long[] {free.get(SIZE_T, 0), total.get(SIZE_T, 0)};
        }
    }

    // ---- context --------------------------------------------------------------------------------------------

    /** Retains the device's primary context (shared with every other user of the device in this process). */
    MemorySegment retainPrimaryContext(int device) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(out, device), "cuDevicePrimaryCtxRetain");
            return out.get(PTR, 0);
        }
    }

    void releasePrimaryContext(int device) throws Throwable {
        check((int) cuDevicePrimaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease");
    }

    /** Binds {@code context} to the calling thread (driver calls act on the thread's current context). */
    void setCurrent(MemorySegment context) throws Throwable {
        check((int) cuCtxSetCurrent.invokeExact(context), "cuCtxSetCurrent");
    }

    // ---- memory ---------------------------------------------------------------------------------------------

    /** Allocates {@code bytes} of device memory; CUDA_ERROR_OUT_OF_MEMORY becomes an {@link OutOfMemoryError}. */
    long alloc(long bytes) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(LONG);
            int rc = (int) cuMemAlloc.invokeExact(out, bytes);
            if (rc == 2) {
                throw new OutOfMemoryError("CUDA device memory exhausted: cuMemAlloc of " + bytes + " bytes failed");
            }
            check(rc, "cuMemAlloc(" + bytes + " bytes)");
            return out.get(LONG, 0);
        }
    }

    void free(long pointer) throws Throwable {
        check((int) cuMemFree.invokeExact(pointer), "cuMemFree");
    }

    void copyToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) throws Throwable {
        check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync");
    }

    void copyToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) throws Throwable {
        check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync");
    }

    void copyOnDevice(long dst, long src, long bytes, MemorySegment stream) throws Throwable {
        check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync");
    }

    void zero(long dst, long bytes, MemorySegment stream) throws Throwable {
        check((int) cuMemsetD8Async.invokeExact(dst, (byte) 0, bytes, stream), "cuMemsetD8Async");
    }

    // ---- streams, modules, launches -------------------------------------------------------------------------

    MemorySegment createStream() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuStreamCreate.invokeExact(out, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            return out.get(PTR, 0);
        }
    }

    void synchronize(MemorySegment stream) throws Throwable {
        check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize");
    }

    void destroyStream(MemorySegment stream) throws Throwable {
        check((int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy");
    }

    /** Loads a CUBIN (or PTX, NUL-terminated) image into the current context. */
    MemorySegment loadModule(MemorySegment image) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuModuleLoadData.invokeExact(out, image), "cuModuleLoadData");
            return out.get(PTR, 0);
        }
    }

    MemorySegment function(MemorySegment module, String name) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuModuleGetFunction.invokeExact(out, module, a.allocateFrom(name)),
                    "cuModuleGetFunction(" + name + ")");
            return out.get(PTR, 0);
        }
    }

    void unloadModule(MemorySegment module) throws Throwable {
        check((int) cuModuleUnload.invokeExact(module), "cuModuleUnload");
    }

    void setMaxDynamicShared(MemorySegment function, int bytes) throws Throwable {
        check((int) cuFuncSetAttribute.invokeExact(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
    }

    /** Enqueues {@code function} on {@code stream}; {@code params} is the {@code void*[]} of argument addresses. */
    void launch(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                MemorySegment stream, MemorySegment params) throws Throwable {
        check((int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz, sharedBytes, stream, params,
                MemorySegment.NULL), "cuLaunchKernel");
    }

    // ---- graphs ---------------------------------------------------------------------------------------------

    /** Starts recording the work enqueued on {@code stream} by this thread into a graph instead of running it. */
    void beginCapture(MemorySegment stream) throws Throwable {
        check((int) cuStreamBeginCapture.invokeExact(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture");
    }

    /** Ends the capture; returns the recorded graph. */
    MemorySegment endCapture(MemorySegment stream) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuStreamEndCapture.invokeExact(stream, out), "cuStreamEndCapture");
            return out.get(PTR, 0);
        }
    }

    MemorySegment instantiate(MemorySegment graph) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuGraphInstantiate.invokeExact(out, graph, 0L), "cuGraphInstantiate");
            return out.get(PTR, 0);
        }
    }

    void launchGraph(MemorySegment exec, MemorySegment stream) throws Throwable {
        check((int) cuGraphLaunch.invokeExact(exec, stream), "cuGraphLaunch");
    }

    void destroyGraph(MemorySegment graph, MemorySegment exec) throws Throwable {
        check((int) cuGraphExecDestroy.invokeExact(exec), "cuGraphExecDestroy");
        check((int) cuGraphDestroy.invokeExact(graph), "cuGraphDestroy");
    }

    private int intOut(MethodHandle h, String call) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(INT);
            check((int) h.invokeExact(out), call);
            return out.get(INT, 0);
        }
    }
}
