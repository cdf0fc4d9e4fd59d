package dev.gatehouse.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.gatehouse.Message;
import dev.gatehouse.internal.HttpEvents;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;

class HttpEchoTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void answersATextEventWithItsBodyAsText() {
        HttpEcho.Echo echo = HttpEcho.parse(HttpEvents.body(PostLoad.event(64, true)));
        assertEquals("x".repeat(64), new String(echo.bytes(), StandardCharsets.UTF_8));
        assertEquals("text/plain; charset=utf-8", echo.contentType());
    }

    @Test
    void answersABinaryEventWithItsDecodedBytesAsOctetStream() {
        HttpEcho.Echo echo = HttpEcho.parse(HttpEvents.body(PostLoad.event(64, false)));
        assertEquals(64, echo.bytes().length);
        assertEquals('a', echo.bytes()[0]);
        assertEquals('l', echo.bytes()[63]);
        assertEquals("application/octet-stream", echo.contentType());
    }

    @Test
    void readsTheFlagWhereverItIsAndSkipsNestedBodies() {
        HttpEcho.Echo echo = HttpEcho.parse(utf8("{\"isBase64Encoded\":true,\"requestContext\":{\"body\":\"x\"},\"body\":\"aGk=\"}"));
        assertArrayEquals(utf8("hi"), echo.bytes());
    }

    @Test
    void refusesEventsWithoutAStringBody() {
        assertNull(HttpEcho.parse(utf8("{\"requestContext\":{}}")));
        assertNull(HttpEcho.parse(utf8("{\"body\":3}")));
        assertNull(HttpEcho.parse(utf8("[\"body\"]")));
        assertNull(HttpEcho.parse(utf8("not json")));
        assertNull(HttpEcho.parse(utf8("{\"body\":\"%%%\",\"isBase64Encoded\":true}")));
    }

    @Test
    @Timeout(30)
    void servesTheEchoToTheGatewaysEventsOverHttp() throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new HttpEcho());
        server.start();
        HttpClient client = PostLoad.client();
        try {
            URI base = URI.create("http://127.0.0.1:" + connector.getLocalPort());
            RouteEvent event = PostLoad.event(64, false);
            ContentResponse answer = client.newRequest(base.resolve(HttpEcho.PATH)).method(HttpMethod.POST)
                    .body(new BytesRequestContent(HttpEvents.CONTENT_TYPE, HttpEvents.body(event)))
                    .timeout(5, TimeUnit.SECONDS).send();
            assertEquals(200, answer.getStatus());
            assertEquals("application/octet-stream", answer.getHeaders().get(HttpHeader.CONTENT_TYPE));
            Message sent = event.body().orElseThrow();
            // The answer means the same reply to the gateway as the in-process integration's.
            HttpEvents.Answer reply = HttpEvents.answer(event, answer.getStatus(), answer.getMediaType());
            reply.add(ByteBuffer.wrap(answer.getContent()));
            assertEquals(Reply.send(sent), reply.reply());
            assertEquals(Reply.send(sent), GatewayRole.ECHO.handle(event).toCompletableFuture().get(5, TimeUnit.SECONDS));

            assertEquals(400, client.newRequest(base.resolve(HttpEcho.PATH)).method(HttpMethod.POST)
                    .body(new BytesRequestContent("application/json", utf8("{}"))).timeout(5, TimeUnit.SECONDS).send().getStatus());
            assertEquals(404, client.newRequest(base.resolve("/other")).method(HttpMethod.POST)
                    .timeout(5, TimeUnit.SECONDS).send().getStatus());
            assertEquals(404, client.newRequest(base.resolve(HttpEcho.PATH)).timeout(5, TimeUnit.SECONDS).send().getStatus());
        } finally {
            client.stop();
            server.stop();
        }
    }

    @Test
    void callsTheBackendsHttpEchoOnItsWebSocketPort() {
        assertEquals(URI.create("http://127.0.0.1:4567/integration"), GatewayRole.httpEcho(URI.create("ws://127.0.0.1:4567")));
    }
}
