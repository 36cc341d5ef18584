package io.tessera.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.api.model.GenerationListener;
import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.SchemaValidator;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.OutputConstraint;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.RoutingRecord;
import io.tessera.api.model.SamplingParams;
import io.tessera.api.model.TokenLogprob;
import io.tessera.api.tokenizer.OutputParser.Delta;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One completion request while it runs: its n generations, the events the engine threads post (tokens, ends),
 * and the response — streamed as server-sent events or written whole at the end. The servlet thread drains the
 * events, so the engine's listeners never block.
 */
final class Completion {
    private sealed interface Event permits TokenEvent, EndEvent, AbortEvent { }
    private record TokenEvent(int index, int id, TokenLogprob logprob) implements Event { }
    private record EndEvent(int index, GenerationResult result, Throwable failure) implements Event { }
    /** The server ends the request before its generations end (it is shutting down). */
    private record AbortEvent(ApiException reason) implements Event { }

    /** Writes something harmless to the client while nothing else goes out, so that a departure shows. */
    @FunctionalInterface
    interface Heartbeat {
        void beat() throws IOException;
    }

    private final Job job;
    private final Tokenizer tokenizer;
    private final int[] prompt;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final List<Choice> choices = new ArrayList<>();
    private final Grammar grammar;
    private final SchemaValidator validator;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private static final long BEAT_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private final long deadline;   // System.nanoTime() after which the request ends with a timeout
    private final long timeoutSeconds;
    // the generations: started on the servlet thread only (submit, then as earlier ones end)
    private Generator generator;
    private int maxTokens;
    private long seed;
    private int started;
    private volatile boolean cancelled;

    /**
     * {@code grammar} constrains the output (or null); {@code validator} checks tool calls (or null); the request
     * ends with a timeout after {@code timeoutSeconds}.
     */
    Completion(Job job, Tokenizer tokenizer, int[] prompt, Grammar grammar, SchemaValidator validator,
               long timeoutSeconds) {
        this.job = job;
        this.tokenizer = tokenizer;
        this.prompt = prompt;
        this.grammar = grammar;
        this.validator = validator;
        this.timeoutSeconds = timeoutSeconds;
        this.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        this.id = (job.chat() ? "chatcmpl-" : "cmpl-") + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }

    private OutputParser parser() {
        if (!job.chat()) {
            return null;
        }
        OutputParser parser = tokenizer.newOutputParser(job.tools());
        return validator == null ? parser : new ValidatingParser(parser, job.tools(), validator);
    }

    /**
     * Submits the n generations, at most {@code share} at a time (one request must not hold every KV slot: the
     * rest start as earlier ones end, behind what other requests queued meanwhile). If one of the first is refused
     * the others are cancelled and the refusal becomes a 429 (queue full) or a 400 (a field the engine rejects); a
     * later one that is refused ends its choice with that error.
     */
    void submit(Generator generator, int maxTokens, int share) {
        this.generator = generator;
        this.maxTokens = maxTokens;
        seed = job.seed() != null ? job.seed() : ThreadLocalRandom.current().nextLong();
        for (int i = 0; i < job.n(); i++) {
            choices.add(new Choice(i, tokenizer.newDecoder(), new StopMatcher(job.stop()), parser()));
        }
        while (started < Math.min(job.n(), Math.max(1, share))) {
            try {
                start(choices.get(started));
            } catch (IllegalStateException e) {
                cancel();
                throw new ApiException(429, "rate_limit_exceeded", null, "rate_limit_exceeded", e.getMessage(), 1);
            } catch (IllegalArgumentException e) {
                cancel();
                String message = e.getMessage() == null ? "invalid request" : e.getMessage();
                String param = !message.startsWith("prompt") ? null : job.chat() ? "messages" : "prompt";
                throw new ApiException(400, "invalid_request_error", param,
                        message.contains("context length") ? "context_length_exceeded" : null, message);
            }
        }
    }

