package io.tessera.engine;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The paged layers' blocks of one model: reference counts, each sequence slot's block table, and the prefix cache
 * (the scheduler thread changes them; monitoring reads them). A full block of a generation is indexed by a hash chain
 * of its tokens (the parent block's hash, the block's tokens, the request's cache key); a new sequence takes the
 * longest chain of cached blocks its tokens repeat. Blocks no sequence holds stay cached until a new block needs
 * their room, least recently used first; blocks in use are never evicted.
 *
 * <p>Sliding-window layers are not paged: resuming at a cached block end {@code E} needs their rings as they were,
 * so a sequence recomputes the last {@code window} positions before {@code E} and restores the rings' KV before
 * those from a {@link Snapshot} taken when the first sequence passed that point. (Recomputing more of the window
 * instead would not be exact: a sliding layer's input at a position depends on the sliding layers below it over the
 * window before, and so on down the stack.) The recomputed rows write the same KV again, bit for bit (rows are
 * batch-invariant), and give the draft heads the hN rows their own window recomputation reads.
 */
final class KvBlocks {
    private final int blockTokens;
    private final int[] refs;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final int[][] table;          // per sequence slot
    private final int[] tableLength;

    // prefix cache: per block its chain hash (0: not indexed), parent block, tokens and cache key
    private final long[] hash;
    private final int[] parent;
    private final int[][] tokens;
    private final String[] key;
    private final Map<Long, Integer> index = new HashMap<>();
    private final LinkedHashSet<Integer> idle = new LinkedHashSet<>();   // indexed, unreferenced: LRU order
    private final LinkedHashMap<Integer, Snapshot> snapshots = new LinkedHashMap<>(16, 0.75f, true);
    private final long snapshotLimit;
    private long snapshotBytes;

    /**
     * The rings' KV at a resume point {@code R}: per ring layer, the keys and values of positions
     * {@code [R − count, R)}.
     */
    record Snapshot(int resume, int[] count, float[][] keys, float[][] values, long bytes) {
    }

    KvBlocks(int blocks, int blockTokens, int sequences, long snapshotLimit) {
        this.blockTokens = blockTokens;
        this.refs = new int[blocks];
        this.hash = new long[blocks];
        this.parent = new int[blocks];
        this.tokens = new int[blocks][];
        this.key = new String[blocks];
        this.table = new int[sequences][Math.min(blocks, 16)];
        this.tableLength = new int[sequences];
        this.snapshotLimit = snapshotLimit;
        for (int b = 0; b < blocks; b++) {
            free.add(b);
        }
    }

    int blockTokens() {
        return blockTokens;
    }

    int blocks() {
        return refs.length;
    }

    synchronized int[] table(int slot) {
        return table[slot];
    }

    synchronized int tableLength(int slot) {
        return tableLength[slot];
    }

    /** Blocks not held by any sequence (free or only cached). */
    synchronized int available() {
        return free.size() + idle.size();
    }

    /** Indexed blocks (in use or idle). */
    synchronized int cachedBlocks() {
        return index.size();
    }

    synchronized long snapshotBytes() {
        return snapshotBytes;
    }

    synchronized int snapshotCount() {
        return snapshots.size();
    }

    /**
     * Gives slot {@code slot} blocks for positions {@code [0, positions)}; false, with nothing taken, when there are
     * not enough blocks even after evicting every idle cached block.
     */
    synchronized boolean ensure(int slot, int positions) {
        int need = Math.ceilDiv(positions, blockTokens) - tableLength[slot];
        if (need <= 0) {
            return true;
        }
        if (need > available()) {
            return false;
        }
        for (int i = 0; i < need; i++) {
            Integer b = free.poll();
            if (b == null) {
                b = idle.removeFirst();
                forget(b);
            }
            add(slot, b);
        }
        return true;
    }

    private void add(int slot, int block) {
        if (tableLength[slot] == table[slot].length) {
            table[slot] = Arrays.copyOf(table[slot], table[slot].length * 2);
        }
        table[slot][tableLength[slot]++] = block;
        refs[block]++;
    }

    /** Gives back every block of {@code slot}: an indexed one stays cached, the others are free. */
    synchronized void release(int slot) {
        // last block first: a chain's tail is then evicted before its head, which other chains may share
        for (int i = tableLength[slot] - 1; i >= 0; i--) {
            int b = table[slot][i];
            if (--refs[b] == 0) {
                if (hash[b] != 0) {
                    idle.add(b);
                } else {
                    free.add(b);
                }
            }
        }
        tableLength[slot] = 0;
    }

    /** The hash of a block with parent hash {@code parentHash}, tokens {@code [from, from + blockTokens)}. */
    long chain(long parentHash, int[] all, int from, String cacheKey) {
        long h = parentHash == 0 ? cacheKey.hashCode() * 0x9E3779B97F4A7C15L + 1 : parentHash;
        for (int i = from; i < from + blockTokens; i++) {
            h = (h ^ all[i]) * 0x100000001B3L;
            h ^= h >>> 29;
        }
        return h == 0 ? 1 : h;
    }

    /**
     * Indexes block {@code i} of {@code slot} (full, its tokens final) under {@code h}, unless that block or hash
     * already is; returns the block indexed under {@code h} for these tokens, or −1.
     */
    synchronized int register(int slot, int i, long h, int[] all, String cacheKey) {
        int b = table[slot][i];
        int parentBlock = i == 0 ? -1 : table[slot][i - 1];
        if (hash[b] == 0 && !index.containsKey(h)) {
            hash[b] = h;
            parent[b] = parentBlock;
            tokens[b] = Arrays.copyOfRange(all, i * blockTokens, (i + 1) * blockTokens);
            key[b] = cacheKey;
            index.put(h, b);
        }
        return find(h, parentBlock, all, i * blockTokens, cacheKey);
    }

    /** The block indexed under {@code h} whose parent and tokens match, or −1. */
    synchronized int find(long h, int parentBlock, int[] all, int from, String cacheKey) {
        Integer b = index.get(h);
        if (b == null || parent[b] != parentBlock || !cacheKey.equals(key[b])
                || !Arrays.equals(tokens[b], 0, blockTokens, all, from, from + blockTokens)) {
            return -1;
        }
        return b;
    }

    /** Gives {@code slot} (with an empty table) the cached block {@code b} as its next block. */
    synchronized void share(int slot, int b) {
        idle.remove(b);
        add(slot, b);
    }

    synchronized Snapshot snapshot(int block) {
        return snapshots.get(block);
    }

    /** Keeps {@code s} for the resume point of indexed block {@code block}, dropping the oldest over the limit. */
    synchronized void keepSnapshot(int block, Snapshot s) {
        if (hash[block] == 0 || s.bytes() > snapshotLimit) {
            return;
        }
        Snapshot old = snapshots.put(block, s);
        snapshotBytes += s.bytes() - (old == null ? 0 : old.bytes());
        for (Iterator<Snapshot> it = snapshots.values().iterator(); snapshotBytes > snapshotLimit; ) {
            snapshotBytes -= it.next().bytes();
            it.remove();
        }
    }

    private void forget(int b) {
        index.remove(hash[b]);
        hash[b] = 0;
        tokens[b] = null;
        key[b] = null;
        Snapshot s = snapshots.remove(b);
        if (s != null) {
            snapshotBytes -= s.bytes();
        }
    }

    /** Empties the prefix cache: idle blocks become free, blocks in use stay with their sequences, unindexed. */
    synchronized void clear() {
        for (int b = 0; b < refs.length; b++) {
            if (hash[b] != 0) {
                forget(b);
            }
        }
        free.addAll(idle);
        idle.clear();
    }

    /** Whether block {@code b} is held by a sequence. */
    synchronized boolean inUse(int b) {
        return refs[b] > 0;
    }
}
