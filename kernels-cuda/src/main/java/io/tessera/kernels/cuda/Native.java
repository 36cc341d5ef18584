package io.tessera.kernels.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Downcall handles into one loaded native library; a missing symbol names the library and the function. */
final class Native {
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE;
    /** C {@code size_t} and pointers: 64-bit on every platform CUDA supports. */
    static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;
    static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS;

    private static final Linker LINKER = Linker.nativeLinker();

    private final String library;
    private final SymbolLookup lookup;

    Native(String library, SymbolLookup lookup) {
        this.library = library;
        this.lookup = lookup;
    }

    /** A handle to {@code name} returning {@code int} (a status code) with the given argument layouts. */
    MethodHandle status(String name, java.lang.foreign.MemoryLayout... args) {
        return handle(name, FunctionDescriptor.of(INT, args));
    }

    MethodHandle handle(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                library + " has no function " + name + " (library too old?)"));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    /** A C string returned by a library (static storage), or {@code fallback} for NULL. */
    static String string(MemorySegment cString, String fallback) {
        return cString.equals(MemorySegment.NULL) ? fallback : cString.reinterpret(4096).getString(0);
    }
}
