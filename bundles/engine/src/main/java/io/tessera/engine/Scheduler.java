package io.tessera.engine;

import io.tessera.api.model.GenerationResult.Finish;
import io.tessera.api.model.RoutingControl;
import io.tessera.api.model.SamplingParams;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a model's steps on one thread. Each step is one ragged batch: a decode row for every running sequence,
 * then prefill chunks of waiting prompts in the rows left (continuous batching with chunked prefill). A sequence
 * gets a KV slot when admitted and gives it back when it ends.
 */
final class Scheduler implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private final LoadedModel model;
    private final BlockingQueue<Sequence> queue;
    private final List<Sequence> running = new ArrayList<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
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

    Scheduler(LoadedModel model, int sequences, int maxRows, int queueLimit, int vocab) {
        this.model = model;
        this.maxRows = maxRows;
        this.queue = new LinkedBlockingQueue<>(queueLimit);
        for (int s = 0; s < sequences; s++) {
            freeSlots.add(s);
        }
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
        return queue.size();
    }

    int runningCount() {
        return running.size();
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
                    continue;   // a component is missing: requests wait until it returns
                }
                try {
                    step();
                } catch (RuntimeException e) {
                    LOG.error("step failed on model {}", model.name(), e);
                    for (Sequence s : List.copyOf(running)) {
                        end(s, Finish.ERROR);
                    }
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
            for (Sequence s; (s = queue.poll()) != null; ) {
                s.finish(Finish.ERROR);
            }
        }
    }

    private void admit() {
        while (!freeSlots.isEmpty() && !queue.isEmpty()) {
            start(queue.poll());
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
        running.add(s);
    }

    private void end(Sequence s, Finish finish) {
        running.remove(s);
        freeSlots.add(s.slot);
        s.slot = -1;
        s.finish(finish);
    }

    /** One forward pass over a ragged batch, then sampling and bookkeeping. */
    private void step() {
        for (Sequence s : List.copyOf(running)) {
            if (s.cancelled) {
                end(s, Finish.CANCELLED);
            } else if (s.cached == 0) {
                s.kvEpoch = model.kvEpoch();
            } else if (s.kvEpoch != model.kvEpoch()) {
                end(s, Finish.ERROR);   // its KV went with the backend that held it
            }
        }
        // decode rows first (one pending token), then prefill chunks in the rows left
        running.sort((a, b) -> Integer.compare(a.pending(), b.pending()));
        int n = 0;
        int m = 0;
        List<Sequence> evaluated = new ArrayList<>();
        for (Sequence s : running) {
            int take = Math.min(s.pending(), maxRows - n);
            if (take <= 0) {
                continue;
            }
            for (int i = 0; i < take; i++) {
                int pos = s.cached + i;
                tokens[n] = s.token(pos);
                positions[n] = pos;
                slots[n] = s.slot;
                if (s.evaluation != null) {
                    wanted[m] = n;
                    wantedBy[m++] = s;
                }
                n++;
            }
            s.cached += take;
            if (s.evaluation != null) {
                evaluated.add(s);
            } else if (s.pending() == 0) {
                wanted[m] = n - 1;
                wantedBy[m++] = s;
            }
        }
        MiMoV2Flash net = model.net();
        net.forward(new Step(tokens, positions, slots, n), model.kv(), Arrays.copyOf(wanted, m), RoutingControl.NONE);
        deliverEvaluations(net, evaluated, m);
        sample(net, m);
    }

    private void deliverEvaluations(MiMoV2Flash net, List<Sequence> evaluated, int m) {
        if (evaluated.isEmpty()) {
            return;
        }
        int vocab = row.length;
        for (int i = 0; i < m; i++) {
            Sequence s = wantedBy[i];
            if (s.evaluation != null) {
                net.backend().read(net.logits(), (long) i * vocab, row, 0, vocab);
                s.evaluation.accept(positions[wanted[i]], row);
            }
        }
        for (Sequence s : evaluated) {
            if (s.pending() == 0) {
                end(s, Finish.STOP);
            }
        }
    }

    private void sample(MiMoV2Flash net, int m) {
        boolean generating = false;
        for (int i = 0; i < m; i++) {
            Sequence s = wantedBy[i];
            SamplingParams p = s.request.sampling();
            temperature[i] = p.temperature();
            topK[i] = p.topK();
            topP[i] = p.topP();
            // 24 random bits: uniform in [0, 1) exactly representable as a float (a double cast could round to 1)
            uniform[i] = s.evaluation == null ? s.random.nextInt(1 << 24) / (float) (1 << 24) : 0f;
            generating |= s.evaluation == null;
        }
        if (!generating) {
            return;
        }
        net.sample(m, temperature, topK, topP, uniform, sampled);
        for (int i = 0; i < m; i++) {
            Sequence s = wantedBy[i];
            if (s.evaluation != null || s.slot < 0) {
                continue;
            }
            if (s.generated() == 0) {
                s.prefilled = System.nanoTime();
            }
            int token = sampled[i];
            s.append(token);
            s.listener.onTokens(new int[] {token});
            if (s.stop.contains(token)) {
                end(s, Finish.STOP);
            } else if (s.generated() >= s.request.maxTokens()) {
                end(s, Finish.LENGTH);
            }
        }
    }
}
