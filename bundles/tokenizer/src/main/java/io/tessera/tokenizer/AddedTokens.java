package io.tessera.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Added and special tokens, matched in text before BPE and never split, as Hugging Face's AddedVocabulary does:
 * leftmost-longest matching, tokens with {@code normalized=false} on the raw text and the others on the normalized
 * text, {@code single_word} matches only between non-word characters, {@code lstrip}/{@code rstrip} absorb the
 * whitespace beside the match.
 */
final class AddedTokens {
    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

    record Token(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized) {
    }

    /** What to do with the text between matches. */
    interface Sink {
        void text(String text, int from, int to);
    }

    private final Matcher raw;
    private final Matcher normalized;
    private final List<String> contents;

    AddedTokens(List<Token> tokens, UnaryOperator<String> normalizer) {
        contents = tokens.stream().map(Token::content).filter(c -> !c.isEmpty())
                .sorted(java.util.Comparator.comparingInt(String::length).reversed()).toList();
        List<Token> rawTokens = new ArrayList<>();
        List<String> rawPatterns = new ArrayList<>();
        List<Token> normTokens = new ArrayList<>();
        List<String> normPatterns = new ArrayList<>();
        for (Token t : tokens) {
            if (t.content().isEmpty()) {
                continue;
            }
            if (t.normalized()) {
                normTokens.add(t);
                normPatterns.add(normalizer.apply(t.content()));
            } else {
                rawTokens.add(t);
                rawPatterns.add(t.content());
            }
        }
        raw = new Matcher(rawTokens, rawPatterns);
        normalized = new Matcher(normTokens, normPatterns);
    }

    /** The added tokens' texts, longest first. */
    List<String> contents() {
        return contents;
    }

    /** Splits raw text on the tokens that match before normalization. */
    void splitRaw(String text, IntList ids, Sink rest) {
        raw.split(text, ids, rest);
    }

    /** Splits normalized text on the tokens that match after normalization. */
    void splitNormalized(String text, IntList ids, Sink rest) {
        normalized.split(text, ids, rest);
    }

    /** Leftmost-longest search over a fixed set of strings. */
    private static final class Matcher {
        private final String[] patterns;
        private final Token[] tokens;
        /** For each first character, the candidate indices, longest first. */
        private final int[][] byFirstChar = new int[65536][];

        Matcher(List<Token> tokenList, List<String> patternList) {
            patterns = patternList.toArray(String[]::new);
            tokens = tokenList.toArray(Token[]::new);
            Integer[] order = new Integer[patterns.length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, Comparator.comparingInt((Integer i) -> -patterns[i].length()));
            for (int i : order) {
                if (patterns[i].isEmpty()) {
                    continue;
                }
                char c = patterns[i].charAt(0);
                int[] old = byFirstChar[c];
                int[] grown = old == null ? new int[1] : java.util.Arrays.copyOf(old, old.length + 1);
                grown[grown.length - 1] = i;
                byFirstChar[c] = grown;
            }
        }

        void split(String text, IntList ids, Sink rest) {
            int startOffset = 0;
            int pos = 0;
            int n = text.length();
            while (pos < n) {
                int found = -1;
                int at = pos;
                for (; at < n; at++) {
                    int[] candidates = byFirstChar[text.charAt(at)];
                    if (candidates != null) {
                        for (int c : candidates) {
                            if (text.startsWith(patterns[c], at)) {
                                found = c;
                                break;
                            }
                        }
                        if (found >= 0) {
                            break;
                        }
                    }
                }
                if (found < 0) {
                    break;
                }
                Token token = tokens[found];
                int start = at;
                int stop = at + patterns[found].length();
                pos = stop; // the search goes on after the match even when the match is rejected
                if (token.singleWord() && (endsWithWord(text, start) || startsWithWord(text, stop))) {
                    continue;
                }
                if (token.lstrip()) {
                    int s = start;
                    while (s > 0 && isWhiteSpace(text.codePointBefore(s))) {
                        s -= Character.charCount(text.codePointBefore(s));
                    }
                    start = Math.max(s, startOffset);
                }
                if (token.rstrip()) {
                    while (stop < n && isWhiteSpace(text.codePointAt(stop))) {
                        stop += Character.charCount(text.codePointAt(stop));
                    }
                }
                if (startOffset < start) {
                    rest.text(text, startOffset, start);
                }
                ids.add(token.id());
                startOffset = stop;
            }
            if (startOffset < n) {
                rest.text(text, startOffset, n);
            }
        }
    }

    private static boolean endsWithWord(String text, int end) {
        return end > 0 && WORD_CHAR.matcher(Character.toString(text.codePointBefore(end))).matches();
    }

    private static boolean startsWithWord(String text, int start) {
        return start < text.length() && WORD_CHAR.matcher(Character.toString(text.codePointAt(start))).matches();
    }

    /** Unicode White_Space, as Rust's char::is_whitespace and regex \s. */
    static boolean isWhiteSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }
}
