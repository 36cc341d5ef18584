package io.tessera.api.tokenizer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Streaming detokenization. The concatenation of every {@link #next} result and the final {@link #flush()}
 * equals {@link Tokenizer#decode} of all ids given; text is held back only while it could still change
 * (an incomplete UTF-8 sequence). Not thread-safe.
 */
@ProviderType
public interface IncrementalDecoder {

    /** Adds one id and returns the text that became final (possibly empty). */
    String next(int id);

    /** Returns whatever is held back, decoded as the full decode would. */
    String flush();
}
