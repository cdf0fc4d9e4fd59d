package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.gatehouse.GatewayException;
import dev.gatehouse.Handshake;
import dev.gatehouse.balance.Balance;
import dev.gatehouse.balance.BackendGroup;

class BalancerTest {

    private final ManualTicker ticker = new ManualTicker();

    private static final String A = "ws://a.internal:7001/feed";
    private static final String B = "ws://b.internal:7001/feed";
    private static final String C = "ws://c.internal:7001/feed";
    private static final String D = "ws://d.internal:7001/feed";

    private static Handshake handshake(String ip) {
        return Handshake.builder(Ids.next(), "/feed").remoteAddress(new InetSocketAddress(ip, 40000)).build();
    }

    private static Handshake withHeader(String name, String value) {
        return Handshake.builder(Ids.next(), "/feed").remoteAddress(new InetSocketAddress("10.0.0.1", 40000))
                .header(name, value).build();
    }

    private Balancer.Lease first(Balancer b, Handshake h) {
        Balancer.Lease lease = b.plan(h).next();
        assertNotNull(lease);
        return lease;
    }

    @Test
    void leastConnectionsBalancesLongLivedSessionsWhereRoundRobinWouldNot() {
        Balancer b = new Balancer(BackendGroup.builder().target(A).target(B).target(C).attempts(3).build(), ticker);
        for (int i = 0; i < 10; i++) {
            leaseOn(b, 2).connected(); // C holds ten long-lived sessions; A and B none
        }
        for (int i = 0; i < 20; i++) {
            first(b, handshake("10.0.0.1")).connected();
        }
        // Round robin would have put a third of the 20 on C; least connections fills A and B first.
        assertEquals(List.of(10, 10, 10), List.of(b.sessions(0), b.sessions(1), b.sessions(2)));
        first(b, handshake("10.0.0.1")).connected();
        assertEquals(31, b.sessions(0) + b.sessions(1) + b.sessions(2));
    }

    @Test
    void leastConnectionsFollowsTheWeights() {
        Balancer b = new Balancer(BackendGroup.builder().target(A, 1).target(B, 3).build(), ticker);
        for (int i = 0; i < 400; i++) {
            first(b, handshake("10.0.0.1")).connected();
        }
        assertEquals(100, b.sessions(0));
        assertEquals(300, b.sessions(1));
    }

