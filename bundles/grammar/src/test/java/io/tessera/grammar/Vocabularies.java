package io.tessera.grammar;

import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.tokenizer.TokenizerFactoryComponent;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tukaani.xz.XZInputStream;

/** The committed tokenizers the tests mask over: Qwen3's 151K vocabulary, the fixtures' and the embedded model's. */
final class Vocabularies {
    private static final TokenizerFactoryComponent FACTORY = new TokenizerFactoryComponent();

    private Vocabularies() {
    }

    static Tokenizer qwen3() {
        try {
            Path dir = Files.createTempDirectory("grammar-qwen3");
            Path source = Path.of("../tokenizer/src/test/resources/tokenizer/qwen3");
            try (InputStream in = new XZInputStream(new BufferedInputStream(
                    Files.newInputStream(source.resolve("tokenizer.json.xz")), 1 << 16))) {
                Files.copy(in, dir.resolve("tokenizer.json"));
            }
            Files.copy(source.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
            return FACTORY.load(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Tokenizer fixture() {
        return load(Path.of("../../tools/fixtures/models/tiny-a"));
    }

    static Tokenizer embedded() {
        return load(Path.of("../../distribution/model"));
    }

    private static Tokenizer load(Path dir) {
        try {
            return FACTORY.load(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
