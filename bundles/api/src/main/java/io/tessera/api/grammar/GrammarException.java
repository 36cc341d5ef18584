package io.tessera.api.grammar;

/** A schema the compiler refuses: unsupported, invalid, or past the compile bounds; names the keyword. */
public class GrammarException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String keyword;

    public GrammarException(String keyword, String message) {
        super(message);
        this.keyword = keyword;
    }

    /** The schema keyword at fault (e.g. {@code patternProperties}), or the bound ({@code maxNodes}). */
    public String keyword() {
        return keyword;
    }
}
