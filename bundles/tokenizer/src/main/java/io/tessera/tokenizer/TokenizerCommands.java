package io.tessera.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** Gogo commands: tokenizer:encode, tokenizer:decode, tokenizer:chat. */
@Component(service = TokenizerCommands.class, property = {
        "osgi.command.scope=tokenizer", "osgi.command.function=encode", "osgi.command.function=decode",
        "osgi.command.function=chat"})
public class TokenizerCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TokenizerFactory factory;

    @Activate
    public TokenizerCommands(@Reference TokenizerFactory factory) {
        this.factory = factory;
    }

    @Descriptor("encode text to token ids")
    public String encode(@Descriptor("model directory or tokenizer.json") String path,
                         @Descriptor("text") String text) throws IOException {
        int[] ids = tokenizer(path).encode(text);
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Descriptor("decode token ids to text")
    public String decode(@Descriptor("model directory or tokenizer.json") String path,
                         @Descriptor("ids separated by commas, e.g. 1,2,3") String ids) throws IOException {
        int[] parsed;
        try {
            parsed = Arrays.stream(ids.split("[,\\s]+")).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt)
                    .toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ids: not a comma-separated list of integers: " + ids, e);
        }
        return tokenizer(path).decode(parsed);
    }

    @Descriptor("render a conversation (OpenAI messages JSON: an array, or {messages, tools, enable_thinking})")
    public String chat(@Descriptor("model directory or tokenizer.json") String path,
                       @Descriptor("messages.json") String messagesFile) throws IOException {
        JsonNode root = JSON.readTree(Path.of(messagesFile).toFile());
        JsonNode messages = root.isArray() ? root : root.get("messages");
        boolean thinking = root.path("enable_thinking").asBoolean(false);
        return tokenizer(path).renderChat(ChatJson.messages(messages, messagesFile),
                ChatJson.tools(root.get("tools"), messagesFile), new ChatOptions(true, thinking));
    }

    private Tokenizer tokenizer(String path) throws IOException {
        return factory.load(Path.of(path));
    }
}
