package io.tessera.grammar;

import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarMatcher;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * An automaton over one vocabulary: token masks come from a walk of the vocabulary trie and are cached per
 * automaton state (a state is the whole parse context, so a cached mask is exact wherever the state recurs —
 * inside a string, after a comma, at a property name — which is most steps of a generation). A free-text state
 * (inside a string, a tool-call text value) would walk almost the whole trie; it takes its lexical class's
 * precomputed bitset instead and walks only the class's few other tokens ({@link TokenClass}). Thread-safe: the
 * lazily built tables are guarded by this object's lock.
 */
final class CompiledGrammar implements Grammar {
    /** Bytes of cached masks kept per grammar before the cache is dropped. */
    private static final long MASK_CACHE_BYTES = 32L << 20;
    /** Pairs a lexical class's simulation check may meet before it gives up (a bounded string exceeds it). */
    private static final int MAX_PAIRS = 64;

    private final Automaton automaton;
    private final VocabularyTrie trie;
    private final int words;
    private final int maxMasks;
    private final Map<Integer, int[]> masks = new HashMap<>();
    private final int[] walk;   // state at each trie depth during a mask walk
    private final int[] pairs = new int[2 * MAX_PAIRS];   // (DFA state, automaton state) during a simulation check

    CompiledGrammar(Nfa nfa, int rootRule, VocabularyTrie trie) {
        this.automaton = new Automaton(nfa, rootRule);
        this.trie = trie;
        this.words = (trie.vocabSize + 31) >>> 5;
        this.maxMasks = (int) Math.max(16, MASK_CACHE_BYTES / (4L * words));
        this.walk = new int[trie.maxDepth + 1];
    }

    @Override
    public GrammarMatcher matcher() {
        return new Matcher(this, start());
    }

    int start() {
        return automaton.start();
    }

    @Override
    public int vocabSize() {
        return trie.vocabSize;
    }

    /** Writes the mask of {@code state} into {@code bits} (zeroing the rest of the array). */
    synchronized void mask(int state, int[] bits) {
        int[] mask = masks.get(state);
        if (mask == null) {
            if (masks.size() == maxMasks) {
                masks.clear();
            }
            mask = computeMask(state);
            masks.put(state, mask);
        }
        System.arraycopy(mask, 0, bits, 0, words);
        Arrays.fill(bits, words, bits.length, 0);
    }

    /** The state after {@code token}'s bytes, or {@link Automaton#DEAD} (special tokens are never accepted). */
    synchronized int advance(int state, int token) {
        byte[] bytes = trie.bytes(token);
        if (bytes == null) {
            return Automaton.DEAD;
        }
        for (int i = 0; i < bytes.length && state != Automaton.DEAD; i++) {
            state = automaton.next(state, bytes[i] & 0xff);
        }
        return state;
    }

    synchronized boolean accepting(int state) {
        return automaton.accepting(state);
    }

    private int[] computeMask(int state) {
        for (TokenClass c : trie.classes) {
            if (simulates(state, c.dfa)) {
                int[] mask = c.inside.clone();
                walk(c.others, state, mask);
                return mask;
            }
        }
        return walkedMask(state);
    }

    /** The mask of a walk of the whole trie: what {@link #mask} must equal (the tests compare them). */
    synchronized int[] walkedMask(int state) {
        int[] mask = new int[words];
        walk(trie, state, mask);
        return mask;
    }

    /** Whether masks of this state take a lexical class's precomputed bitset (see {@link #computeMask}). */
    synchronized boolean classified(int state) {
        return trie.classes.stream().anyMatch(c -> simulates(state, c.dfa));
    }

    /**
     * Whether {@code state} follows the DFA: the pairs (DFA state, automaton state) reachable from (start,
     * {@code state}) by the DFA's transitions are few and none meets a dead automaton transition. Then every byte
     * string the DFA walks without dying is alive from {@code state}. (A DFA state may pair with several
     * automaton states: the grammar may spell one byte range by several edges.)
     */
    private boolean simulates(int state, int[][] dfa) {
        int n = 1;
        pairs[0] = 0;
        pairs[1] = state;
        for (int i = 0; i < n; i++) {
            int q = pairs[2 * i];
            int s = pairs[2 * i + 1];
            int lastTo = -1;
            int lastNext = Automaton.DEAD;
            for (int b = 0; b < 256; b++) {
                int to = dfa[q][b];
                if (to < 0) {
                    continue;
                }
                int next = automaton.next(s, b);
                if (next == Automaton.DEAD) {
                    return false;
                }
                if (to == lastTo && next == lastNext) {   // a run of bytes with one outcome: looked up once
                    continue;
                }
                lastTo = to;
                lastNext = next;
                if (!paired(n, to, next)) {
                    if (n == MAX_PAIRS) {
                        return false;
                    }
                    pairs[2 * n] = to;
                    pairs[2 * n + 1] = next;
                    n++;
                }
            }
        }
        return true;
    }

    private boolean paired(int n, int q, int s) {
        for (int i = 0; i < n; i++) {
            if (pairs[2 * i] == q && pairs[2 * i + 1] == s) {
                return true;
            }
        }
        return false;
    }

    /** Sets the bits of the tokens of {@code trie} alive from {@code state}, skipping each dead prefix's subtree. */
    private void walk(VocabularyTrie trie, int state, int[] mask) {
        walk[0] = state;
        int n = trie.nodeCount();
        for (int i = 0; i < n; ) {
            int d = trie.depth[i];
            int next = automaton.next(walk[d - 1], trie.label[i] & 0xff);
            if (next == Automaton.DEAD) {
                i = trie.subtreeEnd[i];
                continue;
            }
            walk[d] = next;
            for (int k = trie.tokenStart[i]; k < trie.tokenStart[i + 1]; k++) {
                int t = trie.tokens[k];
                mask[t >>> 5] |= 1 << (t & 31);
            }
            i++;
        }
    }

    /** Automaton states met so far (a measure of how much of the grammar generation explored). */
    synchronized int states() {
        return automaton.stateCount();
    }
}
