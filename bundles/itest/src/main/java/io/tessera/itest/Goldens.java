package io.tessera.itest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The reference goldens of one fixture (tools/reference/goldens/NAME/goldens.json, made by
 * tools/reference/make_goldens.py from Hugging Face transformers): prompts, logits arrays and greedy
 * continuations.
 */
record Goldens(String fixture, Path checkpoint, Path directory, JsonNode json) {

    /** Every fixture with goldens under the repository root. */
    static List<Goldens> all(Path repo) throws IOException {
        List<Goldens> all = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(repo.resolve("tools/reference/goldens"))) {
            for (Path dir : dirs.sorted().toList()) {
                JsonNode json = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile());
                all.add(new Goldens(json.get("fixture").asText(), repo.resolve(json.get("checkpoint").asText()), dir,
                        json));
            }
        }
        return all;
    }

    /**
     * The fixtures with MTP heads (MiMo-V2-Flash's: sliding-window and global layers, MoE, draft heads), for the
     * tests of speculation, routing, swaps and component dynamics; the first of them is their default fixture.
     */
    static List<Goldens> withDraftHeads(Path repo) throws IOException {
        return all(repo).stream().filter(g -> g.json().findValue("mtp_block") != null).toList();
    }

    int[] prompt(String name) {
        for (JsonNode p : json.get("prompts")) {
            if (p.get("name").asText().equals(name)) {
                return ints(p.get("ids"));
            }
        }
        throw new IllegalArgumentException(fixture + ": no prompt " + name);
    }

    static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asInt();
        }
        return values;
    }

    /** A float32 C-order .npy array as [rows][cols]; {@code .npy.gz} is gunzipped first. */
    float[][] array(String file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(directory.resolve(file))) {
            bytes = (file.endsWith(".gz") ? new GZIPInputStream(in) : in).readAllBytes();
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = buffer.getShort(8) & 0xffff;
        String header = new String(bytes, 10, headerLength, StandardCharsets.US_ASCII);
        if (!header.contains("'<f4'") || !header.contains("'fortran_order': False")) {
            throw new IOException(file + ": expected little-endian float32 in C order, header " + header);
        }
        String[] shape = header.replaceAll(".*'shape': \\(([^)]*)\\).*", "$1").trim().split(",\\s*");
        int rows = Integer.parseInt(shape[0].trim());
        int cols = Integer.parseInt(shape[1].trim());
        buffer.position(10 + headerLength);
        float[][] values = new float[rows][cols];
        for (float[] row : values) {
            buffer.asFloatBuffer().get(row);
            buffer.position(buffer.position() + cols * 4);
        }
        return values;
    }
}
