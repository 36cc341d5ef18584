package io.tessera.api.tokenizer;

import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A loaded tokenizer: byte-level BPE encoding token-exact with Hugging Face {@code tokenizers}, decoding, and the
 * model's chat format. Immutable and thread-safe; the incremental decoders and output parsers it creates are not
 * (one per stream).
 */
@ProviderType
public interface Tokenizer {

    /** Encodes text; added and special tokens in the text are matched first and never split. No BOS is added. */
    int[] encode(String text);

    /**
     * Encodes text as Hugging Face's {@code encode(text)} does by default ({@code add_special_tokens=True}): the
     * ids of {@link #encode} inside what the tokenizer's {@code post_processor} adds to one sequence (Llama 3:
     * {@code <|begin_of_text|>} first; Qwen: nothing). Use it for plain-text prompts, not for a rendered chat,
     * whose template writes its own special tokens.
     */
    int[] encodeWithSpecialTokens(String text);

    /** Decodes ids to text exactly as the reference decoder does (special tokens included). */
    String decode(int[] ids);

    /** A decoder for a token stream that never emits a broken UTF-8 sequence; see {@link IncrementalDecoder}. */
    IncrementalDecoder newDecoder();

    /** Number of ids, added tokens included (may be less than the model's embedding rows). */
    int vocabSize();

    /** The id of a token string (vocabulary or added token). */
    OptionalInt id(String token);

    /** The token string of an id, or {@code null} if none. */
    String token(int id);

    /**
     * The bytes id {@code id} stands for as text (what {@link #decode} appends for it), or {@code null} for a
     * special token ({@code <|im_end|>}, {@code <|im_start|>}: control tokens, not text) or an id without a token.
     * Constrained decoding matches tokens by these bytes.
     */
    byte[] tokenBytes(int id);

    /** Ids that end a generation ({@code <|im_end|>}, {@code <|endoftext|>}, eos from the config). */
    Set<Integer> stopTokens();

    /**
     * Renders a conversation into the prompt text with the checkpoint's chat template, byte-identical to
     * transformers' {@code apply_chat_template}.
     *
     * @throws IllegalArgumentException      the template refuses the conversation (its {@code raise_exception})
     * @throws UnsupportedOperationException the template uses a construct the implementation cannot render, named
     */
    String renderChat(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options);

    /**
     * Renders a conversation ({@link #renderChat}) and encodes it so that only the template's own special tokens are
     * special: special-token text inside the messages (content, reasoning) is encoded as plain text, so a message
     * cannot end its turn or forge a role. The default encodes the rendered text as {@link #encode} does, without
     * that guarantee; implementations should override it.
     *
     * @since 0.2 of this package
     */
    default int[] encodeChat(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
        return encode(renderChat(messages, tools, options));
    }

    /** A parser that splits streamed model output into reasoning, content and tool calls. */
    OutputParser newOutputParser(List<ToolSpec> tools);
}
