package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.internal.HttpEvents;
import dev.gatehouse.internal.IntegrationAnswerException;
import dev.gatehouse.jetty.IntegrationServer;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;

/**
 * The integrations' HTTP client against a real server: what goes on the wire, and how each kind of failure
 * surfaces, with limits of one call in flight and one queued per origin.
 */
class HttpIntegrationsTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private IntegrationServer integration;
    private HttpIntegrations calls;

    @BeforeEach
    void start() throws Exception {
        integration = new IntegrationServer();
        calls = HttpIntegrations.start(new SslContextFactory.Client(), Duration.ofSeconds(5), null, 1, 1);
    }

    @AfterEach
    void stop() throws Exception {
        try {
            calls.stop(Duration.ZERO);
        } finally {
            integration.close();
        }
    }

    private static RouteEvent event(RouteEvent.Type type) {
        Handshake h = Handshake.builder("req-1", "/api").remoteAddress(new InetSocketAddress("127.0.0.1", 1)).build();
        Instant now = Instant.now();
        return new RouteEvent(type, type == RouteEvent.Type.CONNECT ? "$connect" : "$default", "conn-1", "req-1",
                type == RouteEvent.Type.MESSAGE ? Optional.of("conn-1-1") : Optional.empty(), now, now, h,
                type == RouteEvent.Type.MESSAGE ? Optional.of(Message.text("{}")) : Optional.empty(), Optional.empty());
    }

    private CompletableFuture<Reply> call(String path, RouteEvent.Type type, Duration timeout) {
        return calls.call(Integration.http(integration.uri(path)), event(type), timeout).toCompletableFuture();
    }

    private static Reply answer(CompletableFuture<Reply> call) throws Exception {
        return call.get(5, TimeUnit.SECONDS);
    }

    private static Throwable failure(CompletableFuture<Reply> call) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void theEventIsPostedAsJsonWithTheGatehouseHeaders() throws Exception {
        integration.answer("/default", 200, "text/plain", "ok");

        assertEquals(Reply.text("ok"), answer(call("/default", RouteEvent.Type.MESSAGE, LONG)));

        IntegrationServer.Call c = integration.next("/default");
        assertEquals("POST", c.method());
        assertEquals("application/json", c.header("Content-Type"));
        assertEquals("$default", c.header("X-Gatehouse-Route-Key"));
        assertEquals("MESSAGE", c.header("X-Gatehouse-Event-Type"));
        assertEquals("conn-1", c.header("X-Gatehouse-Connection-Id"));
        assertTrue(c.body().startsWith("{\"requestContext\":{\"routeKey\":\"$default\""), c.body());
        assertEquals(Integer.toString(c.body().getBytes(StandardCharsets.UTF_8).length), c.header("Content-Length"));
    }

    @Test
    void aCallWithoutAnAnswerInTimeFailsWithTimeoutException() throws Exception {
        integration.hang("/slow");

        assertInstanceOf(TimeoutException.class, failure(call("/slow", RouteEvent.Type.MESSAGE, Duration.ofMillis(300))));
    }

    @Test
    void anUnreachableIntegrationFailsWithConnectException() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CompletableFuture<Reply> call = calls.call(Integration.http(URI.create("http://127.0.0.1:" + port + "/x")),
                event(RouteEvent.Type.MESSAGE), LONG).toCompletableFuture();

        assertInstanceOf(ConnectException.class, failure(call));
    }

    @Test
    void aCallBeyondTheQueueFailsAtOnceWithRejectedExecution() throws Exception {
        integration.hang("/slow");
        CompletableFuture<Reply> inFlight = call("/slow", RouteEvent.Type.MESSAGE, LONG);
        integration.next("/slow"); // the one connection is taken
        CompletableFuture<Reply> queued = call("/slow", RouteEvent.Type.MESSAGE, LONG);

        assertInstanceOf(RejectedExecutionException.class, failure(call("/slow", RouteEvent.Type.MESSAGE, LONG)));
        assertFalse(inFlight.isDone() || queued.isDone(), "the calls in flight and queued wait");
    }

    @Test
    void aMessagesAnswerOfOneMebibyteIsSentAndALongerOneFails() throws Exception {
        integration.answer("/big", 200, "application/octet-stream", new byte[HttpEvents.MAX_MESSAGE_ANSWER]);
        integration.answer("/bigger", 200, "application/octet-stream", new byte[HttpEvents.MAX_MESSAGE_ANSWER + 1]);

        Reply.Send big = assertInstanceOf(Reply.Send.class, answer(call("/big", RouteEvent.Type.MESSAGE, LONG)));
        assertEquals(HttpEvents.MAX_MESSAGE_ANSWER, big.message().size());
        assertInstanceOf(IntegrationAnswerException.class, failure(call("/bigger", RouteEvent.Type.MESSAGE, LONG)));
    }

    @Test
    void aRefusingConnectAnswerKeepsItsFirst8KiB() throws Exception {
        integration.answer("/connect", 403, "text/plain", "x".repeat(100_000));

        assertEquals(Reply.refuse(403, "text/plain", "x".repeat(8192)), answer(call("/connect", RouteEvent.Type.CONNECT, LONG)));
    }

    @Test
    void a401WithoutChallengeIsTheIntegrationsAnswer() throws Exception {
        integration.answer("/connect", 401, "application/json", "{\"message\":\"who are you\"}");

        assertEquals(Reply.refuse(401, "application/json", "{\"message\":\"who are you\"}"),
                answer(call("/connect", RouteEvent.Type.CONNECT, LONG)));
    }

    @Test
    void aRedirectIsNotFollowed() throws Exception {
        integration.answer("/moved", 302, null, "");

        assertInstanceOf(IntegrationAnswerException.class, failure(call("/moved", RouteEvent.Type.MESSAGE, LONG)));
        assertInstanceOf(IntegrationAnswerException.class, failure(call("/moved", RouteEvent.Type.CONNECT, LONG)));
        integration.next("/moved");
        integration.next("/moved");
        integration.assertNoMoreCalls();
    }

    @Test
    void callsAfterTheStopFail() throws Exception {
        calls.stop(Duration.ZERO);

        assertInstanceOf(RejectedExecutionException.class, failure(call("/default", RouteEvent.Type.MESSAGE, LONG)));
    }
}
