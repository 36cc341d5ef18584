package io.tessera.engine;

import io.tessera.api.model.DraftOracle;
import io.tessera.api.model.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Speculative decoding (spec §4) for the scheduler's sequences: the draft heads' round after each main step, and
 * the verification of the drafts a main step checked. The scheduler puts each sequence's drafts into its step's
 * rows; this class decides what they are and which of them stand. Runs on the scheduler thread.
 */
final class SpeculativeDecoding {
    private final LoadedModel model;
    private final int maxRows;
    private final Step stepRows;       // the scheduler's step arrays: the draft round runs after its main step
    private final int[] wanted;        // with them, draft rows whose logits are wanted, by whom,
    private final Sequence[] wantedBy;
    private final int[] sampled;       // and their argmax
    private final float[] row;
    private final Sampling sampling = new Sampling();
    private final DraftPolicy policy;
    private final ConstraintMasks masks;
    // monitoring figures over every sequence: written by the scheduler thread, read by metrics()
    private final AtomicLongArray draftSteps;
    private final AtomicLongArray acceptedByHead;
    private final AtomicLongArray proposedByHead;

    /**
     * @param rows       the scheduler's row arrays ({@code count} unused), with its wanted rows, their sequences and
     *                   its sampled ids: all free once its main step has verified
     * @param masks      the scheduler's token constraints (structured outputs), applied to every draft row
     */
    SpeculativeDecoding(LoadedModel model, int maxRows, int vocab, Step rows, int[] wanted, Sequence[] wantedBy,
                        int[] sampled, ConstraintMasks masks) {
        this.model = model;
        this.masks = masks;
        this.maxRows = maxRows;
        this.stepRows = rows;
        this.wanted = wanted;
        this.wantedBy = wantedBy;
        this.sampled = sampled;
        row = new float[vocab];
        var config = model.config();
        int heads = config.mtpLayers().size();
        policy = new DraftPolicy(heads, maxRows, config.routedExperts(), config.expertsPerToken());
        draftSteps = new AtomicLongArray(heads + 1);
        acceptedByHead = new AtomicLongArray(heads);
        proposedByHead = new AtomicLongArray(heads);
    }

    /**
     * Accepts the longest prefix of {@code s}'s drafts that the main model agrees with, plus the main model's own
     * next token. Each verify row's token is the backend's draw ({@code drawn}): the argmax, or with sampling the
     * draw with the position's own uniform number ({@link Sampling#uniform}), the number the draft was drawn with,
     * so a draft stands exactly when the model draws it: every token is distributed as the model's and is the very
     * token plain sampling would emit, so a seed gives the same text whatever draft lengths the policy's timings
     * chose. (The spec's speculative sampling, accept with min(1, p/q) else draw from norm(max(p − q, 0)), accepts a
     * little more often but makes the text depend on them.) {@code s}'s verify rows are rows {@code first ..} of
     * the last forward. Rolls the rejected drafts' KV back and writes the tokens to emit (accepted drafts, then the
     * next token) into {@code out}; returns how many.
     */
    int verify(Sequence s, int first, int[] drawn, long nanos, int[] out) {
        s.verifyNanos += nanos;
        int base = s.length() - 1;          // position of the row that carries the last known token
        int accepted = 0;
        int next = -1;
        for (int j = 0; j <= s.draftCount && next < 0; j++) {
            int token = drawn[first + j];
            next = j < s.draftCount && token == s.drafts[j] ? -1 : token;
            if (next < 0) {
                s.accepted[j]++;
                acceptedByHead.incrementAndGet(accepted++);
            }
        }
        for (int j = 0; j < s.draftCount; j++) {
            s.proposed[j]++;
            proposedByHead.incrementAndGet(j);
        }
        policy.verified(s.acceptance, s.draftCount, accepted);
        s.keep(base + 1 + accepted);
        s.draftCount = 0;
        System.arraycopy(s.drafts, 0, out, 0, accepted);
        out[accepted] = next;
        return accepted + 1;
    }

    /** A main step of {@code rows} rows took {@code nanos}; {@code experts}: distinct per MoE layer, NaN unknown. */
    void stepMeasured(int rows, double experts, long nanos) {
        policy.stepMeasured(rows, experts, nanos);
    }

    /** A decode step of {@code s} verifies {@code drafts} drafts (0: a plain step, after which its history ages). */
    void counted(Sequence s, int drafts) {
        s.draftSteps[drafts]++;
        draftSteps.incrementAndGet(drafts);
        if (drafts == 0) {
            s.acceptance.age();
        }
    }

    /** Decode steps of every sequence so far by the drafts they verified (index k); any thread. */
    long[] draftSteps() {
        return copy(draftSteps);
    }

    /** Drafts of each head accepted so far, over every sequence; any thread. */
    long[] accepted() {
        return copy(acceptedByHead);
    }

    /** Drafts of each head proposed so far, over every sequence; any thread. */
    long[] proposed() {
        return copy(proposedByHead);
    }

    private static long[] copy(AtomicLongArray counts) {
        long[] copy = new long[counts.length()];
        for (int k = 0; k < copy.length; k++) {
            copy[k] = counts.get(k);
        }
        return copy;
    }

