package io.tessera.kernels.cuda;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.AttentionParams;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.ExpertWeights;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Timings of the CUDA backend's ops on MiMo-V2-Flash shapes (tools/gpu/verify.sh runs it; see tools/gpu/README.md
 * for the plan). Each line: op, shape, microseconds per call (mean of many after warm-up, launches back to back),
 * and the bytes it must read per call as GB/s — the number to hold against the device's HBM bandwidth.
 * Argument: the HBM peak in GB/s for the "% of peak" column (default 3350, H100 SXM).
 */
public final class CudaBench {
    private final CudaBackend b;
    private final double peak;
    private final Arena arena = Arena.ofShared();
    private final SplittableRandom rnd = new SplittableRandom(1);

    private CudaBench(CudaBackend b, double peak) {
        this.b = b;
        this.peak = peak;
    }

    public static void main(String[] args) throws Exception {
        double peak = args.length > 0 ? Double.parseDouble(args[0]) : 3350;
        CudaProbe.Outcome o = CudaProbe.probe(CudaLibraries.ofSystem(), CudaProbe.SYSTEM_LOADER, Arena.global(),
                Files.createTempDirectory("tessera-cuda-bench"), CudaDriverProbe.prebuiltFolder(java.util.Map.of()));
        System.out.println("probe: " + o.message());
        if (o.backend() == null) {
            System.exit(1);
        }
        try (CudaBackend backend = o.backend()) {
            new CudaBench(backend, peak).run();
        }
    }

    private void line(String op, String shape, double micros, double bytes) {
        double gbs = bytes / micros / 1e3;
        System.out.println(String.format(Locale.ROOT, "%-22s %-34s %10.1f us %9.1f GB/s %6.1f%% of peak", op, shape,
                micros, gbs, 100 * gbs / peak));
    }

    /** Mean microseconds of {@code op} over enough back-to-back calls to take ~0.2 s. */
    private double time(Runnable op) {
        for (int i = 0; i < 5; i++) {
            op.run();
        }
        b.synchronize();
        int calls = 0;
        long start = System.nanoTime(), elapsed;
        do {
            for (int i = 0; i < 10; i++) {
                op.run();
            }
            calls += 10;
            b.synchronize();
            elapsed = System.nanoTime() - start;
        } while (elapsed < 200_000_000L);
        return elapsed / 1e3 / calls;
    }

    private Tensor tensor(String name, DType dtype, int rows, int cols) {
        return CudaSelfTest.tensor(arena, rnd, name, dtype, rows, cols);
    }

    private void run() {
        System.out.println("device: " + b.info().device());
        // the decode GEMVs of one MiMo layer (FP8 block-scaled, o_proj BF16), the router (F32) and the lm_head (BF16)
        Object[][] linears = {
            {"q_proj", DType.F8_E4M3, 12288, 4096}, {"k_proj swa", DType.F8_E4M3, 1536, 4096},
            {"v_proj swa", DType.F8_E4M3, 1024, 4096}, {"o_proj", DType.BF16, 4096, 8192},
            {"dense gate_proj", DType.F8_E4M3, 16384, 4096}, {"dense down_proj", DType.F8_E4M3, 4096, 16384},
            {"router", DType.F32, 256, 4096}, {"lm_head", DType.BF16, 152576, 4096}};
        for (Object[] l : linears) {
            DType dtype = (DType) l[1];
            int out = (int) l[2], in = (int) l[3];
            Tensor t = tensor((String) l[0], dtype, out, in);
            long bytes = t.data().byteSize() + t.scaleInv().map(s -> s.data().byteSize()).orElse(0L);
            try (Weight w = b.weight(t)) {
                for (int n : new int[] {1, 4, 16}) {
                    try (Buffer x = b.allocate(DType.F32, n, in); Buffer y = b.allocate(DType.F32, n, out)) {
                        double us = time(() -> b.matmul(x, w, n, y));
                        line("matmul " + l[0], dtype + " [" + out + "," + in + "] n=" + n, us, bytes);
                    }
                }
            }
        }
        experts();
        attention(new AttentionParams(64, 4, 192, 128, 0, (float) (1 / Math.sqrt(192)), 0.707f), 4096, false);
        attention(new AttentionParams(64, 4, 192, 128, 0, (float) (1 / Math.sqrt(192)), 0.707f), 32768, false);
        attention(new AttentionParams(64, 8, 192, 128, 128, (float) (1 / Math.sqrt(192)), 0.707f), 4096, true);
        tokens();
        cublasLt();
    }

