package io.tessera.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.collections.PyList;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.de.odysseus.el.tree.impl.Parser.ParseException;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * Jinjava (com.hubspot:jinjava, embedded in this bundle) set up as transformers sets up Jinja2 for
 * {@code apply_chat_template}: {@code trim_blocks} and {@code lstrip_blocks}, {@code raise_exception},
 * {@code strftime_now}, {@code tojson} with Python's {@code json.dumps} spacing, Python's {@code iterable} test
 * (strings are iterable), the str methods templates call ({@code startswith}, {@code endswith}, {@code split},
 * {@code strip}, {@code lstrip}, {@code rstrip}, {@code upper}, {@code lower}), and the points of Jinja2's
 * expression syntax Jinjava parses otherwise ({@link Jinja2Syntax}). Public only because Jinjava calls the template
 * functions by reflection (the package stays private to the bundle).
 */
public final class Jinja2 extends Jinjava {
    private static final LegacyOverrides JINJA2 = LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true).withParseWhitespaceControlStrictly(true)
            .withUseNaturalOperatorPrecedence(true).withKeepNullableLoopValues(true).withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true).build();

    private final ExpressionFactory expressions;

    /**
     * A Jinja2-compatible engine.
     *
     * @param zone   the zone of {@code strftime_now}
     * @param millis the current time in milliseconds (a fixed time in tests)
     */
    static Jinja2 create(ZoneId zone, LongSupplier millis) {
        return withBundleLoader(() -> new Jinja2(zone, millis));
    }

    @Override
    public RenderResult renderForResult(String template, Map<String, ?> bindings) {
        return withBundleLoader(() -> super.renderForResult(template, bindings));
    }

    /**
     * Jinjava loads its expression classes through the thread's context class loader, which inside OSGi is whatever
     * the caller's thread carries (Gogo's, Jetty's, SCR's): it is this bundle's loader while Jinjava works.
     */
    private static <T> T withBundleLoader(Supplier<T> work) {
        Thread thread = Thread.currentThread();
        ClassLoader caller = thread.getContextClassLoader();
        thread.setContextClassLoader(Jinja2.class.getClassLoader());
        try {
            return work.get();
        } finally {
            thread.setContextClassLoader(caller);
        }
    }

    private Jinja2(ZoneId zone, LongSupplier millis) {
        super(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).withLegacyOverrides(JINJA2)
                .withElResolver(resolver()).withTimeZone(zone).withDateTimeProvider(millis::getAsLong)
                .withFailOnUnknownTokens(false).build());
        // built here, not by class name: the expression factory's reflection would not see this bundle's classes
        expressions = new ExpressionFactoryImpl(new TreeStore(new Jinja2Syntax(), new Cache(256)),
                new TruthyTypeConverter());
        try {
            getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    Jinja2.class.getDeclaredMethod("raiseException", String.class)));
            getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    Jinja2.class.getDeclaredMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        getGlobalContext().registerFilter(new ToJson());
        getGlobalContext().registerExpTest(new Iterable());
    }

    private static ELResolver resolver() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStrings());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        return resolver;
    }

    @Override
    public ExpressionFactory getExpressionFactory() {
        return expressions;
    }

    /**
     * Jinjava's expression syntax with three points made as in Jinja2, which the hub's templates rely on:
     * {@code not} applies to a whole comparison or test ({@code not x is defined}); a keyword argument's value is a
     * whole expression ({@code namespace(i=messages|length - 1)}); and a slice may have a step with start and end
     * left out ({@code messages[::-1]}).
     */
    private static final class Jinja2Syntax extends ExtendedSyntaxBuilder {
        /** The features of the factory's default (JEE6) profile, which Jinjava runs with. */
        Jinja2Syntax() {
            super(Builder.Feature.METHOD_INVOCATIONS, Builder.Feature.VARARGS);
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

                @Override
                protected AstNode add(boolean required) throws ScanException, ParseException {
                    if (getToken().getSymbol() == Scanner.Symbol.IDENTIFIER
                            && lookahead(0).getSymbol() == Scanner.Symbol.EXTENSION
                            && lookahead(0).getImage().equals(NamedParameterOperator.TOKEN.getImage())) {
                        AstIdentifier name = identifier(consumeToken().getImage());
                        consumeToken();
                        return new AstNamedParameter(name, expr(true));
                    }
                    return super.add(required);
                }

                @Override
                protected AstNode expr(boolean required) throws ScanException, ParseException {
                    if (getToken().getSymbol() == Scanner.Symbol.COLON
                            && lookahead(0).getSymbol() == Scanner.Symbol.COLON) {
                        consumeToken();
                        consumeToken();
                        return new Step(expr(true));
                    }
                    return super.expr(required);
                }

                @Override
                protected AstBracket createAstBracket(AstNode base, AstNode property, boolean lvalue,
                                                      boolean strict) {
                    return property instanceof Step step ? new SteppedSlice(base, step)
                            : super.createAstBracket(base, property, lvalue, strict);
                }
            };
        }
    }

    /** The {@code ::step} of {@code x[::step]}, as the parser hands it to the bracket. */
    private static final class Step extends AstRightValue {
        final AstNode step;

        Step(AstNode step) {
            this.step = step;
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            return step.eval(bindings, context);
        }

        @Override
        public void appendStructure(StringBuilder b, Bindings bindings) {
            b.append("::");
            step.appendStructure(b, bindings);
        }

        @Override
        public int getCardinality() {
            return 1;
        }

        @Override
        public AstNode getChild(int i) {
            return i == 0 ? step : null;
        }
    }

    /** Python's {@code seq[::step]} of a list or string. */
    private static final class SteppedSlice extends AstBracket {
        SteppedSlice(AstNode base, Step step) {
            super(base, step, false, false);
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            Object base = prefix.eval(bindings, context);
            Object s = property.eval(bindings, context);
            if (!(s instanceof Number n) || n.longValue() == 0) {
                throw new IllegalArgumentException("slice step must be a non-zero integer: " + s);
            }
            int step = n.intValue();
            List<Object> items = base instanceof String str ? new ArrayList<>(str.codePoints()
                    .mapToObj(Character::toString).toList()) : base instanceof List<?> l ? new ArrayList<>(l) : null;
            if (items == null) {
                throw new IllegalArgumentException("cannot slice " + (base == null ? "none" : base.getClass()));
            }
            List<Object> out = new ArrayList<>();
            for (int i = step > 0 ? 0 : items.size() - 1; i >= 0 && i < items.size(); i += step) {
                out.add(items.get(i));
            }
            return base instanceof String ? String.join("", out.stream().map(String::valueOf).toList())
                    : new PyList(out);
        }
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
            return new PyList(parts);
        }

        private static String strip(String s, Object[] p, boolean left, boolean right) {
            if (p.length == 0 || p[0] == null) {
                return left && right ? s.strip() : left ? s.stripLeading() : s.stripTrailing();
            }
            return p.length == 1 ? stripChars(s, String.valueOf(p[0]), left, right) : null;
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
    /** Python's str.strip/lstrip/rstrip with a character set. */
    private static String stripChars(String s, String chars, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && chars.indexOf(s.charAt(from)) >= 0) {
            from++;
        }
        while (right && to > from && chars.indexOf(s.charAt(to - 1)) >= 0) {
            to--;
        }
        return s.substring(from, to);
    }
}
