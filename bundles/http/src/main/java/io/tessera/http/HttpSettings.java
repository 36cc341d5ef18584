package io.tessera.http;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** HTTP API configuration (PID {@code io.tessera.http}), e.g. {@code distribution/conf/io.tessera.http.cfg}. */
@ObjectClassDefinition(name = "Tessera HTTP API", description = "OpenAI-compatible API: binding, key and limits")
@interface HttpSettings {
    @AttributeDefinition(description = "Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)")
    String host() default "127.0.0.1";

    @AttributeDefinition(description = "TCP port (1-65535)")
    int port() default 8080;

    @AttributeDefinition(description = "Bearer token every /v1 and /metrics request must send (empty: none)")
    String apiKey() default "";

    @AttributeDefinition(description = "Largest request body in bytes")
    int maxBodyBytes() default 1 << 20;

    @AttributeDefinition(description = "Largest max_tokens a request may ask for; also the default when it asks none")
    int maxTokens() default 2048;

    @AttributeDefinition(description = "Longest prompt in tokens")
    int maxPromptTokens() default 3584;

    @AttributeDefinition(description = "Largest n (choices per request)")
    int maxChoices() default 8;

    @AttributeDefinition(description = "Longest a request may run, in seconds, before it ends with a timeout")
    int requestTimeoutSeconds() default 600;

    @AttributeDefinition(description = "On shutdown, seconds in-flight requests may take to finish before they are "
            + "ended with an error")
    int drainSeconds() default 30;

    @AttributeDefinition(description = "Seconds a connection may send or read nothing before it is closed (Felix "
            + "HTTP's org.apache.felix.http.timeout): slow and half-open clients")
    int idleTimeoutSeconds() default 30;

    @AttributeDefinition(description = "Most TCP connections open at once; at the limit Jetty stops accepting until "
            + "one closes (an idle one is closed after 2 s then)")
    int maxConnections() default 512;

    @AttributeDefinition(description = "Without an API key, the Host (and Origin) names served, comma-separated; * "
            + "for any (guards a local server against DNS rebinding and cross-site requests)")
    String allowedHosts() default "localhost,127.0.0.1,::1";

    @AttributeDefinition(description = "Largest tessera_routing answer: positions (prompt + max_tokens) × n")
    int maxRoutingPositions() default 65536;
}
