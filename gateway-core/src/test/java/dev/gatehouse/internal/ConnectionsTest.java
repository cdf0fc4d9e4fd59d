package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import dev.gatehouse.Audience;
import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Connections;
import dev.gatehouse.Delivery;
import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Message;
import dev.gatehouse.OverflowAction;
import dev.gatehouse.Principal;
import dev.gatehouse.Route;
import dev.gatehouse.SendResult;
import dev.gatehouse.Settings;
import dev.gatehouse.Verdict;
import dev.gatehouse.internal.BridgeHarness.Leg;
import dev.gatehouse.internal.FakeChannel.Sent;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.Reply;
import dev.gatehouse.routing.RouteEvent;
import dev.gatehouse.routing.WebSocketApi;

/**
 * {@code gateway.connections()}: users and groups, sends to a connection or an audience through the bounded
 * outbound queue, closes, revocation. The gateway has a proxy route ({@code /chat/{room}}) and a WebSocket API
 * route ({@code /api/{room}}); the principal's subject comes from the {@code X-User} header, and the API
 * route's {@code $connect} names the user of {@code X-As} and the groups of {@code X-Groups}.
 */
class ConnectionsTest {

    private final ManualTicker ticker = new ManualTicker();
    private final List<Client> clients = new CopyOnWriteArrayList<>();
    private DefaultGateway gateway = gateway(BridgeHarness.quiet().build());

    @AfterEach
    void engineKeptTheChannelContract() {
        List<String> all = new ArrayList<>();
        for (Client c : clients) {
            all.addAll(c.client.channel.violations());
            if (c.backend != null) {
                all.addAll(c.backend.channel.violations());
            }
        }
        assertEquals(List.of(), all, "SPI contract violations");
    }

    /** One connection: its bridge, its client leg, and on a proxy route its backend leg (else null). */
    private record Client(Bridge bridge, Leg client, Leg backend) {
        String id() {
            return bridge.id();
        }

        /** The texts the client was sent so far. */
        List<String> received() {
            return client.channel.sent().stream().map(Sent::text).toList();
        }

        /** Completes every send to the client that is in flight, until none is. */
        void clientReadsEverything() {
            boolean any = true;
            while (any) {
                any = false;
                for (Sent s : client.channel.sent()) {
                    if (!s.isCompleted()) {
                        s.succeed();
                        any = true;
                    }
                }
            }
        }
    }

    private DefaultGateway gateway(Settings settings) {
        Authenticator byHeader = h -> Verdict.allow(h.header("X-User").map(u -> h.withPrincipal(Principal.of(u))).orElse(h));
        Integration connect = Integration.of(e -> CompletableFuture.completedFuture(accept(e)));
        Integration none = Integration.of(e -> CompletableFuture.completedFuture(Reply.none()));
        Route proxy = Route.builder("/chat/{room}").authenticator(byHeader).backend(Backend.of(BridgeHarness.BACKEND)).build();
        Route api = Route.builder("/api/{room}").authenticator(byHeader)
                .webSocketApi(WebSocketApi.builder().integration("$connect", connect).integration("$default", none)
                        .integration("$disconnect", none).build())
                .build();
        return DefaultGateway.of(Gateway.builder().route(proxy).route(api).settings(settings).build(), ticker);
    }

    private static Reply accept(RouteEvent event) {
        Reply.Accept a = Reply.accept();
        Optional<String> as = event.handshake().header("X-As");
        if (as.isPresent()) {
            a = a.withUser(as.get());
        }
        Optional<String> groups = event.handshake().header("X-Groups");
        if (groups.isPresent()) {
            a = a.withGroups(groups.get().split(","));
        }
        return a;
    }

    private void use(Settings settings) {
        gateway = gateway(settings);
    }

    private Connections connections() {
        return gateway.connections();
    }

    private static Handshake.Builder request(String path, String principal) {
        Handshake.Builder r = BridgeHarness.request(Ids.next(), path);
        if (principal != null) {
            r.header("X-User", principal);
        }
        return r;
    }

