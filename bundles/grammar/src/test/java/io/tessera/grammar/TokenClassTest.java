package io.tessera.grammar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import io.tessera.common.schema.RandomSchemas;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The lexical-class fast path is exact: along seeded random walks over random schemas, JSON objects and forced
 * tool calls (with thinking), every state's mask equals the mask of a walk of the whole trie — and the fast path
 * is taken in many of those states, so the comparison covers it.
 */
class TokenClassTest {
    @Test
    void fastMasksEqualTrieWalksOnTheFixtureVocabulary() {
        check(Vocabularies.fixture(), 60, 300, 5);
    }

    @Test
    void fastMasksEqualTrieWalksOnTheQwen3Vocabulary() {
        check(Vocabularies.qwen3(), 4, 40, 6);
    }

    private static void check(Tokenizer tokenizer, int schemas, int steps, long seed) {
        GrammarService compiler = new GrammarService();
        RandomSchemas generator = new RandomSchemas(seed);
        SplittableRandom random = new SplittableRandom(seed);
        List<CompiledGrammar> grammars = new ArrayList<>();
        grammars.add((CompiledGrammar) compiler.jsonObject(tokenizer, false));
        Map<String, Object> args = Map.of("type", "object", "properties", Map.of("text", Map.of("type", "string")),
                "required", List.of("text"));
        grammars.add((CompiledGrammar) compiler.toolCalls(List.of(new ToolSpec("say", "", args)), true, tokenizer,
                true));
        for (int i = 0; i < schemas; i++) {
            grammars.add((CompiledGrammar) compiler.jsonSchema(generator.next(), tokenizer, random.nextBoolean()));
        }
        int[] bits = new int[(tokenizer.vocabSize() + 31) / 32];
        int compared = 0;
        int classified = 0;
        for (CompiledGrammar grammar : grammars) {
            int state = grammar.start();
            for (int step = 0; step < steps && state != Automaton.DEAD; step++) {
                grammar.mask(state, bits);
                assertArrayEquals(grammar.walkedMask(state), bits, "mask of state " + state);
                compared++;
                classified += grammar.classified(state) ? 1 : 0;
                List<Integer> allowed = new ArrayList<>();
                for (int t = 0; t < tokenizer.vocabSize(); t++) {
                    if ((bits[t >>> 5] >>> (t & 31) & 1) == 1) {
                        allowed.add(t);
                    }
                }
                if (allowed.isEmpty()) {
                    break;
                }
                state = grammar.advance(state, allowed.get(random.nextInt(allowed.size())));
            }
        }
        assertTrue(classified > compared / 10, classified + " of " + compared + " states took the fast path");
    }
}
