package io.tessera.kernels.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds the native libraries of the CUDA backend: the driver ({@code libcuda.so.1}), NVRTC ({@code libnvrtc.so.*})
 * and cuBLASLt ({@code libcublasLt.so.*}). Folders searched, in order: {@code TESSERA_CUDA_PATH} (a path list),
 * {@code CUDA_HOME} and {@code CUDA_PATH} ({@code lib64}, {@code lib}), {@code /usr/local/cuda/lib64} and the
 * versioned {@code /usr/local/cuda-*} (newest first), the NVIDIA Python wheels ({@code nvidia/cu13/lib},
 * {@code nvidia/cublas/lib}, {@code nvidia/cuda_nvrtc/lib} under {@code VIRTUAL_ENV}, {@code PYTHONPATH} and the
 * system and user site-packages), then the distribution's library folders (the driver lives there). A library not
 * in any folder is finally looked up by name through the system loader ({@code ld.so} cache), which is reported as
 * {@code system}.
 *
 * <p>{@code root} and {@code home} stand for {@code /} and the user's home, so tests can lay out a fake system.
 */
final class CudaLibraries {
    static final List<String> DRIVER = List.of("libcuda.so.1");
    static final List<String> NVRTC = List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so");
    static final List<String> CUBLAS_LT = List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so");

    private static final List<String> WHEEL_LIBS = List.of("nvidia/cu13/lib", "nvidia/cublas/lib",
            "nvidia/cuda_nvrtc/lib", "nvidia/cu12/lib");
    private static final List<String> SYSTEM_LIBS = List.of("usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu",
            "usr/lib64", "usr/lib", "usr/lib/wsl/lib");

    /** Where one library was found: a file, or {@code path} empty when only the system loader may know it. */
    record Location(String name, Optional<Path> path, String via) {
        @Override
        public String toString() {
            return path.map(p -> p + " (" + via + ")").orElse(name + " (" + via + ")");
        }
    }

    private final List<Path> folders;

    CudaLibraries(Map<String, String> env, Path root, Path home) {
        this.folders = folders(env, root, home);
    }

    /** The discovery of this process: its environment, {@code /} and {@code user.home}. */
    static CudaLibraries ofSystem() {
        return new CudaLibraries(System.getenv(), Path.of("/"), Path.of(System.getProperty("user.home")));
    }

    /** The folders searched, in order (existing ones only). */
    List<Path> folders() {
        return folders;
    }

    /** The first of {@code names} (in preference order) present in a searched folder, else a system lookup name. */
    Location find(List<String> names) {
        for (String name : names) {
            for (Path folder : folders) {
                Path file = folder.resolve(name);
                if (Files.isRegularFile(file) || Files.isSymbolicLink(file)) {
                    return new Location(name, Optional.of(file), "folder " + folder);
                }
            }
        }
        return new Location(names.getFirst(), Optional.empty(), "system loader");
    }

    /**
     * Libraries that {@code library} loads by soname from its own folder and so must be loaded before it when that
     * folder is not on the loader's path: NVRTC's {@code libnvrtc-builtins.so.X.Y} (not the {@code .alt} variant).
     */
    static List<Path> companions(Path library) {
        String name = library.getFileName().toString();
        if (!name.startsWith("libnvrtc.so") || library.getParent() == null) {
            return List.of();
        }
        return list(library.getParent(), "libnvrtc-builtins.so").stream().filter(Files::isRegularFile).toList();
    }

    private static List<Path> folders(Map<String, String> env, Path root, Path home) {
        Set<Path> out = new LinkedHashSet<>();
        pathList(env.get("TESSERA_CUDA_PATH")).forEach(out::add);
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String value = env.get(var);
            if (value != null && !value.isBlank()) {
                out.add(Path.of(value, "lib64"));
                out.add(Path.of(value, "lib"));
            }
        }
        out.add(root.resolve("usr/local/cuda/lib64"));
        list(root.resolve("usr/local"), "cuda-").stream().filter(Files::isDirectory)
                .sorted(Comparator.comparing(CudaLibraries::version).reversed())
                .forEach(p -> out.add(p.resolve("lib64")));
        for (Path sitePackages : sitePackages(env, root, home)) {
            WHEEL_LIBS.forEach(w -> out.add(sitePackages.resolve(w)));
        }
        SYSTEM_LIBS.forEach(s -> out.add(root.resolve(s)));
        return out.stream().filter(Files::isDirectory).toList();
    }

    private static List<Path> sitePackages(Map<String, String> env, Path root, Path home) {
        List<Path> out = new ArrayList<>();
        String venv = env.get("VIRTUAL_ENV");
        if (venv != null && !venv.isBlank()) {
            pythons(Path.of(venv, "lib")).forEach(p -> out.add(p.resolve("site-packages")));
        }
        out.addAll(pathList(env.get("PYTHONPATH")));
        pythons(home.resolve(".local/lib")).forEach(p -> out.add(p.resolve("site-packages")));
        for (String lib : List.of("usr/local/lib", "usr/lib")) {
            for (Path p : pythons(root.resolve(lib))) {
                out.add(p.resolve("dist-packages"));
                out.add(p.resolve("site-packages"));
            }
        }
        out.add(root.resolve("usr/lib/python3/dist-packages"));
        return out;
    }

    private static List<Path> pythons(Path lib) {
        return list(lib, "python3").stream().filter(Files::isDirectory).toList();
    }

    private static List<Path> list(Path folder, String prefix) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** {@code cuda-12.8} → [12, 8] compared numerically, so 12.10 sorts above 12.9. */
    private static String version(Path p) {
        StringBuilder key = new StringBuilder();
        for (String part : p.getFileName().toString().substring("cuda-".length()).split("\\.")) {
            key.append(String.format("%08d", part.matches("\\d{1,8}") ? Integer.parseInt(part) : 0));
        }
        return key.toString();
    }

    private static List<Path> pathList(String value) {
        if (value == null || value.isBlank()) {
            return List.of();
        }
        return Stream.of(value.split(java.io.File.pathSeparator)).filter(s -> !s.isBlank()).map(Path::of).toList();
    }
}