    private void start(Choice choice) {
        int index = choice.index;
        GenerationRequest request = new GenerationRequest(job.model(), prompt, maxTokens,
                new SamplingParams(job.temperature(), job.topK(), job.topP(), seed + index, job.frequencyPenalty(),
                        job.presencePenalty()),
                tokenizer.stopTokens(), job.draftTokens(), job.routing(), job.replay(), job.logprobs(), null,
                job.cacheSalt());
        OutputConstraint output = new OutputConstraint(grammar, job.structured().bias());
        choice.generation = generator.submit(request, output, new GenerationListener() {
            @Override
            public void onTokens(int[] ids) {
                for (int t : ids) {
                    onToken(t, null);
                }
            }

            /** The stop token that ends a generation is not text (a JSON answer must parse as is). */
            @Override
            public void onToken(int token, TokenLogprob logprob) {
                if (!request.stopTokens().contains(token)) {
                    events.add(new TokenEvent(index, token, logprob));
                }
            }
        });
        started++;
        choice.generation.result().whenComplete((r, x) -> events.add(new EndEvent(index, r, x)));
    }

    /** A choice ended: the next one not yet started starts (on the servlet thread, which drains the events). */
    private void startNext() {
        if (started == choices.size() || cancelled) {
            return;
        }
        Choice next = choices.get(started);
        try {
            start(next);
        } catch (RuntimeException refused) {
            started++;
            events.add(new EndEvent(next.index, null, refused));
        }
    }

    /** Stops every generation (the client went away or a sibling was refused); none starts any more. */
    void cancel() {
        cancelled = true;
        for (Choice c : choices) {
            if (c.generation != null) {
                c.generation.cancel();
            }
        }
    }

    /** Ends the request now with {@code reason} (an error event for a stream); its generations are cancelled. */
    void abort(ApiException reason) {
        events.add(new AbortEvent(reason));
    }

    /**
     * The next event, waiting at most {@code millis}; null when none came. Past the deadline (or on {@link #abort})
     * the generations are cancelled and the reason thrown.
     */
    private Event next(long millis) throws InterruptedException {
        Event e = events.poll(millis, TimeUnit.MILLISECONDS);
        if (e instanceof AbortEvent abort) {
            cancel();
            throw abort.reason();
        }
        if (e == null && System.nanoTime() - deadline > 0) {
            cancel();
            throw new ApiException(504, "server_error", null, "timeout", "the request did not finish within "
                    + timeoutSeconds + " s (requestTimeoutSeconds)");
        }
        return e;
    }

    /**
     * Runs to the end, then returns the whole response. From the first second on, {@code heartbeat} runs every
     * quarter second: the servlet API shows a client that left only when something is written to it, and the first
     * write to a closed connection usually still succeeds.
     *
     * @throws IOException the heartbeat found the client gone: every generation is cancelled
     */
    ObjectNode collect(Heartbeat heartbeat) throws InterruptedException, IOException {
        long nextBeat = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        int open = choices.size();
        while (open > 0) {
            Event e = next(TimeUnit.NANOSECONDS.toMillis(BEAT_NANOS));
            if (System.nanoTime() - nextBeat > 0) {
                nextBeat = System.nanoTime() + BEAT_NANOS;
                try {
                    heartbeat.beat();
                } catch (IOException gone) {
                    cancel();
                    throw gone;
                }
            }
            if (e instanceof TokenEvent t) {
                choices.get(t.index()).token(t.id(), t.logprob());
            } else if (e instanceof EndEvent end) {
                Choice c = choices.get(end.index());
                c.result = end.result();
                c.failure = end.failure();
                c.finish();
                open--;
                startNext();
            }
        }
        failIfAnyFailed();
        ObjectNode response = head(job.chat() ? "chat.completion" : "text_completion");
        ArrayNode array = response.putArray("choices");
        for (Choice c : choices) {
            ObjectNode o = array.addObject();
            o.put("index", c.index);
            if (job.chat()) {
                ObjectNode message = o.putObject("message");
                message.put("role", "assistant");
                List<ToolCall> valid = c.toolCalls.stream().filter(x -> x.error() == null).toList();
                if (c.content.isEmpty() && !valid.isEmpty()) {
                    message.putNull("content");
                } else {
                    message.put("content", c.content.toString());
                }
                if (!c.reasoning.isEmpty()) {
                    message.put("reasoning_content", c.reasoning.toString());
                }
                toolCalls(message, c.toolCalls, false);
            } else {
                o.put("text", c.content.toString());
            }
            logprobs(o, c.logprobs);
            o.put("finish_reason", c.finishReason());
            routing(o, c);
        }
        response.set("usage", usage());
        return response;
    }

