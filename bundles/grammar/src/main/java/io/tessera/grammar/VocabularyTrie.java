package io.tessera.grammar;

import io.tessera.api.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A tokenizer's text tokens as a byte trie in pre-order: node {@code i} has byte {@code label[i]} at depth
 * {@code depth[i]}, its subtree ends before {@code subtreeEnd[i]}, and the tokens spelled by the path to it are
 * {@code tokens[tokenStart[i] .. tokenStart[i + 1])}. A mask is one walk that skips every subtree whose prefix
 * the grammar rejects. Special tokens (no text bytes) are left out. The vocabulary's trie also holds its
 * {@link TokenClass}es (the classes' own tries hold none). Immutable.
 */
final class VocabularyTrie {
    final int vocabSize;
    final byte[] label;
    final int[] depth;
    final int[] subtreeEnd;
    final int[] tokenStart;
    final int[] tokens;
    final int maxDepth;
    final List<TokenClass> classes;
    private final byte[][] bytes;

    VocabularyTrie(Tokenizer tokenizer) {
        this(textBytes(tokenizer), true);
    }

    /** The trie of the tokens with non-null {@code bytes} (indexed by token id; none empty). */
    VocabularyTrie(byte[][] bytes, boolean withClasses) {
        vocabSize = bytes.length;
        this.bytes = bytes;
        int textTokens = 0;
        for (byte[] b : bytes) {
            if (b != null) {
                textTokens++;
            }
        }
        Integer[] order = new Integer[textTokens];
        for (int id = 0, k = 0; id < vocabSize; id++) {
            if (bytes[id] != null) {
                order[k++] = id;
            }
        }
        Comparator<Integer> byBytes = (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]);
        Arrays.sort(order, byBytes.thenComparing(Comparator.naturalOrder()));
        // nodes are the distinct prefixes, met in sorted order
        int[] nodeOf = new int[textTokens];
        int count = 0;
        int longest = 0;
        byte[] labels = new byte[1024];
        int[] depths = new int[1024];
        byte[] previous = new byte[0];
        for (int k = 0; k < textTokens; k++) {
            byte[] b = bytes[order[k]];
            int common = commonPrefix(previous, b);
            for (int d = common; d < b.length; d++) {
                if (count == labels.length) {
                    labels = Arrays.copyOf(labels, count * 2);
                    depths = Arrays.copyOf(depths, count * 2);
                }
                labels[count] = b[d];
                depths[count++] = d + 1;
            }
            nodeOf[k] = common == b.length && k > 0 ? nodeOf[k - 1] : count - 1;   // same bytes as the previous
            longest = Math.max(longest, b.length);
            previous = b;
        }
        label = Arrays.copyOf(labels, count);
        depth = Arrays.copyOf(depths, count);
        maxDepth = longest;
        subtreeEnd = new int[count];
        int[] open = new int[longest + 1];   // open[d]: the current node at depth d
        for (int i = 0; i < count; i++) {
            for (int d = depth[i]; d <= longest && open[d] > 0; d++) {   // close nodes at depth ≥ this one
                subtreeEnd[open[d] - 1] = i;
                open[d] = 0;
            }
            open[depth[i]] = i + 1;
        }
        for (int d = 1; d <= longest; d++) {
            if (open[d] > 0) {
                subtreeEnd[open[d] - 1] = count;
            }
        }
        tokenStart = new int[count + 1];
        for (int k = 0; k < textTokens; k++) {
            tokenStart[nodeOf[k] + 1]++;
        }
        for (int i = 0; i < count; i++) {
            tokenStart[i + 1] += tokenStart[i];
        }
        tokens = new int[textTokens];
        for (int k = 0; k < textTokens; k++) {
            tokens[k] = order[k];   // sorted order is trie order, so each node's tokens are contiguous
        }
        classes = withClasses ? TokenClass.all(bytes) : List.of();
    }

    private static byte[][] textBytes(Tokenizer tokenizer) {
        byte[][] bytes = new byte[tokenizer.vocabSize()][];
        for (int id = 0; id < bytes.length; id++) {
            byte[] b = tokenizer.tokenBytes(id);
            bytes[id] = b != null && b.length > 0 ? b : null;
        }
        return bytes;
    }

    /** The text bytes of a token, or null for a special token. */
    byte[] bytes(int token) {
        return token >= 0 && token < vocabSize ? bytes[token] : null;
    }

    int nodeCount() {
        return label.length;
    }

    private static int commonPrefix(byte[] a, byte[] b) {
        int n = Math.min(a.length, b.length);
        int i = Arrays.mismatch(a, 0, n, b, 0, n);
        return i < 0 ? n : i;
    }
}
