package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.fail;

import io.tessera.checkpoint.TestModels.Dims;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A seeded mutation fuzzer for the header and config parsers (the suite's stand-in for Jazzer, which cannot
 * instrument JDK 25 classes): valid seeds are mutated with byte edits and JSON-shaped splices, and any exception
 * other than {@code CheckpointException} fails with the seed and the input. Runs {@code fuzz.seconds} (default 3)
 * per parser; {@code -Dfuzz.seconds=600 -Dfuzz.seed=N} fuzzes longer or replays.
 */
class MutationFuzzTest {
    private static final long SECONDS = Long.getLong("fuzz.seconds", 3);
    private static final long SEED = Long.getLong("fuzz.seed", new Random().nextLong());
    private static final List<String> TOKENS = List.of("{", "}", "[", "]", ",", ":", "\"", "null", "true", "false",
            "-1", "0", "1", "1.5", "1e308", "-0", "2000000000", "4294967296", "9223372036854775807", "99999999999999999999999",
            "\"F8_E4M3\"", "\"BF16\"", "\"I64\"", "\"shape\"", "\"dtype\"", "\"data_offsets\"", "\"__metadata__\"",
            "[0,0]", "[]", "{}", "\"hybrid_layer_pattern\"", "\"num_hidden_layers\"", "\"layer_types\"",
            "\"rope_parameters\"", "\"quantization_config\"", "\"\\u0000\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");

    @Test
    void safetensorsHeader() {
        byte[] seed = SafetensorsWriter.header(TestModels.hubTensors(Dims.tiny(true))).getBytes(StandardCharsets.UTF_8);
        long dataBytes = TestModels.hubTensors(Dims.tiny(true)).stream().mapToLong(SafetensorsWriter.Spec::bytes).sum();
        SplittableRandom random = new SplittableRandom(SEED);
        fuzz("header", List.of(seed), random, input -> ParserTargets.header(input,
                random.nextInt(4) == 0 ? random.nextLong(1L << 40) : dataBytes));
    }

    @Test
    void modelConfig() throws Exception {
        byte[] real = Files.readAllBytes(ConfigTest.realConfig());
        byte[] tiny = TestModels.JSON.writeValueAsBytes(TestModels.hubConfig(Dims.tiny(true)));
        SplittableRandom random = new SplittableRandom(SEED);
        fuzz("config", List.of(real, tiny), random, input -> ParserTargets.config(input, random.nextInt(4)));
    }

    private static void fuzz(String what, List<byte[]> seeds, SplittableRandom random, Consumer<byte[]> target) {
        long end = System.nanoTime() + SECONDS * 1_000_000_000L;
        long runs = 0;
        while (System.nanoTime() < end) {
            byte[] input = seeds.get(random.nextInt(seeds.size()));
            for (int m = 1 + random.nextInt(8); m > 0; m--) {
                input = mutate(input, random);
            }
            try {
                target.accept(input);
            } catch (Throwable t) {
                fail(what + " parser threw " + t + " (seed " + SEED + ", run " + runs + ") on input (base64) "
                        + Base64.getEncoder().encodeToString(input), t);
            }
            runs++;
        }
        System.out.printf("mutation fuzz %s: %d inputs in %d s, seed %d, no crash%n", what, runs, SECONDS, SEED);
    }

    private static byte[] mutate(byte[] in, SplittableRandom r) {
        int at = in.length == 0 ? 0 : r.nextInt(in.length);
        return switch (r.nextInt(5)) {
            case 0 -> { // overwrite a byte
                byte[] out = in.clone();
                if (out.length > 0) {
                    out[at] = (byte) r.nextInt(256);
                }
                yield out;
            }
            case 1 -> splice(in, at, at + Math.min(in.length - at, r.nextInt(16)), new byte[0]); // delete
            case 2 -> { // duplicate a range
                int len = Math.min(in.length - at, r.nextInt(64));
                byte[] copy = java.util.Arrays.copyOfRange(in, at, at + len);
                yield splice(in, at, at, copy);
            }
            case 3 -> splice(in, at, at, TOKENS.get(r.nextInt(TOKENS.size())).getBytes(StandardCharsets.UTF_8));
            default -> { // replace the number or token under the cursor with a dictionary token
                int stop = at;
                while (stop < in.length && Character.isLetterOrDigit(in[stop])) {
                    stop++;
                }
                yield splice(in, at, stop, TOKENS.get(r.nextInt(TOKENS.size())).getBytes(StandardCharsets.UTF_8));
            }
        };
    }

    private static byte[] splice(byte[] in, int from, int to, byte[] insert) {
        byte[] out = new byte[in.length - (to - from) + insert.length];
        System.arraycopy(in, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(in, to, out, from + insert.length, in.length - to);
        return out;
    }
}
