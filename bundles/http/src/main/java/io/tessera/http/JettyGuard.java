package io.tessera.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.felix.http.jetty.ConnectorFactory;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;

/**
 * What Felix HTTP 1.1.2 has no configuration key for: a limit on open connections (Jetty's
 * {@link NetworkConnectionLimit}: at {@code maxConnections} Jetty stops accepting, and connections idle 2 s are
 * closed, so half-open clients cannot hold every socket) and Jetty's own errors (a malformed request line, a bad
 * {@code Content-Length}, headers too large) in OpenAI's JSON shape. Felix's one supported hook that reaches
 * Jetty's {@link Server} is its {@link ConnectorFactory} whiteboard service: Felix calls it each time its Jetty
 * starts (again after a change of its configuration) and stops the returned connector when Jetty stops or this
 * service leaves. The connector returned binds nothing; its lifecycle scopes the limit and the error handler, which
 * its stop removes again.
 */
@Component(service = ConnectorFactory.class, configurationPid = "io.tessera.http")
public class JettyGuard implements ConnectorFactory {
    /** While at the limit, the idle timeout of open connections: a half-open one gives way quickly. */
    private static final long IDLE_AT_LIMIT_MILLIS = 2000;
    private final Set<NetworkConnectionLimit> limits = ConcurrentHashMap.newKeySet();
    private volatile int maxConnections = 512;

    /** A bad configuration is logged by the servlet, which refuses it too; the limit then stays as it was. */
    @Activate
    @Modified
    void configure(HttpSettings config) {
        try {
            maxConnections = Serving.of(config).maxConnections();
        } catch (IllegalArgumentException e) {
            return;
        }
        limits.forEach(limit -> limit.setMaxNetworkConnectionCount(maxConnections));
    }

    @Override
    public Connector createConnector(Server server) {
        Connector[] felixConnectors = server.getConnectors();
        NetworkConnectionLimit limit = new NetworkConnectionLimit(maxConnections, felixConnectors);
        limit.setEndPointIdleTimeout(IDLE_AT_LIMIT_MILLIS);
        Request.Handler previous = server.getErrorHandler();
        server.addBean(limit);   // Jetty runs, so the limit starts at once
        server.setErrorHandler(new JsonErrorHandler());
        limits.add(limit);
        Scope scope = new Scope(server);
        scope.undo.add(() -> {
            limits.remove(limit);
            server.removeBean(limit);
            server.setErrorHandler(previous);
        });
        for (Connector c : felixConnectors) {
            if (c instanceof ServerConnector listening) {
                // a started connector hands accept listeners to its selectors only at its start: hand it over here
                listening.getSelectorManager().addEventListener(limit);
                scope.undo.add(() -> listening.getSelectorManager().removeEventListener(limit));
                scope.setHost(listening.getHost());   // Felix lists this connector's address among its endpoints
                scope.setPort(listening.getPort());
            }
        }
        return scope;
    }

    /**
     * The connector Felix asks for: it binds no socket and runs no acceptor (Felix requires a
     * {@link ServerConnector}), and its stop undoes what {@link #createConnector} did.
     */
    private static final class Scope extends ServerConnector {
        private final List<Runnable> undo = new CopyOnWriteArrayList<>();

        Scope(Server server) {
            super(server, 0, 1);
        }

        @Override
        protected void doStart() {
            // nothing to open: Felix's own connector serves
        }

        @Override
        protected void doStop() {
            undo.forEach(Runnable::run);
        }
    }

    /** Jetty's errors outside any servlet, answered as the API answers its own. */
    static final class JsonErrorHandler extends ErrorHandler {
        @Override
        protected void generateResponse(Request request, Response response, int code, String message,
                                        Throwable cause, Callback callback) throws IOException {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(body(code, message)), callback);
        }

        /** A request Jetty could not parse far enough to make a {@link Request} of. */
        @Override
        public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
            fields.put(HttpHeader.CONTENT_TYPE, "application/json");
            return ByteBuffer.wrap(body(status, reason));
        }

        private static byte[] body(int status, String message) {
            String text = message == null || message.isBlank() ? HttpStatus.getMessage(status) : message;
            ApiException e = new ApiException(status, status >= 500 ? "server_error" : "invalid_request_error", null,
                    null, "HTTP " + status + ": " + text);
            try {
                return Json.MAPPER.writeValueAsBytes(e.body());
            } catch (IOException impossible) {   // a tree of strings always serialises
                throw new IllegalStateException(impossible);
            }
        }
    }
}
