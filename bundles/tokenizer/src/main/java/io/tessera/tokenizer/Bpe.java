package io.tessera.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE over int arrays. A word's bytes start as one symbol each; adjacent pairs are merged in rank
 * order (lowest rank first, leftmost first among equal ranks), the order Hugging Face's BPE uses, with a binary
 * heap of (rank, position) keys and linked symbol positions. Results for words are kept in a bounded cache.
 */
final class Bpe {
    private static final int CACHE_LIMIT = 100_000;
    private static final int CACHE_WORD_LIMIT = 256;

    private final Map<String, Integer> vocab;
    /** The id of each byte's single-character token, or -1 when the vocabulary lacks it. */
    private final int[] byteIds = new int[256];
    private final PairTable merges;
    private final int unkId;
    private final boolean ignoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    Bpe(Map<String, Integer> vocab, PairTable merges, int unkId, boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.unkId = unkId;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.getOrDefault(String.valueOf(ByteLevel.charOf(b)), -1);
        }
    }

    /** Appends the ids of one pre-tokenized word to out. */
    void encode(String word, IntList out) {
        boolean cacheable = word.length() <= CACHE_WORD_LIMIT;
        int[] ids = cacheable ? cache.get(word) : null;
        if (ids == null) {
            ids = merge(word.getBytes(StandardCharsets.UTF_8));
            if (cacheable) {
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear(); // bounded: start over rather than track recency
                }
                cache.put(word, ids);
            }
        }
        out.addAll(ids);
    }

    private int[] merge(byte[] bytes) {
        if (ignoreMerges) {
            Integer whole = vocab.get(ByteLevel.stringOf(bytes));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int n = 0;
        int[] sym = new int[bytes.length];
        for (byte b : bytes) {
            int id = byteIds[b & 0xFF];
            if (id < 0) {
                id = unkId; // no unk token: the reference drops the byte
            }
            if (id >= 0) {
                sym[n++] = id;
            }
        }
        if (n < 2) {
            return Arrays.copyOf(sym, n);
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        long[] heap = new long[3 * n];
        int size = 0;
        for (int i = 0; i < n; i++) {
            next[i] = i + 1;
            prev[i] = i - 1;
            if (i + 1 < n) {
                size = push(heap, size, sym[i], sym[i + 1], i);
            }
        }
        while (size > 0) {
            long top = heap[0];
            heap[0] = heap[--size];
            siftDown(heap, size);
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            int right = next[pos];
            if (sym[pos] < 0 || right >= n) {
                continue;
            }
            int slot = merges.find(sym[pos], sym[right]);
            if (slot < 0 || merges.rank(slot) != rank) {
                continue; // stale entry: the pair at pos changed since it was pushed
            }
            sym[pos] = merges.merged(slot);
            sym[right] = -1;
            next[pos] = next[right];
            if (next[pos] < n) {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0) {
                size = push(heap, size, sym[prev[pos]], sym[pos], prev[pos]);
            }
            if (next[pos] < n) {
                size = push(heap, size, sym[pos], sym[next[pos]], pos);
            }
        }
        int count = 0;
        for (int i = 0; i < n; i = next[i]) {
            sym[count++] = sym[i];
        }
        return Arrays.copyOf(sym, count);
    }

    private int push(long[] heap, int size, int a, int b, int pos) {
        int slot = merges.find(a, b);
        if (slot < 0) {
            return size;
        }
        long key = ((long) merges.rank(slot) << 32) | pos;
        int i = size;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
        return size + 1;
    }

    private static void siftDown(long[] heap, int size) {
        if (size == 0) {
            return;
        }
        long key = heap[0];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= key) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = key;
    }

    /** Open-addressing map from a token-id pair to its merge rank and merged id. */
    static final class PairTable {
        private final long[] keys;
        private final int[] ranks;
        private final int[] merged;
        private final int mask;

        PairTable(int capacity) {
            int size = Integer.highestOneBit(Math.max(4, capacity * 2 - 1)) << 1;
            keys = new long[size];
            Arrays.fill(keys, -1L);
            ranks = new int[size];
            merged = new int[size];
            mask = size - 1;
        }

        /** Adds a pair; a repeated pair takes the later rank, as the reference's map does. */
        void put(int a, int b, int rank, int mergedId) {
            long key = ((long) a << 32) | b;
            int i = hash(key);
            while (keys[i] != -1L && keys[i] != key) {
                i = (i + 1) & mask;
            }
            keys[i] = key;
            ranks[i] = rank;
            merged[i] = mergedId;
        }

        int find(int a, int b) {
            long key = ((long) a << 32) | b;
            for (int i = hash(key); ; i = (i + 1) & mask) {
                long k = keys[i];
                if (k == key) {
                    return i;
                }
                if (k == -1L) {
                    return -1;
                }
            }
        }

        int rank(int slot) {
            return ranks[slot];
        }

        int merged(int slot) {
            return merged[slot];
        }

        private int hash(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }
    }
}
