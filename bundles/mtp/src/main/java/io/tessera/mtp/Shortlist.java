package io.tessera.mtp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The draft heads' shortlist vocabulary: the first N ids of a checkpoint's frequency table ({@value #FILE}, made
 * from a corpus by {@code tools/train/draft_shortlist.py}: gzipped lines {@code id count}, most frequent first,
 * {@code #} comments), restricted to the ids the lm_head has.
 */
final class Shortlist {
    static final String FILE = "draft_shortlist.tsv.gz";

    private Shortlist() {
    }

    /** The first {@code size} ids of the table in {@code directory}, or null: no table, or size 0 (off). */
    static int[] read(Path directory, int size, int vocab) throws IOException {
        Path table = directory.resolve(FILE);
        if (size <= 0 || !Files.isRegularFile(table)) {
            return null;
        }
        int[] ids = new int[size];
        int n = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                Files.newInputStream(table)), StandardCharsets.UTF_8))) {
            for (String line; n < size && (line = in.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int id = Integer.parseInt(line.strip().split("\\s+")[0]);
                if (id >= 0 && id < vocab) {
                    ids[n++] = id;
                }
            }
        }
        return n == 0 ? null : Arrays.copyOf(ids, n);
    }
}
