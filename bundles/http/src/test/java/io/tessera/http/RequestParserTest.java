package io.tessera.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RequestParserTest {
    private static final Settings SETTINGS = new Settings("127.0.0.1", 8080, "", 1 << 20, 256, 1024, 4);
    private static final String CHAT = """
            {"model": "m", "messages": [
               {"role": "system", "content": "be brief"},
               {"role": "user", "content": [{"type": "text", "text": "weather "}, {"type": "text", "text": "in Paris?"}]},
               {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]},
               {"role": "tool", "tool_call_id": "c1", "content": "sunny"}],
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "forecast",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
             "max_completion_tokens": 20, "temperature": 0.5, "top_p": 0.9, "seed": 7, "stop": ["\\n\\n", "END"],
             "n": 2, "stream": true, "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 2,
             "frequency_penalty": 0.5, "presence_penalty": -0.25, "tessera_routing": true,
             "chat_template_kwargs": {"enable_thinking": true}, "user": "ignored", "parallel_tool_calls": true}
            """;

    private static Job parse(String json, boolean chat) throws JacksonException {
        return new RequestParser(SETTINGS).parse(Json.MAPPER.readTree(json), chat);
    }

    @Test
    void readsEveryField() throws Exception {
        Job job = parse(CHAT, true);
        assertEquals("m", job.model());
        assertEquals(4, job.messages().size());
        assertEquals("weather in Paris?", job.messages().get(1).content());
        assertEquals(Map.of("city", "Paris"), job.messages().get(2).toolCalls().getFirst().arguments());
        assertEquals("c1", job.messages().get(3).toolCallId());
        assertEquals("get_weather", job.tools().getFirst().name());
        assertEquals(20, job.maxTokens());
        assertEquals(0.5f, job.temperature());
        assertEquals(7L, job.seed());
        assertEquals(List.of("\n\n", "END"), job.stop());
        assertEquals(2, job.n());
        assertTrue(job.stream() && job.includeUsage() && job.routing() && job.thinking());
        assertEquals(2, job.logprobs());
        assertEquals(-0.25f, job.presencePenalty());
    }

    @Test
    void completionsDefaultsAndTokenPrompts() throws Exception {
        Job job = parse("{\"model\": \"m\", \"prompt\": [1, 2, 3]}", false);
        assertEquals(16, job.maxTokens());
        assertEquals(3, job.promptIds().length);
        assertNull(job.seed());
        assertEquals(-1, job.logprobs());
        assertEquals(List.of(), job.stop());
    }

    @Test
    void namesTheParameterAtFault() {
        ApiException e = assertThrows(ApiException.class, () -> parse("{\"model\": \"m\", \"messages\": "
                + "[{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 9999}", true));
        assertEquals("max_tokens", e.param);
        assertEquals(400, e.status);
        e = assertThrows(ApiException.class, () -> parse("{\"model\": \"m\", \"messages\": [{\"role\": \"user\"}]}",
                true));
        assertEquals("messages[0].content", e.param);
        e = assertThrows(ApiException.class, () -> parse("{\"model\": \"m\", \"prompt\": \"x\", \"n\": 5}", false));
        assertEquals("n", e.param);
    }

    /**
     * Seeded fuzz: 10,000 mutations of a valid request (bytes flipped, cut, duplicated, values swapped for
     * other JSON types). Each must parse into a job or fail with a JSON syntax error or an {@link ApiException} —
     * never any other exception, which the server would turn into a 500.
     */
    @Test
    void fuzzedRequestsFailOnlyWithClientErrors() {
        Random random = new Random(20261122);
        String[] values = {"null", "true", "-1", "0", "1e309", "3.5", "\"\"", "\"x\"", "[]", "{}", "[[]]",
                "{\"a\":{}}", "9223372036854775808", "[1,\"a\",null]"};
        int parsed = 0;
        for (int trial = 0; trial < 10000; trial++) {
            StringBuilder s = new StringBuilder(CHAT);
            for (int k = 1 + random.nextInt(3); k > 0 && !s.isEmpty(); k--) {
                int at = random.nextInt(s.length());
                switch (random.nextInt(5)) {
                    case 0 -> s.setCharAt(at, (char) (32 + random.nextInt(95)));
                    case 1 -> s.setLength(at);
                    case 2 -> s.insert(at, s.substring(at, Math.min(s.length(), at + random.nextInt(20))));
                    case 3 -> s.deleteCharAt(at);
                    default -> {   // replace the value after a ':' by another JSON value
                        int colon = s.indexOf(":", at);
                        int end = colon < 0 ? -1 : indexOfAny(s, colon + 1);
                        if (end > 0) {
                            s.replace(colon + 1, end, values[random.nextInt(values.length)]);
                        }
                    }
                }
            }
            boolean chat = random.nextBoolean();
            try {
                JsonNode node = Json.MAPPER.readTree(s.toString());
                new RequestParser(SETTINGS).parse(node, chat);
                parsed++;
            } catch (JacksonException | ApiException expected) {
                // a client error: 400
            } catch (RuntimeException e) {
                fail("trial " + trial + " threw " + e + " for: " + s, e);
            }
        }
        assertTrue(parsed > 100, "the fuzz should also produce valid requests, got " + parsed);
    }

    private static int indexOfAny(CharSequence s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (",}]".indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }
}
