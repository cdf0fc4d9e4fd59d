package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.gatehouse.GatewayException;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;
import dev.gatehouse.spi.LimiterStore;

/** Handshake rate limits: token buckets per client address, principal or route. */
class RateLimitPolicyTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2030-01-01T00:00:00Z"));

    private static Handshake from(String ip) {
        return Handshake.builder(ip, "/ws").remoteAddress(new InetSocketAddress(ip, 40000)).build();
    }

    private static Handshake as(String subject, String ip) {
        return from(ip).withPrincipal(Principal.of(subject));
    }

    private static boolean allowed(Policy policy, Handshake h) {
        return policy.evaluate(h, Verdict::allow) instanceof Verdict.Allow;
    }

    private void advance(Duration d) {
        now.updateAndGet(t -> t.plus(d));
    }

    @Test
    void allowsTheBurstThenRejectsWith429AndRetryAfter() {
        RateLimitPolicy policy = RateLimitPolicy.builder(LimitKey.clientAddress()).rate(2, Duration.ofSeconds(1))
                .burst(3).clock(now::get).build();
        for (int i = 0; i < 3; i++) {
            assertTrue(allowed(policy, from("203.0.113.7")), "handshake " + i);
        }

        Verdict.Reject reject = assertInstanceOf(Verdict.Reject.class, policy.evaluate(from("203.0.113.7"), Verdict::allow));

        assertEquals(429, reject.status());
        assertEquals(Rejection.RATE_LIMITED, reject.kind());
        assertEquals("rate_limited", reject.kind().error());
        assertEquals("1", reject.headers().get("Retry-After"));
    }

    @Test
    void retryAfterIsWholeSecondsRoundedUp() {
        RateLimitPolicy policy = RateLimitPolicy.builder(LimitKey.clientAddress()).rate(1, Duration.ofSeconds(10))
                .clock(now::get).build();
        allowed(policy, from("203.0.113.7"));
        advance(Duration.ofMillis(2500));

        Verdict.Reject reject = (Verdict.Reject) policy.evaluate(from("203.0.113.7"), Verdict::allow);

        assertEquals("8", reject.headers().get("Retry-After")); // 7.5 s left
    }

    @Test
    void floodIsAdmittedAtTheRateOnly() {
        RateLimitPolicy policy = RateLimitPolicy.builder(LimitKey.clientAddress()).rate(10, Duration.ofSeconds(1))
                .burst(5).clock(now::get).build();
        int admitted = 0;
        for (int ms = 0; ms < 2000; ms += 10) { // 200 handshakes over 2 s
            if (allowed(policy, from("203.0.113.7"))) {
                admitted++;
            }
            advance(Duration.ofMillis(10));
        }

        assertEquals(5 + 19, admitted); // the burst, then one every 100 ms after the first refill
    }

    @Test
    void perIpKeepsOneBucketPerClientAddress() {
        RateLimitPolicy policy = RateLimitPolicy.perIp(1, 1);

        assertTrue(allowed(policy, from("203.0.113.7")));
        assertTrue(allowed(policy, from("203.0.113.8")));
        assertTrue(!allowed(policy, from("203.0.113.7")));
    }

    @Test
    void perPrincipalKeepsOneBucketPerSubjectWhateverTheAddress() {
        RateLimitPolicy policy = RateLimitPolicy.perPrincipal(1, 1);

        assertTrue(allowed(policy, as("alice", "203.0.113.7")));
        assertTrue(!allowed(policy, as("alice", "203.0.113.8")));
        assertTrue(allowed(policy, as("bob", "203.0.113.7")));
    }

    @Test
    void perPrincipalLimitsAnonymousHandshakesPerClientAddress() {
        RateLimitPolicy policy = RateLimitPolicy.perPrincipal(1, 1);

        assertTrue(allowed(policy, from("203.0.113.7")));
        assertTrue(!allowed(policy, from("203.0.113.7")));
        assertTrue(allowed(policy, from("203.0.113.8")));
    }

    @Test
    void perRouteSharesOneBucketAcrossClients() {
        RateLimitPolicy policy = RateLimitPolicy.perRoute(1, 2);

        assertTrue(allowed(policy, from("203.0.113.7")));
        assertTrue(allowed(policy, as("alice", "203.0.113.8")));
        assertTrue(!allowed(policy, from("203.0.113.9")));
    }

    @Test
    void rejectedHandshakeDoesNotReachTheRestOfTheChain() {
        RateLimitPolicy policy = RateLimitPolicy.perRoute(1, 1);
        List<Handshake> reached = new ArrayList<>();
        Policy.Chain rest = h -> {
            reached.add(h);
            return Verdict.allow(h);
        };

        policy.evaluate(from("203.0.113.7"), rest);
        policy.evaluate(from("203.0.113.7"), rest);

        assertEquals(1, reached.size());
    }

    @Test
    void usesTheGivenStoreUnderItsName() {
        List<String> keys = new ArrayList<>();
        LimiterStore store = new LimiterStore() {
            @Override
            public Take tryTake(String key, Bucket bucket, int tokens, Instant at) {
                keys.add(key + " " + bucket.capacity() + " " + bucket.refillPerSecond() + " " + tokens);
                return new Take(true, Duration.ZERO);
            }

            @Override
            public Count increment(String key, Duration window, Instant at) {
                throw new AssertionError("not a window");
            }
        };
        RateLimitPolicy policy = RateLimitPolicy.builder(LimitKey.clientAddress()).rate(30, Duration.ofMinutes(1))
                .burst(10).name("chat-ip").store(store).build();

        allowed(policy, from("203.0.113.7"));

        assertEquals(List.of("chat-ip:ip:203.0.113.7 10 0.5 1"), keys);
    }

    @Test
    void keyReturningNullIsAContractBreachNamingTheKey() {
        LimitKey broken = h -> null;
        RateLimitPolicy policy = RateLimitPolicy.builder(broken).rate(1, Duration.ofSeconds(1)).build();

        GatewayException e = assertThrows(GatewayException.class, () -> policy.evaluate(from("203.0.113.7"), Verdict::allow));

        assertTrue(e.getMessage().contains("returned null"), e.getMessage());
    }

    @Test
    void invalidLimitsFailAtBuildTime() {
        assertEquals("permits: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> RateLimitPolicy.perIp(0, 1)).getMessage());
        assertEquals("burst: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> RateLimitPolicy.perIp(1, 0)).getMessage());
        assertEquals("per: PT0S (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> RateLimitPolicy.builder(LimitKey.route()).rate(1, Duration.ZERO)).getMessage());
        assertThrows(IllegalStateException.class, () -> RateLimitPolicy.builder(LimitKey.route()).build());
        assertThrows(IllegalArgumentException.class, () -> RateLimitPolicy.builder(LimitKey.route()).name(""));
    }

    @Test
    void describesItselfForLogs() {
        assertEquals("RateLimitPolicy[rate-limit: 10 per PT1S per client address, burst 20]",
                RateLimitPolicy.perIp(10, 20).toString());
    }
}
