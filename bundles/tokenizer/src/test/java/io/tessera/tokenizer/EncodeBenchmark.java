package io.tessera.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Encode throughput over the test corpus, single thread (not a test; run by tools/tokenizer/bench.sh through the
 * bench profile). Args: tokenizer.json (or model dir), then optionally the reference's MB/s to print the ratio.
 */
public final class EncodeBenchmark {
    private EncodeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        HfTokenizer tok = TokenizerLoader.load(Path.of(args[0]));
        List<String> corpus = Assets.corpus();
        long bytes = 0;
        for (String line : corpus) {
            bytes += Utf8.replaceLoneSurrogates(line).getBytes(StandardCharsets.UTF_8).length;
        }
        long tokens = 0;
        for (int warmup = 0; warmup < 5; warmup++) {
            for (String line : corpus) {
                tokens += tok.encode(line).length;
            }
        }
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 10; round++) {
            long t0 = System.nanoTime();
            for (String line : corpus) {
                tokens += tok.encode(line).length;
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        double mbs = bytes / 1e6 / best;
        System.out.printf("java   encode: %.2f MB/s (%d bytes, %d lines, best of 10 after 5 warm-up passes)%n",
                mbs, bytes, corpus.size());
        if (args.length > 1) {
            double reference = Double.parseDouble(args[1]);
            System.out.printf("ratio java / hf tokenizers: %.2f%n", mbs / reference);
        }
        if (tokens == 0) {
            throw new IllegalStateException("nothing encoded");
        }
    }
}
