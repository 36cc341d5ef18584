package io.tessera.kernels.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compiled kernels on disk, keyed by (source and header hash, target architecture, NVRTC version), so a restart
 * loads CUBINs instead of compiling for seconds. A file is written under a temporary name and moved into place, so
 * concurrent processes never read a half-written image. The default folder is {@code ${user.home}/.cache/tessera/cuda}.
 */
final class KernelCache {
    /** What actually compiles on a miss (NVRTC; a counting fake in tests). */
    @FunctionalInterface
    interface Compiler {
        byte[] compile(String name, String source, Map<String, String> headers, String arch) throws Throwable;
    }

    private final Path folder;
    private final String compilerVersion;
    private final Compiler compiler;

    KernelCache(Path folder, String compilerVersion, Compiler compiler) {
        this.folder = folder;
        this.compilerVersion = compilerVersion;
        this.compiler = compiler;
    }

    static Path defaultFolder() {
        return Path.of(System.getProperty("user.home"), ".cache", "tessera", "cuda");
    }

    /** The cache file name of one compilation: {@code <sha256>-<arch>-nvrtc<version>.<cubin|ptx>}. */
    String key(String source, Map<String, String> headers, String arch) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(source.getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, String> h : new TreeMap<>(headers).entrySet()) {
                sha.update((byte) 0);
                sha.update(h.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(h.getValue().getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest()) + "-" + arch + "-nvrtc" + compilerVersion
                    + (arch.startsWith("sm_") ? ".cubin" : ".ptx");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JDK", e);
        }
    }

    /** The cached image of this compilation, compiling and storing it on a miss. */
    byte[] get(String name, String source, Map<String, String> headers, String arch) throws Throwable {
        Path file = folder.resolve(key(source, headers, arch));
        if (Files.isRegularFile(file)) {
            return Files.readAllBytes(file);
        }
        byte[] image = compiler.compile(name, source, headers, arch);
        store(file, image);
        return image;
    }

    private void store(Path file, byte[] image) {
        try {
            Files.createDirectories(folder);
            Path tmp = Files.createTempFile(folder, file.getFileName().toString(), ".tmp");
            Files.write(tmp, image);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the CUDA kernel cache " + file
                    + " (set the cache folder with tessera.cuda.cache)", e);
        }
    }
}
