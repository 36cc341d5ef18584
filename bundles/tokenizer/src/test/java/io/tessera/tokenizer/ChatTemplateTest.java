package io.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The native templates against transformers' apply_chat_template (tools/tokenizer/make_chat_goldens.py). */
class ChatTemplateTest {

    @Test
    void byteIdenticalToTransformers(@TempDir Path dir) throws IOException {
        Tokenizer qwen3 = Assets.qwen3();
        Tokenizer mimo = mimoTokenizer(dir);
        JsonNode conversations = Assets.JSON.readTree(Assets.open("chat/conversations.json"));
        JsonNode goldens = Assets.JSON.readTree(Assets.open("chat/goldens.json.gz"));
        int checked = 0;
        for (JsonNode g : goldens) {
            JsonNode conv = conversations.get(g.get("conversation").asInt());
            Tokenizer tok = g.get("template").asText().equals("qwen3") ? qwen3 : mimo;
            String got = tok.renderChat(ChatJson.messages(conv.get("messages"), "conversations.json"),
                    ChatJson.tools(conv.get("tools"), "conversations.json"),
                    new ChatOptions(g.get("add_generation_prompt").asBoolean(), g.get("enable_thinking").asBoolean()));
            assertEquals(g.get("text").asText(), got, g.get("template") + " conversation " + g.get("conversation")
                    + " generation prompt " + g.get("add_generation_prompt") + " thinking " + g.get("enable_thinking"));
            checked++;
        }
        assertEquals(2 * 4 * conversations.size(), checked);
    }

    @Test
    void mimoDefaultsToThinkingOff(@TempDir Path dir) throws IOException {
        String prompt = mimoTokenizer(dir).renderChat(List.of(ChatMessage.of("user", "hi")), List.of(),
                ChatOptions.DEFAULT);
        assertTrue(prompt.endsWith("<|im_start|>assistant\n<think></think>"), prompt);
        assertTrue(prompt.startsWith("<|im_start|>system\n" + MimoTemplate.DEFAULT_SYSTEM + "<|im_end|>\n"), prompt);
    }

    @Test
    void unknownTemplateRefusesToRender(@TempDir Path dir) throws IOException {
        Path model = Assets.modelDir("small", dir);
        Files.writeString(model.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages }}\"}");
        Tokenizer tok = TokenizerLoader.load(model);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> tok.renderChat(List.of(ChatMessage.of("user", "x")), List.of(), ChatOptions.DEFAULT));
        assertTrue(e.getMessage().contains("tokenizer_config.json: chat_template"), e.getMessage());
    }

    /** The small tokenizer with MiMo's template written down in tools/tokenizer. */
    private static Tokenizer mimoTokenizer(Path dir) throws IOException {
        Path model = Assets.modelDir("small", Files.createDirectories(dir.resolve("m")));
        Files.writeString(model.resolve("tokenizer_config.json"), "{\"chat_template\": \"<function=\"}");
        return TokenizerLoader.load(model);
    }
}
