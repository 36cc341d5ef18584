package io.tessera.itest;

import static io.tessera.itest.Await.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Every model family from the same bundles: each family fixture through the operator's commands (model:inspect,
 * model:load, model:info, generate with the golden continuation, a hot swap to the reference backend and the
 * same continuation there); a family bundle that stops makes its models wait, naming the architecture; an
 * architecture no bundle serves is refused naming the installed ones; each family's own chat template and
 * tool-call format.
 */
public class FamiliesTest {
    /** Fixture, the bundle serving it, and what model:inspect and model:info show of its layers. */
    private static final Map<String, List<String>> FAMILIES = Map.of(
            "qwen3-tiny", List.of("io.tessera.family-qwen3", "Qwen3ForCausalLM", "q/k norm"),
            "qwen3-moe-tiny", List.of("io.tessera.family-qwen3", "Qwen3MoeForCausalLM", "moe 2/8"),
            "llama3-tiny", List.of("io.tessera.family-llama", "LlamaForCausalLM", "rope llama3"));

    @InjectBundleContext
    BundleContext context;

    @InjectService
    CommandProcessor processor;

    @InjectService
    ModelRegistry registry;

    @InjectService
    TokenizerFactory tokenizers;

    @Test
    void everyFamilyServesThroughTheShellAndSwapsBackends() throws Exception {
        for (Goldens g : Goldens.all(Path.of(context.getProperty("tessera.repo")))) {
            List<String> family = FAMILIES.get(g.fixture());
            if (family == null) {
                continue;
            }
            String inspect = Gogo.run(processor, "model:inspect " + g.checkpoint());
            assertTrue(inspect.contains(family.get(1)) && inspect.contains("valid: every expected tensor is present"),
                    inspect);
            String name = "family-" + g.fixture();
            Gogo.run(processor, "model:load -n " + name + " -b cpu " + g.checkpoint());
            try {
                String info = Gogo.run(processor, "model:info " + name);
                assertTrue(info.contains("ready") && info.contains(family.get(2)), info);
                JsonNode greedy = g.json().get("greedy").get(0);
                String ids = Arrays.stream(g.prompt(greedy.get("prompt").asText())).mapToObj(String::valueOf)
                        .collect(Collectors.joining(","));
                String want = "ids: " + Arrays.stream(Goldens.ints(greedy.get("continuation")))
                        .mapToObj(String::valueOf).collect(Collectors.joining(","));
                String generate = "generate --model " + name + " --max-tokens 32 --print-ids --ids " + ids;
                assertTrue(Gogo.run(processor, generate).contains(want), g.fixture() + " on cpu");
                assertTrue(Gogo.run(processor, "backend:use -m " + name + " reference")
                        .contains("swapped cpu -> reference"));
                assertTrue(Gogo.run(processor, generate).contains(want), g.fixture() + " after the swap");
            } finally {
                Gogo.run(processor, "model:unload " + name);
            }
        }
    }

    @Test
    void aStoppedFamilyMakesItsModelsWait() throws Exception {
        Goldens llama = Goldens.all(Path.of(context.getProperty("tessera.repo"))).stream()
                .filter(g -> g.fixture().equals("llama3-tiny")).findFirst().orElseThrow();
        Bundle bundle = Arrays.stream(context.getBundles())
                .filter(b -> b.getSymbolicName().equals("io.tessera.family-llama")).findFirst().orElseThrow();
        registry.load(llama.checkpoint(), "waits", "cpu", null);
        try {
            bundle.stop();
            ModelInfo waiting = registry.info("waits").orElseThrow();
            assertEquals(ModelInfo.State.WAITING, waiting.state());
            assertEquals(List.of("(model.architecture=LlamaForCausalLM)"), waiting.waitingFor());
            bundle.start();   // the family arriving: the model assembles on the engine's assembly thread
            awaitTrue(() -> registry.info("waits").orElseThrow().state() == ModelInfo.State.READY);
        } finally {
            bundle.start();
            registry.unload("waits");
        }
    }

    @Test
    void anArchitectureNoBundleServesIsRefusedByName(@TempDir Path dir) throws Exception {
        Path source = Goldens.all(Path.of(context.getProperty("tessera.repo"))).stream()
                .filter(g -> g.fixture().equals("llama3-tiny")).findFirst().orElseThrow().checkpoint();
        for (String file : List.of("model.safetensors", "tokenizer.json")) {
            Files.copy(source.resolve(file), dir.resolve(file));
        }
        Files.writeString(dir.resolve("config.json"), Files.readString(source.resolve("config.json"))
                .replace("LlamaForCausalLM", "GPT2LMHeadModel"));
        String error = Gogo.error(processor, "model:load -n unknown " + dir);
        assertTrue(error.contains("field 'architectures': GPT2LMHeadModel is served by no installed model family")
                && error.contains("LlamaForCausalLM") && error.contains("MiMoV2FlashForCausalLM")
                && error.contains("Qwen3MoeForCausalLM"), error);
    }

    /**
     * Each family chats in its own format inside OSGi: the fixture's own chat_template rendered by the Jinja engine
     * the tokenizer bundle embeds, and a tool call in the family's format parsed into a call.
     */
    @Test
    void everyFamilyChatsInItsOwnFormat() throws Exception {
        Path models = Path.of(context.getProperty("tessera.repo"), "tools", "fixtures", "models");
        List<ToolSpec> tools = List.of(new ToolSpec("get_weather", "weather", Map.of("type", "object",
                "properties", Map.of("city", Map.of("type", "string")))));
        Map<String, List<String>> chats = Map.of(
                "qwen3-tiny", List.of("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
                        "<think>\nok\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                                + "{\"city\": \"Oslo\"}}\n</tool_call>"),
                "llama3-tiny", List.of("<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                        "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}"));
        for (Map.Entry<String, List<String>> chat : chats.entrySet()) {
            Tokenizer tok = tokenizers.load(models.resolve(chat.getKey()));
            String prompt = tok.renderChat(List.of(ChatMessage.of("user", "hi")), List.of(), ChatOptions.DEFAULT);
            assertTrue(prompt.endsWith(chat.getValue().get(0)), chat.getKey() + ": " + prompt);
            OutputParser parser = tok.newOutputParser(tools);
            OutputParser.Delta fed = parser.feed(chat.getValue().get(1));
            OutputParser.Delta end = parser.finish();
            List<ToolCall> calls = new ArrayList<>(fed.toolCalls());
            calls.addAll(end.toolCalls());
            assertEquals(List.of(new ToolCall(null, "get_weather", Map.of("city", "Oslo"), null)), calls,
                    chat.getKey());
        }
    }
}
