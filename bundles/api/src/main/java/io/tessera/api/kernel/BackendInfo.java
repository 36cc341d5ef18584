package io.tessera.api.kernel;

/**
 * What a backend reports about itself.
 *
 * @param device      human-readable device, e.g. {@code "x86_64, 2 threads, AVX-512 (16 float lanes)"}
 * @param threads     worker threads (CPU) or streams (GPU)
 * @param bytesInUse  bytes of buffers, weights and KV this backend currently holds (mapped-in-place weights
 *                    count 0)
 * @param contract    the precision contract, e.g. {@code "f32 accumulate; weights exact; activations f32"}
 */
public record BackendInfo(String device, int threads, long bytesInUse, String contract) {
}
