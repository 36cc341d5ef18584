package io.tessera.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarMatcher;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.common.schema.RandomSchemas;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded random schemas, each sampled by random walks over its token masks (uniform among the allowed tokens,
 * or the end where the grammar is complete): every output parses and validates (networknt), and for sampled
 * tokens the mask agrees with token-by-token acceptance. The model-driven version is the OSGi itest.
 */
class RandomSchemaTest {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Test
    void randomWalksOnTheFixtureVocabularyValidate() throws Exception {
        check(Vocabularies.fixture(), 120, 3, 1);
    }

    @Test
    void randomWalksOnTheQwen3VocabularyValidate() throws Exception {
        check(Vocabularies.qwen3(), 25, 2, 2);
    }

    private static void check(Tokenizer tokenizer, int schemas, int walks, long seed) throws Exception {
        GrammarService compiler = new GrammarService();
        NetworkntValidator validator = new NetworkntValidator();
        RandomSchemas generator = new RandomSchemas(seed);
        SplittableRandom random = new SplittableRandom(seed);
        int[] bits = new int[(tokenizer.vocabSize() + 31) / 32];
        int stopped = 0;
        int total = 0;
        for (int i = 0; i < schemas; i++) {
            Map<String, Object> schema = generator.next();
            Grammar grammar = compiler.jsonSchema(schema, tokenizer, false);
            for (int w = 0; w < walks; w++) {
                GrammarMatcher matcher = grammar.matcher();
                List<Integer> tokens = new ArrayList<>();
                boolean stop = false;
                while (tokens.size() < 2000 && !stop) {
                    matcher.fillMask(bits);
                    List<Integer> allowed = allowed(bits, tokenizer.vocabSize());
                    int choice = random.nextInt(allowed.size() + (matcher.complete() ? 1 : 0));
                    if (choice == allowed.size()) {
                        stop = true;
                        break;
                    }
                    int token = allowed.get(choice);
                    for (int probe = 0; probe < 4; probe++) {   // the mask agrees with acceptance
                        int t = random.nextInt(tokenizer.vocabSize());
                        boolean accepted = matcher.accept(t);
                        if (accepted) {
                            matcher.rollback(1);
                        }
                        assertEquals((bits[t >>> 5] >>> (t & 31) & 1) == 1, accepted, "token " + t);
                    }
                    assertTrue(matcher.accept(token));
                    tokens.add(token);
                }
                total++;
                if (!stop) {
                    continue;
                }
                stopped++;
                String text = tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
                Object value = JSON.readValue(text, Object.class);
                assertEquals(List.of(), validator.validate(value, schema), schema + "\n" + text);
            }
        }
        assertTrue(stopped >= 0.95 * total, stopped + " of " + total + " walks ended");
    }

    private static List<Integer> allowed(int[] bits, int vocab) {
        List<Integer> out = new ArrayList<>();
        for (int t = 0; t < vocab; t++) {
            if ((bits[t >>> 5] >>> (t & 31) & 1) == 1) {
                out.add(t);
            }
        }
        return out;
    }
}
