package io.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tessera.api.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerLoaderTest {

    @Test
    void qwen3Basics() {
        HfTokenizer tok = Assets.qwen3();
        assertEquals(151669, tok.vocabSize());
        assertEquals(151644, tok.id("<|im_start|>").getAsInt());
        assertEquals("<|im_end|>", tok.token(151645));
        assertEquals(Set.of(151643, 151645), tok.stopTokens());
        assertArrayEquals(new int[0], tok.encode(""));
        int[] ids = tok.encode("<|im_start|>user\nHi<|im_end|><think></think>");
        assertEquals(151644, ids[0]);
        assertEquals(151645, ids[ids.length - 3]);
        assertEquals("<|im_start|>user\nHi<|im_end|><think></think>", tok.decode(ids));
        assertArrayEquals(new int[] {9707, 1879}, tok.encode("Hello world"));
    }

    @Test
    void malformedJson(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {");
        assertMessage(file, "malformed JSON");
    }

    @Test
    void unsupportedModelType(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ObjectNode) root.get("model")).put("type", "WordPiece")),
                "model.type: unsupported model type 'WordPiece'");
    }

    @Test
    void mergeNamingUnknownToken(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ArrayNode) root.get("model").get("merges")).insert(0, "Ġ zzzunknown")),
                "model.merges[0]: token 'zzzunknown' is not in model.vocab");
    }

    @Test
    void mergeAsPairNamingUnknownToken(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ArrayNode) root.get("model").get("merges")).insertArray(3)
                .add("qq").add("Ġ")), "model.merges[3]: token 'qq' is not in model.vocab");
    }

    @Test
    void missingVocab(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ObjectNode) root.get("model")).remove("vocab")), "model.vocab: missing");
    }

    @Test
    void unsupportedNormalizer(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ObjectNode) root.get("normalizer").get("normalizers").get(0))
                .put("type", "Lowercase")), "normalizer.normalizers[0].type: unsupported normalizer 'Lowercase'");
    }

    @Test
    void unsupportedPreTokenizer(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ObjectNode) root.get("pre_tokenizer").get("pretokenizers").get(0))
                .put("type", "Whitespace")), "pre_tokenizer.pretokenizers[0].type: unsupported pre-tokenizer");
    }

    @Test
    void regexThatDoesNotCompile(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ObjectNode) root.get("pre_tokenizer").get("pretokenizers").get(0)
                .get("pattern")).put("Regex", "(unclosed")), "pre_tokenizer.pretokenizers[0].pattern.Regex");
    }

    @Test
    void unsupportedDecoder(@TempDir Path dir) throws IOException {
        assertMessage(edited(dir, root -> ((ObjectNode) root).putObject("decoder").put("type", "WordPiece")),
                "decoder.type: unsupported decoder 'WordPiece'");
    }

    @Test
    void missingFile(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> TokenizerLoader.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void factoryCachesPerPathAndReloadsChangedFiles(@TempDir Path dir) throws IOException {
        Path model = Assets.modelDir("small", dir);
        TokenizerFactoryComponent factory = new TokenizerFactoryComponent();
        Tokenizer first = factory.load(model);
        assertSame(first, factory.load(model.resolve("tokenizer.json").getParent()));
        Files.setLastModifiedTime(model.resolve("tokenizer.json"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertNotSame(first, factory.load(model));
    }

    @Test
    void gogoCommands(@TempDir Path dir) throws IOException {
        Path model = Assets.modelDir("small", dir);
        TokenizerCommands commands = new TokenizerCommands(new TokenizerFactoryComponent());
        String ids = commands.encode(model.toString(), "hello <|im_end|> world");
        assertEquals("hello <|im_end|> world", commands.decode(model.toString(), ids));
        Path messages = dir.resolve("messages.json");
        Files.writeString(messages, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"now\", \"parameters\": {}}}]}");
        String prompt = commands.chat(model.toString(), messages.toString());
        assertTrue(prompt.contains("<name>now</name>") && prompt.endsWith("<|im_start|>assistant\n<think></think>"),
                prompt);
        assertThrows(IllegalArgumentException.class, () -> commands.decode(model.toString(), "1,x"));
    }

    /** The small tokenizer with its tokenizer.json changed by edit. */
    private static Path edited(Path dir, Consumer<com.fasterxml.jackson.databind.JsonNode> edit) throws IOException {
        Path model = Assets.modelDir("small", dir);
        Path file = model.resolve("tokenizer.json");
        var root = Assets.JSON.readTree(file.toFile());
        edit.accept(root);
        Assets.JSON.writeValue(file.toFile(), root);
        return file;
    }

    private static void assertMessage(Path file, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizerLoader.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains(fragment), e.getMessage());
    }
}
