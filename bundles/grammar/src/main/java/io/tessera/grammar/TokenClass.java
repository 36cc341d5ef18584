package io.tessera.grammar;

import java.util.Arrays;
import java.util.List;

/**
 * A lexical class of a vocabulary, as xgrammar and llguidance precompute them: a small byte DFA for a free-text
 * context (between the quotes of a JSON string; raw text up to a {@code <}), the bitset of the tokens the DFA
 * walks from its start without dying ({@code inside}), and a trie of all other text tokens. In an automaton
 * state that simulates the DFA (checked transition by transition, see {@link CompiledGrammar}) every token of
 * {@code inside} is allowed without a walk, so its mask is that bitset plus a walk of the small trie of the
 * others (quotes, escapes, stray continuation bytes), which is exact whatever the grammar around.
 */
final class TokenClass {
    /** Per DFA state, the next state for each byte, or −1. Every state is entered from a lower-numbered one. */
    final int[][] dfa;
    final int[] inside;
    final VocabularyTrie others;

    private TokenClass(int[][] dfa, byte[][] bytes) {
        this.dfa = dfa;
        inside = new int[(bytes.length + 31) >>> 5];
        byte[][] rest = new byte[bytes.length][];
        for (int id = 0; id < bytes.length; id++) {
            if (bytes[id] == null) {
                continue;
            }
            int q = 0;
            for (int i = 0; i < bytes[id].length && q >= 0; i++) {
                q = dfa[q][bytes[id][i] & 0xff];
            }
            if (q >= 0) {
                inside[id >>> 5] |= 1 << (id & 31);
            } else {
                rest[id] = bytes[id];
            }
        }
        others = new VocabularyTrie(rest, false);
    }

    static List<TokenClass> all(byte[][] bytes) {
        return List.of(new TokenClass(jsonString(), bytes), new TokenClass(rawText(), bytes));
    }

    /**
     * Characters of a JSON string without escapes: well-formed UTF-8 (no surrogates, no overlongs) except
     * control characters, {@code "} and {@code \}. State 0 is a character boundary; the others expect the
     * continuation bytes of a multi-byte character.
     */
    private static int[][] jsonString() {
        int[][] dfa = new int[8][256];
        for (int[] row : dfa) {
            Arrays.fill(row, -1);
        }
        set(dfa[0], 0x20, 0x7F, 0);
        dfa[0]['"'] = -1;
        dfa[0]['\\'] = -1;
        set(dfa[0], 0xC2, 0xDF, 1);
        set(dfa[0], 0xE1, 0xEF, 2);
        dfa[0][0xE0] = 4;
        dfa[0][0xED] = 5;
        set(dfa[0], 0xF1, 0xF3, 3);
        dfa[0][0xF0] = 6;
        dfa[0][0xF4] = 7;
        set(dfa[1], 0x80, 0xBF, 0);
        set(dfa[2], 0x80, 0xBF, 1);
        set(dfa[3], 0x80, 0xBF, 2);
        set(dfa[4], 0xA0, 0xBF, 1);
        set(dfa[5], 0x80, 0x9F, 1);
        set(dfa[6], 0x90, 0xBF, 2);
        set(dfa[7], 0x80, 0x8F, 2);
        return dfa;
    }

    /** Any bytes but {@code <}: free text up to a closing tag ({@code </parameter>}, {@code </think>}). */
    private static int[][] rawText() {
        int[][] dfa = new int[1][256];
        dfa[0]['<'] = -1;
        return dfa;
    }

    private static void set(int[] row, int lo, int hi, int to) {
        Arrays.fill(row, lo, hi + 1, to);
    }
}