    /**
     * The draft heads' round (spec §4, non-chain): block k at position i takes hN_i and token x_{i+k+1} — a known
     * token, or the draft of an earlier block this round. The policy first sets how many drafts each generation
     * whose main model has caught up (one pending token) gets; block k then runs for the generations that want
     * draft k, over every position whose input was a draft or is new since its last round, and its prediction at
     * the last position is draft k. A block's KV at position i depends only on its own inputs there (one layer),
     * and a sliding-window block attends no further back than its window, so a block that sat out some rounds
     * catches up on the last window of positions only: skipping heads costs nothing later. Evaluations get every
     * position of their head.
     */
    void draftRound(Assembly net, List<Sequence> running) {
        long start = System.nanoTime();
        List<Sequence> drafting = new ArrayList<>();
        int blocks = 0;
        int otherRows = 0;
        int otherTokens = 0;
        for (Sequence s : running) {
            if (s.draftLimit > 0 && s.evaluation != null) {
                drafting.add(s);
                blocks = Math.max(blocks, s.evaluationHead + 1);
            } else if (s.draftLimit > 0 && s.pending() == 1) {
                s.draftAllowed = Math.max(0, Math.min(Math.min(s.draftLimit, net.draftBlocks()), budget(s)));
                for (int k = 0; k < s.draftAllowed; k++) {
                    s.catchUp[k] = s.cached - catchUpFrom(s, k);
                }
                drafting.add(s);
            } else {
                otherRows += Math.min(s.pending(), maxRows);
                otherTokens += s.pending() == 1 ? 1 : 0;
            }
        }
        List<Sequence> generating = drafting.stream().filter(s -> s.evaluation == null).toList();
        policy.choose(generating, otherRows, otherTokens);
        for (Sequence s : generating) {
            blocks = Math.max(blocks, s.draftTarget);
        }
        for (int k = 0; k < blocks; k++) {
            int n = 0;
            int m = 0;
            for (Sequence s : drafting) {
                boolean evaluating = s.evaluation != null;
                if (evaluating ? k != s.evaluationHead : k >= s.draftTarget || s.draftCount != k) {
                    continue;
                }
                int known = s.length();
                int last = s.cached - 1;                    // positions with hN_i
                // a generation's inputs may use the drafts this round has made so far
                int end = Math.min(last, known - 2 - k + s.draftCount);
                int from = catchUpFrom(s, k);
                int rows = Math.max(0, Math.min(end - from + 1, maxRows - n));
                for (int i = from; i < from + rows; i++) {
                    int index = i + k + 1;
                    stepRows.tokens()[n] = index < known ? s.token(index) : s.drafts[index - known];
                    stepRows.positions()[n] = i;
                    stepRows.slots()[n++] = s.slot;
                }
                // final only where the input token is known; with a short prompt that may be no position yet
                s.mtpDone[k] = Math.max(-1, Math.min(from + rows - 1, known - 2 - k));
                if (evaluating) {
                    for (int r = n - rows; r < n; r++) {
                        wanted[m] = r;
                        wantedBy[m++] = s;
                    }
                } else if (rows > 0 && from + rows - 1 == last) {
                    wanted[m] = n - 1;
                    wantedBy[m++] = s;
                }
            }
            if (n == 0) {
                continue;
            }
            boolean fullVocabulary = false;    // evaluations want the block's logits, constraints mask all ids
            for (int i = 0; i < m; i++) {
                fullVocabulary |= wantedBy[i].evaluation != null || wantedBy[i].constraint != null;
            }
            long headStart = System.nanoTime();
            net.draft(k, new Step(stepRows.tokens(), stepRows.positions(), stepRows.slots(), n), model.kv(),
                    Arrays.copyOf(wanted, m), fullVocabulary);
            masks.apply(net, m, wantedBy, true);
            net.argmax(m, model.vocab(), sampled);
            policy.headMeasured(k, n, System.nanoTime() - headStart);
            for (int i = 0; i < m; i++) {
                Sequence s = wantedBy[i];
                if (s.evaluation != null) {
                    net.readLogits(i, row);
                    s.evaluation.accept(stepRows.positions()[wanted[i]], row);
                } else {
                    s.drafts[k] = draft(net, s, k, i);
                    s.draftCount = k + 1;
                }
            }
        }
        long nanos = System.nanoTime() - start;
        for (Sequence s : drafting) {
            s.draftNanos += nanos;
        }
    }

    /** Drafts a generation may still make: one token of its budget is the bonus token. */
    private int budget(Sequence s) {
        return Math.min(s.request.maxTokens() - s.generated() - 1, model.contextLength() - s.length() - 1);
    }

    /**
     * The first position block k must (re)compute for {@code s}: the one after its last final position, or, for a
     * generation on a sliding-window block, no earlier than the window its next rows attend.
     */
    private int catchUpFrom(Sequence s, int k) {
        int from = s.mtpDone[k] + 1;
        int window = model.config().mtpLayers().get(k).window();
        return s.evaluation != null || window == 0 ? from : Math.max(from, s.cached - window);
    }

    /**
     * Draft k of {@code s} from block k's logits row {@code i}: the argmax, or the draw with the uniform number of
     * the draft's position (see {@link #verify}); with a draft oracle, the known token with its
     * probability, else another one.
     */
    private int draft(Assembly net, Sequence s, int k, int i) {
        SamplingParams p = s.request.sampling();
        DraftOracle oracle = s.request.draftOracle();
        int at = s.generated() + k;
        if (oracle != null && at < oracle.tokens().length) {
            int known = oracle.tokens()[at];
            return s.random.nextDouble() < oracle.accuracy() ? known : (known + 1) % model.vocab();
        }
        if (p.temperature() == 0) {
            return sampled[i];
        }
        net.readLogits(i, row);
        return sampling.sample(row, model.vocab(), p.temperature(), p.topK(), p.topP(),
                Sampling.uniform(p.seed(), s.length() + k));
    }
}
