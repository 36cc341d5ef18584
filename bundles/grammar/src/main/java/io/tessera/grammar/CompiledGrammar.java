package io.tessera.grammar;

import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarMatcher;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * An automaton over one vocabulary: token masks come from a walk of the vocabulary trie and are cached per
 * automaton state (a state is the whole parse context, so a cached mask is exact wherever the state recurs —
 * inside a string, after a comma, at a property name — which is most steps of a generation). Thread-safe: the
 * lazily built tables are guarded by this object's lock.
 */
final class CompiledGrammar implements Grammar {
    /** Bytes of cached masks kept per grammar before the cache is dropped. */
    private static final long MASK_CACHE_BYTES = 32L << 20;

    private final Automaton automaton;
    private final VocabularyTrie trie;
    private final int words;
    private final int maxMasks;
    private final Map<Integer, int[]> masks = new HashMap<>();
    private final int[] walk;   // state at each trie depth during a mask walk

    CompiledGrammar(Nfa nfa, int rootRule, VocabularyTrie trie) {
        this.automaton = new Automaton(nfa, rootRule);
        this.trie = trie;
        this.words = (trie.vocabSize + 31) >>> 5;
        this.maxMasks = (int) Math.max(16, MASK_CACHE_BYTES / (4L * words));
        this.walk = new int[trie.maxDepth + 1];
    }

    @Override
    public GrammarMatcher matcher() {
        return new Matcher(this, automaton.start());
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
        int[] mask = new int[words];
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
        return mask;
    }

    /** Automaton states met so far (a measure of how much of the grammar generation explored). */
    synchronized int states() {
        return automaton.stateCount();
    }
}
