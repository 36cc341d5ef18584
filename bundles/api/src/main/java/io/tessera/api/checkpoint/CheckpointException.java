package io.tessera.api.checkpoint;

import java.nio.file.Path;
import java.util.List;

/**
 * A checkpoint that cannot be opened. The message names the file and the tensor or field; {@link #problems()}
 * lists every problem found when validation finds several.
 */
public class CheckpointException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    private final List<String> problems;

    public CheckpointException(Path file, String problem) {
        this(file, List.of(problem), null);
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        this(file, List.of(problem), cause);
    }

    public CheckpointException(Path file, List<String> problems, Throwable cause) {
        super(file + ": " + (problems.size() == 1 ? problems.get(0)
                : problems.size() + " problems:\n  " + String.join("\n  ", problems)), cause);
        this.file = file;
        this.problems = List.copyOf(problems);
    }

    /** The file at fault (a shard, an index, config.json, or the directory). */
    public Path file() {
        return file;
    }

    /** Each problem, one line each, naming the tensor or field. */
    public List<String> problems() {
        return problems;
    }
}
