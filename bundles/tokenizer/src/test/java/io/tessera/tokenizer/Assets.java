package io.tessera.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.XZInputStream;

/** The committed test assets under src/test/resources/tokenizer (see tools/tokenizer/README.md). */
final class Assets {
    static final ObjectMapper JSON = new ObjectMapper();

    private Assets() {
    }

    static InputStream open(String name) {
        InputStream in = Assets.class.getResourceAsStream("/tokenizer/" + name);
        if (in == null) {
            throw new IllegalStateException("missing test resource tokenizer/" + name);
        }
        try {
            return name.endsWith(".gz") ? new GZIPInputStream(in, 1 << 16)
                    : name.endsWith(".xz") ? new XZInputStream(new BufferedInputStream(in, 1 << 16)) : in;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One JSON value per line of a (gzipped) JSON-lines resource. */
    static List<JsonNode> jsonLines(String name) {
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open(name), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.add(JSON.readTree(line));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static List<String> corpus() {
        return jsonLines("corpus.jsonl.gz").stream().map(JsonNode::asText).toList();
    }

    /** Copies a tokenizer's files (tokenizer.json decompressed) into dir, so it is loaded as from a model folder. */
    static Path modelDir(String tokenizer, Path dir) {
        try {
            Files.createDirectories(dir);
            for (String name : List.of("tokenizer.json", "tokenizer_config.json")) {
                String resource = tokenizer + "/" + name;
                String stored = List.of("", ".gz", ".xz").stream().map(resource::concat)
                        .filter(r -> Assets.class.getResource("/tokenizer/" + r) != null).findFirst().orElse(resource);
                InputStream in = open(stored);
                try (in) {
                    Files.copy(in, dir.resolve(name));
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static HfTokenizer load(String tokenizer, Path dir) {
        try {
            return TokenizerLoader.load(modelDir(tokenizer, dir));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Llama-3-shaped tokenizer of the llama3-tiny fixture (tools/families/make_family_fixtures.py). */
    static HfTokenizer llama3() {
        try {
            return TokenizerLoader.load(Path.of("../../tools/fixtures/models/llama3-tiny"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Qwen3's tokenizer, loaded once per test JVM (11 MB of JSON). */
    static HfTokenizer qwen3() {
        return Qwen3.TOKENIZER;
    }

    private static final class Qwen3 {
        static final HfTokenizer TOKENIZER;

        static {
            try {
                Path dir = Files.createTempDirectory("qwen3-tokenizer");
                TOKENIZER = load("qwen3", dir);
                for (String name : List.of("tokenizer.json", "tokenizer_config.json")) {
                    Files.delete(dir.resolve(name));
                }
                Files.delete(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
