package io.tessera.grammar;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A piece of grammar that emits its automaton between two nodes of an {@link Nfa} (Thompson's construction);
 * pieces compose into sequences, alternatives and bounded or unbounded repetitions.
 */
@FunctionalInterface
interface Piece {
    void emit(Nfa nfa, int from, int to);

    Piece EMPTY = Nfa::epsilon;

    static Piece range(int lo, int hi) {
        return (nfa, from, to) -> nfa.bytes(from, lo, hi, to);
    }

    static Piece literal(String text) {
        return bytes(text.getBytes(StandardCharsets.UTF_8));
    }

    static Piece bytes(byte[] bytes) {
        return (nfa, from, to) -> {
            if (bytes.length == 0) {
                nfa.epsilon(from, to);
                return;
            }
            int at = from;
            for (int i = 0; i < bytes.length; i++) {
                int next = i == bytes.length - 1 ? to : nfa.newNode();
                nfa.bytes(at, bytes[i] & 0xff, bytes[i] & 0xff, next);
                at = next;
            }
        };
    }

    static Piece seq(Piece... pieces) {
        return (nfa, from, to) -> {
            int at = from;
            for (int i = 0; i < pieces.length; i++) {
                int next = i == pieces.length - 1 ? to : nfa.newNode();
                pieces[i].emit(nfa, at, next);
                at = next;
            }
            if (pieces.length == 0) {
                nfa.epsilon(from, to);
            }
        };
    }

    static Piece alt(List<Piece> choices) {
        return (nfa, from, to) -> {
            for (Piece p : choices) {   // each choice between fresh nodes, so no choice leaks into another
                int a = nfa.newNode();
                int b = nfa.newNode();
                nfa.epsilon(from, a);
                p.emit(nfa, a, b);
                nfa.epsilon(b, to);
            }
        };
    }

    static Piece alt(Piece... choices) {
        return alt(List.of(choices));
    }

    /** {@code min} to {@code max} repetitions ({@code max < 0}: unbounded). */
    static Piece repeat(Piece p, int min, int max) {
        return (nfa, from, to) -> {
            int at = from;
            for (int i = 0; i < min; i++) {
                int next = nfa.newNode();
                p.emit(nfa, at, next);
                at = next;
            }
            if (max < 0) {
                int loop = nfa.newNode();
                int back = nfa.newNode();
                nfa.epsilon(at, loop);
                p.emit(nfa, loop, back);
                nfa.epsilon(back, loop);
                nfa.epsilon(loop, to);
                return;
            }
            for (int i = min; i < max; i++) {
                nfa.epsilon(at, to);
                int next = nfa.newNode();
                p.emit(nfa, at, next);
                at = next;
            }
            nfa.epsilon(at, to);
        };
    }

    static Piece optional(Piece p) {
        return repeat(p, 0, 1);
    }

    /** A call of a rule: its body, with a return to {@code to}. */
    static Piece rule(int rule) {
        return (nfa, from, to) -> nfa.call(from, rule, to);
    }

    /**
     * Any text that does not contain {@code stop}, then {@code stop} (a KMP automaton over bytes): free text such
     * as thinking up to {@code </think>}, or a tool-call value up to {@code </parameter>}.
     */
    static Piece textUntil(String stop) {
        byte[] s = stop.getBytes(StandardCharsets.UTF_8);
        int[] failure = new int[s.length];
        for (int i = 1, k = 0; i < s.length; i++) {
            while (k > 0 && s[i] != s[k]) {
                k = failure[k - 1];
            }
            if (s[i] == s[k]) {
                k++;
            }
            failure[i] = k;
        }
        return (nfa, from, to) -> {
            int[] matched = new int[s.length];   // node where the first k bytes of stop are matched
            matched[0] = from;
            for (int k = 1; k < s.length; k++) {
                matched[k] = nfa.newNode();
            }
            for (int k = 0; k < s.length; k++) {
                int lo = 0;
                for (int b = 0; b <= 256; b++) {   // group consecutive bytes with the same next state
                    int next = b == 256 ? -2 : nextMatched(s, failure, k, b);
                    if (b > 0 && (b == 256 || next != nextMatched(s, failure, k, b - 1))) {
                        int target = nextMatched(s, failure, k, b - 1);
                        nfa.bytes(matched[k], lo, b - 1, target == s.length ? to : matched[target]);
                        lo = b;
                    }
                }
            }
        };
    }

    private static int nextMatched(byte[] s, int[] failure, int k, int b) {
        while (k > 0 && (s[k] & 0xff) != b) {
            k = failure[k - 1];
        }
        return (s[k] & 0xff) == b ? k + 1 : 0;
    }
}
