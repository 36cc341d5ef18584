package io.tessera.engine;

import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model's KV fits its budget: layers whose keys a row may read from the whole context (global attention, or
 * a window the context does not exceed) are paged, in blocks of {@code blockTokens} positions shared by all paged
 * layers; the other (sliding-window) layers keep a ring of {@code window − 1 + maxRows} slots per running
 * sequence. The rings are taken from the budget first, the blocks get the rest; the context is the model's own
 * (or the configured one), capped by the blocks.
 *
 * @param paged         per layer (main layers, then MTP blocks): whether it is paged
 * @param ringSlots     per layer: a ring layer's slots per sequence (0 for a paged layer)
 * @param window        per layer: a ring layer's window (0 for a paged layer)
 * @param mainLayers    main-model layers (the MTP blocks follow)
 * @param blocks        blocks in the pool
 * @param blockTokens   positions per block
 * @param contextLength positions one sequence may reach
 * @param bytes         F32 KV bytes of the whole pool
 * @param blockBytes    bytes of one block (all paged layers)
 */
record KvLayout(boolean[] paged, int[] ringSlots, int[] window, int mainLayers, int blocks, int blockTokens,
                int contextLength, long bytes, long blockBytes) {

    static KvLayout of(ModelConfig config, EngineConfig settings) {
        List<LayerSpec> layers = new ArrayList<>(config.layers());
        layers.addAll(config.mtpLayers());
        int wanted = settings.contextLength() == 0 ? config.maxPositionEmbeddings()
                : Math.min(settings.contextLength(), config.maxPositionEmbeddings());
        int n = layers.size();
        boolean[] paged = new boolean[n];
        int[] ringSlots = new int[n];
        int[] window = new int[n];
        long ringBytes = 0;
        long blockBytes = 0;
        int blockTokens = settings.kvBlockTokens();
        for (int l = 0; l < n; l++) {
            LayerSpec spec = layers.get(l);
            long perSlot = 4L * spec.kvHeads() * (spec.headDim() + spec.valueHeadDim());
            paged[l] = spec.window() == 0 || spec.window() - 1 + settings.maxRows() >= wanted;
            if (paged[l]) {
                blockBytes += perSlot * blockTokens;
            } else {
                window[l] = spec.window();
                ringSlots[l] = spec.window() - 1 + settings.maxRows();
                ringBytes += perSlot * ringSlots[l] * settings.sequences();
            }
        }
        long budget = (long) settings.kvBudgetMiB() << 20;
        long blocks = blockBytes == 0 ? 0 : (budget - ringBytes) / blockBytes;
        int need = Math.ceilDiv(settings.maxRows(), blockTokens) + 1;
        if (blockBytes > 0 && blocks < need) {
            throw new IllegalArgumentException(String.format("io.tessera.engine: kvBudgetMiB=%d is too small for "
                    + "model %s: the sliding-window rings of %d sequences take %.1f MiB and one block of %d positions"
                    + " %.1f KiB; at least %d blocks are needed", settings.kvBudgetMiB(), config.architecture(),
                    settings.sequences(), ringBytes / 1048576.0, blockTokens, blockBytes / 1024.0, need));
        }
        int count = (int) Math.min(blocks, Integer.MAX_VALUE / Math.max(1, blockTokens));
        int context = blockBytes == 0 ? wanted : (int) Math.min(wanted, (long) count * blockTokens);
        return new KvLayout(paged, ringSlots, window, config.layers().size(), count, blockTokens, context,
                ringBytes + count * blockBytes, blockBytes);
    }

    int layers() {
        return paged.length;
    }

    /**
     * Whether a sequence can resume at a cached block end: not when a draft head's attention is paged, since a
     * draft head recomputes its whole context (from hN rows a resumed sequence lacks) instead of its window.
     */
    boolean resumable() {
        for (int l = mainLayers; l < paged.length; l++) {
            if (paged[l]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Positions a resumed sequence recomputes before a cached block end: the widest ring's window. The rings'
     * KV before that point comes from a snapshot; the recomputed rows give the draft heads their hN rows.
     */
    int resumeWindow() {
        int w = 0;
        for (int x : window) {
            w = Math.max(w, x);
        }
        return w;
    }
}
