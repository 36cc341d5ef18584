package io.tessera.api.grammar;

import org.osgi.annotation.versioning.ProviderType;

/** A compiled constraint over one tokenizer's vocabulary. Immutable and thread-safe; it may cache masks. */
@ProviderType
public interface Grammar {

    /** A fresh matcher at the start of the output. */
    GrammarMatcher matcher();

    /** The number of token ids the masks cover (the tokenizer's vocabulary size). */
    int vocabSize();
}