    private void experts() {
        int e = 16, k = 8, hidden = 4096, inter = 2048;  // 8 of 16 resident experts: the bytes of 8 are read
        List<Weight> gate = new ArrayList<>(), up = new ArrayList<>(), down = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            gate.add(b.weight(tensor("g", DType.F8_E4M3, inter, hidden)));
            up.add(b.weight(tensor("u", DType.F8_E4M3, inter, hidden)));
            down.add(b.weight(tensor("d", DType.F8_E4M3, hidden, inter)));
        }
        int[] ids = new int[k];
        for (int j = 0; j < k; j++) {
            ids[j] = 2 * j;
        }
        try (Buffer x = b.allocate(DType.F32, 1, hidden); Buffer i = b.allocate(DType.I32, 1, k);
             Buffer w = b.allocate(DType.F32, 1, k); Buffer out = b.allocate(DType.F32, 1, hidden)) {
            b.write(i, 0, ids, 0, k);
            ExpertWeights ew = new ExpertWeights(gate, up, down);
            double us = time(() -> b.experts(x, ew, i, w, 1, out));
            line("experts fp8", "8 x SwiGLU [2048,4096] n=1", us, 8 * 3 * (inter * (double) hidden * 1.0025));
        } finally {
            gate.forEach(Weight::close);
            up.forEach(Weight::close);
            down.forEach(Weight::close);
        }
    }

    private void attention(AttentionParams p, int context, boolean sink) {
        int keys = p.window() > 0 ? p.window() : context;
        try (KvCache kv = b.allocateKv(context + 1, p.kvHeads(), p.keyDim(), p.valueDim());
             Rows rows = b.rows(new int[] {context - 1}, new int[] {0}, new int[] {context});
             Buffer q = b.allocate(DType.F32, 1, p.heads() * p.keyDim());
             Buffer k = b.allocate(DType.F32, 1, p.kvHeads() * p.keyDim());
             Buffer v = b.allocate(DType.F32, 1, p.kvHeads() * p.valueDim());
             Buffer out = b.allocate(DType.F32, 1, p.heads() * p.valueDim());
             Weight sinks = sink ? b.weight(tensor("sinks", DType.BF16, 1, p.heads())) : null) {
            double us = time(() -> b.attention(rows, q, k, v, kv, p, sinks, out));
            line("attention " + (sink ? "swa" : "ga"), "decode, " + keys + " keys, kvHeads " + p.kvHeads(), us,
                    4.0 * keys * p.kvHeads() * (p.keyDim() + p.valueDim()));
        }
    }

    private void tokens() {
        int vocab = 152576;
        for (int n : new int[] {1, 8}) {
            try (Buffer logits = b.allocate(DType.F32, n, vocab); Buffer ids = b.allocate(DType.I32, n, 1)) {
                float[] l = new float[vocab];
                for (int r = 0; r < n; r++) {
                    for (int i = 0; i < vocab; i++) {
                        l[i] = (float) rnd.nextGaussian();
                    }
                    b.write(logits, (long) r * vocab, l, 0, vocab);
                }
                line("argmax", "vocab " + vocab + " n=" + n, time(() -> b.argmax(logits, n, ids)), 4.0 * n * vocab);
                float[] t = new float[n], p = new float[n], u = new float[n];
                int[] topK = new int[n];
                java.util.Arrays.fill(t, 0.8f);
                java.util.Arrays.fill(p, 0.95f);
                java.util.Arrays.fill(u, 0.5f);
                line("sample top-p 0.95", "vocab " + vocab + " n=" + n,
                        time(() -> b.sample(logits, n, vocab, t, topK, p, u, ids)), 4.0 * n * vocab);
            }
        }
    }

    /** cuBLASLt prefill GEMMs (BF16; FP8 with 128-block scales where this cuBLASLt has them), y = x·Wᵀ. */
    private void cublasLt() {
        CudaLibraries.Location at = CudaLibraries.ofSystem().find(CudaLibraries.CUBLAS_LT);
        CublasLt lt;
        try {
            lt = new CublasLt(CudaProbe.SYSTEM_LOADER.load(at, Arena.global()));
        } catch (IllegalArgumentException e) {
            System.out.println("cuBLASLt: not found (" + at + "), GEMM benchmark skipped");
            return;
        }
        int out = 12288, in = 4096, n = 512;
        try {
            System.out.println("cuBLASLt " + lt.version() + " at " + at + ", FP8 block scaling "
                    + (lt.hasBlockScaling() ? "in this version" : "missing"));
            MemorySegment handle = lt.create();
            long workspaceBytes = 32L << 20;
            try (Buffer ws = b.allocate(DType.F32, 1, (int) (workspaceBytes / 4)); Buffer y = b.allocate(DType.F32, n, out)) {
                for (DType dtype : lt.hasBlockScaling() ? List.of(DType.BF16, DType.F8_E4M3) : List.of(DType.BF16)) {
                    // x as the activation quantizer leaves it: FP8 values with one F32 scale per row and 128 columns
                    Tensor w = tensor("w", dtype, out, in), x = tensor("x", dtype, n, in);
                    float[] ones = new float[n * in / 128];
                    java.util.Arrays.fill(ones, 0.01f);
                    try (Weight wd = b.weight(w); Weight xd = b.weight(x); Buffer xs = b.allocate(DType.F32, n, in / 128);
                         CublasLt.Gemm gemm = lt.new Gemm(handle, dtype == DType.BF16 ? CublasLt.CUDA_R_16BF
                                 : CublasLt.CUDA_R_8F_E4M3, out, n, in, workspaceBytes)) {
                        b.write(xs, 0, ones, 0, ones.length);
                        long[] wp = b.pointers(wd), xp = {b.pointers(xd)[0], dtype == DType.BF16 ? 0 : b.pointer(xs)};
                        double us = time(() -> {
                            try {
                                gemm.run(handle, wp[0], wp[1], xp[0], xp[1], b.pointer(y), b.pointer(ws), b.stream());
                            } catch (Throwable t) {
                                throw CudaBackend.unchecked(t);
                            }
                        });
                        System.out.println(String.format(Locale.ROOT, "%-22s %-34s %10.1f us %9.1f TFLOP/s",
                                "cublasLt " + dtype, "[" + out + "," + in + "] n=" + n, us, 2.0 * out * in * n / us / 1e6));
                    } catch (CudaException e) {
                        System.out.println("cublasLt " + dtype + ": " + e.getMessage());
                    }
                }
            } finally {
                lt.destroy(handle);
            }
        } catch (Throwable t) {
            System.out.println("cuBLASLt benchmark failed: " + t);
        }
    }
}
