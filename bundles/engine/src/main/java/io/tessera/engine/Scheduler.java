package io.tessera.engine;

import io.tessera.api.model.GenerationResult.Finish;
import io.tessera.api.model.ModelMetrics;
import io.tessera.api.model.SamplingParams;
import io.tessera.api.model.TokenLogprob;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a model's steps on one thread. Each step is one ragged batch: a decode row for every running sequence,
 * then prefill chunks of waiting prompts in the rows left (continuous batching with chunked prefill). A sequence
 * gets a slot (its sliding-window rings) when admitted and KV blocks as its positions need them, and gives both
 * back when it ends. A new sequence first takes the longest cached prefix of its tokens ({@link KvBlocks}); when
 * the blocks run out mid-generation, the youngest running sequence is preempted: its blocks are freed and it is
 * re-queued, to recompute its state from its tokens (rows are batch-invariant, so it produces the same tokens).
 */
final class Scheduler implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private final LoadedModel model;
    private final BlockingQueue<Sequence> queue;
    private final List<Sequence> running = new ArrayList<>();
    private final ArrayDeque<Sequence> preempted = new ArrayDeque<>();   // re-admitted before the queue, oldest first
    private final KvBlocks blocks;
    private final KvLayout layout;
    private final boolean prefixCache;
    private final Map<Integer, KvBlocks.Snapshot>[] pendingSnapshots;     // per slot: by block end, until indexed
    private long admissions;
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private final int slotCount;
    private final Thread thread;
    private volatile boolean stopped;

    // step arrays, sized once
    private final int maxRows;
    private final int[] tokens;
    private final int[] positions;
    private final int[] slots;
    private final int[] wanted;
    private final Sequence[] wantedBy;
    private final float[] temperature;
    private final int[] topK;
    private final float[] topP;
    private final float[] uniform;
    private final int[] sampled;
    private final float[] row;
    private final Sampling sampling = new Sampling();
    private final ConstraintMasks masks;
    private final SpeculativeDecoding speculation;
    private final int[] verified;         // tokens one verification accepted, then the next token
    private final Sequence[] rowSequence;
    private final StepRouting routing;
    private long stepCount;
    private final int[] extent;           // per KV slot: positions [0, extent) written since its sequence started
    private volatile long waitNanos;      // how long requests wait for a missing component
    private long waitingSince;            // when the running requests started waiting, 0 while assembled

    // monitoring figures: written by the scheduler thread only, read by metrics()
    private final Throughput throughput = new Throughput();
    private volatile int runningCount;
    private volatile long kvTokens;
    private volatile long promptTokens;
    private volatile long generatedTokens;
    private volatile long decodeSteps;
    private volatile long decodeTokens;
    private volatile long steps;
    private volatile long cachedTokens;
    private volatile long prefixLookups;
    private volatile long prefixHits;
    private volatile long preemptions;

    @SuppressWarnings("unchecked")
    Scheduler(LoadedModel model, KvLayout layout, int sequences, int maxRows, int queueLimit, long waitSeconds,
              int vocab, boolean prefixCache) {
        this.model = model;
        this.layout = layout;
        // snapshots live on the host, at most as many bytes as the device budget gives the blocks
        this.blocks = new KvBlocks(layout.blocks(), layout.blockTokens(), sequences,
                (long) layout.blocks() * layout.blockBytes());
        this.prefixCache = prefixCache && layout.resumable();
        this.pendingSnapshots = new Map[sequences];
        for (int s = 0; s < sequences; s++) {
            pendingSnapshots[s] = new HashMap<>();
        }
        this.maxRows = maxRows;
        this.queue = new LinkedBlockingQueue<>(queueLimit);
        for (int s = 0; s < sequences; s++) {
            freeSlots.add(s);
        }
        slotCount = sequences;
        tokens = new int[maxRows];
        positions = new int[maxRows];
        slots = new int[maxRows];
        wanted = new int[maxRows];
        wantedBy = new Sequence[maxRows];
        temperature = new float[maxRows];
        topK = new int[maxRows];
        topP = new float[maxRows];
        uniform = new float[maxRows];
        sampled = new int[maxRows];
        row = new float[vocab];
        rowSequence = new Sequence[maxRows];
        masks = new ConstraintMasks(maxRows, vocab);
        speculation = new SpeculativeDecoding(model, maxRows, vocab, new Step(tokens, positions, slots, 0), wanted,
                wantedBy, sampled, masks);
        verified = new int[maxRows + 1];
        routing = new StepRouting(model.config().expertsPerToken(), model.config().numHiddenLayers(),
                model.config().routedExperts());
        extent = new int[sequences];
        waitLimit(waitSeconds);
        thread = new Thread(this, "tessera-engine-" + model.name());
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Queues a sequence; false when the queue is full. */
    boolean offer(Sequence sequence) {
        return queue.offer(sequence);
    }

    int queued() {
        return queue.size() + preempted.size();
    }

    /** The model's blocks and prefix cache. */
    KvBlocks blocks() {
        return blocks;
    }

    /**
     * Empties the prefix cache (its KV is gone or came from another backend); blocks in use stay with their
     * sequences. Under the model's lock.
     */
    void clearPrefixCache() {
        blocks.clear();
        for (Map<Integer, KvBlocks.Snapshot> pending : pendingSnapshots) {
            pending.clear();
        }
    }

    /** How long requests wait for a missing component before they fail. */
    void waitLimit(long seconds) {
        waitNanos = TimeUnit.SECONDS.toNanos(seconds);
    }

    /**
     * Per KV slot, the positions written since its sequence started: what a hot swap copies. Read under the
     * model's lock, which every step holds.
     */
    int[] extents() {
        return extent;
    }

    /** Stops the thread; every queued or running sequence ends with {@code ERROR}. */
    void stop() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        try {
            while (!stopped) {
                admit();
                if (running.isEmpty()) {
                    Sequence next = queue.poll(200, TimeUnit.MILLISECONDS);
                    if (next != null) {
                        start(next);
                    }
                    continue;
                }
                if (!model.awaitReady(200)) {
                    failIfWaitedTooLong();   // a component is missing: requests wait, bounded, until it returns
                    continue;
                }
                waitingSince = 0;
                try {
                    step();
                } catch (Throwable e) {   // an Error too: this thread must outlive any step
                    failStep(e);
                } finally {
                    model.release();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (Sequence s : List.copyOf(running)) {
                end(s, Finish.ERROR);
            }
            for (Sequence s; (s = preempted.poll()) != null || (s = queue.poll()) != null; ) {
                s.finish(Finish.ERROR);
            }
        }
    }

    /**
     * A step threw: only its sequences fail, with the reason. An {@link Error} from the JVM (out of memory, an
     * {@link InternalError} from a truncated mapping) leaves the assembly in an unknown state: the model is marked
     * failed and every queued request fails too; the thread keeps running, so an unload still stops it cleanly.
     */
    private void failStep(Throwable e) {
        String reason = "step failed on model '" + model.name() + "': " + e;
        LOG.error(reason, e);
        IllegalStateException failure = new IllegalStateException(reason, e);
        for (Sequence s : List.copyOf(running)) {
            end(s, failure);
        }
        if (e instanceof VirtualMachineError) {
            model.fail(e.toString());
            for (Sequence s; (s = preempted.poll()) != null || (s = queue.poll()) != null; ) {
                s.fail(failure);
            }
        }
    }

    /** A cancelled request still in the queue leaves it now; a running one ends at the next step. */
    void cancel(Sequence s) {
        s.cancelled = true;
        if (queue.remove(s)) {
            s.finish(Finish.CANCELLED);
        }
    }

    private void failIfWaitedTooLong() {
        long now = System.nanoTime();
        if (waitingSince == 0) {
            waitingSince = now;
        } else if (now - waitingSince > waitNanos) {
            String reason = "model '" + model.name() + "': requests failed after waiting "
                    + TimeUnit.NANOSECONDS.toSeconds(now - waitingSince) + " s for "
                    + String.join(", ", model.waitingFor());
            LOG.error(reason);
            IllegalStateException failure = new IllegalStateException(reason);
            for (Sequence s : List.copyOf(running)) {
                end(s, failure);
            }
            for (Sequence s; (s = preempted.poll()) != null || (s = queue.poll()) != null; ) {
                s.fail(failure);
            }
            waitingSince = 0;
        }
    }

    /**
     * Starts waiting sequences while there are free slots and, beside the running ones, blocks for a first
     * chunk; preempted sequences go first.
     */
    private void admit() {
        while (!freeSlots.isEmpty()) {
            Sequence next = preempted.isEmpty() ? queue.peek() : preempted.peek();
            if (next == null || !running.isEmpty()
                    && blocks.available() < Math.ceilDiv(Math.min(next.length(), maxRows), layout.blockTokens()) + 1) {
                return;
            }
            if (next == preempted.peek()) {
                start(preempted.poll());
            } else if (queue.remove(next)) {   // else cancelled meanwhile
                start(next);
            }
        }
    }

    private void start(Sequence s) {
        if (s.cancelled) {
            s.finish(Finish.CANCELLED);
            return;
        }
        if (freeSlots.isEmpty()) {
            queue.add(s);   // cannot fail: we just took it out
            return;
        }
        s.slot = freeSlots.poll();
        s.cached = 0;
        s.admitted = admissions++;
        extent[s.slot] = 0;
        running.add(s);
        runningCount = running.size();
        if (s.evaluation == null && s.generated() == 0) {
            promptTokens += s.promptLength;
        }
    }

    private void end(Sequence s, Finish finish) {
        if (finish != Finish.ERROR && s.slot >= 0 && cacheable(s)) {
            index(s, s.cached);   // its last full blocks stay cached
        }
        free(s);
        s.finish(finish);
    }

    private void end(Sequence s, Throwable failure) {
        free(s);
        s.fail(failure);
    }

    private void free(Sequence s) {
        if (running.remove(s)) {
            blocks.release(s.slot);
            pendingSnapshots[s.slot].clear();
            freeSlots.add(s.slot);
        }
        runningCount = running.size();
        s.slot = -1;
    }

    /**
     * Frees a running sequence's KV and queues it again, first: it recomputes its state from its tokens (the
     * prefix cache may give some of it back).
     */
    private void preempt(Sequence s) {
        if (cacheable(s)) {
            index(s, s.cached);   // what it computed may come back from the cache when it resumes
        }
        free(s);
        s.forgetKv();
        preempted.addFirst(s);
        preemptions++;
        LOG.debug("model {}: preempted a sequence at {} tokens, KV blocks ran out", model.name(), s.length());
    }

    /**
     * Gives each running sequence, oldest first, the blocks its rows of this step may need; where the blocks run
     * out, the youngest running sequence holding blocks is preempted (possibly the one asking).
     */
    private void reserve() {
        List<Sequence> byAge = new ArrayList<>(running);
        byAge.sort((a, b) -> Long.compare(a.admitted, b.admitted));
        for (int i = 0; i < byAge.size(); i++) {
            Sequence s = byAge.get(i);
            if (s.waiting) {
                continue;
            }
            int need = Math.min(model.contextLength(),
                    s.cached + Math.min(s.pending(), maxRows) + (s.pending() == 1 ? s.draftCount : 0));
            while (!blocks.ensure(s.slot, need)) {
                // the youngest that holds blocks, else this one
                int victim = byAge.size() - 1;
                while (victim > i && blocks.tableLength(byAge.get(victim).slot) == 0) {
                    victim--;
                }
                preempt(byAge.remove(victim));
                if (victim == i) {
                    i--;
                    break;
                }
            }
        }
    }

    /** Whether {@code s} may read and fill the prefix cache: a generation whose KV depends on its tokens only. */
    private boolean cacheable(Sequence s) {
        return prefixCache && s.evaluation == null && !s.request.recordRouting() && s.request.replayRouting() == null;
    }

    /**
     * Whether a sequence admitted before {@code s} with the same prompt and cache key is still prefilling it
     * ({@code n > 1}, or the same prompt sent twice at once): {@code s} then waits and takes its blocks from the
     * cache, so the prompt is prefilled once.
     */
    private boolean twinPrefilling(Sequence s) {
        for (Sequence t : running) {
            if (t != s && t.admitted < s.admitted && t.generated() == 0 && t.pending() > 1 && cacheable(t)
                    && t.promptLength == s.promptLength && cacheKey(t).equals(cacheKey(s))
                    && Arrays.equals(t.tokens(), 0, t.promptLength, s.tokens(), 0, s.promptLength)) {
                return true;
            }
        }
        return false;
    }

    /** The cache key of {@code s}'s blocks besides its tokens: the request's salt. */
    private static String cacheKey(Sequence s) {
        return s.request.cacheSalt() == null ? "" : "salt:" + s.request.cacheSalt();
    }

    /**
     * A new sequence takes the longest cached prefix of its tokens that ends at a resume point: a chain of indexed
     * blocks to a block end {@code E} with a ring snapshot at {@code E − window} (any block end without rings).
     * It recomputes from {@code E − window}; one token at least is left to compute.
     */
    private void resume(Sequence s) {
        prefixLookups++;
        int b = layout.blockTokens();
        int window = layout.resumeWindow();
        int[] all = s.tokens();
        int[] chain = new int[(s.length() - 1) / b];
        long[] hashes = new long[chain.length];
        int best = 0;
        for (int i = 0; i < chain.length; i++) {
            hashes[i] = blocks.chain(i == 0 ? 0 : hashes[i - 1], all, i * b, cacheKey(s));
            chain[i] = blocks.find(hashes[i], i == 0 ? -1 : chain[i - 1], all, i * b, cacheKey(s));
            if (chain[i] < 0) {
                break;
            }
            int end = (i + 1) * b;
            KvBlocks.Snapshot snapshot = blocks.snapshot(chain[i]);
            if (end > window && (window == 0 || snapshot != null && snapshot.resume() == end - window)) {
                best = i + 1;
            }
        }
        if (best == 0) {
            return;
        }
        for (int i = 0; i < best; i++) {
            blocks.share(s.slot, chain[i]);
        }
        int resume = best * b - window;
        if (window > 0) {
            model.kv().restore(s.slot, blocks.snapshot(chain[best - 1]));
        }
        s.cached = resume;
        s.registered = best;
        s.chainHash = hashes[best - 1];
        if (s.generated() == 0) {
            s.cachedTokens = resume;
            cachedTokens += resume;
        }
        extent[s.slot] = resume;
        prefixHits++;
    }

    /**
     * After a step: indexes {@code s}'s blocks that are now full and final, and keeps the ring snapshots of the
     * resume points this step passed ({@code from}: its cached tokens before the step).
     */
    private void index(Sequence s, int from) {
        int b = layout.blockTokens();
        int window = layout.resumeWindow();
        if (window > 0) {
            // the rings still hold the window before every resume point this step passed (it wrote at most maxRows)
            for (int resume = from + 1; resume <= s.cached; resume++) {
                if ((resume + window) % b == 0) {
                    pendingSnapshots[s.slot].put(resume + window, model.kv().snapshot(s.slot, resume));
                }
            }
        }
        while ((s.registered + 1) * b <= s.cached) {
            int i = s.registered;
            s.chainHash = blocks.chain(s.chainHash, s.tokens(), i * b, cacheKey(s));
            int indexed = blocks.register(s.slot, i, s.chainHash, s.tokens(), cacheKey(s));
            KvBlocks.Snapshot snapshot = pendingSnapshots[s.slot].remove((i + 1) * b);
            if (snapshot != null && indexed >= 0 && blocks.snapshot(indexed) == null) {
                blocks.keepSnapshot(indexed, snapshot);
            }
            s.registered++;
        }
    }

    /**
     * One main-model pass over a ragged batch — decode and verify rows first, then prefill chunks in the rows
     * left — then sampling or draft verification, then the draft heads' round.
     */
    private void step() {
        for (Sequence s : List.copyOf(running)) {
            if (s.cancelled) {
                end(s, Finish.CANCELLED);
            } else if (s.cached == 0) {
                s.kvEpoch = model.kvEpoch();
                s.hiddenEpoch = model.hiddenEpoch();
                s.waiting = cacheable(s) && blocks.tableLength(s.slot) == 0 && twinPrefilling(s);
                if (cacheable(s) && blocks.tableLength(s.slot) == 0 && !s.waiting) {
                    resume(s);
                }
            } else if (s.kvEpoch != model.kvEpoch() || s.draftLimit > 0 && s.hiddenEpoch != model.hiddenEpoch()) {
                recompute(s);
            }
        }
        reserve();
        int[] before = new int[running.size()];
        running.sort((a, b) -> Integer.compare(a.pending(), b.pending()));
        for (int i = 0; i < before.length; i++) {
            before[i] = running.get(i).cached;
        }
        List<Sequence> stepped = List.copyOf(running);
        Assembly net = model.net();
        boolean replaying = replayMode();
        boolean decodeOnly = true;            // every row decodes or verifies: a step the draft policy learns from
        int n = 0;
        int m = 0;
        List<Sequence> verifying = new ArrayList<>();
        for (Sequence s : running) {
            if (n == maxRows) {
                break;
            }
            if (s.waiting) {
                continue;
            }
            int take = Math.min(s.pending(), maxRows - n);
            int drafts = s.pending() == 1 ? Math.min(s.draftCount, maxRows - n - 1) : 0;
            int same = sameMode(s, take + drafts, replaying);
            if (same == 0) {
                continue;
            }
            if (same <= take) {
                take = same;
                drafts = 0;
            } else {
                drafts = same - take;
            }
            for (int i = 0; i < take; i++) {
                rowSequence[n] = s;
                n = row(n, s.token(s.cached + i), s.cached + i, s);
                if (s.evaluation != null && s.evaluationHead < 0) {
                    wanted[m] = n - 1;
                    wantedBy[m++] = s;
                }
            }
            for (int j = 0; j < drafts; j++) {
                rowSequence[n] = s;
                n = row(n, s.drafts[j], s.length() + j, s);
            }
            s.cached += take;
            s.draftCount = drafts;
            decodeOnly &= take == 1 && s.evaluation == null;
            if (s.generated() > 0) {
                s.steps++;
                decodeSteps++;
                speculation.counted(s, drafts);
            }
            if (drafts > 0) {
                verifying.add(s);
                for (int r = n - drafts - 1; r < n; r++) {
                    wanted[m] = r;
                    wantedBy[m++] = s;
                }
            } else if (s.evaluation == null && s.pending() == 0) {
                wanted[m] = n - 1;
                wantedBy[m++] = s;
            }
        }
        long start = System.nanoTime();
        routing.reset(rowSequence, positions, n, replaying, steps % StepRouting.LOAD_EVERY == 0,
                steps % StepRouting.EXPERTS_EVERY == 0);
        steps++;
        net.forward(new Step(tokens, positions, slots, n), model.kv(), Arrays.copyOf(wanted, m), routing);
        masks.apply(net, m, wantedBy, false);
        deliverEvaluations(net, m);
        sample(net, m);
        long nanos = System.nanoTime() - start;
        if (decodeOnly) {
            speculation.stepMeasured(n, routing.distinctExperts(), nanos);
        }
        verify(verifying, nanos);
        if (net.draftBlocks() > 0) {
            speculation.draftRound(net, running);
        }
        for (int i = 0; i < stepped.size(); i++) {
            Sequence s = stepped.get(i);
            if (s.slot >= 0 && cacheable(s)) {
                index(s, before[i]);
            }
        }
        long cached = 0;
        for (Sequence s : List.copyOf(running)) {
            if (s.evaluation != null && s.evaluated()) {
                end(s, Finish.STOP);
            } else {
                cached += s.cached;
            }
        }
        kvTokens = cached;
    }

    /** A snapshot of the monitoring figures; any thread. */
    ModelMetrics metrics() {
        var config = model.config();
        long[][] load = routing.load();
        for (var spec : config.layers()) {
            if (!spec.moe()) {
                load[spec.index()] = new long[0];
            }
        }
        return new ModelMetrics(model.name(), queued(), runningCount, slotCount, kvTokens,
                (long) layout.blocks() * layout.blockTokens(), promptTokens, generatedTokens,
                throughput.perSecond(), steps, decodeSteps, decodeTokens, load, StepRouting.LOAD_EVERY,
                speculation.draftSteps(), speculation.accepted(), speculation.proposed(), model.contextLength(),
                cachedTokens, prefixLookups, prefixHits, preemptions);
    }

    /**
     * A sequence whose KV or hN ring could not move to the current assembly (its backend left while the model
     * waited for a component, or the assembly changed shape): an evaluation fails (its logits were delivered), a
     * generation recomputes its state from its tokens, which gives the same tokens (rows are batch-invariant).
     */
    private void recompute(Sequence s) {
        if (s.evaluation != null) {
            LOG.warn("model {}: an evaluation lost its KV cache with its backend", model.name());
            end(s, Finish.ERROR);
            return;
        }
        blocks.release(s.slot);
        pendingSnapshots[s.slot].clear();
        s.forgetKv();
        s.kvEpoch = model.kvEpoch();
        s.hiddenEpoch = model.hiddenEpoch();
    }

    /**
     * Whether this step replays routing records: the router takes one mode per call, so a step's rows all replay
     * or none do; when both kinds wait, steps alternate.
     */
    private boolean replayMode() {
        boolean replay = false;
        boolean normal = false;
        for (Sequence s : running) {
            if (s.pending() > 0) {
                boolean r = s.replays(s.cached);
                replay |= r;
                normal |= !r;
            }
        }
        return replay && (!normal || (stepCount++ & 1) == 0);
    }

    /** How many of the next {@code rows} rows of {@code s} are in the given replay mode, from the first. */
    private static int sameMode(Sequence s, int rows, boolean replaying) {
        int same = 0;
        while (same < rows && s.replays(s.cached + same) == replaying) {
            same++;
        }
        return same;
    }

    private int row(int r, int token, int position, Sequence s) {
        tokens[r] = token;
        positions[r] = position;
        slots[r] = s.slot;
        extent[s.slot] = Math.max(extent[s.slot], position + 1);
        return r + 1;
    }

    private void deliverEvaluations(Assembly net, int m) {
        for (int i = 0; i < m; i++) {
            Sequence s = wantedBy[i];
            if (s.evaluation != null) {
                net.readLogits(i, row);
                s.evaluation.accept(positions[wanted[i]], row);
            }
        }
    }

    /**
     * Samples on the backend for every wanted row: rows that end a prefill or a plain decode, and verify rows, draw
     * the token after their position with that position's uniform number (evaluations take the argmax, unused).
     */
    private void sample(Assembly net, int m) {
        if (m == 0) {
            return;
        }
        for (int i = 0; i < m; i++) {
            Sequence s = wantedBy[i];
            SamplingParams p = s.request.sampling();
            temperature[i] = s.evaluation == null ? p.temperature() : 0f;
            topK[i] = p.topK();
            topP[i] = p.topP();
            uniform[i] = Sampling.uniform(p.seed(), positions[wanted[i]] + 1);
        }
        net.sample(m, model.vocab(), temperature, topK, topP, uniform, sampled);
        for (int i = 0; i < m; i++) {
            Sequence s = wantedBy[i];
            if (s.evaluation == null && s.draftCount == 0 && s.slot >= 0) {
                if (s.hostSampling()) {
                    hostSample(net, i, s);
                } else {
                    emit(s, sampled[i], null);
                }
            }
        }
    }

    /**
     * Draws row {@code i}'s token on the host from its logits read back, after penalties (the backend's draw is
     * kept when there are none), with the same uniform the backend used; reports the log-probability if asked.
     */
    private void hostSample(Assembly net, int i, Sequence s) {
        SamplingParams p = s.request.sampling();
        net.readLogits(i, row);
        int token = sampled[i];
        boolean biased = Sampling.bias(row, s.logitBias);
        if (s.counts != null || biased) {
            if (s.counts != null) {
                Sampling.penalize(row, s.counts, p.frequencyPenalty(), p.presencePenalty());
            }
            token = sampling.sample(row, model.vocab(), p.temperature(), p.topK(), p.topP(), uniform[i]);
        }
        int top = s.request.logprobs();
        emit(s, token, top < 0 ? null : Sampling.logprob(row, model.vocab(), token, top));
    }

    /** Verifies each verifying sequence's drafts (its rows follow the other wanted rows in step order) and emits. */
    private void verify(List<Sequence> verifying, long nanos) {
        int i = 0;
        for (Sequence s : verifying) {
            while (wantedBy[i] != s) {
                i++;
            }
            int rows = s.draftCount + 1;
            int count = speculation.verify(s, i, sampled, nanos, verified);
            for (int j = 0; j < count && s.slot >= 0; j++) {
                emit(s, verified[j], null);
            }
            i += rows;
        }
    }

    /** Appends a generated token, reports it, and ends the sequence on a stop token or at max_tokens. */
    private void emit(Sequence s, int token, TokenLogprob logprob) {
        if (s.generated() == 0) {
            s.prefilled = System.nanoTime();
        } else {
            decodeTokens++;
        }
        generatedTokens++;
        throughput.add(1);
        s.append(token);
        if (s.constraint != null) {
            s.constraint.emitted(token);
        }
        s.listener.onToken(token, logprob);
        if (s.stop.contains(token)) {
            end(s, Finish.STOP);
        } else if (s.generated() >= s.request.maxTokens()) {
            end(s, Finish.LENGTH);
        }
    }
}
