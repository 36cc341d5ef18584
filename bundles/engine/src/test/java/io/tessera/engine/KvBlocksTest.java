package io.tessera.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KvBlocksTest {
    private static final int[] TOKENS = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    /** Fills slot 0 with two full blocks of TOKENS and indexes them; returns their hashes. */
    private static long[] cacheTwoBlocks(KvBlocks blocks, String key) {
        assertTrue(blocks.ensure(0, 8));
        long h0 = blocks.chain(0, TOKENS, 0, key);
        long h1 = blocks.chain(h0, TOKENS, 4, key);
        blocks.register(0, 0, h0, TOKENS, key);
        blocks.register(0, 1, h1, TOKENS, key);
        return new long[] {h0, h1};
    }

    @Test
    void aReleasedChainIsFoundAgainAndSharedBlocksAreCountedOnce() {
        KvBlocks blocks = new KvBlocks(4, 4, 2, 1 << 20);
        long[] h = cacheTwoBlocks(blocks, "");
        int b0 = blocks.table(0)[0];
        int b1 = blocks.table(0)[1];
        assertEquals(b0, blocks.find(h[0], -1, TOKENS, 0, ""));
        assertEquals(b1, blocks.find(h[1], b0, TOKENS, 4, ""));
        // another cache key, other tokens or another parent do not match
        assertEquals(-1, blocks.find(blocks.chain(0, TOKENS, 0, "salt:a"), -1, TOKENS, 0, "salt:a"));
        assertEquals(-1, blocks.find(h[0], -1, new int[] {1, 2, 3, 5}, 0, ""));
        assertEquals(-1, blocks.find(h[1], -1, TOKENS, 4, ""));
        // slot 1 shares both blocks while slot 0 still holds them: two blocks stay available
        blocks.share(1, b0);
        blocks.share(1, b1);
        assertEquals(2, blocks.available());
        blocks.release(0);
        assertEquals(2, blocks.available());
        blocks.release(1);
        assertEquals(4, blocks.available());
        assertEquals(2, blocks.cachedBlocks());
        assertEquals(b0, blocks.find(h[0], -1, TOKENS, 0, ""), "cached after release");
    }

    @Test
    void evictionTakesIdleBlocksTailFirstAndNeverBlocksInUse() {
        KvBlocks blocks = new KvBlocks(3, 4, 2, 1 << 20);
        long[] h = cacheTwoBlocks(blocks, "");
        int b0 = blocks.table(0)[0];
        blocks.release(0);
        // slot 1 takes the head of the chain, then needs two fresh blocks: the free one and the idle tail
        blocks.share(1, b0);
        assertTrue(blocks.ensure(1, 12));
        assertEquals(-1, blocks.find(h[1], b0, TOKENS, 4, ""), "the tail was evicted");
        assertEquals(b0, blocks.find(h[0], -1, TOKENS, 0, ""), "the head in use stays");
        assertFalse(blocks.ensure(0, 4), "no block left: all in use");
        assertEquals(0, blocks.tableLength(0), "a refused request takes nothing");
    }

    @Test
    void clearingForgetsTheIndexAndFreesIdleBlocksOnly() {
        KvBlocks blocks = new KvBlocks(4, 4, 2, 1 << 20);
        long[] h = cacheTwoBlocks(blocks, "k");
        blocks.keepSnapshot(blocks.table(0)[1], new KvBlocks.Snapshot(4, new int[0], new float[0][], new float[0][],
                100));
        assertEquals(100, blocks.snapshotBytes());
        blocks.clear();
        assertEquals(0, blocks.cachedBlocks());
        assertEquals(0, blocks.snapshotBytes());
        assertEquals(-1, blocks.find(h[0], -1, TOKENS, 0, "k"));
        assertEquals(2, blocks.available(), "the blocks slot 0 holds stay with it");
        blocks.release(0);
        assertEquals(4, blocks.available());
    }

    @Test
    void snapshotsOverTheLimitDropTheLeastRecentlyUsed() {
        KvBlocks blocks = new KvBlocks(4, 4, 1, 150);
        cacheTwoBlocks(blocks, "");
        int b0 = blocks.table(0)[0];
        int b1 = blocks.table(0)[1];
        KvBlocks.Snapshot s = new KvBlocks.Snapshot(4, new int[0], new float[0][], new float[0][], 100);
        blocks.keepSnapshot(b0, s);
        blocks.keepSnapshot(b1, s);
        assertEquals(null, blocks.snapshot(b0));
        assertEquals(s, blocks.snapshot(b1));
        assertNotEquals(0, blocks.snapshotBytes());
    }
}
