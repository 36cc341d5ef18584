package io.tessera.api.checkpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.IntPredicate;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The fields of one {@code config.json}, handed by the checkpoint loader to the model architecture that maps
 * them to a {@link ModelConfig} ({@link io.tessera.api.model.ModelArchitecture#config}). Every getter takes the
 * family's default for an absent key (and, unless said otherwise, for JSON null); a value of the wrong type or
 * range is recorded as a problem naming the field, and the getter returns the default so that every problem of
 * a config is reported at once. Spellings the families share (RoPE in {@code rope_parameters} or
 * {@code rope_theta}/{@code rope_scaling}, {@code quantization_config}, token ids) are parsed here, once.
 */
@ProviderType
public interface ConfigFields {
    /** Far above any real model: the caps a family passes for layer and expert counts, so that a hostile config
     *  cannot make the loader allocate or enumerate without bound. */
    int MAX_LAYERS = 1024;
    int MAX_EXPERTS = 4096;

    /** The config file, for messages. */
    Path file();

    /** {@code architectures[0]}, or {@code model_type} when the list is absent. */
    String architecture();

    /** MTP blocks found in the tensor index (0 for a config-only read). */
    int mtpLayers();

    boolean has(String key);

    /** A positive integer; at most {@code max}. */
    int positive(String key, int fallback, int max);

    /** A finite positive number; JSON null gives {@code ifNull} (null: the same as absent). */
    double positiveNumber(String key, double fallback, Double ifNull);

    boolean bool(String key, boolean fallback);

    String string(String key, String fallback);

    /** A list of non-negative integers (e.g. {@code mlp_only_layers}); absent or null: empty. */
    List<Integer> integers(String key);

    /**
     * A per-layer flag from the hub list of 0/1 ints ({@code hubKey}) or the transformers list of names
     * ({@code nativeKey}, {@code falseName}/{@code trueName}); both absent: {@code rule}.
     */
    boolean[] layerFlags(int layers, String hubKey, String nativeKey, String falseName, String trueName,
                         IntPredicate rule);

    /**
     * A number of {@code rope_parameters}, per layer type ({@code {"full_attention": {...}}}) or flat; absent:
     * {@code fallback}.
     */
    double ropeParameter(String layerType, String key, double fallback);

    /**
     * The RoPE base of a layer type: {@code hubKey} (e.g. {@code rope_theta}) when present, else
     * {@code rope_parameters[.layerType].rope_theta}, else {@code fallback}.
     */
    double ropeTheta(String layerType, String hubKey, double fallback);

    /**
     * The RoPE scaling of a layer type from {@code rope_parameters} ({@code rope_type}) or the older
     * {@code rope_scaling} ({@code rope_type} or {@code type}); a rule this runtime lacks is a problem naming the
     * field and the rule.
     */
    RopeScaling ropeScaling(String layerType);

    /**
     * {@code quantization_config}: FP8 E4M3 blocks ({@code weight_block_size}); other formats (e.g.
     * compressed-tensors) are a problem naming the format.
     */
    Optional<ModelConfig.Quantization> quantization();

    /** {@code bos_token_id}: absent gives {@code fallback}, JSON null none. */
    Optional<Integer> bosTokenId(Optional<Integer> fallback);

    /** {@code eos_token_id}: one id or a list. */
    List<Integer> eosTokenIds();

    /** Records a problem when {@code key} is present with a value other than {@code expected}. */
    void expect(String key, Object expected, String why);

    /** Records a problem of this config; the message names the field. */
    void problem(String message);
}
