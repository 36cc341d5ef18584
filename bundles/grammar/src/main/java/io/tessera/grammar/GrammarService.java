package io.tessera.grammar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarCompiler;
import io.tessera.api.grammar.GrammarException;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Function;
import org.osgi.service.component.annotations.Component;

/**
 * The grammar compiler service. Keeps each tokenizer's vocabulary trie, and the last {@value #CACHED} grammars
 * with their cached masks, so a schema that recurs (an agent's tool set, a client's response format) is
 * compiled and masked once.
 */
@Component(service = GrammarCompiler.class)
public final class GrammarService implements GrammarCompiler {
    static final int CACHED = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<Tokenizer, VocabularyTrie> tries = new WeakHashMap<>();
    private final Map<Key, CompiledGrammar> grammars = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, CompiledGrammar> eldest) {
            return size() > CACHED;
        }
    };

    private record Key(Tokenizer tokenizer, String what, boolean thinking) {
    }

    @Override
    public Grammar jsonObject(Tokenizer tokenizer, boolean thinking) {
        return grammar(tokenizer, "json_object", thinking, c -> {
            Piece member = Piece.seq(c.string(Piece.repeat(c.character(), 0, -1)), c.ws(), Piece.literal(":"),
                    c.ws(), c.anyValue());
            return c.object(member);
        }, null);
    }

    @Override
    public Grammar jsonSchema(Map<String, ?> schema, Tokenizer tokenizer, boolean thinking) {
        return grammar(tokenizer, "schema " + json(schema), thinking, c -> c.value(schema), schema);
    }

    @Override
    public Grammar toolCalls(List<ToolSpec> tools, boolean parallel, Tokenizer tokenizer, boolean thinking) {
        return grammar(tokenizer, "tools " + parallel + " " + json(tools), thinking,
                c -> ToolCalls.calls(c, tools, parallel), null);
    }

    private Grammar grammar(Tokenizer tokenizer, String what, boolean thinking, Function<SchemaCompiler, Piece> body,
                            Object root) {
        Key key = new Key(tokenizer, what, thinking);
        synchronized (this) {
            CompiledGrammar cached = grammars.get(key);
            if (cached != null) {
                return cached;
            }
        }
        SchemaCompiler compiler = new SchemaCompiler(root);
        int rule = compiler.output(body.apply(compiler), thinking);
        CompiledGrammar grammar = new CompiledGrammar(compiler.nfa, rule, trie(tokenizer));
        synchronized (this) {
            grammars.put(key, grammar);
        }
        return grammar;
    }

    private synchronized VocabularyTrie trie(Tokenizer tokenizer) {
        return tries.computeIfAbsent(tokenizer, VocabularyTrie::new);
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new GrammarException("schema", "not JSON: " + e.getMessage());
        }
    }
}
