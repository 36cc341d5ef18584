package io.tessera.api.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import org.osgi.annotation.versioning.ProviderType;

/** Loads Hugging Face tokenizers ({@code tokenizer.json} + {@code tokenizer_config.json}). Thread-safe. */
@ProviderType
public interface TokenizerFactory {

    /**
     * Loads a tokenizer.
     *
     * @param path a model directory or a {@code tokenizer.json} file; {@code tokenizer_config.json} beside it
     *             supplies the chat template and special-token roles when present
     * @throws IOException              the file cannot be read
     * @throws IllegalArgumentException malformed or unsupported content, naming the file and the field
     */
    Tokenizer load(Path path) throws IOException;
}
