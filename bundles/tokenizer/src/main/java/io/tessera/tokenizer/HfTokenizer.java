package io.tessera.tokenizer;

import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.IncrementalDecoder;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A loaded tokenizer.json: added tokens, normalizer, pre-tokenizer, byte-level BPE and the ByteLevel decoder, in
 * the order Hugging Face's pipeline applies them. Immutable apart from the BPE word cache, which is concurrent.
 */
final class HfTokenizer implements Tokenizer {
    /** Where a message's added-token text stands while its conversation is rendered (private-use characters). */
    private static final char LITERAL_OPEN = '\uF8F0';
    private static final char LITERAL_CLOSE = '\uF8F1';
    private final AddedTokens addedTokens;
    private final UnaryOperator<String> normalizer;
    private final PreTokenizer preTokenizer;
    private final Bpe bpe;
    private final Map<String, Integer> ids;
    private final String[] tokens;
    /** The bytes each id decodes to (ByteLevel decoder: mapped characters, or the token's own UTF-8). */
    private final byte[][] bytes;
    private final Set<Integer> stopTokens;
    private final Set<Integer> specialTokens;
    private final ChatTemplate chatTemplate;
    private final Template postProcessor;

    /** What the post-processor adds around one sequence: ids before and after it. */
    record Template(int[] before, int[] after) {
        static final Template NONE = new Template(new int[0], new int[0]);
    }

    HfTokenizer(AddedTokens addedTokens, UnaryOperator<String> normalizer, PreTokenizer preTokenizer, Bpe bpe,
                Map<String, Integer> ids, String[] tokens, Set<Integer> stopTokens, Set<Integer> specialTokens,
                ChatTemplate chatTemplate, Template postProcessor) {
        this.addedTokens = addedTokens;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.bpe = bpe;
        this.ids = ids;
        this.tokens = tokens;
        this.stopTokens = stopTokens;
        this.specialTokens = specialTokens;
        this.chatTemplate = chatTemplate;
        this.postProcessor = postProcessor;
        bytes = new byte[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] != null) {
                byte[] b = ByteLevel.bytesOf(tokens[i]);
                bytes[i] = b != null ? b : tokens[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
        }
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList();
        PreTokenizer.Sink toBpe = piece -> bpe.encode(piece, out);
        AddedTokens.Sink normalizedRest = (s, from, to) -> preTokenizer.split(s.substring(from, to), toBpe);
        AddedTokens.Sink rawRest = (s, from, to) ->
                addedTokens.splitNormalized(normalizer.apply(s.substring(from, to)), out, normalizedRest);
        addedTokens.splitRaw(Utf8.replaceLoneSurrogates(text), out, rawRest);
        return out.toArray();
    }

    /** Encodes text as plain text: added and special tokens in it are not matched. */
    private void encodePlain(String text, IntList out) {
        preTokenizer.split(normalizer.apply(Utf8.replaceLoneSurrogates(text)), piece -> bpe.encode(piece, out));
    }

    /**
     * Renders the conversation with every added-token text inside the messages replaced by a placeholder of
     * private-use characters (which no template alters), encodes the template's text, and encodes each replaced text
     * where its placeholder stands as plain text: a message cannot forge {@code <|im_end|>} or a role.
     */
    @Override
    public int[] encodeChat(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
        List<String> literals = new ArrayList<>();
        List<ChatMessage> escaped = new ArrayList<>();
        for (ChatMessage m : messages) {
            escaped.add(new ChatMessage(m.role(), escape(m.content(), literals),
                    escape(m.reasoningContent(), literals), m.toolCalls(), m.toolCallId()));
        }
        String text = renderChat(escaped, tools, options);
        IntList out = new IntList();
        int from = 0;
        for (int open; (open = text.indexOf(LITERAL_OPEN, from)) >= 0; ) {
            int close = text.indexOf(LITERAL_CLOSE, open);
            out.addAll(encode(text.substring(from, open)));
            encodePlain(literals.get(Integer.parseInt(text.substring(open + 1, close))), out);
            from = close + 1;
        }
        out.addAll(encode(text.substring(from)));
        return out.toArray();
    }

    /** {@code text} with each added-token text (and each placeholder character) replaced by a placeholder. */
    private String escape(String text, List<String> literals) {
        if (text == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        scan:
        while (i < text.length()) {
            for (String literal : addedTokens.contents()) {
                if (text.startsWith(literal, i)) {
                    i += placeholder(literal, literals, out);
                    continue scan;
                }
            }
            char c = text.charAt(i);
            if (c == LITERAL_OPEN || c == LITERAL_CLOSE) {
                i += placeholder(String.valueOf(c), literals, out);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int placeholder(String literal, List<String> literals, StringBuilder out) {
        out.append(LITERAL_OPEN).append(literals.size()).append(LITERAL_CLOSE);
        literals.add(literal);
        return literal.length();
    }

    @Override
    public int[] encodeWithSpecialTokens(String text) {
        int[] body = encode(text);
        int[] out = new int[postProcessor.before().length + body.length + postProcessor.after().length];
        System.arraycopy(postProcessor.before(), 0, out, 0, postProcessor.before().length);
        System.arraycopy(body, 0, out, postProcessor.before().length, body.length);
        System.arraycopy(postProcessor.after(), 0, out, postProcessor.before().length + body.length,
                postProcessor.after().length);
        return out;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            out.writeBytes(bytesOf(id));
        }
        byte[] all = out.toByteArray();
        return Utf8.decode(all, 0, all.length);
    }

    /** The bytes of one id; an id without a token decodes to nothing, as in the reference. */
    byte[] bytesOf(int id) {
        return id >= 0 && id < bytes.length && bytes[id] != null ? bytes[id] : new byte[0];
    }

    @Override
    public byte[] tokenBytes(int id) {
        return id >= 0 && id < bytes.length && bytes[id] != null && !specialTokens.contains(id) ? bytes[id].clone()
                : null;
    }

    @Override
    public IncrementalDecoder newDecoder() {
        return new StreamDecoder(this);
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public OptionalInt id(String token) {
        Integer id = ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    @Override
    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    @Override
    public String renderChat(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
        return chatTemplate.render(messages, tools == null ? List.of() : tools, options);
    }

    @Override
    public OutputParser newOutputParser(List<ToolSpec> tools) {
        return chatTemplate.newParser(tools == null ? List.of() : tools);
    }
}
