package io.tessera.api.kernel;

/** How {@link KernelBackend#route} turns router logits into expert scores. */
public enum ScoreFunction {
    /** {@code s_e = σ(logit_e)} (DeepSeek-V3, MiMo-V2-Flash). */
    SIGMOID,
    /** {@code s = softmax(logits)} over all experts, in F32 (Mixtral, Qwen-MoE). */
    SOFTMAX;

    /** The config's {@code scoring_func} spelling: {@code sigmoid} or {@code softmax}. */
    public static ScoreFunction of(String scoringFunc) {
        return switch (scoringFunc) {
            case "sigmoid" -> SIGMOID;
            case "softmax" -> SOFTMAX;
            default -> throw new IllegalArgumentException("scoring_func '" + scoringFunc
                    + "' is not supported (sigmoid or softmax)");
        };
    }
}
