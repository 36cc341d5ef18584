import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * Step 2 of deriving LegacyNormalizer's table: prints the code points whose NFC in java.text.Normalizer differs
 * from Hugging Face's (hf-probes.txt), writes nfd-pairs.txt (every canonical decomposition Java knows), and, once
 * hf_side.py --pairs has run, prints the composites the reference does not compose (their components go into the
 * table when they are as new as the composite). Usage: java JavaSide.java DIR
 */
public class JavaSide {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String[] probes = {"a%1$s\u0301%1$s\u0316", "%1$s", "%1$s\u0301", "\u1100%1$s", "e%1$s"};
        TreeSet<Integer> differ = new TreeSet<>();
        List<String> lines = Files.readAllLines(dir.resolve("hf-probes.txt"));
        for (int i = 0; i < lines.size(); i++) {
            String[] p = lines.get(i).split(" ", -1);
            int c = Integer.parseInt(p[0], 16);
            String probe = String.format(probes[i % probes.length], Character.toString(c));
            if (!hex(Normalizer.normalize(probe, Normalizer.Form.NFC)).equals(p[1])) {
                differ.add(c);
            }
        }
        differ.forEach(c -> System.out.printf("mark U+%04X%n", c));
        Path hfPairs = dir.resolve("hf-pairs.txt");
        if (Files.exists(hfPairs)) {
            for (String line : Files.readAllLines(hfPairs)) {
                String[] p = line.split(" ");
                String c = Character.toString(Integer.parseInt(p[0], 16));
                if (!hex(c).equals(p[1])) {
                    System.out.printf("composite U+%04X = %s%n", c.codePointAt(0),
                            Normalizer.normalize(c, Normalizer.Form.NFD).codePoints()
                                    .mapToObj(x -> String.format("U+%04X", x)).toList());
                }
            }
        } else {
            StringBuilder out = new StringBuilder();
            for (int c = 0x80; c < 0x110000; c++) {
                String s = Character.toString(c);
                String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
                if (!(c >= 0xD800 && c <= 0xDFFF) && !nfd.equals(s)
                        && Normalizer.normalize(nfd, Normalizer.Form.NFC).equals(s)) {
                    out.append(Integer.toHexString(c)).append(' ').append(hex(nfd)).append('\n');
                }
            }
            Files.writeString(dir.resolve("nfd-pairs.txt"), out);
        }
    }

    private static String hex(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
    }
}
