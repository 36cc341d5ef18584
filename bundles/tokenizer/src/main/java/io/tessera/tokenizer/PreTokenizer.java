package io.tessera.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A chain of regex splits with "Isolated" behaviour (each match and each gap between matches is a piece), each
 * level splitting the pieces of the one before; the last level hands pieces to BPE. Patterns are compiled once, at
 * load time.
 */
final class PreTokenizer {
    /** GPT-2's pattern, used by a ByteLevel pre-tokenizer with use_regex=true. */
    static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Receives the final pieces. */
    interface Sink {
        void piece(String piece);
    }

    private final Pattern[] patterns;

    PreTokenizer(List<Pattern> patterns) {
        this.patterns = patterns.toArray(Pattern[]::new);
    }

    /**
     * Compiles a pattern of the Oniguruma dialect the reference uses. The constructs tokenizer files use
     * (\p{L}, \p{N}, \s, (?i:...), lookahead) have the same syntax in java.util.regex; UNICODE_CHARACTER_CLASS
     * gives \s the Unicode White_Space set and (?i) Unicode case folding, as Oniguruma's UTF-8 mode does.
     */
    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    void split(String text, Sink sink) {
        split(0, text, sink);
    }

    private void split(int level, String text, Sink sink) {
        if (level == patterns.length) {
            sink.piece(text);
            return;
        }
        Matcher m = patterns[level].matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() == m.end()) {
                continue;
            }
            if (m.start() > last) {
                split(level + 1, text.substring(last, m.start()), sink);
            }
            split(level + 1, text.substring(m.start(), m.end()), sink);
            last = m.end();
        }
        if (last < text.length()) {
            split(level + 1, last == 0 ? text : text.substring(last), sink);
        }
    }
}
