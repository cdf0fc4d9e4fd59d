package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;

/** The built-in keys of the handshake limiters. */
class LimitKeyTest {

    private static final Handshake ANONYMOUS = Handshake.builder("r", "/ws")
            .remoteAddress(new InetSocketAddress("::ffff:203.0.113.7", 40000)).build();
    private static final Handshake ALICE = ANONYMOUS.withPrincipal(Principal.of("alice"));
    private static final Handshake ALICE_OF_APP = ANONYMOUS.withPrincipal(Principal.builder("alice").consumer("app").build());

    @Test
    void clientAddressKeyIsTheNormalizedAddress() {
        assertEquals("ip:203.0.113.7", LimitKey.clientAddress().of(ALICE));
    }

    @Test
    void principalKeyIsTheSubjectElseTheAddress() {
        assertEquals("principal:alice", LimitKey.principal().of(ALICE_OF_APP));
        assertEquals("ip:203.0.113.7", LimitKey.principal().of(ANONYMOUS));
    }

    @Test
    void consumerKeyIsTheConsumerElseTheSubjectElseTheAddress() {
        assertEquals("consumer:app", LimitKey.consumer().of(ALICE_OF_APP));
        assertEquals("principal:alice", LimitKey.consumer().of(ALICE));
        assertEquals("ip:203.0.113.7", LimitKey.consumer().of(ANONYMOUS));
    }

    @Test
    void routeKeyIsTheSameForEveryHandshake() {
        assertEquals(LimitKey.route().of(ANONYMOUS), LimitKey.route().of(ALICE));
    }
}
