package io.tessera.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.CheckpointLoader;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.TensorLayout;
import io.tessera.api.model.ModelArchitecture;
import io.tessera.common.model.Architectures;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens safetensors checkpoints by memory-mapping their shards into one shared arena per checkpoint. The config
 * is mapped by the {@link ModelArchitecture} service that serves its {@code architectures[0]} (a family bundle);
 * without one the checkpoint is refused, naming the architecture and the families installed.
 *
 * <p>Stateless: it keeps no reference to the checkpoints it hands out, so deactivating this component (stopping
 * the bundle) never unmaps weights a model still reads; each checkpoint lives until its last holder closes it.
 */
@Component(service = CheckpointLoader.class)
public class SafetensorsCheckpointLoader implements CheckpointLoader {
    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsCheckpointLoader.class);
    static final String CONFIG = "config.json";
    static final String INDEX = "model.safetensors.index.json";
    static final String SINGLE = "model.safetensors";
    private static final String SCALE_SUFFIX = "_scale_inv";
    private static final String MTP_PREFIX = "model.mtp.layers.";

    private final Architectures architectures = new Architectures();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addArchitecture(ModelArchitecture architecture, Map<String, Object> properties) {
        architectures.add(architecture, properties);
    }

    void removeArchitecture(ModelArchitecture architecture, Map<String, Object> properties) {
        architectures.remove(architecture, properties);
    }

    /** An opened checkpoint with the validation problems found (empty when it is complete). */
    record Loaded(MappedCheckpoint checkpoint, List<String> problems, List<String> unexpected) {
    }

    @Override
    public Checkpoint open(Path directory) throws CheckpointException {
        Loaded loaded = load(directory);
        if (!loaded.problems().isEmpty()) {
            loaded.checkpoint().close();
            throw new CheckpointException(directory, loaded.problems(), null);
        }
        return loaded.checkpoint();
    }

    @Override
    public ModelConfig readConfig(Path configJson) throws CheckpointException {
        return config(configJson, Json.readObject(configJson), 0);
    }

    /**
     * Maps a config with the architecture serving its {@code architectures[0]} (or, without that list, its
     * {@code model_type}); a {@code model_type} of another installed family is logged as a warning.
     */
    ModelConfig config(Path file, JsonNode root, int mtpLayers) throws CheckpointException {
        ConfigReader fields = new ConfigReader(file, root, mtpLayers);
        String name = fields.architecture();
        if (name == null) {
            throw new CheckpointException(file, "field 'architectures': missing, and no 'model_type' either");
        }
        ModelArchitecture architecture = architectures.find(name).or(() -> architectures.findType(name))
                .orElseThrow(() -> new CheckpointException(file, "field 'architectures': " + name
                        + " is served by no installed model family (installed: "
                        + String.join(", ", architectures.installed()) + ")"));
        String type = fields.modelType();
        if (type != null && architectures.findType(type).filter(t -> t != architecture).isPresent()) {
            LOG.warn("{}: model_type '{}' belongs to another family than architectures[0] {}; using {}", file, type,
                    name, name);
        }
        ModelConfig config = architecture.config(fields);
        if (!fields.problems().isEmpty()) {
            throw new CheckpointException(file, fields.problems(), null);
        }
        return config;
    }

    /**
     * Maps every shard and checks headers, index and config; structural errors throw, validation problems come
     * back with the (open) checkpoint so that {@code model:inspect} can show them next to what is there.
     */
    Loaded load(Path directory) throws CheckpointException {
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException(directory, "not a directory");
        }
        Path configFile = directory.resolve(CONFIG);
        JsonNode configRoot = Json.readObject(configFile);
        Map<String, String> weightMap = weightMap(directory);
        List<Path> shards = shards(directory, weightMap);
        Arena arena = Arena.ofShared();
        try {
            List<String> problems = new ArrayList<>();
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (Path shard : shards) {
                mapShard(shard, weightMap, arena, all, problems);
            }
            if (weightMap != null) {
                weightMap.forEach((name, shard) -> {
                    if (!all.containsKey(name)) {
                        problems.add("tensor '" + name + "': the index puts it in " + shard + " but its header lacks it");
                    }
                });
            }
            TensorLayout layout = all.keySet().stream().anyMatch(n -> n.endsWith(".mlp.experts.gate_up_proj")
                    || n.endsWith(".self_attn.sinks")) ? TensorLayout.NATIVE : TensorLayout.HUB;
            ModelConfig config = config(configFile, configRoot, mtpLayers(all, problems));
            Map<String, Tensor> tensors = attachScales(all, config, problems);
            TensorValidator.Result result = TensorValidator.validate(config, layout, tensors);
            problems.addAll(result.problems());
            return new Loaded(new MappedCheckpoint(directory, config, layout, tensors, arena), List.copyOf(problems),
                    result.unexpected());
        } catch (CheckpointException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * The index's {@code weight_map} (tensor name to shard file name), read with a streaming parser since the
     * real one lists about 73k tensors; null when the checkpoint is a single unindexed file.
     */
    private static Map<String, String> weightMap(Path directory) throws CheckpointException {
        Path index = directory.resolve(INDEX);
        if (!Files.exists(index)) {
            if (!Files.isRegularFile(directory.resolve(SINGLE))) {
                throw new CheckpointException(directory, "neither " + INDEX + " nor " + SINGLE + " is present");
            }
            return null;
        }
        Map<String, String> map = new LinkedHashMap<>();
        Map<String, String> fileNames = new HashMap<>(); // one String per shard, not per tensor
        try (JsonParser p = Json.STREAMING.createParser(Json.read(index))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CheckpointException(index, "top level is not a JSON object");
            }
            boolean found = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean isMap = p.currentName().equals("weight_map");
                JsonToken value = p.nextToken();
                if (!isMap) {
                    p.skipChildren();
                    continue;
                }
                if (value != JsonToken.START_OBJECT) {
                    throw new CheckpointException(index, "field 'weight_map': not an object");
                }
                found = true;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String tensor = p.currentName();
                    if (p.nextToken() != JsonToken.VALUE_STRING) {
                        throw new CheckpointException(index, "tensor '" + tensor + "': shard name is not a string");
                    }
                    String file = p.getText();
                    map.put(tensor, fileNames.computeIfAbsent(file, f -> f));
                }
            }
            if (!found) {
                throw new CheckpointException(index, "field 'weight_map': missing");
            }
        } catch (IOException e) {
            throw new CheckpointException(index, "malformed JSON: " + Json.message(e), e);
        }
        return map;
    }

    /** The shard files: the index's distinct file names, each checked to be a file in the directory. */
    private static List<Path> shards(Path directory, Map<String, String> weightMap) throws CheckpointException {
        if (weightMap == null) {
            return List.of(directory.resolve(SINGLE));
        }
        Map<String, Path> shards = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            String file = e.getValue();
            if (shards.containsKey(file)) {
                continue;
            }
            Path shard = null;
            if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals("..") || file.equals(".")) {
                problems.add("tensor '" + e.getKey() + "': shard name '" + file
                        + "' is not a file name in the checkpoint directory");
            } else if (!Files.isRegularFile(shard = directory.resolve(file))) {
                problems.add("tensor '" + e.getKey() + "': shard '" + file + "' not found");
            }
            shards.put(file, shard);
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException(directory.resolve(INDEX), problems, null);
        }
        return List.copyOf(shards.values());
    }

    /** Maps one shard, adding its tensors to {@code all}; disagreements with the index go to {@code problems}. */
    private static void mapShard(Path file, Map<String, String> weightMap, Arena arena, Map<String, Tensor> all,
                                 List<String> problems) throws CheckpointException {
        List<SafetensorsHeader.Entry> entries;
        MemorySegment mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            entries = SafetensorsHeader.read(file, channel, size);
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot map: " + e.getMessage(), e);
        }
        String shardName = String.valueOf(file.getFileName());
        for (SafetensorsHeader.Entry e : entries) {
            MemorySegment data = mapped.asSlice(e.begin(), e.end() - e.begin()).asReadOnly();
            if (all.putIfAbsent(e.name(), new Tensor(e.name(), e.dtype(), e.shape(), data, Optional.empty())) != null) {
                problems.add("tensor '" + e.name() + "': stored twice (again in " + shardName + ")");
            } else if (weightMap != null && !shardName.equals(weightMap.get(e.name()))) {
                String indexed = weightMap.get(e.name());
                problems.add("tensor '" + e.name() + "': in " + shardName + " but the index "
                        + (indexed == null ? "does not list it" : "puts it in " + indexed));
            }
        }
    }

    /** MTP blocks: the distinct {@code model.mtp.layers.K.} prefixes, which must be 0..n-1. */
    private static int mtpLayers(Map<String, Tensor> all, List<String> problems) {
        TreeSet<Integer> blocks = new TreeSet<>();
        for (String name : all.keySet()) {
            if (name.startsWith(MTP_PREFIX)) {
                int dot = name.indexOf('.', MTP_PREFIX.length());
                String k = name.substring(MTP_PREFIX.length(), dot < 0 ? name.length() : dot);
                if (k.length() <= 4 && k.chars().allMatch(Character::isDigit) && !k.isEmpty()) {
                    blocks.add(Integer.parseInt(k));
                } else {
                    problems.add("tensor '" + name + "': MTP block index '" + k + "' is not a number");
                }
            }
        }
        if (!blocks.isEmpty() && blocks.last() != blocks.size() - 1) {
            problems.add("tensor '" + MTP_PREFIX + "*': MTP blocks " + blocks + " are not numbered 0.."
                    + (blocks.size() - 1));
        }
        return blocks.isEmpty() ? 0 : blocks.last() + 1;
    }

    /**
     * Attaches each {@code <name>_scale_inv} to its FP8 weight, checking its F32 block grid
     * {@code [..., ceil(rows/blockRows), ceil(cols/blockCols)]}; returns the tensors without the scales.
     */
    private static Map<String, Tensor> attachScales(Map<String, Tensor> all, ModelConfig config, List<String> problems) {
        int blockRows = config.quantization().map(ModelConfig.Quantization::blockRows).orElse(128);
        int blockCols = config.quantization().map(ModelConfig.Quantization::blockCols).orElse(128);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Tensor t : all.values()) {
            if (t.name().endsWith(SCALE_SUFFIX)) {
                Tensor weight = all.get(t.name().substring(0, t.name().length() - SCALE_SUFFIX.length()));
                if (weight == null || weight.dtype() != DType.F8_E4M3) {
                    problems.add("tensor '" + t.name() + "': block scales without an F8_E4M3 weight");
                }
                continue;
            }
            if (t.dtype() != DType.F8_E4M3) {
                tensors.put(t.name(), t);
                continue;
            }
            Tensor scale = all.get(t.name() + SCALE_SUFFIX);
            if (scale == null) {
                problems.add("tensor '" + t.name() + "': F8_E4M3 weight without " + t.name() + SCALE_SUFFIX);
            } else if (t.rank() < 2) {
                problems.add("tensor '" + t.name() + "': F8_E4M3 weight of rank " + t.rank() + ", expected 2 or more");
            } else {
                long[] grid = t.shape().clone();
                grid[grid.length - 2] = Math.ceilDiv(grid[grid.length - 2], blockRows);
                grid[grid.length - 1] = Math.ceilDiv(grid[grid.length - 1], blockCols);
                if (scale.dtype() != DType.F32 || !Arrays.equals(scale.shape(), grid)) {
                    problems.add("tensor '" + scale.name() + "': " + scale.dtype() + Arrays.toString(scale.shape())
                            + ", expected F32" + Arrays.toString(grid));
                }
            }
            tensors.put(t.name(), new Tensor(t.name(), t.dtype(), t.shape(), t.data(), Optional.ofNullable(scale)));
        }
        return tensors;
    }
}
