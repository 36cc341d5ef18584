package io.tessera.api;

/**
 * Element types of checkpoint tensors and backend buffers, named as in the safetensors header.
 */
public enum DType {
    F32(4), BF16(2), F16(2), F8_E4M3(1), I32(4), I64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /**
     * The dtype for a safetensors header name ({@code "F8_E4M3"}, {@code "BF16"}, ...).
     *
     * @throws IllegalArgumentException naming the unknown dtype
     */
    public static DType ofSafetensors(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown dtype '" + name + "' (supported: F32, BF16, F16, F8_E4M3, I32, I64)");
    }
}
