package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Message;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.session.MessageAction;
import dev.gatehouse.session.MessageFilter;
import dev.gatehouse.session.MessageLimits;

/** In-session policies through a real gateway: filters, per-direction limits and message rate limits. */
class MessagePolicyTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Accepts text that looks like a JSON object or array; a stand-in for a real JSON parser. */
    private static final MessageFilter JSON_ONLY = (message, connection) -> {
        if (!(message instanceof Message.Text text)) {
            return MessageAction.invalid("messages must be JSON text");
        }
        String t = text.text().trim();
        boolean json = (t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"));
        return json ? MessageAction.forward(message) : MessageAction.invalid("messages must be JSON");
    };

    @RegisterExtension
    final Servers servers = new Servers();
    private TestBackend backend;
    private GatewayServer gateway; // the test's gateway, started by its first connect

    @BeforeEach
    void useTheBackend() {
        backend = servers.backend();
    }

    private WebSocket connect(Route.Builder route, RecordingListener events) throws Exception {
        return connect(route, Settings.defaults(), events);
    }

    private WebSocket connect(Route.Builder route, Settings settings, RecordingListener events) throws Exception {
        if (gateway == null) {
            gateway = servers.start(Gateway.builder().settings(settings)
                    .route(route.backend(Backend.of(backend.uri("/echo"))).build()).build());
        }
        return HTTP.newWebSocketBuilder().header("X-API-Key", "k-1").buildAsync(gateway.uri("/echo"), events)
                .get(5, TimeUnit.SECONDS);
    }

    @Test
    void aValidationFilterForwardsValidMessagesAndClosesOnInvalidOnesWith1007() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(Route.builder("/echo").clientMessages(JSON_ONLY), events);
        ws.sendText("{\"op\":\"hello\"}", true).get(5, TimeUnit.SECONDS);
        events.assertText("{\"op\":\"hello\"}");
        ws.sendText("not json", true).get(5, TimeUnit.SECONDS);
        events.assertClose(1007, "messages must be JSON");
        assertEquals(new TestBackend.Closed(1001, ""), backend.nextClose());
    }

    @Test
    void aFilterSeesFragmentedMessagesWhole() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(Route.builder("/echo").clientMessages(JSON_ONLY), events);
        ws.sendText("{\"a\":", false).get(5, TimeUnit.SECONDS);
        ws.sendText("1}", true).get(5, TimeUnit.SECONDS);
        events.assertText("{\"a\":1}");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    @Test
    void aBackendFilterTransformsMessagesToTheClient() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(Route.builder("/echo").backendMessages((m, c) -> m instanceof Message.Text t
                ? MessageAction.forward(Message.text(t.text().toUpperCase(Locale.ROOT)))
                : MessageAction.forward(m)), events);
        ws.sendText("shout", true).get(5, TimeUnit.SECONDS);
        events.assertText("SHOUT");
        ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2}), true).get(5, TimeUnit.SECONDS);
        events.assertBinary(new byte[] {1, 2});
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    @Test
    void aFilterCanAnswerAMessageItselfWithoutTheBackend() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(Route.builder("/echo").clientMessages((m, c) -> m instanceof Message.Text t && t.text().equals("ping?")
                ? MessageAction.reply("pong!") : MessageAction.forward(m)), events);
        ws.sendText("ping?", true).get(5, TimeUnit.SECONDS);
        events.assertText("pong!");
        ws.sendText("echo me", true).get(5, TimeUnit.SECONDS);
        events.assertText("echo me");
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
    }

    @Test
    void aClientOverItsMessageRateIsClosedWith1008() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(Route.builder("/echo")
                .messageLimits(MessageLimits.builder().messagesPerSecond(0.01, 2).build()), events);
        ws.sendText("1", true).get(5, TimeUnit.SECONDS);
        events.assertText("1");
        ws.sendText("2", true).get(5, TimeUnit.SECONDS);
        events.assertText("2");
        ws.sendText("3", true).get(5, TimeUnit.SECONDS);
        events.assertClose(1008, "rate limit exceeded");
        assertEquals(new TestBackend.Closed(1001, ""), backend.nextClose());
    }

    @Test
    void aDroppingLimitDropsTheExcessAndTellsTheClient() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(Route.builder("/echo").messageLimits(MessageLimits.builder().messagesPerSecond(0.01, 2)
                .action(MessageLimits.Action.DROP).dropReply("slow down").build()), events);
        for (String m : new String[] {"a", "b", "c"}) {
            ws.sendText(m, true).get(5, TimeUnit.SECONDS);
        }
        Set<RecordingListener.Event> got = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            got.add(events.nextData());
        }
        assertEquals(Set.of(new RecordingListener.Text("a"), new RecordingListener.Text("b"),
                new RecordingListener.Text("slow down")), got);
        ws.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        events.assertClose(1000, "");
        events.assertNoMoreEvents();
    }

    @Test
    void aPrincipalsRateIsSharedByItsConnections() throws Exception {
        Route.Builder route = Route.builder("/echo")
                .authenticator(ApiKeyAuthenticator.of("k-1", "tenant-a"))
                .messageLimits(MessageLimits.builder().principalMessagesPerSecond(0.01, 2).build());
        RecordingListener first = new RecordingListener();
        RecordingListener second = new RecordingListener();
        WebSocket a = connect(route, first);
        WebSocket b = connect(route, second);
        a.sendText("a1", true).get(5, TimeUnit.SECONDS);
        first.assertText("a1");
        b.sendText("b1", true).get(5, TimeUnit.SECONDS);
        second.assertText("b1");
        b.sendText("b2", true).get(5, TimeUnit.SECONDS);
        second.assertClose(1008, "rate limit exceeded");
        a.sendClose(1000, "").get(5, TimeUnit.SECONDS);
        first.assertClose(1000, "");
    }

    @Test
    void sizeLimitsApplyPerDirection() throws Exception {
        RecordingListener events = new RecordingListener();
        WebSocket ws = connect(Route.builder("/echo"),
                Settings.builder().maxClientMessageSize(100).maxBackendMessageSize(10).build(), events);
        ws.sendText("0123456789", true).get(5, TimeUnit.SECONDS);
        events.assertText("0123456789");
        ws.sendText("0123456789+", true).get(5, TimeUnit.SECONDS); // the client may send 11 bytes; the backend's echo of them is too big
        events.assertClose(1001, "");
        assertEquals(new TestBackend.Closed(1009, "message too big"), backend.nextClose());
    }
}
