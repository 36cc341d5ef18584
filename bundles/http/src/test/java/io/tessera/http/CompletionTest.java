package io.tessera.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationListener;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.OutputConstraint;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.IncrementalDecoder;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** How refusals of the engine become HTTP answers, and what a refused request leaves behind. */
class CompletionTest {

    /** One character per id ('a' + id); only what Completion uses. */
    private static final Tokenizer LETTERS = new Tokenizer() {
        public int[] encode(String text) {
            return text.chars().map(c -> c - 'a').toArray();
        }

        public int[] encodeWithSpecialTokens(String text) {
            return encode(text);
        }

        public String decode(int[] ids) {
            StringBuilder s = new StringBuilder();
            for (int id : ids) {
                s.append((char) ('a' + id));
            }
            return s.toString();
        }

        public IncrementalDecoder newDecoder() {
            return new IncrementalDecoder() {
                public String next(int id) {
                    return String.valueOf((char) ('a' + id));
                }

                public String flush() {
                    return "";
                }
            };
        }

        public int vocabSize() {
            return 26;
        }

        public OptionalInt id(String token) {
            return OptionalInt.empty();
        }

        public String token(int id) {
            return null;
        }

        public byte[] tokenBytes(int id) {
            return null;
        }

        public Set<Integer> stopTokens() {
            return Set.of();
        }

        public String renderChat(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
            throw new UnsupportedOperationException();
        }

        public OutputParser newOutputParser(List<ToolSpec> tools) {
            throw new UnsupportedOperationException();
        }
    };

    /** Accepts {@code room} generations, then refuses as the engine does: with the given exception. */
    private static final class Engine implements Generator {
        final List<Boolean> cancelled = new ArrayList<>();
        final List<CompletableFuture<GenerationResult>> results = new java.util.concurrent.CopyOnWriteArrayList<>();
        final RuntimeException refusal;
        int room;

        Engine(int room, RuntimeException refusal) {
            this.room = room;
            this.refusal = refusal;
        }

        public Generation submit(GenerationRequest request, OutputConstraint constraint, GenerationListener listener) {
            return submit(request, listener);
        }

        public Generation submit(GenerationRequest request, GenerationListener listener) {
            if (room-- <= 0) {
                throw refusal;
            }
            int index = cancelled.size();
            cancelled.add(false);
            CompletableFuture<GenerationResult> result = new CompletableFuture<>();
            results.add(result);
            return new Generation() {
                public void cancel() {
                    cancelled.set(index, true);
                }

                public CompletionStage<GenerationResult> result() {
                    return result;
                }
            };
        }

        public CompletionStage<Void> evaluate(String model, int[] tokens, LogitsConsumer consumer) {
            throw new UnsupportedOperationException();
        }

        public CompletionStage<Void> evaluate(String model, int[] tokens, int head, LogitsConsumer consumer) {
            throw new UnsupportedOperationException();
        }
    }

    private static Job job(int n) {
        return new Job(false, "m", List.of(), List.of(), false, "abc", null, 4, 0f, 1f, 0, 1L, 0f, 0f, List.of(), n,
                false, false, -1, false, null, -1, StructuredOutput.NONE, null);
    }

    @Test
    void aFullQueueIs429AndCancelsTheChoicesAlreadySubmitted() {
        Engine engine = new Engine(2, new IllegalStateException("model 'm' has 64 requests waiting"));
        ApiException e = assertThrows(ApiException.class,
                () -> new Completion(job(3), LETTERS, new int[] {0, 1, 2}, null, null, 60)
                        .submit(engine, 4, Integer.MAX_VALUE));
        assertEquals(429, e.status);
        assertEquals("rate_limit_exceeded", e.code);
        assertEquals(List.of(true, true), engine.cancelled);
    }

    @Test
    void aRequestHoldsAtMostItsShareOfSlotsAndTheRestStartAsEarlierOnesEnd() throws Exception {
        Engine engine = new Engine(3, new IllegalStateException("full"));
        Completion completion = new Completion(job(3), LETTERS, new int[] {0}, null, null, 60);
        completion.submit(engine, 4, 2);
        assertEquals(2, engine.results.size(), "two of three start at once");
        Thread finisher = Thread.ofVirtual().start(() -> {
            for (int done = 0; done < 3; done++) {
                while (engine.results.size() <= done) {
                    Thread.onSpinWait();
                }
                if (done == 0) {
                    assertEquals(2, engine.results.size(), "the third waits for a slot of its own request");
                }
                engine.results.get(done).complete(new GenerationResult(new int[0],
                        GenerationResult.Finish.LENGTH, 1, null, null));
            }
        });
        assertEquals(3, completion.collect(() -> { }).path("choices").size());
        finisher.join();
    }

    @Test
    void aFieldTheEngineRejectsIs400() {
        Engine engine = new Engine(0, new IllegalArgumentException("prompt: 9000 tokens + max_tokens 4 exceed the "
                + "context length 4096"));
        ApiException e = assertThrows(ApiException.class,
                () -> new Completion(job(1), LETTERS, new int[] {0}, null, null, 60)
                        .submit(engine, 4, Integer.MAX_VALUE));
        assertEquals(400, e.status);
        assertEquals("context_length_exceeded", e.code);
        assertEquals("prompt", e.param);
        assertTrue(e.getMessage().contains("context length"));
    }
}