    @Test
    void roundRobinIsSmoothAndWeighted() {
        Balancer b = new Balancer(BackendGroup.builder().target(A, 1).target(B, 2).balance(Balance.roundRobin()).build(),
                ticker);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            order.append(first(b, handshake("10.0.0.1")).index());
        }
        assertEquals("101101101", order.toString()); // B twice as often as A, never three B in a row
    }

    @Test
    void hashKeepsAKeyOnItsTargetAndMovesAboutOneInNWhenATargetJoins() {
        Balancer three = new Balancer(BackendGroup.builder().target(A).target(B).target(C)
                .balance(Balance.hash(Balance.Key.clientAddress())).build(), ticker);
        Balancer four = new Balancer(BackendGroup.builder().target(A).target(B).target(C).target(D)
                .balance(Balance.hash(Balance.Key.clientAddress())).build(), ticker);
        int keys = 4000;
        int moved = 0;
        int[] perTarget = new int[4];
        for (int i = 0; i < keys; i++) {
            String ip = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
            int before = first(three, handshake(ip)).index();
            assertEquals(before, first(three, handshake(ip)).index(), "a key stays on its target");
            int after = first(four, handshake(ip)).index();
            perTarget[after]++;
            if (after != before) {
                moved++;
                assertEquals(3, after, "a key only moves to the new target");
            }
        }
        // About a quarter of the keys move to the fourth target.
        assertTrue(moved > keys * 0.17 && moved < keys * 0.33, "moved " + moved);
        for (int n : perTarget) {
            assertTrue(n > keys * 0.15, "each target gets its share: " + java.util.Arrays.toString(perTarget));
        }
    }

    @Test
    void hashOnAHeaderFallsBackToLeastConnectionsWithoutIt() {
        Balancer b = new Balancer(BackendGroup.builder().target(A).target(B)
                .balance(Balance.hash(Balance.Key.header("X-Tenant"))).build(), ticker);
        Set<Integer> tenantTargets = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            Balancer.Lease lease = first(b, withHeader("X-Tenant", "acme"));
            tenantTargets.add(lease.index());
            lease.release();
        }
        assertEquals(1, tenantTargets.size());
        Map<Integer, Integer> spread = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            Balancer.Lease lease = first(b, handshake("10.0.0.2"));
            lease.connected();
            spread.merge(lease.index(), 1, Integer::sum);
        }
        assertEquals(2, spread.size(), "handshakes without the header are spread: " + spread);
    }

    @Test
    void failoverNeverTriesATargetTwiceAndStopsAtTheAttempts() {
        Balancer b = new Balancer(BackendGroup.builder().target(A).target(B).target(C).attempts(2).build(), ticker);
        Balancer.Plan plan = b.plan(handshake("10.0.0.1"));
        Balancer.Lease one = plan.next();
        one.failed();
        Balancer.Lease two = plan.next();
        assertNotEquals(one.index(), two.index());
        two.failed();
        assertNull(plan.next(), "two attempts at most");
        assertEquals(0, b.sessions(0) + b.sessions(1) + b.sessions(2), "failed dials hold no session");
    }

    @Test
    void consecutiveFailuresEjectATargetForACoolDownThatGrowsAndNeverMoreThanHalfTheGroup() {
        Balancer b = new Balancer(BackendGroup.builder().target(A).target(B).target(C).target(D)
                .ejectAfter(2).ejectFor(Duration.ofSeconds(10)).build(), ticker);
        failTarget(b, 0, 2);
        assertTrue(b.ejected(0));
        ticker.advance(Duration.ofSeconds(9));
        assertTrue(b.ejected(0));
        ticker.advance(Duration.ofSeconds(1));
        assertFalse(b.ejected(0), "back after 10 s");
        failTarget(b, 0, 2);
        ticker.advance(Duration.ofSeconds(19));
        assertTrue(b.ejected(0), "the second ejection in a row lasts 20 s");
        ticker.advance(Duration.ofSeconds(1));
        assertFalse(b.ejected(0));
        // Half the group at most: A and B ejected, C stays in however it fails.
        failTarget(b, 0, 2);
        failTarget(b, 1, 2);
        failTarget(b, 2, 5);
        assertTrue(b.ejected(0) && b.ejected(1));
        assertFalse(b.ejected(2), "never more than half the group");
        for (int i = 0; i < 20; i++) {
            Balancer.Lease lease = first(b, handshake("10.0.0.1"));
            assertTrue(lease.index() >= 2, "ejected targets get no new connection");
            lease.release();
        }
    }

    @Test
    void aSuccessResetsTheFailureCount() {
        Balancer b = new Balancer(BackendGroup.builder().target(A).target(B).ejectAfter(2).build(), ticker);
        failTarget(b, 0, 1);
        Balancer.Lease ok = leaseOn(b, 0);
        ok.connected();
        ok.release();
        failTarget(b, 0, 1);
        assertFalse(b.ejected(0));
    }

    @Test
    void ejectedTargetsAreTriedLastOrNeverWhenTheGroupRefuses() {
        Balancer tryAll = new Balancer(BackendGroup.builder().target(A).target(B).ejectAfter(1).build(), ticker);
        failTarget(tryAll, 0, 1);
        assertTrue(tryAll.ejected(0));
        Balancer.Plan plan = tryAll.plan(handshake("10.0.0.1"));
        Balancer.Lease onB = plan.next();
        assertEquals(1, onB.index(), "the healthy target first");
        onB.failed();
        assertEquals(0, plan.next().index(), "then the ejected one, rather than nothing");

        Balancer refusing = new Balancer(BackendGroup.builder().target(A).target(B).ejectAfter(1)
                .refuseWhenNoneHealthy().build(), ticker);
        failTarget(refusing, 0, 1);
        Balancer.Plan strict = refusing.plan(handshake("10.0.0.1"));
        Balancer.Lease healthy = strict.next();
        assertEquals(1, healthy.index());
        healthy.failed();
        assertNull(strict.next(), "an ejected target is not tried when the group refuses");
        assertFalse(strict.refused(), "the handshake had its attempt: its answer is that attempt's failure");

        // A single target is never ejected: there is no other to send its clients to.
        Balancer single = new Balancer(BackendGroup.builder().target(A).ejectAfter(1).build(), ticker);
        failTarget(single, 0, 3);
        assertFalse(single.ejected(0));
        assertNotNull(single.plan(handshake("10.0.0.1")).next());
    }

    @Test
    void slowStartGivesAReturningTargetItsShareGradually() {
        Balancer b = new Balancer(BackendGroup.builder().target(A).target(B).ejectAfter(1)
                .ejectFor(Duration.ofSeconds(10)).slowStart(Duration.ofSeconds(100)).build(), ticker);
        failTarget(b, 0, 1);
        ticker.advance(Duration.ofSeconds(10)); // A is back, its slow start begins
        int onA = 0;
        for (int i = 0; i < 100; i++) {
            Balancer.Lease lease = first(b, handshake("10.0.0.1"));
            lease.connected();
            onA += lease.index() == 0 ? 1 : 0;
        }
        assertTrue(onA < 20, "a tenth of its weight at first: " + onA);
        ticker.advance(Duration.ofSeconds(100));
        int later = 0;
        for (int i = 0; i < 100; i++) {
            Balancer.Lease lease = first(b, handshake("10.0.0.1"));
            lease.connected();
            later += lease.index() == 0 ? 1 : 0;
        }
        assertTrue(later > 60, "full weight after the slow start, catching up: " + later);
    }

    @Test
    void aLeaseIsReleasedOnce() {
        Balancer b = new Balancer(BackendGroup.of(A), ticker);
        Balancer.Lease lease = first(b, handshake("10.0.0.1"));
        lease.connected();
        assertEquals(1, b.sessions(0));
        lease.release();
        lease.release();
        assertEquals(0, b.sessions(0));
    }

    @Test
    void groupsAreCheckedAtBuildAndEqualByValue() {
        assertThrows(GatewayException.class, () -> BackendGroup.builder().build());
        assertThrows(GatewayException.class, () -> BackendGroup.builder().target(A, 0));
        assertThrows(IllegalArgumentException.class, () -> BackendGroup.builder().target("http://a/x"));
        assertThrows(GatewayException.class, () -> BackendGroup.builder().target(A).attempts(0).build());
        assertEquals(BackendGroup.of(A, B), BackendGroup.of(A, B));
        assertEquals(1, BackendGroup.builder().target(A).attempts(5).build().attempts());
        assertEquals(Balance.hash(Balance.Key.header("x-tenant")), Balance.parse("hash:header:X-Tenant"));
        GatewayException bad = assertThrows(GatewayException.class, () -> BackendGroup.builder().target(A).ejectAfter(0).build());
        assertTrue(bad.getMessage().contains("ejectAfter"), bad.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Balance.parse("fastest"));
        assertTrue(unknown.getMessage().contains("unknown policy \"fastest\""), unknown.getMessage());
    }

    /** Fails {@code times} dials on target {@code index}. */
    private void failTarget(Balancer b, int index, int times) {
        for (int i = 0; i < times; i++) {
            leaseOn(b, index).failed();
        }
    }

    /** A lease on target {@code index}, whichever the balance would choose first. */
    private Balancer.Lease leaseOn(Balancer b, int index) {
        for (int attempt = 0; attempt < 1000; attempt++) {
            Balancer.Plan plan = b.plan(handshake("10.0.0.1"));
            for (Balancer.Lease lease = plan.next(); lease != null; lease = plan.next()) {
                if (lease.index() == index) {
                    return lease;
                }
                lease.release();
            }
        }
        throw new AssertionError("target " + index + " is never chosen");
    }
}
