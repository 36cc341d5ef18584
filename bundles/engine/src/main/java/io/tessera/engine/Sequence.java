package io.tessera.engine;

import io.tessera.api.model.GenerationListener;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.GenerationStats;
import io.tessera.api.model.Generator;
import io.tessera.api.model.RoutingRecord;
import io.tessera.api.model.OutputConstraint;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * One generation (or evaluation) as the scheduler tracks it: its tokens so far, how many of them are in the KV
 * cache, its KV slot and where its output goes.
 */
final class Sequence {
    final GenerationRequest request;
    final GenerationListener listener;
    final Generator.LogitsConsumer evaluation;   // non-null: score every prompt position, generate nothing
    int evaluationHead = -1;                     // which logits an evaluation wants: -1 main, k MTP block k
    final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    final Set<Integer> stop;
    final SplittableRandom random;   // a draft oracle's (bench only): sampling draws by position
    private int[] tokens;
    private int length;
    final int promptLength;
    int cached;          // tokens whose K/V are in the cache
    int slot = -1;       // sequence slot (its sliding-window rings) while running
    long admitted;       // admission order: the youngest running sequence is preempted first
    int registered;      // leading blocks indexed in the prefix cache (or taken from it)
    long chainHash;      // the prefix cache hash of block registered − 1
    int cachedTokens;    // prompt tokens the prefix cache gave
    boolean waiting;     // this step: waits for a twin's prefill to reach the cache
    int kvEpoch;         // the KV pool its cached tokens live in
    int hiddenEpoch;     // the draft heads' hN ring its drafts read
    volatile boolean cancelled;
    final long submitted = System.nanoTime();
    long prefilled;      // when the last prompt token was processed
    int steps;           // main-model steps after the prefill

    // speculation (spec §4): block k has final KV up to position mtpDone[k]; drafts[j] proposes token length()+j
    final int draftLimit;            // most drafts per step (MTP heads used)
    final boolean adaptive;          // the draft policy chooses each step's count; else always draftLimit
    final int[] mtpDone;
    final int[] drafts;
    int draftCount;
    int draftAllowed;                // this round: drafts the heads and the budget allow
    int draftTarget;                 // this round: drafts the policy chose
    final int[] catchUp;             // this round: rows block k would run for this sequence
    final Acceptance acceptance;
    final long[] draftSteps;         // decode steps that verified k drafts (index k)
    final long[] proposed;
    final long[] accepted;
    long draftNanos;
    long verifyNanos;

    // penalties: how often each id was generated so far (null without penalties)
    final int[] counts;
    final Constraint constraint;   // the request's grammar, or null
    final Map<Integer, Float> logitBias;

    // routing record (R3): experts[position][layer], filled for MoE layers of positions the main model ran
    private int[][][] routing = new int[0][][];
    private final int layers;

    Sequence(GenerationRequest request, OutputConstraint output, Set<Integer> stop, GenerationListener listener,
             Generator.LogitsConsumer evaluation, int draftLimit, boolean adaptive, int layers, int vocab) {
        this.request = request;
        this.listener = listener;
        this.evaluation = evaluation;
        this.stop = stop;
        this.random = new SplittableRandom(request.sampling().seed());
        this.promptLength = request.prompt().length;
        this.tokens = Arrays.copyOf(request.prompt(), promptLength + Math.max(16, request.maxTokens()));
        this.length = promptLength;
        this.draftLimit = draftLimit;
        this.adaptive = adaptive;
        this.catchUp = new int[draftLimit];
        this.acceptance = new Acceptance(draftLimit, DraftPolicy.SEQUENCE_DECAY);
        this.draftSteps = new long[draftLimit + 1];
        this.layers = layers;
        this.mtpDone = new int[draftLimit];
        Arrays.fill(mtpDone, -1);
        this.drafts = new int[draftLimit];
        this.proposed = new long[draftLimit];
        this.accepted = new long[draftLimit];
        this.counts = request.sampling().penalized() ? new int[vocab] : null;
        this.logitBias = output.logitBias();
        this.constraint = output.grammar() == null ? null : new Constraint(output.grammar(), stop);
    }

    /** Whether the next token is drawn on the host from logits read back (penalties, logit bias, log-probabilities). */
    boolean hostSampling() {
        return counts != null || request.logprobs() >= 0 || !logitBias.isEmpty();
    }

    /** Whether position {@code p} replays the request's routing record. */
    boolean replays(int p) {
        RoutingRecord record = request.replayRouting();
        return record != null && p >= record.startPosition() && p < record.startPosition() + record.experts().length;
    }

    /** The replayed experts of position {@code p} at {@code layer}. */
    int[] replayed(int p, int layer) {
        return request.replayRouting().experts()[p - request.replayRouting().startPosition()][layer];
    }

    /** Stores the experts position {@code p} chose at MoE {@code layer}. */
    void record(int p, int layer, int[] ids, int from, int k) {
        if (p >= routing.length) {
            routing = Arrays.copyOf(routing, Math.max(p + 1, routing.length * 2));
        }
        if (routing[p] == null) {
            routing[p] = new int[layers][];
        }
        routing[p][layer] = Arrays.copyOfRange(ids, from, from + k);
    }

    /** Whether an evaluation has delivered everything. */
    boolean evaluated() {
        return pending() == 0 && (evaluationHead < 0 || mtpDone[evaluationHead] == length - 2 - evaluationHead);
    }

    /** Forgets its KV state (freed or lost): the next steps recompute it from the tokens. */
    void forgetKv() {
        cached = 0;
        draftCount = 0;
        registered = 0;
        chainHash = 0;
        Arrays.fill(mtpDone, -1);
    }

    /** The token array: the first {@link #length()} entries are the tokens so far. */
    int[] tokens() {
        return tokens;
    }

    /** Rolls the cache back to {@code cached} tokens (rejected drafts' KV slots are simply reused later). */
    void keep(int cachedTokens) {
        cached = cachedTokens;
    }

    int length() {
        return length;
    }

    int token(int i) {
        return tokens[i];
    }

    /** Tokens not yet in the cache. */
    int pending() {
        return length - cached;
    }

    int generated() {
        return length - promptLength;
    }

    void append(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[length++] = token;
        if (counts != null && token < counts.length) {
            counts[token]++;
        }
    }

    /** Ends the sequence: completes its result (idempotent). */
    void finish(GenerationResult.Finish finish) {
        long now = System.nanoTime();
        long prefill = (prefilled == 0 ? now : prefilled) - submitted;
        GenerationStats stats = new GenerationStats(prefill, prefilled == 0 ? 0 : now - prefilled, steps,
                accepted.clone(), proposed.clone(), draftNanos, verifyNanos, draftSteps.clone(), cachedTokens);
        result.complete(new GenerationResult(Arrays.copyOfRange(tokens, promptLength, length), finish, promptLength,
                stats, request.recordRouting() ? routingRecord() : null));
    }

    /** Ends the sequence with an error the caller sees ({@code result} completes exceptionally; idempotent). */
    void fail(Throwable failure) {
        result.completeExceptionally(failure);
    }

    /** The experts of every position whose token the main model ran and kept; dense layers are empty. */
    private RoutingRecord routingRecord() {
        int[][][] experts = new int[Math.min(cached, routing.length)][][];
        for (int p = 0; p < experts.length; p++) {
            experts[p] = new int[layers][];
            for (int l = 0; l < layers; l++) {
                experts[p][l] = routing[p] == null || routing[p][l] == null ? new int[0] : routing[p][l];
            }
        }
        return new RoutingRecord(0, experts);
    }
}
