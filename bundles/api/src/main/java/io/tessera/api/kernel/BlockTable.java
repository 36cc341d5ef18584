package io.tessera.api.kernel;

/**
 * Where the KV of a paged layer lives for each row of a step ({@link KernelBackend#pagedRows}): a layer's
 * {@link KvCache} is cut into blocks of {@code blockTokens} slots, and row {@code r}'s sequence keeps position
 * {@code p} in block {@code blocks[start[r] + p / blockTokens]}, slot
 * {@code blockTokens · block + p mod blockTokens}. Rows of one sequence share their table; sequences may share
 * blocks (a common prefix), a table may list blocks in any order, and its last block may be partly written. The
 * arrays are the caller's: a backend may read them until the {@link Rows} made from them is closed.
 *
 * @param blockTokens slots per block, positive
 * @param blocks      the tables of the step's sequences, concatenated
 * @param start       per row: where its sequence's table starts in {@code blocks}
 * @param length      per row: how many blocks its table has
 */
public record BlockTable(int blockTokens, int[] blocks, int[] start, int[] length) {
    public BlockTable {
        if (blockTokens <= 0 || start.length != length.length) {
            throw new IllegalArgumentException("block table: blockTokens " + blockTokens + ", " + start.length
                    + " row starts for " + length.length + " row lengths");
        }
        for (int r = 0; r < start.length; r++) {
            if (start[r] < 0 || length[r] <= 0 || start[r] + length[r] > blocks.length) {
                throw new IllegalArgumentException("block table: row " + r + " has blocks [" + start[r] + ", "
                        + (start[r] + length[r]) + ") of " + blocks.length);
            }
        }
        for (int b : blocks) {
            if (b < 0) {
                throw new IllegalArgumentException("block table: negative block " + b);
            }
        }
    }

    /**
     * Checks that {@code positions} are the rows of this table: as many, none negative.
     *
     * @throws IllegalArgumentException naming the first row that is not
     */
    public void requireRows(int[] positions) {
        if (positions.length != start.length) {
            throw new IllegalArgumentException("paged rows: " + positions.length + " positions for " + start.length
                    + " table rows");
        }
        for (int r = 0; r < positions.length; r++) {
            if (positions[r] < 0) {
                throw new IllegalArgumentException("paged rows: row " + r + " has position " + positions[r]);
            }
        }
    }

    /** A copy whose arrays the caller may change. */
    public BlockTable copy() {
        return new BlockTable(blockTokens, blocks.clone(), start.clone(), length.clone());
    }

    /** The slot of position {@code position} of row {@code r}'s sequence. */
    public int slot(int r, int position) {
        int index = position / blockTokens;
        if (index >= length[r]) {
            throw new IllegalArgumentException("block table: row " + r + " position " + position + " is past its "
                    + length[r] + " blocks of " + blockTokens);
        }
        return blocks[start[r] + index] * blockTokens + position % blockTokens;
    }

    /** Slots row {@code r}'s table reaches: one past the last slot of its highest block. */
    public long slotsReached(int r) {
        int max = 0;
        for (int i = start[r]; i < start[r] + length[r]; i++) {
            max = Math.max(max, blocks[i]);
        }
        return (max + 1L) * blockTokens;
    }

    /** Positions row {@code r}'s table holds. */
    public int capacity(int r) {
        return length[r] * blockTokens;
    }
}
