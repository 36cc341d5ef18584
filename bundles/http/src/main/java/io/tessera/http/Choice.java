package io.tessera.http;

import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.TokenLogprob;
import io.tessera.api.tokenizer.IncrementalDecoder;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.OutputParser.Delta;
import io.tessera.api.tokenizer.ToolCall;
import java.util.ArrayList;
import java.util.List;

/**
 * One choice's output pipeline: tokens → text (incremental decode) → stop strings → reasoning / content / tool
 * calls (chat only). It collects the whole output too, for non-streamed responses.
 */
final class Choice {
    final int index;
    private final IncrementalDecoder decoder;
    private final StopMatcher stop;
    private final OutputParser parser;       // null for /v1/completions
    Generation generation;
    GenerationResult result;
    Throwable failure;
    final StringBuilder content = new StringBuilder();
    final StringBuilder reasoning = new StringBuilder();
    final List<ToolCall> toolCalls = new ArrayList<>();
    final List<TokenLogprob> logprobs = new ArrayList<>();
    private boolean ended;

    Choice(int index, IncrementalDecoder decoder, StopMatcher stop, OutputParser parser) {
        this.index = index;
        this.decoder = decoder;
        this.stop = stop;
        this.parser = parser;
    }

    /** Takes one generated token; returns what became final. Cancels the generation when a stop string matched. */
    Delta token(int id, TokenLogprob logprob) {
        if (stop.stopped()) {
            return Delta.EMPTY;   // tokens that were already on their way when a stop string matched
        }
        if (logprob != null) {
            logprobs.add(logprob);
        }
        Delta delta = text(stop.feed(decoder.next(id)), false);
        if (stop.stopped()) {
            generation.cancel();
            return merge(delta, text("", true));
        }
        return delta;
    }

    /** The generation ended: returns everything that was held back. */
    Delta finish() {
        if (ended) {
            return Delta.EMPTY;
        }
        String rest = stop.stopped() ? "" : stop.feed(decoder.flush());
        return text(rest + stop.flush(), true);
    }

    boolean stoppedByString() {
        return stop.stopped();
    }

    private Delta text(String text, boolean end) {
        ended |= end;
        Delta delta;
        if (parser == null) {
            delta = new Delta("", text, List.of());
        } else {
            delta = parser.feed(text);
            if (end) {
                delta = merge(delta, parser.finish());
            }
        }
        reasoning.append(delta.reasoning());
        content.append(delta.content());
        toolCalls.addAll(delta.toolCalls());
        return delta;
    }

    private static Delta merge(Delta a, Delta b) {
        List<ToolCall> calls = new ArrayList<>(a.toolCalls());
        calls.addAll(b.toolCalls());
        return new Delta(a.reasoning() + b.reasoning(), a.content() + b.content(), List.copyOf(calls));
    }

    /** OpenAI's finish_reason. */
    String finishReason() {
        if (stoppedByString()) {
            return "stop";
        }
        if (result == null || result.finish() == GenerationResult.Finish.ERROR) {
            return "error";
        }
        if (result.finish() == GenerationResult.Finish.LENGTH) {
            return "length";
        }
        return toolCalls.stream().anyMatch(c -> c.error() == null) ? "tool_calls" : "stop";
    }
}
