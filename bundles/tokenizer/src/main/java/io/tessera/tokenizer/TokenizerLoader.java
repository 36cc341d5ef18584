package io.tessera.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads tokenizer.json (+ tokenizer_config.json beside it). Accepts what byte-level BPE tokenizers of the Qwen2
 * family use and rejects anything else with an error naming the file and the field.
 */
final class TokenizerLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    private TokenizerLoader(Path file) {
        this.file = file;
    }

    /** Loads from a model directory or a tokenizer.json file. */
    static HfTokenizer load(Path path) throws IOException {
        Path json = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(json)) {
            throw new IOException(json + ": no such file (expected a tokenizer.json or a directory holding one)");
        }
        Path configFile = json.toAbsolutePath().getParent().resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? read(configFile) : JSON.createObjectNode();
        return new TokenizerLoader(json).build(read(json), config, configFile);
    }

    private static JsonNode read(Path file) throws IOException {
        try {
            JsonNode node = JSON.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(file + ": not a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    private IllegalArgumentException bad(String field, String what) {
        return new IllegalArgumentException(file + ": " + field + ": " + what);
    }

    private HfTokenizer build(JsonNode root, JsonNode config, Path configFile) {
        JsonNode model = object(root, "model");
        String type = model.path("type").asText("BPE"); // files of older versions omit the type of their BPE
        if (!type.equals("BPE")) {
            throw bad("model.type", "unsupported model type '" + type + "' (only BPE)");
        }
        checkBpeOptions(model);
        Map<String, Integer> vocab = vocab(model.get("vocab"));
        UnaryOperator<String> normalizer = normalizer(root.get("normalizer"), "normalizer");
        PreTokenizer preTokenizer = preTokenizer(root.get("pre_tokenizer"));
        checkDecoder(root.get("decoder"));

        Map<String, Integer> ids = new HashMap<>(vocab);
        List<AddedTokens.Token> added = addedTokens(root.get("added_tokens"));
        int maxId = -1;
        for (int id : vocab.values()) {
            maxId = Math.max(maxId, id);
        }
        for (AddedTokens.Token t : added) {
            ids.put(t.content(), t.id());
            maxId = Math.max(maxId, t.id());
        }
        String[] tokens = new String[maxId + 1];
        vocab.forEach((token, id) -> tokens[id] = token);
        for (AddedTokens.Token t : added) {
            tokens[t.id()] = t.content();
        }
        int unkId = -1;
        JsonNode unk = model.get("unk_token");
        if (unk != null && !unk.isNull()) {
            Integer id = vocab.get(unk.asText());
            if (id == null) {
                throw bad("model.unk_token", "'" + unk.asText() + "' is not in model.vocab");
            }
            unkId = id;
        }
        Bpe bpe = new Bpe(vocab, merges(model.get("merges"), vocab), unkId, model.path("ignore_merges").asBoolean());

        Set<Integer> stop = new LinkedHashSet<>();
        for (String s : List.of("<|im_end|>", "<|endoftext|>", tokenText(config.get("eos_token")))) {
            Integer id = ids.get(s);
            if (id != null) {
                stop.add(id);
            }
        }
        Set<Integer> special = new HashSet<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("special").asBoolean()) {
                special.add(t.path("id").asInt());
            }
        }
        Map<String, String> specialTokens = new HashMap<>();
        for (String role : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            String text = tokenText(config.get(role));
            if (text != null && !text.isEmpty()) {
                specialTokens.put(role, text);
            }
        }
        ChatTemplate template = ChatTemplate.select(chatTemplate(config, configFile), configFile, specialTokens);
        return new HfTokenizer(new AddedTokens(added, normalizer), normalizer, preTokenizer, bpe, Map.copyOf(ids),
                tokens, Set.copyOf(stop), Set.copyOf(special), template,
                postProcessor(root.get("post_processor"), "post_processor"));
    }

    private JsonNode object(JsonNode parent, String field) {
        JsonNode node = parent.get(field);
        if (node == null || !node.isObject()) {
            throw bad(field, "missing or not an object");
        }
        return node;
    }

    private void checkBpeOptions(JsonNode model) {
        if (model.path("dropout").isNumber() && model.path("dropout").asDouble() != 0) {
            throw bad("model.dropout", "BPE dropout is not supported (encoding must be deterministic)");
        }
        if (model.path("byte_fallback").asBoolean()) {
            throw bad("model.byte_fallback", "byte fallback is not supported");
        }
        if (model.path("fuse_unk").asBoolean()) {
            throw bad("model.fuse_unk", "fusing unknown tokens is not supported");
        }
        for (String f : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!model.path(f).asText("").isEmpty()) {
                throw bad("model." + f, "not supported (byte-level BPE uses none)");
            }
        }
    }

    private Map<String, Integer> vocab(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw bad("model.vocab", "missing or not an object of token to id");
        }
        Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw bad("model.vocab[\"" + e.getKey() + "\"]", "id is not a non-negative integer");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    private Bpe.PairTable merges(JsonNode node, Map<String, Integer> vocab) {
        if (node == null || !node.isArray()) {
            throw bad("model.merges", "missing or not an array");
        }
        Bpe.PairTable table = new Bpe.PairTable(node.size());
        for (int rank = 0; rank < node.size(); rank++) {
            JsonNode m = node.get(rank);
            String field = "model.merges[" + rank + "]";
            String a;
            String b;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw bad(field, "'" + m.asText() + "' is not two tokens separated by one space");
                }
                a = parts[0];
                b = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                throw bad(field, "neither \"a b\" nor [\"a\", \"b\"]");
            }
            table.put(vocabId(vocab, a, field), vocabId(vocab, b, field), rank, vocabId(vocab, a + b, field));
        }
        return table;
    }

    private int vocabId(Map<String, Integer> vocab, String token, String field) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw bad(field, "token '" + token + "' is not in model.vocab");
        }
        return id;
    }

    private UnaryOperator<String> normalizer(JsonNode node, String field) {
        if (node == null || node.isNull()) {
            return UnaryOperator.identity();
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "NFC" -> new LegacyNormalizer(Normalizer.Form.NFC);
            case "NFD" -> new LegacyNormalizer(Normalizer.Form.NFD);
            case "NFKC" -> new LegacyNormalizer(Normalizer.Form.NFKC);
            case "NFKD" -> new LegacyNormalizer(Normalizer.Form.NFKD);
            case "Sequence" -> {
                JsonNode list = node.get("normalizers");
                if (list == null || !list.isArray()) {
                    throw bad(field + ".normalizers", "missing or not an array");
                }
                UnaryOperator<String> all = UnaryOperator.identity();
                for (int i = 0; i < list.size(); i++) {
                    UnaryOperator<String> first = all;
                    UnaryOperator<String> then = normalizer(list.get(i), field + ".normalizers[" + i + "]");
                    all = s -> then.apply(first.apply(s));
                }
                yield all;
            }
            default -> throw bad(field + ".type", "unsupported normalizer '" + type
                    + "' (supported: NFC, NFD, NFKC, NFKD, Sequence)");
        };
    }

    private PreTokenizer preTokenizer(JsonNode node) {
        List<Pattern> patterns = new ArrayList<>();
        if (!collectSplits(node, "pre_tokenizer", patterns)) {
            throw bad("pre_tokenizer", "no ByteLevel pre-tokenizer (only byte-level BPE is supported)");
        }
        return new PreTokenizer(patterns);
    }

    /** Adds the split patterns of a pre-tokenizer; returns whether a ByteLevel step was seen. */
    private boolean collectSplits(JsonNode node, String field, List<Pattern> patterns) {
        if (node == null || node.isNull()) {
            return false;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                JsonNode list = node.get("pretokenizers");
                if (list == null || !list.isArray()) {
                    throw bad(field + ".pretokenizers", "missing or not an array");
                }
                boolean byteLevel = false;
                for (int i = 0; i < list.size(); i++) {
                    String f = field + ".pretokenizers[" + i + "]";
                    if (byteLevel) {
                        throw bad(f, "a step after ByteLevel is not supported");
                    }
                    byteLevel = collectSplits(list.get(i), f, patterns);
                }
                return byteLevel;
            }
            case "Split" -> {
                if (!node.path("behavior").asText().equals("Isolated")) {
                    throw bad(field + ".behavior", "unsupported '" + node.path("behavior").asText()
                            + "' (only Isolated)");
                }
                if (node.path("invert").asBoolean()) {
                    throw bad(field + ".invert", "inverted splits are not supported");
                }
                JsonNode pattern = node.path("pattern");
                if (pattern.has("Regex")) {
                    patterns.add(compile(pattern.get("Regex").asText(), field + ".pattern.Regex"));
                } else if (pattern.has("String")) {
                    patterns.add(Pattern.compile(Pattern.quote(pattern.get("String").asText())));
                } else {
                    throw bad(field + ".pattern", "neither {\"Regex\": ...} nor {\"String\": ...}");
                }
                return false;
            }
            case "ByteLevel" -> {
                if (node.path("add_prefix_space").asBoolean()) {
                    throw bad(field + ".add_prefix_space", "true is not supported");
                }
                if (node.path("use_regex").asBoolean(true)) {
                    patterns.add(compile(PreTokenizer.GPT2_PATTERN, field + ".use_regex"));
                }
                return true;
            }
            default -> throw bad(field + ".type", "unsupported pre-tokenizer '" + type
                    + "' (supported: Sequence, Split, ByteLevel)");
        }
    }

    private Pattern compile(String regex, String field) {
        try {
            return PreTokenizer.compile(regex);
        } catch (PatternSyntaxException e) {
            throw bad(field, "pattern does not compile: " + e.getDescription());
        }
    }

    /**
     * The special tokens the post-processor puts around a single sequence ({@code TemplateProcessing.single},
     * e.g. Llama 3's {@code <|begin_of_text|> $A}); ByteLevel post-processing changes no ids.
     */
    private HfTokenizer.Template postProcessor(JsonNode node, String field) {
        String type = node == null || node.isNull() ? "none" : node.path("type").asText();
        switch (type) {
            case "none", "ByteLevel" -> {
                return HfTokenizer.Template.NONE;
            }
            case "Sequence" -> {
                HfTokenizer.Template template = HfTokenizer.Template.NONE;
                JsonNode list = node.path("processors");
                for (int i = 0; i < list.size(); i++) {
                    HfTokenizer.Template step = postProcessor(list.get(i), field + ".processors[" + i + "]");
                    template = step == HfTokenizer.Template.NONE ? template : step;
                }
                return template;
            }
            case "TemplateProcessing" -> {
                List<Integer> before = new ArrayList<>();
                List<Integer> after = new ArrayList<>();
                boolean seenA = false;
                JsonNode single = node.path("single");
                for (int i = 0; i < single.size(); i++) {
                    JsonNode piece = single.get(i);
                    if (piece.has("Sequence")) {
                        seenA = true;
                    } else if (piece.has("SpecialToken")) {
                        String token = piece.get("SpecialToken").path("id").asText();
                        JsonNode ids = node.path("special_tokens").path(token).path("ids");
                        if (!ids.isArray() || ids.isEmpty()) {
                            throw bad(field + ".special_tokens", "no ids for '" + token + "'");
                        }
                        List<Integer> side = seenA ? after : before;
                        ids.forEach(id -> side.add(id.asInt()));
                    } else {
                        throw bad(field + ".single[" + i + "]", "neither a Sequence nor a SpecialToken");
                    }
                }
                return new HfTokenizer.Template(before.stream().mapToInt(Integer::intValue).toArray(),
                        after.stream().mapToInt(Integer::intValue).toArray());
            }
            default -> throw bad(field + ".type", "unsupported post-processor '" + type
                    + "' (supported: ByteLevel, TemplateProcessing, Sequence)");
        }
    }

    private void checkDecoder(JsonNode node) {
        String type = node == null ? "null" : node.path("type").asText();
        if (!type.equals("ByteLevel")) {
            throw bad("decoder.type", "unsupported decoder '" + type + "' (only ByteLevel)");
        }
    }

    private List<AddedTokens.Token> addedTokens(JsonNode node) {
        List<AddedTokens.Token> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw bad("added_tokens", "not an array");
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode t = node.get(i);
            String field = "added_tokens[" + i + "]";
            if (!t.path("id").canConvertToInt() || t.path("id").asInt() < 0 || !t.path("content").isTextual()) {
                throw bad(field, "needs a non-negative integer id and a string content");
            }
            out.add(new AddedTokens.Token(t.get("id").asInt(), t.get("content").asText(),
                    t.path("single_word").asBoolean(), t.path("lstrip").asBoolean(), t.path("rstrip").asBoolean(),
                    t.path("normalized").asBoolean(!t.path("special").asBoolean())));
        }
        return out;
    }

    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return "";
        }
        return node.isObject() ? node.path("content").asText() : node.asText();
    }

    /** The chat template text: a string, or the entry named "default" of a list of named templates. */
    private static String chatTemplate(JsonNode config, Path configFile) {
        JsonNode t = config.get("chat_template");
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) {
            for (JsonNode entry : t) {
                if (entry.path("name").asText().equals("default")) {
                    return entry.path("template").asText();
                }
            }
        }
        throw new IllegalArgumentException(configFile + ": chat_template: neither a string nor a list holding a "
                + "template named 'default'");
    }
}
