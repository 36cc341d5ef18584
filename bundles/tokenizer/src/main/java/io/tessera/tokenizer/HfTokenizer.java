package io.tessera.tokenizer;

import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.IncrementalDecoder;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import java.io.ByteArrayOutputStream;
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
    private final AddedTokens addedTokens;
    private final UnaryOperator<String> normalizer;
    private final PreTokenizer preTokenizer;
    private final Bpe bpe;
    private final Map<String, Integer> ids;
    private final String[] tokens;
    /** The bytes each id decodes to (ByteLevel decoder: mapped characters, or the token's own UTF-8). */
    private final byte[][] bytes;
    private final Set<Integer> stopTokens;
    private final ChatTemplate chatTemplate;
    private final Template postProcessor;

    /** What the post-processor adds around one sequence: ids before and after it. */
    record Template(int[] before, int[] after) {
        static final Template NONE = new Template(new int[0], new int[0]);
    }

    HfTokenizer(AddedTokens addedTokens, UnaryOperator<String> normalizer, PreTokenizer preTokenizer, Bpe bpe,
                Map<String, Integer> ids, String[] tokens, Set<Integer> stopTokens, ChatTemplate chatTemplate,
                Template postProcessor) {
        this.addedTokens = addedTokens;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.bpe = bpe;
        this.ids = ids;
        this.tokens = tokens;
        this.stopTokens = stopTokens;
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
        return new MimoOutputParser(tools == null ? List.of() : tools);
    }
}
