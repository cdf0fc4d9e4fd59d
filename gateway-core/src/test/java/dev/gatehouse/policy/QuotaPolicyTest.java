package dev.gatehouse.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/** Connection quotas per consumer and period, in fixed windows aligned to the epoch. */
class QuotaPolicyTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2030-01-01T18:00:00Z"));

    private static Handshake consumer(String consumer, String subject) {
        return Handshake.builder("r", "/ws").remoteAddress(new InetSocketAddress("203.0.113.7", 40000)).build()
                .withPrincipal(Principal.builder(subject).consumer(consumer).build());
    }

    private static Handshake subject(String subject) {
        return Handshake.builder("r", "/ws").remoteAddress(new InetSocketAddress("203.0.113.7", 40000)).build()
                .withPrincipal(Principal.of(subject));
    }

    private static Handshake anonymous(String ip) {
        return Handshake.builder("r", "/ws").remoteAddress(new InetSocketAddress(ip, 40000)).build();
    }

    private static boolean allowed(Policy policy, Handshake h) {
        return policy.evaluate(h, Verdict::allow) instanceof Verdict.Allow;
    }

    private QuotaPolicy daily(long limit) {
        return QuotaPolicy.builder(limit, Duration.ofDays(1)).clock(now::get).build();
    }

    @Test
    void allowsTheQuotaThenRejectsWith429UntilTheEndOfTheDay() {
        QuotaPolicy policy = daily(3);
        for (int i = 0; i < 3; i++) {
            assertTrue(allowed(policy, consumer("mobile-app", "alice")), "connection " + i);
        }

        Verdict.Reject reject = assertInstanceOf(Verdict.Reject.class,
                policy.evaluate(consumer("mobile-app", "alice"), Verdict::allow));

        assertEquals(429, reject.status());
        assertEquals(Rejection.QUOTA_EXCEEDED, reject.kind());
        assertEquals("quota_exceeded", reject.kind().error());
        assertEquals(Long.toString(6 * 3600), reject.headers().get("Retry-After")); // until 00:00 UTC
    }

    @Test
    void newPeriodRestoresTheQuota() {
        QuotaPolicy policy = daily(1);
        assertTrue(allowed(policy, subject("alice")));
        assertTrue(!allowed(policy, subject("alice")));

        now.set(Instant.parse("2030-01-02T00:00:00Z"));

        assertTrue(allowed(policy, subject("alice")));
    }

    @Test
    void consumerSharesItsQuotaAcrossItsSubjects() {
        QuotaPolicy policy = daily(2);

        assertTrue(allowed(policy, consumer("mobile-app", "alice")));
        assertTrue(allowed(policy, consumer("mobile-app", "bob")));
        assertTrue(!allowed(policy, consumer("mobile-app", "carol")));
        assertTrue(allowed(policy, consumer("partner", "alice")));
    }

    @Test
    void principalWithoutConsumerIsCountedBySubject() {
        QuotaPolicy policy = daily(1);

        assertTrue(allowed(policy, subject("alice")));
        assertTrue(allowed(policy, subject("bob")));
        assertTrue(!allowed(policy, subject("alice")));
    }

    @Test
    void anonymousHandshakesAreCountedByClientAddress() {
        QuotaPolicy policy = daily(1);

        assertTrue(allowed(policy, anonymous("203.0.113.7")));
        assertTrue(allowed(policy, anonymous("203.0.113.8")));
        assertTrue(!allowed(policy, anonymous("203.0.113.7")));
    }

    @Test
    void otherKeyCanBeChosen() {
        QuotaPolicy policy = QuotaPolicy.builder(1, Duration.ofHours(1)).key(LimitKey.clientAddress())
                .clock(now::get).build();

        assertTrue(allowed(policy, consumer("a", "alice")));
        assertTrue(!allowed(policy, consumer("b", "bob"))); // same address
    }

    @Test
    void retryAfterIsAtLeastOneSecond() {
        now.set(Instant.parse("2030-01-01T23:59:59.999Z"));
        QuotaPolicy policy = daily(1);
        allowed(policy, subject("alice"));

        Verdict.Reject reject = (Verdict.Reject) policy.evaluate(subject("alice"), Verdict::allow);

        assertEquals("1", reject.headers().get("Retry-After"));
    }

    @Test
    void invalidQuotaFailsAtBuildTime() {
        assertEquals("limit: 0 (expected: > 0)",
                assertThrows(IllegalArgumentException.class, () -> QuotaPolicy.of(0, Duration.ofDays(1))).getMessage());
        assertEquals("period: PT0.5S (expected: >= PT1S)",
                assertThrows(IllegalArgumentException.class, () -> QuotaPolicy.of(1, Duration.ofMillis(500))).getMessage());
    }

    @Test
    void describesItselfForLogs() {
        assertEquals("QuotaPolicy[quota: 1000 per PT24H per consumer]", QuotaPolicy.of(1000, Duration.ofDays(1)).toString());
    }
}
