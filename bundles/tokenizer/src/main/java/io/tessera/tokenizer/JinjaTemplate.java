package io.tessera.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.tessera.api.tokenizer.ChatMessage;
import io.tessera.api.tokenizer.ChatOptions;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.ToolSpec;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import java.util.Properties;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Parser.ParseException;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * The checkpoint's own {@code chat_template}, rendered by Jinjava (com.hubspot:jinjava, embedded in this bundle) set
 * up as transformers sets up Jinja2 for {@code apply_chat_template}: {@code trim_blocks} and {@code lstrip_blocks},
 * the special tokens of tokenizer_config.json as variables, {@code raise_exception}, {@code strftime_now},
 * {@code tojson} with Python's {@code json.dumps} spacing, Python's {@code iterable} test (strings are iterable) and
 * the str methods templates call ({@code startswith}, {@code endswith}, {@code split}, {@code strip},
 * {@code lstrip}, {@code rstrip}). A template Jinjava cannot render is refused naming the file, the line and the
 * construct. Thread-safe: each render gets its own interpreter. Public only because Jinjava calls the template
 * functions by reflection (the package stays private to the bundle).
 */
public final class JinjaTemplate implements ChatTemplate {
    private static final LegacyOverrides JINJA2 = LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true).withParseWhitespaceControlStrictly(true)
            .withUseNaturalOperatorPrecedence(true).withKeepNullableLoopValues(true).withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true).build();

    private final String template;
    private final String where;
    private final Map<String, String> specialTokens;
    private final Function<List<ToolSpec>, OutputParser> parsers;
    private final Jinjava jinjava;

    /**
     * @param where         "FILE: chat_template", for errors
     * @param specialTokens {@code bos_token}, {@code eos_token}, ... as the template sees them
     * @param zone          the zone of {@code strftime_now}; the clock is the config's date-time provider
     * @param millis        the current time in milliseconds (a fixed time in tests)
     * @param parsers       the output format that goes with this template
     */
    JinjaTemplate(String template, String where, Map<String, String> specialTokens, ZoneId zone,
                  java.util.function.LongSupplier millis, Function<List<ToolSpec>, OutputParser> parsers) {
        this.template = template;
        this.where = where;
        this.specialTokens = Map.copyOf(specialTokens);
        this.parsers = parsers;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStrings());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        jinjava = new Jinja2(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withLegacyOverrides(JINJA2).withElResolver(resolver).withTimeZone(zone)
                .withDateTimeProvider(millis::getAsLong).withFailOnUnknownTokens(false).build());
        try {
            jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    JinjaTemplate.class.getDeclaredMethod("raiseException", String.class)));
            jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    JinjaTemplate.class.getDeclaredMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        jinjava.getGlobalContext().registerFilter(new ToJson());
        jinjava.getGlobalContext().registerExpTest(new Iterable());
    }

    /** Jinjava with Jinja2's precedence of {@code not}: below comparisons and tests ({@code not x is defined}). */
    private static final class Jinja2 extends Jinjava {
        private final ExpressionFactory expressions;

        Jinja2(JinjavaConfig config) {
            super(config);
            Properties properties = new Properties();
            properties.setProperty(TreeBuilder.class.getName(), NotBelowTests.class.getName());
            properties.setProperty("jinjava.javax.el.cacheSize", "0");
            expressions = new ExpressionFactoryImpl(properties, new TruthyTypeConverter());
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    /** Jinjava's expression syntax, except that {@code not} applies to a whole comparison, as in Jinja2. */
    public static final class NotBelowTests extends ExtendedSyntaxBuilder {
        /** The constructor the expression factory calls. */
        public NotBelowTests(Builder.Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new ExtendedParser(this, expression) {
                @Override
                protected AstNode unary(boolean required) throws ScanException, ParseException {
                    if (getToken().getSymbol() == Scanner.Symbol.NOT) {
                        consumeToken();
                        return createAstUnary(eq(true), AstUnary.NOT);
                    }
                    return super.unary(required);
                }
            };
        }
    }

    @Override
    public String render(List<ChatMessage> messages, List<ToolSpec> tools, ChatOptions options) {
        Map<String, Object> context = new HashMap<>(specialTokens);
        // Jinja2 globals are variables too: templates test "strftime_now is defined" before calling it
        context.put("strftime_now", "strftime_now");
        context.put("raise_exception", "raise_exception");
        List<Object> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            msgs.add(message(m));
        }
        context.put("messages", msgs);
        if (!tools.isEmpty()) {
            context.put("tools", tools.stream().map(ChatTemplate::toolObject).toList());
        }
        context.put("add_generation_prompt", options.addGenerationPrompt());
        context.put("enable_thinking", options.enableThinking());
        RenderResult result = jinjava.renderForResult(template, context);
        for (TemplateError e : result.getErrors()) {
            for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                if (t instanceof Raised) {
                    throw new IllegalArgumentException(where + " refuses the conversation: " + t.getMessage());
                }
            }
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new UnsupportedOperationException(where + ": line " + e.getLineno() + ": " + e.getMessage()
                        + (e.getFieldName() == null ? "" : " (at '" + e.getFieldName().strip() + "')")
                        + ": a construct the Jinja engine (Jinjava) does not render as Jinja2 does");
            }
        }
        return result.getOutput();
    }

    @Override
    public OutputParser newParser(List<ToolSpec> tools) {
        return parsers.apply(tools);
    }

    /** A message as an OpenAI messages entry: optional keys only when set (templates test {@code 'k' in m}). */
    private static Map<String, Object> message(ChatMessage m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("role", m.role());
        out.put("content", m.content());
        if (m.reasoningContent() != null) {
            out.put("reasoning_content", m.reasoningContent());
        }
        List<ToolCall> calls = ChatTemplate.toolCalls(m);
        if (!calls.isEmpty()) {
            List<Object> list = new ArrayList<>();
            for (ToolCall c : calls) {
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", c.name());
                function.put("arguments", ChatTemplate.arguments(c));
                Map<String, Object> call = new LinkedHashMap<>();
                if (c.id() != null) {
                    call.put("id", c.id());
                }
                call.put("type", "function");
                call.put("function", function);
                list.add(call);
            }
            out.put("tool_calls", list);
        }
        if (m.toolCallId() != null) {
            out.put("tool_call_id", m.toolCallId());
        }
        return out;
    }

    /** What the template's {@code raise_exception(message)} throws. */
    static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message);
        }
    }

    public static String raiseException(String message) {
        throw new Raised(message);
    }

    /** transformers' {@code strftime_now}: the current date in the config's zone, with the strftime codes used. */
    public static String strftimeNow(String format) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        var date = Instant.ofEpochMilli(interpreter.getConfig().getDateTimeProvider().getCurrentTimeMillis())
                .atZone(interpreter.getConfig().getTimeZone());
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            String pattern = switch (format.charAt(++i)) {
                case 'd' -> "dd";
                case 'm' -> "MM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'H' -> "HH";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case '%' -> "'%'";
                default -> throw new IllegalArgumentException("strftime_now: unsupported code %" + format.charAt(i));
            };
            out.append(DateTimeFormatter.ofPattern(pattern, Locale.ROOT).format(date));
        }
        return out.toString();
    }

    /** transformers' tojson: json.dumps(x, ensure_ascii=False, indent=indent). */
    private static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PyJson.dumps(var, args.length > 0 ? Integer.parseInt(args[0]) : -1);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return PyJson.dumps(var, indent == null ? -1 : ((Number) indent).intValue());
        }
    }

    /** Jinja2's iterable test: strings, lists and mappings. */
    private static final class Iterable implements ExpTest {
        @Override
        public String getName() {
            return "iterable";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof String || var instanceof java.lang.Iterable<?> || var instanceof Map<?, ?>
                    || var != null && var.getClass().isArray();
        }
    }

    /** The Python str methods chat templates call, on Java strings. */
    private static final class PythonStrings extends ELResolver {
        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
            if (!(base instanceof String s) || !(method instanceof String name)) {
                return null;
            }
            Object[] p = params == null ? new Object[0] : params;
            Object result = switch (name) {
                case "startswith" -> p.length == 1 ? s.startsWith(String.valueOf(p[0])) : null;
                case "endswith" -> p.length == 1 ? s.endsWith(String.valueOf(p[0])) : null;
                case "split" -> p.length == 1 ? split(s, String.valueOf(p[0])) : null;
                case "strip" -> strip(s, p, true, true);
                case "lstrip" -> strip(s, p, true, false);
                case "rstrip" -> strip(s, p, false, true);
                case "upper" -> p.length == 0 ? s.toUpperCase(Locale.ROOT) : null;
                case "lower" -> p.length == 0 ? s.toLowerCase(Locale.ROOT) : null;
                default -> null;
            };
            if (result != null) {
                context.setPropertyResolved(true);
            }
            return result;
        }

        private static List<Object> split(String s, String sep) {
            List<Object> parts = new ArrayList<>();
            int from = 0;
            for (int at = s.indexOf(sep); at >= 0 && !sep.isEmpty(); at = s.indexOf(sep, from)) {
                parts.add(s.substring(from, at));
                from = at + sep.length();
            }
            parts.add(s.substring(from));
            return new com.hubspot.jinjava.objects.collections.PyList(parts);
        }

        private static String strip(String s, Object[] p, boolean left, boolean right) {
            if (p.length == 0 || p[0] == null) {
                return left && right ? s.strip() : left ? s.stripLeading() : s.stripTrailing();
            }
            return p.length == 1 ? ChatTemplate.strip(s, String.valueOf(p[0]), left, right) : null;
        }

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {
        }

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return false;
        }

        @Override
        public java.util.Iterator<java.beans.FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return null;
        }
    }
}