    /**
     * Streams the response as server-sent events ending with {@code data: [DONE]}. A comment line goes out every
     * second while nothing else does, so a client that left is noticed even while its prompt waits or prefills.
     *
     * @return null when every generation ended, else why the stream was cut short ({@link InFlight#TIMEOUT},
     *         {@link InFlight#SHUTDOWN}): it then ended with an error event and {@code [DONE]}
     * @throws IOException the client went away: every generation is cancelled (their KV is freed at the next step)
     */
    String stream(OutputStream out) throws IOException, InterruptedException {
        try {
            if (job.chat()) {
                for (Choice c : choices) {
                    ObjectNode chunk = chunk();
                    ObjectNode choice = ((ArrayNode) chunk.get("choices")).addObject();
                    choice.put("index", c.index);
                    choice.putObject("delta").put("role", "assistant").put("content", "");
                    choice.putNull("logprobs");
                    choice.putNull("finish_reason");
                    send(out, chunk);
                }
                out.flush();
            }
            int open = choices.size();
            while (open > 0) {
                Event e;
                try {
                    e = next(1000);
                } catch (ApiException timeoutOrShutdown) {
                    sendError(out, timeoutOrShutdown.getMessage());
                    return timeoutOrShutdown.status == 504 ? InFlight.TIMEOUT : InFlight.SHUTDOWN;
                }
                if (e == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    continue;
                }
                if (e instanceof TokenEvent t) {
                    Choice c = choices.get(t.index());
                    int before = c.logprobs.size();
                    Delta d = c.token(t.id(), t.logprob());
                    sendDelta(out, c, d, c.logprobs.subList(before, c.logprobs.size()), null);
                } else if (e instanceof EndEvent end) {
                    Choice c = choices.get(end.index());
                    c.result = end.result();
                    c.failure = end.failure();
                    open--;
                    startNext();
                    if (c.failure != null || c.result.finish() == GenerationResult.Finish.ERROR) {
                        sendError(out, failureMessage(c));
                        cancel();
                        return null;
                    }
                    sendDelta(out, c, c.finish(), List.of(), c.finishReason());
                }
                if (events.isEmpty()) {
                    out.flush();    // batch the writes of tokens that arrived together
                }
            }
            if (job.includeUsage()) {
                ObjectNode chunk = chunk();
                chunk.set("usage", usage());
                send(out, chunk);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            return null;
        } catch (IOException | RuntimeException | InterruptedException e) {
            cancel();
            throw e;
        }
    }

    private void sendDelta(OutputStream out, Choice c, Delta d, List<TokenLogprob> logprobs, String finish)
            throws IOException {
        boolean empty = d.reasoning().isEmpty() && d.content().isEmpty() && d.toolCalls().isEmpty();
        if (empty && logprobs.isEmpty() && finish == null) {
            return;
        }
        ObjectNode chunk = chunk();
        ObjectNode o = ((ArrayNode) chunk.get("choices")).addObject();
        o.put("index", c.index);
        if (job.chat()) {
            ObjectNode delta = o.putObject("delta");
            if (!d.content().isEmpty()) {
                delta.put("content", d.content());
            }
            if (!d.reasoning().isEmpty()) {
                delta.put("reasoning_content", d.reasoning());
            }
            toolCalls(delta, d.toolCalls(), true);
        } else {
            o.put("text", d.content());
        }
        if (logprobs.isEmpty()) {
            o.putNull("logprobs");
        } else {
            logprobs(o, logprobs);
        }
        if (finish == null) {
            o.putNull("finish_reason");
        } else {
            o.put("finish_reason", finish);
            routing(o, c);
        }
        send(out, chunk);
    }

    private static String failureMessage(Choice c) {
        Throwable failure = c.failure instanceof java.util.concurrent.CompletionException x && x.getCause() != null
                ? x.getCause() : c.failure;
        return "generation failed: " + (failure != null ? failure.getMessage() : "the engine ended it with an error");
    }

    private void sendError(OutputStream out, String message) throws IOException {
        ObjectNode error = Json.MAPPER.createObjectNode();
        error.putObject("error").put("message", message).put("type", "server_error").putNull("param")
                .putNull("code");
        send(out, error);
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void send(OutputStream out, ObjectNode chunk) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.UTF_8));
        out.write(Json.MAPPER.writeValueAsBytes(chunk));
        out.write("\n\n".getBytes(StandardCharsets.UTF_8));
    }

    private void failIfAnyFailed() {
        for (Choice c : choices) {
            if (c.failure != null || c.result.finish() == GenerationResult.Finish.ERROR) {
                throw new ApiException(500, "server_error", null, null, failureMessage(c));
            }
        }
    }

    private ObjectNode head(String object) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", job.model());
        return o;
    }

    private ObjectNode chunk() {
        ObjectNode o = head(job.chat() ? "chat.completion.chunk" : "text_completion");
        o.putArray("choices");
        if (job.includeUsage()) {
            o.putNull("usage");
        }
        return o;
    }

    private ObjectNode usage() {
        int completion = 0;
        for (Choice c : choices) {
            completion += c.result == null ? 0 : c.result.tokens().length;
        }
        ObjectNode u = Json.MAPPER.createObjectNode();
        u.put("prompt_tokens", prompt.length);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt.length + completion);
        // prompt tokens every choice took from the prefix cache (n > 1: the first choice prefills for the others)
        int cached = prompt.length;
        for (Choice c : choices) {
            cached = Math.min(cached, c.result == null || c.result.stats() == null ? 0 : c.result.stats().cachedTokens());
        }
        u.putObject("prompt_tokens_details").put("cached_tokens", cached);
        return u;
    }

    /**
     * Valid calls go to {@code tool_calls} in OpenAI's form; calls that fail the tool's schema (or name no offered
     * tool) go to the extension field {@code invalid_tool_calls} with the reason, never into {@code tool_calls}.
     */
    private void toolCalls(ObjectNode message, List<ToolCall> calls, boolean streaming) {
        ArrayNode valid = null;
        ArrayNode invalid = null;
        int index = 0;
        for (ToolCall call : calls) {
            ObjectNode o;
            if (call.error() == null) {
                valid = valid == null ? message.putArray("tool_calls") : valid;
                o = valid.addObject();
                if (streaming) {
                    o.put("index", index++);
                }
            } else {
                invalid = invalid == null ? message.putArray("invalid_tool_calls") : invalid;
                o = invalid.addObject();
            }
            o.put("id", "call_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
            o.put("type", "function");
            ObjectNode f = o.putObject("function");
            f.put("name", call.name());
            try {
                f.put("arguments", Json.MAPPER.writeValueAsString(call.arguments()));
            } catch (IOException e) {
                throw new IllegalStateException(e);   // parsed JSON values always serialise
            }
            if (call.error() != null) {
                o.put("error", call.error());
            }
        }
    }

    /** Chat: {@code {"content": [{token, logprob, bytes, top_logprobs}]}}; completions: OpenAI's legacy form. */
    private void logprobs(ObjectNode choice, List<TokenLogprob> list) {
        if (job.logprobs() < 0) {
            choice.putNull("logprobs");
            return;
        }
        ObjectNode o = choice.putObject("logprobs");
        if (job.chat()) {
            ArrayNode content = o.putArray("content");
            for (TokenLogprob lp : list) {
                ObjectNode e = entry(content.addObject(), lp.id(), lp.logprob());
                ArrayNode top = e.putArray("top_logprobs");
                for (int j = 0; j < lp.topIds().length; j++) {
                    entry(top.addObject(), lp.topIds()[j], lp.topLogprobs()[j]);
                }
            }
        } else {
            ArrayNode tokens = o.putArray("tokens");
            ArrayNode values = o.putArray("token_logprobs");
            ArrayNode tops = o.putArray("top_logprobs");
            for (TokenLogprob lp : list) {
                tokens.add(text(lp.id()));
                values.add(lp.logprob());
                ObjectNode top = tops.addObject();
                for (int j = 0; j < lp.topIds().length; j++) {
                    top.put(text(lp.topIds()[j]), lp.topLogprobs()[j]);
                }
            }
        }
    }

    private ObjectNode entry(ObjectNode e, int token, float logprob) {
        String text = text(token);
        e.put("token", text);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return e;
    }

    private String text(int token) {
        return tokenizer.decode(new int[] {token});
    }

    /** Extension {@code tessera_routing}: the experts each position chose, when the request asked for them. */
    private static void routing(ObjectNode choice, Choice c) {
        RoutingRecord r = c.result == null ? null : c.result.routing();
        if (r != null) {
            ObjectNode o = choice.putObject("tessera_routing");
            o.put("start_position", r.startPosition());
            o.set("experts", Json.MAPPER.valueToTree(r.experts()));
        }
    }
}
