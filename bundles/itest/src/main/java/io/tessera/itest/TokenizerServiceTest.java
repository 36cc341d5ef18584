package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.IncrementalDecoder;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.test.common.annotation.InjectService;

/** The tokenizer bundle inside OSGi: the TokenizerFactory service loads a tokenizer.json and round-trips text. */
public class TokenizerServiceTest {

    @InjectService
    TokenizerFactory factory;

    @Test
    void roundTripsTextThroughTheService(@TempDir Path dir) throws Exception {
        Path model = writeTokenizer(dir);
        Tokenizer tok = factory.load(model);
        String text = "hello wörld 🙂<|im_end|>";
        int[] ids = tok.encode(text);
        assertEquals(text, tok.decode(ids));
        assertEquals(tok.id("<|im_end|>").getAsInt(), ids[ids.length - 1]);
        assertEquals(tok.id("hel").getAsInt(), ids[0]);
        IncrementalDecoder d = tok.newDecoder();
        StringBuilder stream = new StringBuilder();
        for (int id : ids) {
            stream.append(d.next(id));
        }
        assertEquals(text, stream.append(d.flush()).toString());
        assertTrue(tok.renderChat(List.of(ChatMessage.of("user", "hi")), List.of(), ChatOptions.DEFAULT)
                .endsWith("<|im_start|>assistant\n<think></think>"));
    }

    @Test
    void gogoEncodeCommand(@InjectService CommandProcessor processor, @TempDir Path dir) throws Exception {
        Path model = writeTokenizer(dir);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(),
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err)) {
            Object ids = session.execute("tokenizer:encode " + model + " hello");
            assertEquals(String.valueOf(factory.load(model).id("hel").getAsInt()) + ","
                    + factory.load(model).id("l").getAsInt() + "," + factory.load(model).id("o").getAsInt(), ids);
        }
    }

    /** A minimal byte-level BPE: the 256 byte characters, two merges, one special token. */
    private static Path writeTokenizer(Path dir) throws Exception {
        StringBuilder vocab = new StringBuilder();
        int next = 0;
        for (int b = 0, extra = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            vocab.append(next == 0 ? "" : ",").append(json(String.valueOf(c))).append(':').append(next++);
        }
        vocab.append(",\"he\":").append(next++).append(",\"hel\":").append(next++);
        String json = "{\"added_tokens\":[{\"id\":" + next + ",\"content\":\"<|im_end|>\",\"single_word\":false,"
                + "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
                + "\"normalizer\":{\"type\":\"NFC\"},"
                + "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
                + "\"decoder\":{\"type\":\"ByteLevel\"},"
                + "\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab + "},\"merges\":[\"h e\",[\"he\",\"l\"]]}}";
        Files.writeString(dir.resolve("tokenizer.json"), json);
        return dir.resolve("tokenizer.json");
    }

    private static String json(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            out.append(c == '"' || c == '\\' ? "\\" + c : String.valueOf(c));
        }
        return out.append('"').toString();
    }
}
