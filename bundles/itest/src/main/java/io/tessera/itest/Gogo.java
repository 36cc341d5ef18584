package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;

/** Runs Gogo scripts as an operator would, for the tests that check command output. */
final class Gogo {
    private Gogo() {
    }

    /** What a script prints (its result included); a script that fails fails the test. */
    static String run(CommandProcessor processor, String script) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
             CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out)) {
            Object result = session.execute(script);
            if (result != null) {
                out.println(session.format(result, Converter.INSPECT));
            }
        } catch (Exception e) {
            fail(script + " failed: " + e + "\n" + bytes.toString(StandardCharsets.UTF_8));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The message of the error a script ends with. */
    static String error(CommandProcessor processor, String script) {
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), System.err)) {
            session.execute(script);
        } catch (Exception e) {
            Throwable cause = e;
            while (cause instanceof java.lang.reflect.InvocationTargetException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            return cause.getMessage();
        }
        throw new AssertionError(script + " did not fail");
    }
}
