package io.tessera.api.kernel;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A kernel backend: it owns device memory and runs the ops of the forward passes (every model family) on it.
 *
 * <h2>Selection</h2>
 * Registered as an OSGi service with the property {@value #BACKEND} (e.g. {@code backend=cpu},
 * {@code backend=cuda}) and a {@code service.ranking}; the engine takes the highest-ranked one unless told
 * otherwise. A backend registers only once it works (device, libraries, self-test); a backend that cannot work
 * stays unregistered and reports why elsewhere.
 *
 * <h2>Memory</h2>
 * Components never touch a backend's memory directly: they ask for {@link Buffer}s (activations, ids, scratch),
 * {@link Weight}s (checkpoint tensors, uploaded once) and {@link KvCache}s (the engine's KV pool), and pass these
 * handles to ops. Handles belong to the backend that made them and are freed by {@code close()}; passing a
 * handle of another backend is an {@link IllegalArgumentException}; using a closed handle is an
 * {@link IllegalStateException}. A backend may read a weight in place from the memory-mapped checkpoint (the
 * caller keeps the checkpoint retained while the weight lives) or copy it to the device; tensor memory must be
 * readable from any thread (a mapped file or a shared/auto arena, not a confined one), as a backend reads it on
 * its worker threads. {@link WeightData#of} is the validation every backend applies to a tensor.
 *
 * <h2>Ragged batches and asynchrony</h2>
 * Every op works on rows: a batch of {@code R} rows, each row one token of some sequence, with its own position
 * and KV slots ({@link Rows}). Prefill chunks, decode steps and speculative verification are the same calls with
 * different rows. Ops are enqueued in call order and may run asynchronously; {@link #read} and
 * {@link #synchronize} wait for everything enqueued before them. A buffer written by one op and read by a
 * later one needs no synchronization in between.
 *
 * <h2>Shapes</h2>
 * Activation buffers are row-major {@code [R, n]}: {@code Buffer.rows()} rows of {@code Buffer.cols()}. An op
 * works on the first {@code rows.count()} rows (or the first {@code n} rows where an op says so) of buffers
 * allocated for a maximum, so buffers are allocated once and reused for every step.
 *
 * <h2>Precision</h2>
 * Every op accumulates in F32. Weights are converted exactly (BF16 and FP8 E4M3 are exactly representable in
 * F32; FP8 blocks are multiplied by their F32 scale); a backend may round activations to a narrower type only if
 * its {@link BackendInfo#contract()} says so. NaN and Inf propagate as in IEEE arithmetic (an op never hides a
 * NaN: {@link #argmax} of a row containing NaN returns the index of the first NaN). A sum of {@code n} terms may
 * differ from the exact sum by at most {@code n · 2⁻²⁴ · Σ|terms|} (recursive F32 summation's bound), in any
 * summation order; the conformance kit ({@code kernels-tck}) holds every backend to these bounds against the
 * reference backend, which sums in double. For equal inputs a backend returns bit-equal results, whatever its
 * JIT or warm-up state (so sums are taken in a fixed order: the Vector API's {@code reduceLanes(ADD)} is not).
 *
 * <h2>Index buffers</h2>
 * I32 buffers of ids ({@link #embed}, {@link #gatherRows}, {@link #matmulRows}, {@link #argmax}, {@link #sample}) are
 * {@code [≥n, ≥1]}; only their first column is read or written. An id outside its range is an
 * {@link IllegalArgumentException} naming the op and the row.
 *
 * <h2>Batch invariance</h2>
 * Each row's result depends only on that row's inputs (and, for attention, its sequence's KV), never on the
 * number of rows or on the other rows of the batch: a token verified in a batch of four gets bit-for-bit the
 * logits it would get alone. Speculative decoding and continuous batching rely on this to give exactly the
 * tokens of a one-row-at-a-time run.
 *
 * <h2>Threads</h2>
 * A backend may be used by several threads at once, as long as no two of them issue ops that write the same
 * buffer concurrently. Ops issued by one thread run in the order issued; a backend may serialize ops of
 * different threads (the CPU backend does: its thread pool serves one op at a time).
 */
@ProviderType
public interface KernelBackend {

    /** The service property naming the backend: {@code backend=cpu}, {@code backend=cuda}, ... */
    String BACKEND = "backend";

    /** The backend's name, equal to its {@value #BACKEND} service property. */
    String name();

    /** Device, threads, memory in use, and the precision contract. */
    BackendInfo info();

    // ---- memory -------------------------------------------------------------------------------------------

    /**
     * Allocates a zero-filled {@code [rows, cols]} buffer of {@link DType#F32} or {@link DType#I32}.
     *
     * @throws IllegalArgumentException for another dtype or a non-positive size
     * @throws OutOfMemoryError         when the device has no room (the message says how much was asked)
     */
    Buffer allocate(DType dtype, int rows, int cols);

    /**
     * Makes a weight of a checkpoint tensor: 1-D (norm weights, biases, sinks; one row) or 2-D {@code [out, in]},
     * of dtype F32, BF16, F16 or F8_E4M3 (with F32 block scales {@code [ceil(out/128), ceil(in/128)]}). The
     * tensor's memory must stay mapped, and readable from any thread, while the weight lives. A backend that can
     * read a dtype in place copies nothing.
     *
     * @throws IllegalArgumentException naming the tensor, for an unsupported dtype or rank, a byte size that does
     *                                  not match the shape, or missing or mis-shaped FP8 scales ({@link WeightData#of})
     */
    Weight weight(Tensor tensor);

    /**
     * Allocates KV storage for one layer: {@code slots} positions of {@code kvHeads × keyDim} keys and
     * {@code kvHeads × valueDim} values, zero-filled. The layout is the backend's.
     */
    KvCache allocateKv(int slots, int kvHeads, int keyDim, int valueDim);

    /**
     * Makes the row descriptor of one step (see {@link Rows}). The backend may read the arrays until the
     * descriptor is closed: the caller must not change them before.
     */
    Rows rows(int[] positions, int[] kvBase, int[] kvCapacity);

    /**
     * The row descriptor of one step for a paged layer: row {@code r} at {@code positions[r]} keeps and reads its
     * sequence's KV through {@code table} (see {@link BlockTable}) instead of a contiguous range. {@link #attention}
     * takes it like the contiguous form and gives bit-for-bit the same result for the same keys and values.
     *
     * @throws IllegalArgumentException when {@code table} has another row count than {@code positions}, or a
     *                                  negative position
     */
    Rows pagedRows(int[] positions, BlockTable table);

    /** Copies {@code len} floats from the host into {@code dst}, starting at flat element {@code offset}. */
    void write(Buffer dst, long offset, float[] src, int from, int len);

    /** Copies {@code len} ints from the host into an I32 {@code dst}, starting at flat element {@code offset}. */
    void write(Buffer dst, long offset, int[] src, int from, int len);

    /** Waits for pending ops, then copies {@code len} floats from flat element {@code offset} of {@code src}. */
    void read(Buffer src, long offset, float[] dst, int from, int len);

    /** Waits for pending ops, then copies {@code len} ints from flat element {@code offset} of I32 {@code src}. */
    void read(Buffer src, long offset, int[] dst, int from, int len);

    /**
     * Copies the keys and values of KV slots {@code [slot, slot + count)} to the host in a backend-neutral form:
     * {@code keys[count][kvHeads*keyDim]}, {@code values[count][kvHeads*valueDim]} flattened, F32 (hot swap).
     */
    void readKv(KvCache cache, int slot, int count, float[] keys, float[] values);

    /** The inverse of {@link #readKv}. */
    void writeKv(KvCache cache, int slot, int count, float[] keys, float[] values);

    /** Waits until every op issued so far by the calling thread has finished. */
    void synchronize();

    // ---- ops ----------------------------------------------------------------------------------------------

    /** {@code out[r] = table[ids[r]]} for the first {@code n} rows; ids is I32 {@code [≥n, 1]}. */
    void embed(Weight table, Buffer ids, int n, Buffer out);

    /**
     * RMSNorm of the first {@code n} rows: {@code out[r] = w ⊙ x[r] / sqrt(mean(x[r]²) + eps)}. {@code out} may
     * be {@code x}.
     */
    void rmsNorm(Buffer x, Weight w, float eps, int n, Buffer out);

    /**
     * RMSNorm over per-head views of the first {@code n} rows of {@code x [R, heads × d]}, {@code d = w.cols()}:
     * each head's {@code d} values are normalised on their own, {@code out[r][h] = w ⊙ x[r][h] /
     * sqrt(mean(x[r][h]²) + eps)} (Qwen3's {@code q_norm} and {@code k_norm}). {@code out} may be {@code x}.
     */
    void rmsNormHeads(Buffer x, Weight w, float eps, int n, int heads, Buffer out);

    /**
     * {@code y[r][o] = Σ_i x[r][i] · W[o][i]} for the first {@code n} rows (y = x·Wᵀ), W dequantized on the fly
     * (never materialized). {@code y} must not be {@code x}. {@code n = 1} is a GEMV and must run at the memory
     * bandwidth limit; larger {@code n} reads W once for all rows.
     */
    void matmul(Buffer x, Weight w, int n, Buffer y);

    /**
     * A matmul over a subset of W's rows: {@code y[r][j] = Σ_i x[r][i] · W[ids[j]][i]} for the first {@code n}
     * rows and every column {@code j < y.cols()} (ids is I32 {@code [≥ y.cols(), ≥1]}), with {@link #matmul}'s
     * precision. It is the sub-vocabulary lm_head of a draft head: the logits of a shortlist of ids, whose
     * {@link #argmax} is an index into ids ({@link #gatherRows} of the I32 ids maps it back on the device). It
     * reads only the listed rows of W, so its cost is that of a matmul of {@code y.cols()} rows. An id outside W's
     * rows is an {@link IllegalArgumentException}; {@code y} must not be {@code x}.
     *
     * @since 0.2.0
     */
    void matmulRows(Buffer x, Weight w, Buffer ids, int n, Buffer y);

    /** {@code acc[r] += x[r]} for the first {@code n} rows. */
    void add(Buffer acc, Buffer x, int n);

    /** {@code out[r] = silu(gate[r]) ⊙ up[r]} with {@code silu(z) = z·σ(z)}; out may alias gate or up. */
    void siluMul(Buffer gate, Buffer up, int n, Buffer out);

    /**
     * Writes {@code [a[r], b[r]]} (a's columns then b's) into {@code out[r]} for the first {@code n} rows
     * (MTP: {@code concat(enorm(embedding), hnorm(hidden))}).
     */
    void concat(Buffer a, Buffer b, int n, Buffer out);

    /** {@code dst[i] = src[index[i]]} for {@code i < n}; index is I32 (e.g. keep the last row of each sequence). */
    void gatherRows(Buffer src, Buffer index, int n, Buffer dst);

    /**
     * {@code dst[index[i]] = src[i]} for {@code i < n}; index is I32 and holds no duplicates (e.g. keep each
     * sequence's recent hidden states in a ring for the draft heads).
     */
    void scatterRows(Buffer src, Buffer index, int n, Buffer dst);

    /**
     * NeoX (rotate-half) RoPE in place on {@code x} of shape {@code [R, heads × headDim]}, from a table of
     * inverse frequencies: within each head, the pairs {@code (d, d + rotaryDim/2)} for
     * {@code d < rotaryDim/2 = inverseFrequencies.length} rotate by {@code pos · inverseFrequencies[d]}; dims from
     * {@code rotaryDim} on pass through. Positions come from {@code rows}. The angle is formed in double (in F32,
     * {@code pos · freq} loses whole radians at long positions), its cosine and sine rounded to F32. Any scaling
     * rule (linear, llama3, ...) is a table (see {@link io.tessera.api.checkpoint.RopeScaling}), not an op.
     * The backend may read the array until the op has run: the caller must not change it (allocate it once).
     *
     * @throws IllegalArgumentException when {@code 2 · inverseFrequencies.length} is 0 or exceeds {@code headDim}
     */
    void rope(Rows rows, Buffer x, int heads, int headDim, double[] inverseFrequencies);

    /**
     * {@link #rope(Rows, Buffer, int, int, double[])} with the plain table {@code theta^(−2d/rotaryDim)}.
     *
     * @deprecated since 0.2: pass the table, computed once per layer
     */
    @Deprecated
    default void rope(Rows rows, Buffer x, int heads, int headDim, int rotaryDim, double theta) {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > headDim) {
            throw new IllegalArgumentException("rope: rotaryDim " + rotaryDim + " must be even and in (0, "
                    + headDim + "]");
        }
        rope(rows, x, heads, headDim,
                io.tessera.api.checkpoint.RopeScaling.NONE.inverseFrequencies(theta, rotaryDim));
    }

    /**
     * Attention of one layer for every row. First stores each row's key and {@code valueScale ×} value at slot
     * {@code kvBase + position mod kvCapacity} of {@code cache}; then each row attends the keys of its sequence
     * at positions {@code [max(0, position − window + 1), position]} ({@code window = 0}: from 0):
     * {@code a_j = q·k_j · scale}, softmax over those keys plus, when {@code sinks} is given, one extra column of
     * value {@code sinks[h]} (unscaled) that is dropped after normalisation; output the weighted sum of values.
     * Query head {@code h} reads kv head {@code h / (heads / kvHeads)}. A row whose slots
     * {@code [kvBase, kvBase + kvCapacity)} leave the cache, or which attends more keys than its
     * {@code kvCapacity} holds, is an {@link IllegalArgumentException} (for a ring, the rows of a sequence in one
     * step need {@code window − 1 + rows} slots: every key of the step is stored before any row attends). With
     * {@link #pagedRows} the slot of position {@code p} is {@link BlockTable#slot}; a table block outside the cache
     * or a position past the table is an {@link IllegalArgumentException}.
     *
     * @param q     {@code [R, heads × keyDim]}, RoPE applied
     * @param k     {@code [R, kvHeads × keyDim]}, RoPE applied
     * @param v     {@code [R, kvHeads × valueDim]}, not yet scaled
     * @param sinks per-head sink logits, {@code heads} values, or null
     * @param out   {@code [R, heads × valueDim]}
     */
    void attention(Rows rows, Buffer q, Buffer k, Buffer v, KvCache cache, AttentionParams params, Weight sinks,
                   Buffer out);

    /**
     * MoE routing in F32 for the first {@code n} rows of router logits {@code [R, experts]}: scores
     * {@code s = σ(logits)} ({@link ScoreFunction#SIGMOID}) or {@code s = softmax(logits)} over all experts
     * ({@link ScoreFunction#SOFTMAX}, max-subtracted); selection by the top-{@code k} of {@code s + bias} (bias
     * may be null; ties go to the lower index; a NaN score ranks above every number, so a NaN is never hidden);
     * {@code weights = s_sel / (Σ s_sel + 1e-20)} when {@code normalize}, else {@code s_sel}; then
     * {@code × scaling}. Writes I32 {@code ids [R, k]} (in descending order of the selection score) and F32
     * {@code weights [R, k]}. With {@code replay}, {@code ids} is read, not written, and only the weights are
     * computed (routing replay); a replayed id outside {@code [0, experts)} is an
     * {@link IllegalArgumentException}.
     */
    void route(Buffer logits, Weight bias, int n, int k, ScoreFunction score, boolean normalize, float scaling,
               boolean replay, Buffer ids, Buffer weights);

    /**
     * {@link #route(Buffer, Weight, int, int, ScoreFunction, boolean, float, boolean, Buffer, Buffer)} with
     * sigmoid scores.
     *
     * @deprecated since 0.2: name the score function
     */
    @Deprecated
    default void route(Buffer logits, Weight bias, int n, int k, boolean normalize, float scaling, boolean replay,
                       Buffer ids, Buffer weights) {
        route(logits, bias, n, k, ScoreFunction.SIGMOID, normalize, scaling, replay, ids, weights);
    }

    /**
     * Routed experts for the first {@code n} rows: {@code out[r] = Σ_j weights[r][j] ·
     * down_e(silu(gate_e · x[r]) ⊙ up_e · x[r])} with {@code e = ids[r][j]}. Rows are grouped by expert so each
     * expert's weights are read once per call. {@code out} is overwritten; an id outside the experts is an
     * {@link IllegalArgumentException}.
     */
    void experts(Buffer x, ExpertWeights experts, Buffer ids, Buffer weights, int n, Buffer out);

    /** {@code ids[r] = argmax(logits[r])} for the first {@code n} rows (first index on ties, first NaN wins). */
    void argmax(Buffer logits, int n, Buffer ids);

    /**
     * Samples one id per row from {@code p = softmax(logits[r] / temperature[r])}, using the caller's uniform
     * number {@code u[r]} in [0, 1) (the host owns the random stream, so every backend draws the same token):
     * order the ids by descending {@code p} (ties: lower id first); keep the first {@code topK[r]} ({@code 0}:
     * all); of those keep the shortest prefix (at least one id) whose mass reaches {@code topP[r]} × the kept
     * mass; return the first id of that prefix whose cumulative mass exceeds {@code u[r]} × the prefix mass.
     * {@code temperature[r] = 0}, or a row containing NaN, gives {@link #argmax}'s id. Only ids below
     * {@code vocab} take part (the rows of a padded embedding past the tokenizer's size never win).
     */
    void sample(Buffer logits, int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] u,
                Buffer ids);

    /**
     * Constrained decoding: for the first {@code n} rows, sets {@code logits[r][c] = −∞} for every column
     * {@code c} whose bit {@code c % 32} of {@code allowed[r][c / 32]} is clear (bits of columns past the logits'
     * width are ignored). {@code allowed} is I32 {@code [≥n, ≥ceil(cols / 32)]}. Exact: kept logits are not
     * changed, so a later {@link #argmax} or {@link #sample} picks among the allowed ids.
     */
    void maskLogits(Buffer logits, Buffer allowed, int n);
}
