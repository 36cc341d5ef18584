package io.tessera.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.tokenizer.IncrementalDecoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every corpus line against the goldens of Hugging Face tokenizers (tools/tokenizer/make_goldens.py): same ids,
 * same decode, and the incremental decoder's stream equals the full decode.
 */
class GoldenTest {

    @Test
    void qwen3MatchesReferenceOnEveryCorpusLine() {
        check(Assets.qwen3(), Assets.corpus(), Assets.jsonLines("goldens-qwen3.jsonl.gz"));
    }

    @Test
    void smallTokenizerMatchesReference(@TempDir Path dir) {
        List<String> corpus = Assets.corpus();
        List<String> every8th = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i += 8) {
            every8th.add(corpus.get(i));
        }
        check(Assets.load("small", dir), every8th, Assets.jsonLines("goldens-small.jsonl.gz"));
    }

    /**
     * A Llama-3-shaped tokenizer trained here (tools/families/make_family_fixtures.py): Llama 3's split regex,
     * byte-level BPE with ignore_merges, specials after the BPE ids, and a post-processor that prepends
     * {@code <|begin_of_text|>}: same ids, same decode, same prefix as HF's default {@code encode}.
     */
    @Test
    void llama3ShapedTokenizerMatchesReference() {
        List<String> corpus = Assets.corpus();
        List<String> every16th = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i += 16) {
            every16th.add(corpus.get(i));
        }
        HfTokenizer tok = Assets.llama3();
        List<JsonNode> goldens = Assets.jsonLines("goldens-llama3.jsonl.gz");
        check(tok, every16th, goldens);
        int[] prefix = Assets.ints(goldens.getFirst().get("prefix"));
        assertEquals(List.of(tok.id("<|begin_of_text|>").getAsInt()), Arrays.stream(prefix).boxed().toList());
        for (int i = 0; i < every16th.size(); i += 50) {
            int[] ids = Assets.ints(goldens.get(i).get("ids"));
            int[] want = new int[prefix.length + ids.length];
            System.arraycopy(prefix, 0, want, 0, prefix.length);
            System.arraycopy(ids, 0, want, prefix.length, ids.length);
            assertArrayEquals(want, tok.encodeWithSpecialTokens(every16th.get(i)), "line " + i);
        }
    }

    @Test
    void randomIdSequencesDecodeAsReference() {
        HfTokenizer tok = Assets.qwen3();
        List<JsonNode> rows = Assets.jsonLines("decode-qwen3.jsonl.gz");
        List<String> failures = new ArrayList<>();
        for (JsonNode row : rows) {
            int[] ids = Assets.ints(row.get("ids"));
            String want = row.get("text").asText();
            if (!tok.decode(ids).equals(want) || !stream(tok, ids).equals(want)) {
                failures.add(Arrays.toString(ids));
            }
        }
        assertTrue(rows.size() >= 1000);
        assertEquals(List.of(), failures.subList(0, Math.min(5, failures.size())), failures.size() + " failures");
    }

    @Test
    void streamEqualsFullDecodeForRandomIds() {
        HfTokenizer tok = Assets.qwen3();
        java.util.Random random = new java.util.Random(11);
        for (int trial = 0; trial < 20000; trial++) {
            int[] ids = new int[1 + random.nextInt(10)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(4) == 0 ? random.nextInt(tok.vocabSize() + 10) : random.nextInt(256);
            }
            assertEquals(tok.decode(ids), stream(tok, ids), Arrays.toString(ids));
        }
    }

    private static void check(HfTokenizer tok, List<String> lines, List<JsonNode> goldens) {
        assertEquals(lines.size(), goldens.size(), "corpus and goldens differ in length");
        int encodeFailures = 0;
        int decodeFailures = 0;
        int streamFailures = 0;
        List<String> examples = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int[] want = Assets.ints(goldens.get(i).get("ids"));
            int[] got = tok.encode(line);
            if (!Arrays.equals(want, got)) {
                encodeFailures++;
                if (examples.size() < 3) {
                    examples.add("line " + i + " " + Assets.JSON.valueToTree(line) + "\n want " + Arrays.toString(want)
                            + "\n got  " + Arrays.toString(got));
                }
            }
            JsonNode decoded = goldens.get(i).get("decoded");
            String wantText = decoded.isNull() ? Utf8.replaceLoneSurrogates(line) : decoded.asText();
            String full = tok.decode(want);
            if (!full.equals(wantText)) {
                decodeFailures++;
            }
            if (!stream(tok, want).equals(full)) {
                streamFailures++;
            }
        }
        assertEquals(0, encodeFailures, encodeFailures + " of " + lines.size() + " lines encode differently:\n"
                + String.join("\n", examples));
        assertEquals(0, decodeFailures, "lines decoding differently");
        assertEquals(0, streamFailures, "lines whose incremental decode differs from the full decode");
    }

    /** The incremental decoder's whole stream; also checks that no piece ends in a broken sequence. */
    static String stream(HfTokenizer tok, int[] ids) {
        IncrementalDecoder d = tok.newDecoder();
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String piece = d.next(id);
            assertTrue(piece.isEmpty() || !Character.isHighSurrogate(piece.charAt(piece.length() - 1)),
                    "a piece ends inside a surrogate pair");
            out.append(piece);
        }
        return out.append(d.flush()).toString();
    }
}
