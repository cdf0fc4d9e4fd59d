package dev.gatehouse.jetty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import org.eclipse.jetty.websocket.core.OpCode;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.GatewayServer.Mount;

/**
 * The client leg's {@code Sec-WebSocket-Extensions} negotiation: a well-formed permessage-deflate offer is
 * accepted, and any other offer is declined (left out of the 101) while the handshake proceeds (RFC 7692).
 */
class ExtensionNegotiationTest {

    @RegisterExtension
    final Servers servers = new Servers();

    private GatewayServer start(Mount mount) throws Exception {
        return servers.start(Gateway.builder()
                .route(Route.of("/echo", Backend.of(servers.backend().uri("/echo"))))
                .build(), mount);
    }

    private static Stream<Arguments> onBothMounts(String... offers) {
        return Stream.of(Mount.values()).flatMap(m -> Stream.of(offers).map(o -> Arguments.of(m, o)));
    }

    static Stream<Arguments> malformedOffers() {
        return onBothMounts(
                "permessage-deflate; client_max_window_bits=abc",
                "permessage-deflate; client_max_window_bits=16",
                "permessage-deflate; client_max_window_bits=08",
                "permessage-deflate; server_max_window_bits=7",
                "permessage-deflate; unknown_parameter",
                "permessage-deflate; unknown=1",
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
                "permessage-deflate; client_no_context_takeover=1",
                "permessage-deflate;",
                "permessage-deflate; =10",
                "permessage-deflate; client_max_window_bits=\"10",
                "permessage-deflate; client_max_window_bits=1 0",
                "permessage-deflate; @inflate_buffer_size=1");
    }

    @ParameterizedTest
    @MethodSource("malformedOffers")
    void declinesAMalformedPermessageDeflateOfferAndCompletesTheHandshake(Mount mount, String offer) throws Exception {
        GatewayServer gw = start(mount);

        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"), "Sec-WebSocket-Extensions: " + offer);

        assertEquals(101, r.status(), r.body());
        assertNull(r.header("Sec-WebSocket-Extensions"), "a malformed offer was accepted");
        assertNull(servers.backend().nextUpgrade().header("Sec-WebSocket-Extensions"));
    }

    static Stream<Arguments> otherExtensions() {
        return onBothMounts("fragment; maxLength=1", "identity", "x-webkit-deflate-frame", ", ,");
    }

    @ParameterizedTest
    @MethodSource("otherExtensions")
    void declinesEveryExtensionButPermessageDeflate(Mount mount, String offer) throws Exception {
        GatewayServer gw = start(mount);

        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"), "Sec-WebSocket-Extensions: " + offer);

        assertEquals(101, r.status(), r.body());
        assertNull(r.header("Sec-WebSocket-Extensions"));
    }

    static Stream<Arguments> wellFormedOffers() {
        return Stream.of(Mount.values()).flatMap(m -> Stream.of(
                Arguments.of(m, "permessage-deflate", "permessage-deflate"),
                Arguments.of(m, "permessage-deflate; client_max_window_bits", "permessage-deflate"),
                Arguments.of(m, "permessage-deflate; client_max_window_bits=\"15\"", "permessage-deflate"),
                Arguments.of(m, "permessage-deflate ; client_no_context_takeover ; client_max_window_bits = 10",
                        "permessage-deflate;client_no_context_takeover"),
                Arguments.of(m, "permessage-deflate; server_no_context_takeover",
                        "permessage-deflate;server_no_context_takeover")));
    }

    @ParameterizedTest
    @MethodSource("wellFormedOffers")
    void acceptsAWellFormedPermessageDeflateOffer(Mount mount, String offer, String answer) throws Exception {
        GatewayServer gw = start(mount);

        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"), "Sec-WebSocket-Extensions: " + offer);

        assertEquals(101, r.status(), r.body());
        assertEquals(answer, r.header("Sec-WebSocket-Extensions"));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void acceptsTheFirstWellFormedOfferInTheClientsOrderOfPreference(Mount mount) throws Exception {
        GatewayServer gw = start(mount);

        RawHttp.Response r = RawHttp.upgrade(gw.httpUri("/echo"),
                "Sec-WebSocket-Extensions: fragment, permessage-deflate; server_max_window_bits=10",
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=abc, "
                        + "permessage-deflate; server_no_context_takeover, permessage-deflate");

        assertEquals(101, r.status(), r.body());
        assertEquals("permessage-deflate;server_no_context_takeover", r.header("Sec-WebSocket-Extensions"));
    }

    @ParameterizedTest
    @EnumSource(Mount.class)
    void relaysThroughTheOfferItAcceptedAfterDecliningOthers(Mount mount) throws Exception {
        GatewayServer gw = start(mount);
        try (FrameClient client = new FrameClient(gw.uri("/echo"), "permessage-deflate; server_max_window_bits=9",
                "permessage-deflate; client_max_window_bits; server_no_context_takeover")) {
            assertEquals(List.of("permessage-deflate"), client.extensions());

            byte[] text = "compress me ".repeat(10_000).getBytes(StandardCharsets.UTF_8);
            client.send(OpCode.TEXT, true, text);

            assertArrayEquals(text, client.nextMessage());
        }
    }
}