    /** An open connection on the proxy route, of the principal (null: anonymous). */
    private Client proxy(String principal) {
        Bridge bridge = gateway.newBridge(Admissions.admitted(gateway.admit(request("/chat/lobby", principal).build())));
        Client c = new Client(bridge, new Leg(new FakeChannel("client"), bridge.clientHandler()),
                new Leg(new FakeChannel("backend"), bridge.backendHandler()));
        clients.add(c);
        assertTrue(bridge.backendConnected(c.backend.channel, null));
        bridge.clientConnected(c.client.channel);
        return c;
    }

    /** An open connection on the API route, of the principal, whose $connect names {@code as} (if not null) and the groups. */
    private Client api(String principal, String as, String... groups) {
        gateway.integrations().useExecutor(Runnable::run);
        Handshake.Builder r = request("/api/lobby", principal);
        if (as != null) {
            r.header("X-As", as);
        }
        if (groups.length > 0) {
            r.header("X-Groups", String.join(",", groups));
        }
        Admission.Admitted admission = Admissions.admitted(gateway.admit(r.build()));
        Bridge bridge = gateway.newBridge(admission);
        Integrations.Connect outcome = BridgeHarness.await(gateway.connectApi(admission, bridge).toCompletableFuture(),
                "$connect");
        Integrations.Connect.Accepted accepted = assertInstanceOf(Integrations.Connect.Accepted.class, outcome);
        assertTrue(bridge.backendConnected(gateway.integrationLeg(admission, bridge, accepted), accepted.subprotocol()));
        Client c = new Client(bridge, new Leg(new FakeChannel("client"), bridge.clientHandler()), null);
        clients.add(c);
        bridge.clientConnected(c.client.channel);
        return c;
    }

    /** A proxy-route connection whose backend answered, but whose client leg is not open yet. */
    private Client connecting() {
        Bridge bridge = gateway.newBridge(Admissions.admitted(gateway.admit(request("/chat/lobby", "alice").build())));
        Client c = new Client(bridge, new Leg(new FakeChannel("client"), bridge.clientHandler()),
                new Leg(new FakeChannel("backend"), bridge.backendHandler()));
        clients.add(c);
        assertTrue(bridge.backendConnected(c.backend.channel, null));
        return c;
    }

    /** Closes the connection through the registry and lets both legs answer, so that it ends. */
    private void closeAndEnd(Client c) {
        assertTrue(join(connections().close(c.id(), CloseStatus.of(4000, "bye"))));
        c.client.echoClose();
        if (c.backend != null) {
            c.backend.echoClose();
        }
        BridgeHarness.await(c.bridge.closed(), "the bridge to end");
    }

