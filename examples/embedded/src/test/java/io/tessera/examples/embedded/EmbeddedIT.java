package io.tessera.examples.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The example program runs the embedded stack and gives transformers' greedy continuation of the default model. */
class EmbeddedIT {

    @Test
    void generatesTheGoldenContinuation() throws Exception {
        Path repo = Path.of(System.getProperty("tessera.repo"));
        Main.Result result = Main.generate(Path.of(System.getProperty("tessera.stack")),
                repo.resolve("distribution/model"), "public static int max(", 16);
        String goldens = Files.readString(repo.resolve("tools/reference/goldens/tessera-java-mini/goldens.json"))
                .replaceAll("\\s", "");
        Matcher greedy = Pattern.compile("\"prompt\":\"greedy_main\",\"continuation\":\\[([0-9,]*)").matcher(goldens);
        greedy.find();
        Integer[] expected = Arrays.stream(greedy.group(1).split(",")).limit(16).map(Integer::valueOf)
                .toArray(Integer[]::new);
        assertArrayEquals(expected, result.ids(), "generated: " + result.text());
    }
}