    private static <T> T join(CompletionStage<T> stage) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        assertTrue(f.isDone(), "a registry operation on one node completes before it returns");
        return f.join();
    }

    private List<String> ids(Audience audience) {
        return join(connections().ids(audience)).stream().sorted().toList();
    }

    private static List<String> sorted(Client... cs) {
        return Arrays.stream(cs).map(Client::id).sorted().toList();
    }

    private ConnectionInfo info(Client c) {
        return join(connections().info(c.id())).orElseThrow(() -> new AssertionError(c.id() + " not listed"));
    }

    private SendResult send(Client c, String text) {
        return join(connections().send(c.id(), Message.text(text)));
    }

    private Delivery send(Audience audience, String text) {
        return join(connections().send(audience, Message.text(text)));
    }

    // ---- users and groups ----

    @Test
    void userIsThePrincipalsSubjectByDefault() {
        Client c = proxy("alice");

        assertEquals(Optional.of("alice"), info(c).user());
        assertEquals(List.of(c.id()), ids(Audience.user("alice")));
        assertEquals(Set.of("alice"), gateway.registry().indexedUsers());
    }

    @Test
    void anonymousConnectionHasNoUserAndIsInNoUsersIndex() {
        Client c = proxy(null);

        assertTrue(info(c).user().isEmpty());
        assertEquals(Set.of(), gateway.registry().indexedUsers());
        assertEquals(List.of(c.id()), ids(Audience.all()));
    }

    @Test
    void connectsUserAndGroupsIndexTheConnection() {
        Client c = api("alice", "bob", "ops", "eu");

        ConnectionInfo info = info(c);
        assertEquals(Optional.of("bob"), info.user());
        assertEquals("alice", info.principal().orElseThrow().subject());
        assertEquals(List.of("ops", "eu"), info.groups());
        assertEquals(List.of(c.id()), ids(Audience.user("bob")));
        assertEquals(List.of(), ids(Audience.user("alice")), "the principal's subject is not the user any more");
        assertEquals(List.of(c.id()), ids(Audience.group("ops")));
        assertEquals(List.of(c.id()), ids(Audience.group("eu")));

        assertEquals(new Delivery(1, 0), send(Audience.group("eu"), "to eu"));
        assertEquals("to eu", c.client.channel.nextSent().text());
    }

    @Test
    void connectWithoutUserKeepsThePrincipalsSubject() {
        Client c = api("alice", null, "ops");

        assertEquals(Optional.of("alice"), info(c).user());
        assertEquals(List.of(c.id()), ids(Audience.user("alice")));
    }

    @Test
    void connectionIsIndexedOnlyOnceItsRelayStarts() {
        Client c = connecting();

        assertEquals(Set.of(), gateway.registry().indexedUsers());
        assertEquals(List.of(), ids(Audience.user("alice")));
        assertEquals(new Delivery(0, 0), send(Audience.all(), "too early"));
        assertEquals(SendResult.GONE, send(c, "too early"));

        c.bridge.clientConnected(c.client.channel);

        assertEquals(List.of(c.id()), ids(Audience.user("alice")));
        assertEquals(SendResult.QUEUED, send(c, "now"));
        assertEquals("now", c.client.channel.nextSent().text());
    }

    @Test
    void joinAndLeaveChangeTheGroupsInInfoAndTheIndex() {
        Client c = proxy("alice");

        assertTrue(join(connections().join(c.id(), "room-1")));
        assertTrue(join(connections().join(c.id(), "room-2")));
        assertTrue(join(connections().join(c.id(), "room-1")), "joining twice is no error");
        assertEquals(List.of("room-1", "room-2"), info(c).groups());
        assertEquals(List.of(c.id()), ids(Audience.group("room-1")));

        assertTrue(join(connections().leave(c.id(), "room-1")));
        assertTrue(join(connections().leave(c.id(), "room-1")), "leaving twice is no error");
        assertTrue(join(connections().leave(c.id(), "never-joined")));

        assertEquals(List.of("room-2"), info(c).groups());
        assertEquals(List.of(), ids(Audience.group("room-1")));
        assertEquals(Set.of("room-2"), gateway.registry().indexedGroups(), "an empty group keeps its entry");
    }

    @Test
    void joinAndLeaveReturnFalseForUnknownConnectingClosingAndClosedConnections() {
        Client connecting = connecting();
        Client closing = proxy("alice");
        Client closed = proxy("alice");
        join(connections().close(closing.id(), CloseStatus.NORMAL));
        closeAndEnd(closed);

        for (String id : List.of("no-such-id", connecting.id(), closing.id(), closed.id())) {
            assertFalse(join(connections().join(id, "g")), id);
            assertFalse(join(connections().leave(id, "g")), id);
        }
        assertEquals(Set.of(), gateway.registry().indexedGroups());
    }

    @Test
    void invalidGroupNamesAreRefusedNamingTheParameter() {
        Client c = proxy("alice");
        String tooLong = "g".repeat(Audience.MAX_NAME_LENGTH + 1);

        for (String bad : List.of("", tooLong, "room\n1", "\u0000", "tab\there", "del\u007f")) {
            for (Executable call : List.<Executable>of(
                    () -> connections().join(c.id(), bad),
                    () -> connections().leave(c.id(), bad),
                    () -> Audience.group(bad))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, bad);
                assertTrue(e.getMessage().startsWith("group: "), e.getMessage());
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Audience.user(""));
        assertTrue(e.getMessage().startsWith("userId: "), e.getMessage());
        assertEquals(List.of(), info(c).groups());

        String longest = "g".repeat(Audience.MAX_NAME_LENGTH);
        assertTrue(join(connections().join(c.id(), longest)), "a name of the longest length is valid");
        assertTrue(join(connections().join(c.id(), "ünïcödé room")));
        assertEquals(List.of(longest, "ünïcödé room"), info(c).groups());
    }

    @Test
    void nullArgumentsAreRefusedNamingTheParameter() {
        Client c = proxy("alice");

        assertEquals("id", assertThrows(NullPointerException.class, () -> connections().send((String) null, Message.text("x")))
                .getMessage());
        assertEquals("message", assertThrows(NullPointerException.class, () -> connections().send(c.id(), null)).getMessage());
        assertEquals("audience", assertThrows(NullPointerException.class, () -> connections().ids(null)).getMessage());
        assertEquals("group", assertThrows(NullPointerException.class, () -> connections().join(c.id(), null)).getMessage());
        assertEquals("subject", assertThrows(NullPointerException.class, () -> connections().revoke(null)).getMessage());
        assertEquals("status", assertThrows(NullPointerException.class, () -> connections().close(c.id(), null)).getMessage());
    }

    // ---- sends to one connection ----

    @Test
    void messageSentToAProxyConnectionReachesItsClientAndNeverItsBackend() {
        Client c = proxy("alice");

        assertEquals(SendResult.QUEUED, send(c, "hello"));
        assertEquals(SendResult.QUEUED, join(connections().send(c.id(), Message.binary(new byte[] {1, 2, 3}))));

        Sent text = c.client.channel.nextSent();
        assertEquals("hello", text.text());
        assertTrue(text.last(), "a sent message is one whole frame");
        text.succeed();
        Sent binary = c.client.channel.nextSent();
        assertArrayEquals(new byte[] {1, 2, 3}, binary.bytes());
        binary.succeed();
        assertEquals(List.of(), c.backend.channel.sent(), "the backend got a message sent to the client");
    }

    @Test
    void messageSentToAnApiConnectionReachesItsClient() {
        Client c = api("alice", null);

        assertEquals(SendResult.QUEUED, send(c, "hello"));

        assertEquals("hello", c.client.channel.nextSent().text());
    }

    @Test
    void sendToAnUnknownIdIsGone() {
        assertEquals(SendResult.GONE, join(connections().send("no-such-id", Message.text("x"))));
    }

    @Test
    void sendToAClosingOrClosedConnectionIsGone() {
        Client closing = proxy("alice");
        Client closed = proxy("alice");

        join(connections().close(closing.id(), CloseStatus.of(4000, "bye")));
        closeAndEnd(closed);

        assertEquals(SendResult.GONE, send(closing, "late"));
        assertEquals(SendResult.GONE, send(closed, "late"));
        assertEquals(List.of(), closing.client.channel.sent());
        assertEquals(List.of(), closed.client.channel.sent());
    }

    @Test
    void sendWaitsForTheEndOfAFragmentedBackendMessage() {
        Client c = proxy("alice");

        c.backend.sendText("frag-1", false);
        assertEquals(SendResult.QUEUED, send(c, "pushed"));
        c.client.channel.nextSent().succeed();
        c.backend.sendText("frag-2", true);
        c.client.channel.nextSent().succeed();

        assertEquals(List.of("frag-1", "frag-2", "pushed"), c.received());
    }

    @Test
    void sendIsRefusedWhenTheClientStopsReadingAndTheConnectionStillWorksOnceItReads() {
        use(BridgeHarness.quiet().maxOutboundQueue(16 + 2 * Outbox.MESSAGE_OVERHEAD).build());
        Client c = proxy("alice");

        assertEquals(SendResult.QUEUED, send(c, "0123456789"));
        assertEquals(SendResult.QUEUED, send(c, "abcdef"));
        assertEquals(SendResult.QUEUE_FULL, send(c, "x"));
        assertEquals(new Delivery(0, 1), send(Audience.user("alice"), "y"));
        assertTrue(c.bridge.isOpen(), "a full queue harmed the connection");
        c.backend.sendText("relayed");
        assertEquals(List.of("0123456789"), c.received(), "the client is still writing the first message");

        c.clientReadsEverything();

        assertEquals(List.of("0123456789", "relayed", "abcdef"), c.received(),
                "the waiting relayed message takes its turn before the second push");
        assertEquals(SendResult.QUEUED, send(c, "x"), "the queue has room again");
        c.client.sendText("upstream");
        assertEquals("upstream", c.backend.channel.nextSent().text(), "the client is still relayed");
        c.clientReadsEverything();
        assertEquals(List.of("0123456789", "relayed", "abcdef", "x"), c.received());
        ConnectionInfo info = info(c);
        assertEquals(4, info.messagesOut(), "refused sends are not counted");
        assertEquals(10 + 7 + 6 + 1, info.bytesOut());
    }

    @Test
    void withOverflowCloseASendThatOverflowsClosesTheSlowClientWith1013AndTheBackendWith1001() {
        use(BridgeHarness.quiet().maxOutboundQueue(16 + 2 * Outbox.MESSAGE_OVERHEAD)
                .outboundOverflow(OverflowAction.CLOSE).build());
        Client c = proxy("alice");
        assertEquals(SendResult.QUEUED, send(c, "0123456789"));
        assertEquals(SendResult.QUEUED, send(c, "abcdef"));

        assertEquals(SendResult.QUEUE_FULL, send(c, "x"), "the overflowing message is refused");

        assertFalse(c.bridge.isOpen());
        assertEquals(List.of(CloseStatus.GOING_AWAY), c.backend.channel.closes());
        assertEquals(List.of(), c.client.channel.closes(), "the CLOSE waits for the write in flight");
        assertEquals(SendResult.GONE, send(c, "y"));
        c.clientReadsEverything();
        assertEquals(List.of(CloseStatus.TRY_AGAIN_LATER), c.client.channel.closes());
        assertEquals(List.of("0123456789"), c.received(), "the messages still queued were dropped");
        c.client.echoClose();
        c.backend.echoClose();
        BridgeHarness.await(c.bridge.closed(), "the bridge to end");
    }

    @Test
    void withOverflowCloseABroadcastClosesOnlyTheSlowClients() {
        use(BridgeHarness.quiet().maxOutboundQueue(16 + Outbox.MESSAGE_OVERHEAD)
                .outboundOverflow(OverflowAction.CLOSE).build());
        Client slow = api("alice", null, "room");
        Client reading = api("bob", null, "room");

        assertEquals(new Delivery(2, 0), send(Audience.group("room"), "0123456789"));
        reading.clientReadsEverything();
        assertEquals(new Delivery(1, 1), send(Audience.group("room"), "abcdef"));

        assertFalse(slow.bridge.isOpen());
        assertTrue(reading.bridge.isOpen());
        slow.clientReadsEverything();
        assertEquals(List.of(CloseStatus.TRY_AGAIN_LATER), slow.client.channel.closes());
        reading.clientReadsEverything();
        assertEquals(List.of("0123456789", "abcdef"), reading.received());
    }

    @Test
    void emptyMessagesFillTheQueueOfAClientThatStoppedReading() {
        use(BridgeHarness.quiet().maxOutboundQueue(2 * Outbox.MESSAGE_OVERHEAD).build());
        Client c = proxy("alice");

        assertEquals(SendResult.QUEUED, send(c, ""));
        assertEquals(SendResult.QUEUED, send(c, ""));
        assertEquals(SendResult.QUEUE_FULL, send(c, ""));

        c.clientReadsEverything();
        assertEquals(List.of("", ""), c.received());
        assertEquals(0, info(c).bytesOut(), "an empty message's byte in the queue is not a byte sent");
        assertEquals(2, info(c).messagesOut());
    }

    @Test
    void infoCountsSentMessagesInMessagesOutAndBytesOut() {
        Client c = proxy("alice");
        c.backend.sendText("abc");
        c.client.channel.nextSent().succeed();

        send(c, "hello");
        join(connections().send(c.id(), Message.binary(new byte[7])));
        send(Audience.all(), "é");
        assertEquals(1, info(c).messagesOut(), "sent messages counted before they were written");
        for (int i = 0; i < 3; i++) {
            c.client.channel.nextSent().succeed();
        }

        ConnectionInfo info = info(c);
        assertEquals(4, info.messagesOut());
        assertEquals(3 + 5 + 7 + 2, info.bytesOut());
        assertEquals(0, info.messagesIn(), "sends are not counted as what the client sent");
    }

    // ---- sends to an audience ----

    @Test
    void sendToAUserReachesEveryConnectionOfTheUserAcrossRoutes() {
        Client onProxy = proxy("alice");
        Client onApi = api("alice", null);
        Client namedByConnect = api("carol", "alice");
        Client bob = proxy("bob");
        Client aliceAsOther = api("alice", "not-alice");

        Delivery d = send(Audience.user("alice"), "hi alice");

        assertEquals(new Delivery(3, 0), d);
        for (Client c : List.of(onProxy, onApi, namedByConnect)) {
            assertEquals(List.of("hi alice"), c.received(), c.id());
        }
        assertEquals(List.of(), bob.received());
        assertEquals(List.of(), aliceAsOther.received());
        assertEquals(List.of(), onProxy.backend.channel.sent(), "the backend got a message sent to the client");
        assertEquals(sorted(onProxy, onApi, namedByConnect), ids(Audience.user("alice")));
    }

    @Test
    void sendToAGroupReachesItsMembersOnly() {
        Client a = proxy("alice");
        Client b = api("bob", null, "room-1");
        Client outsider = proxy("carol");
        Client otherRoom = api("dave", null, "room-2");
        join(connections().join(a.id(), "room-1"));

        assertEquals(new Delivery(2, 0), send(Audience.group("room-1"), "to room 1"));

        assertEquals(List.of("to room 1"), a.received());
        assertEquals(List.of("to room 1"), b.received());
        assertEquals(List.of(), outsider.received());
        assertEquals(List.of(), otherRoom.received());
        assertEquals(sorted(a, b), ids(Audience.group("room-1")));
    }

    @Test
    void sendToAGroupWithoutMembersReachesNobody() {
        proxy("alice");

        assertEquals(new Delivery(0, 0), send(Audience.group("empty"), "nobody"));
        assertEquals(List.of(), ids(Audience.group("empty")));
    }

    @Test
    void sendToEveryoneReachesEveryOpenConnection() {
        Client a = proxy("alice");
        Client b = api("bob", null);
        Client anonymous = proxy(null);
        Client notYetOpen = connecting();
        Client closing = proxy("carol");
        join(connections().close(closing.id(), CloseStatus.NORMAL));

        assertEquals(new Delivery(3, 0), send(Audience.all(), "everyone"));

        for (Client c : List.of(a, b, anonymous)) {
            assertEquals(List.of("everyone"), c.received());
        }
        assertEquals(List.of(), notYetOpen.client.channel.sent());
        assertEquals(List.of(), closing.client.channel.sent());
        assertEquals(sorted(a, b, anonymous), ids(Audience.all()));
    }

    @Test
    void excludedConnectionsAreSkipped() {
        Client sender = api("alice", null, "room");
        Client b = api("bob", null, "room");
        Client c = api("carol", null, "room");

        Audience others = Audience.group("room").excluding(List.of(sender.id(), "no-such-id"));

        assertEquals(new Delivery(2, 0), send(others, "from alice"));
        assertEquals(List.of(), sender.received());
        assertEquals(List.of("from alice"), b.received());
        assertEquals(List.of("from alice"), c.received());
        assertEquals(sorted(b, c), ids(others));
        assertEquals(new Delivery(2, 0), send(Audience.all().excluding(List.of(c.id())), "all but carol"));
        assertEquals(List.of("from alice"), c.received());
        assertEquals(new Delivery(0, 0), send(Audience.user("bob").excluding(List.of(b.id())), "not bob"));
    }

    @Test
    void deliveryCountsRecipientsAndConnectionsWhoseQueueIsFull() {
        use(BridgeHarness.quiet().maxOutboundQueue(4 + Outbox.MESSAGE_OVERHEAD).build());
        Client slow = api("alice", null, "room");
        Client fast = api("bob", null, "room");
        Client other = api("carol", null, "room");
        fast.client.channel.completeSendsAtOnce();
        other.client.channel.completeSendsAtOnce();

        assertEquals(new Delivery(3, 0), send(Audience.group("room"), "1234"));
        assertEquals(new Delivery(2, 1), send(Audience.group("room"), "5678"));

        assertEquals(List.of("1234"), slow.received());
        assertEquals(List.of("1234", "5678"), fast.received());
        slow.clientReadsEverything();
        assertEquals(new Delivery(3, 0), send(Audience.group("room"), "9abc"));
        assertEquals(List.of("1234", "9abc"), slow.received());
    }

    @Test
    void binaryMessageReachesEveryRecipientWhole() {
        Client a = api("alice", null, "room");
        Client b = api("bob", null, "room");
        Message message = Message.binary(new byte[] {9, 8, 7});

        assertEquals(new Delivery(2, 0), join(connections().send(Audience.group("room"), message)));
        assertEquals(new Delivery(2, 0), join(connections().send(Audience.group("room"), message)));

        for (Client c : List.of(a, b)) {
            Sent first = c.client.channel.nextSent();
            assertArrayEquals(new byte[] {9, 8, 7}, first.bytes());
            first.succeed();
            assertArrayEquals(new byte[] {9, 8, 7}, c.client.channel.nextSent().bytes(), "the message was used up");
        }
    }

    // ---- ids and the indexes ----

    @Test
    void closedConnectionLeavesEveryIndex() {
        Client c = api("alice", "bob", "g1", "g2");
        join(connections().join(c.id(), "g3"));
        Client stays = proxy("carol");

        join(connections().close(c.id(), CloseStatus.of(4000, "bye")));
        assertEquals(List.of(), ids(Audience.user("bob")), "a closing connection is listed");
        assertEquals(List.of(), ids(Audience.group("g1")));
        c.client.echoClose();
        BridgeHarness.await(c.bridge.closed(), "the bridge to end");

        assertEquals(List.of(), ids(Audience.user("bob")));
        for (String g : List.of("g1", "g2", "g3")) {
            assertEquals(List.of(), ids(Audience.group(g)), g);
        }
        assertEquals(List.of(stays.id()), ids(Audience.all()));
        assertEquals(Set.of("carol"), gateway.registry().indexedUsers(), "a stale user entry is left");
        assertEquals(Set.of(), gateway.registry().indexedGroups(), "a stale group entry is left");
    }

    @Test
    void lostOrAbortedConnectionLeavesEveryIndex() {
        Client lost = proxy("alice");
        Client aborted = api("bob", null, "g");
        join(connections().join(lost.id(), "g"));

        lost.client.drop();
        lost.backend.echoClose();
        aborted.bridge.abort();

        BridgeHarness.await(lost.bridge.closed(), "the lost bridge to end");
        BridgeHarness.await(aborted.bridge.closed(), "the aborted bridge to end");
        assertEquals(Set.of(), gateway.registry().indexedUsers());
        assertEquals(Set.of(), gateway.registry().indexedGroups());
        assertEquals(List.of(), ids(Audience.all()));
    }

    @Test
    void userEntryStaysWhileTheUserHasAnotherConnection() {
        Client first = proxy("alice");
        Client second = api("alice", null);

        closeAndEnd(first);

        assertEquals(List.of(second.id()), ids(Audience.user("alice")));
        assertEquals(Set.of("alice"), gateway.registry().indexedUsers());
    }

    @Test
    void leavingTheLastMemberDropsTheGroupsEntry() {
        Client a = proxy("alice");
        Client b = proxy("bob");
        join(connections().join(a.id(), "g"));
        join(connections().join(b.id(), "g"));

        join(connections().leave(a.id(), "g"));
        assertEquals(Set.of("g"), gateway.registry().indexedGroups());
        join(connections().leave(b.id(), "g"));

        assertEquals(Set.of(), gateway.registry().indexedGroups());
    }

    // ---- closes and revocation ----

    @Test
    void aMessageSentJustBeforeACloseReachesTheClientBeforeTheClose() {
        Client c = proxy("alice");
        assertEquals(SendResult.QUEUED, send(c, "bye"));

        assertTrue(join(connections().close(c.id(), CloseStatus.of(4000, "kicked"))));

        assertEquals(List.of(), c.client.channel.closes(), "the CLOSE overtook the message being written");
        assertEquals(SendResult.GONE, send(c, "too late"));
        c.client.channel.nextSent().succeed();
        c.client.channel.assertClosedOnceWith(CloseStatus.of(4000, "kicked"));
        assertEquals(List.of("bye"), c.received());
    }

    @Test
    void closingAGroupClosesItsMembersWithTheStatusAndTheirBackendsWith1001() {
        Client a = proxy("alice");
        Client b = proxy("bob");
        Client outsider = proxy("carol");
        Client apiMember = api("dave", null, "room");
        join(connections().join(a.id(), "room"));
        join(connections().join(b.id(), "room"));

        assertEquals(3, join(connections().close(Audience.group("room"), CloseStatus.of(4001, "room closed"))));

        for (Client c : List.of(a, b)) {
            c.client.channel.assertClosedOnceWith(CloseStatus.of(4001, "room closed"));
            assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
        }
        apiMember.client.channel.assertClosedOnceWith(CloseStatus.of(4001, "room closed"));
        assertEquals(List.of(), outsider.client.channel.closes());
        assertTrue(outsider.bridge.isOpen());
        assertEquals(0, join(connections().close(Audience.group("room"), CloseStatus.of(4001, "again"))),
                "closing connections are closed again");
    }

    @Test
    void closingAUsersConnectionsSkipsTheExcludedOnes() {
        Client a1 = proxy("alice");
        Client a2 = api("alice", null);
        Client kept = proxy("alice");
        Client bob = proxy("bob");

        int closed = join(connections().close(Audience.user("alice").excluding(List.of(kept.id())), CloseStatus.of(4002, "kicked")));

        assertEquals(2, closed);
        a1.client.channel.assertClosedOnceWith(CloseStatus.of(4002, "kicked"));
        a2.client.channel.assertClosedOnceWith(CloseStatus.of(4002, "kicked"));
        assertEquals(List.of(), kept.client.channel.closes());
        assertEquals(List.of(), bob.client.channel.closes());
        assertEquals(List.of(kept.id()), ids(Audience.user("alice")));
    }

    @Test
    void closingEveryoneClosesEveryOpenConnection() {
        Client a = proxy("alice");
        Client b = api("bob", null);

        assertEquals(2, join(connections().close(Audience.all(), CloseStatus.of(1001, "maintenance"))));

        a.client.channel.assertClosedOnceWith(CloseStatus.of(1001, "maintenance"));
        b.client.channel.assertClosedOnceWith(CloseStatus.of(1001, "maintenance"));
    }

    @Test
    void closeRefusesStatusesThatMayNotBeSentNamingTheParameter() {
        Client c = proxy("alice");

        for (int code : new int[] {1004, 1005, 1006, 1015}) {
            for (Executable call : List.<Executable>of(
                    () -> connections().close(c.id(), CloseStatus.of(code)),
                    () -> connections().close(Audience.all(), CloseStatus.of(code)),
                    () -> connections().close(Audience.user("alice"), CloseStatus.of(code)))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
                assertTrue(e.getMessage().startsWith("status: " + code), e.getMessage());
            }
        }
        assertEquals(List.of(), c.client.channel.closes());
        assertTrue(c.bridge.isOpen());
    }

    @Test
    void revokeClosesByThePrincipalsSubjectEvenWhenConnectNamedAnotherUser() {
        Client renamed = api("alice", "bob");
        Client onProxy = proxy("alice");
        Client bob = proxy("bob");

        assertEquals(1, join(connections().revoke("bob")), "the connection $connect named bob is not bob's principal's");
        bob.client.channel.assertClosedOnceWith(CloseStatus.of(1008, "revoked"));
        assertEquals(List.of(), renamed.client.channel.closes());

        assertEquals(2, join(connections().revoke("alice")));

        renamed.client.channel.assertClosedOnceWith(CloseStatus.of(1008, "revoked"));
        onProxy.client.channel.assertClosedOnceWith(CloseStatus.of(1008, "revoked"));
        assertEquals(List.of(1001), onProxy.backend.channel.closes().stream().map(CloseStatus::code).toList());
        assertEquals(0, join(connections().revoke("alice")), "a connection is revoked once");
    }
}
