package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Gateway;
import dev.gatehouse.Handshake;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.Verdict;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.policy.Cidr;

/**
 * The brake on failed authentications through {@link DefaultGateway#admit}, on a fake clock: only invalid
 * credentials count, per client address, and an address that used up its failures gets 429 for the
 * cool-down whatever it presents.
 */
class AuthFailuresTest {

    private static final String KEY = "the-right-key";
    private static final String CLIENT = "203.0.113.7";

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2030-01-01T12:00:00Z"));
    private final AtomicInteger targets = new AtomicInteger();

    private AuthFailureLimit.Builder threePerMinute() {
        return AuthFailureLimit.builder(3, Duration.ofMinutes(1)).clock(now::get);
    }

    private DefaultGateway gateway(Gateway.Builder gateway) {
        return DefaultGateway.of(gateway.route(Route.builder("/chat/{room}")
                .authenticator(ApiKeyAuthenticator.of(KEY, "mobile"))
                .backend(h -> {
                    targets.incrementAndGet();
                    return URI.create("ws://chat.internal:9000/rooms");
                })
                .build()).build());
    }

    private DefaultGateway gateway(AuthFailureLimit limit) {
        return gateway(Gateway.builder().authFailureLimit(limit));
    }

    private static Handshake.Builder upgrade(String ip) {
        return Handshake.builder(Ids.next(), "/chat/lobby")
                .header("Upgrade", "websocket")
                .header("Connection", "Upgrade")
                .header("Sec-WebSocket-Version", "13").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .host("gw.example.com")
                .remoteAddress(new InetSocketAddress(ip, 40000));
    }

    private static Handshake withKey(String key, String ip) {
        return upgrade(ip).header("X-API-Key", key).build();
    }

    /** The rejection's kind, or null when admitted. */
    private static Rejection kind(Admission a) {
        return a.rejection().map(Verdict.Reject::kind).orElse(null);
    }

    private void advance(Duration d) {
        now.updateAndGet(t -> t.plus(d));
    }

    @Test
    void wrongKeysGet401UntilTheLimitThenEveryHandshakeFromTheAddressGets429WithRetryAfter() {
        DefaultGateway gateway = gateway(threePerMinute().build());
        for (int i = 0; i < 3; i++) {
            Verdict.Reject reject = gateway.admit(withKey("guess-" + i, CLIENT)).rejection().orElseThrow();
            assertEquals(401, reject.status());
            assertEquals(Rejection.UNAUTHORIZED, reject.kind());
        }

        Verdict.Reject guess = gateway.admit(withKey("guess-3", CLIENT)).rejection().orElseThrow();
        Verdict.Reject right = gateway.admit(withKey(KEY, CLIENT)).rejection().orElseThrow();
        Verdict.Reject none = gateway.admit(upgrade(CLIENT).build()).rejection().orElseThrow();

        for (Verdict.Reject reject : new Verdict.Reject[] {guess, right, none}) {
            assertEquals(429, reject.status());
            assertEquals(Rejection.RATE_LIMITED, reject.kind());
            assertEquals("60", reject.headers().get("Retry-After"));
            assertEquals("too many failed authentications from this address; retry in 60 s", reject.message());
        }
        assertEquals(0, targets.get(), "no rejected handshake got a backend target");
    }

    @Test
    void retryAfterIsTheRestOfTheCoolDownInWholeSecondsRoundedUp() {
        DefaultGateway gateway = gateway(threePerMinute().build());
        for (int i = 0; i < 3; i++) {
            gateway.admit(withKey("guess", CLIENT));
        }

        advance(Duration.ofMillis(30_500));
        assertEquals("30", gateway.admit(withKey(KEY, CLIENT)).rejection().orElseThrow().headers().get("Retry-After"));
        advance(Duration.ofMillis(29_499));
        assertEquals("1", gateway.admit(withKey(KEY, CLIENT)).rejection().orElseThrow().headers().get("Retry-After"));
    }

    @Test
    void addressProceedsNormallyAfterTheCoolDownWithAFullBucket() {
        DefaultGateway gateway = gateway(threePerMinute().build());
        for (int i = 0; i < 3; i++) {
            gateway.admit(withKey("guess", CLIENT));
        }

        advance(Duration.ofMinutes(1));

        assertEquals(null, kind(gateway.admit(withKey(KEY, CLIENT))));
        for (int i = 0; i < 3; i++) {
            assertEquals(Rejection.UNAUTHORIZED, kind(gateway.admit(withKey("guess", CLIENT))));
        }
        assertEquals(Rejection.RATE_LIMITED, kind(gateway.admit(withKey(KEY, CLIENT))));
    }

    @Test
    void coolDownShorterThanThePeriodLeavesOnlyTheFailuresThatCameBack() {
        DefaultGateway gateway = gateway(threePerMinute().coolDown(Duration.ofSeconds(20)).build());
        for (int i = 0; i < 3; i++) {
            gateway.admit(withKey("guess", CLIENT));
        }
        assertEquals("20", gateway.admit(withKey(KEY, CLIENT)).rejection().orElseThrow().headers().get("Retry-After"));

        advance(Duration.ofSeconds(20)); // a third of the period: one failure came back

        assertEquals(Rejection.UNAUTHORIZED, kind(gateway.admit(withKey("guess", CLIENT))));
        assertEquals(Rejection.RATE_LIMITED, kind(gateway.admit(withKey(KEY, CLIENT))));
    }

    @Test
    void failuresComeBackOverThePeriod() {
        DefaultGateway gateway = gateway(threePerMinute().build());
        gateway.admit(withKey("guess", CLIENT));
        gateway.admit(withKey("guess", CLIENT));

        advance(Duration.ofSeconds(20)); // one of the two came back

        assertEquals(Rejection.UNAUTHORIZED, kind(gateway.admit(withKey("guess", CLIENT))));
        assertEquals(Rejection.UNAUTHORIZED, kind(gateway.admit(withKey("guess", CLIENT))));
        assertEquals(Rejection.RATE_LIMITED, kind(gateway.admit(withKey(KEY, CLIENT))));
    }

    @Test
    void successfulAuthenticationsNeverCountSoGoodClientsBelowTheLimitAreUnaffected() {
        DefaultGateway gateway = gateway(threePerMinute().build());
        gateway.admit(withKey("guess", CLIENT));
        gateway.admit(withKey("guess", CLIENT));

        for (int i = 0; i < 100; i++) {
            assertEquals(null, kind(gateway.admit(withKey(KEY, CLIENT))));
        }

        assertEquals(100, targets.get());
        assertEquals(Rejection.UNAUTHORIZED, kind(gateway.admit(withKey("guess", CLIENT))));
        assertEquals(Rejection.RATE_LIMITED, kind(gateway.admit(withKey(KEY, CLIENT))));
    }

    @Test
    void missingCredentialsDoNotCount() {
        DefaultGateway gateway = gateway(threePerMinute().build());

        for (int i = 0; i < 10; i++) {
            assertEquals(Rejection.CREDENTIAL_MISSING, kind(gateway.admit(upgrade(CLIENT).build())));
        }

        assertEquals(null, kind(gateway.admit(withKey(KEY, CLIENT))));
    }

    @Test
    void policyRejectionsDoNotCount() {
        DefaultGateway gateway = DefaultGateway.of(Gateway.builder().authFailureLimit(threePerMinute().build())
                .route(Route.builder("/chat/{room}")
                        .policy((h, chain) -> Verdict.reject(Rejection.UNAUTHORIZED, "revoked"))
                        .backend(h -> URI.create("ws://chat.internal:9000/rooms"))
                        .build())
                .build());

        for (int i = 0; i < 10; i++) {
            assertEquals("revoked", gateway.admit(upgrade(CLIENT).build()).rejection().orElseThrow().message());
        }
    }

    @Test
    void failuresOfOneAddressDoNotLimitAnother() {
        DefaultGateway gateway = gateway(threePerMinute().build());
        for (int i = 0; i < 3; i++) {
            gateway.admit(withKey("guess", CLIENT));
        }

        assertEquals(null, kind(gateway.admit(withKey(KEY, "203.0.113.8"))));
        assertEquals(Rejection.UNAUTHORIZED, kind(gateway.admit(withKey("guess", "2001:db8::1"))));
        assertEquals(Rejection.RATE_LIMITED, kind(gateway.admit(withKey(KEY, CLIENT))));
    }

    @Test
    void ipv6FailuresCountPerSlash64() throws Exception {
        DefaultGateway gateway = gateway(threePerMinute().build());
        gateway.admit(withKey("guess", "2001:db8:1:2::1"));
        gateway.admit(withKey("guess", "2001:db8:1:2::2"));
        gateway.admit(withKey("guess", "2001:db8:1:2:ffff:ffff:ffff:ffff"));

        assertEquals(Rejection.RATE_LIMITED, kind(gateway.admit(withKey(KEY, "2001:db8:1:2::99"))));
        assertEquals(null, kind(gateway.admit(withKey(KEY, "2001:db8:1:3::1"))), "another /64");
        assertEquals("2001:db8:1:2:0:0:0:0/64", AuthFailures.key(InetAddress.getByName("2001:db8:1:2:aa::1")));
        assertEquals("203.0.113.7", AuthFailures.key(InetAddress.getByName("::ffff:203.0.113.7")));
    }

    @Test
    void behindTrustedProxiesFailuresCountPerForwardedClient() {
        DefaultGateway gateway = gateway(Gateway.builder().trustedProxies("10.0.0.0/8")
                .authFailureLimit(threePerMinute().build()));
        for (int i = 0; i < 3; i++) {
            gateway.admit(upgrade("10.0.0.2").header("X-Forwarded-For", CLIENT).header("X-API-Key", "guess").build());
        }

        Handshake other = upgrade("10.0.0.2").header("X-Forwarded-For", "198.51.100.20").header("X-API-Key", KEY).build();
        Handshake guesser = upgrade("10.0.0.2").header("X-Forwarded-For", CLIENT).header("X-API-Key", KEY).build();

        assertEquals(null, kind(gateway.admit(other)), "the proxy's other clients are not shut out");
        assertEquals(Rejection.RATE_LIMITED, kind(gateway.admit(guesser)));
    }

    @Test
    void noneTurnsTheBrakeOff() {
        DefaultGateway gateway = gateway(AuthFailureLimit.none());

        for (int i = 0; i < 100; i++) {
            assertEquals(Rejection.UNAUTHORIZED, kind(gateway.admit(withKey("guess-" + i, CLIENT))));
        }

        assertEquals(null, kind(gateway.admit(withKey(KEY, CLIENT))));
    }

    @Test
    void isOnByDefault() {
        DefaultGateway gateway = gateway(Gateway.builder());
        int limited = 0;

        // 60 a minute on the system clock: 200 guesses in a row cannot all be answered 401.
        for (int i = 0; i < 200; i++) {
            if (kind(gateway.admit(withKey("guess-" + i, CLIENT))) == Rejection.RATE_LIMITED) {
                limited++;
            }
        }

        assertTrue(limited > 0, "no guess was refused");
    }

    // ---- the bound on tracked addresses ----

    private static InetAddress ip(String text) {
        return Cidr.parseAddress(text).orElseThrow();
    }

    @Test
    void whenFullOfAddressesThatMatterANewAddressIsNotTrackedRatherThanRefused() {
        AuthFailures failures = new AuthFailures(threePerMinute().build(), 2);
        failures.failed(ip("192.0.2.1"));
        failures.failed(ip("192.0.2.2"));

        for (int i = 0; i < 5; i++) {
            failures.failed(ip("192.0.2.3"));
        }

        assertEquals(2, failures.size());
        assertTrue(failures.coolDownLeft(ip("192.0.2.3")) <= 0, "an untracked address is never refused");
        failures.failed(ip("192.0.2.1"));
        failures.failed(ip("192.0.2.1"));
        assertTrue(failures.coolDownLeft(ip("192.0.2.1")) > 0, "tracked addresses keep being limited");
    }

    @Test
    void forgetsAddressesWhoseBucketsAreFullAgainToMakeRoom() {
        AuthFailures failures = new AuthFailures(threePerMinute().build(), 2);
        failures.failed(ip("192.0.2.1"));
        for (int i = 0; i < 3; i++) {
            failures.failed(ip("192.0.2.2"));
        }

        advance(Duration.ofSeconds(20)); // 192.0.2.1 is full again; 192.0.2.2 is still cooling down
        for (int i = 0; i < 3; i++) {
            failures.failed(ip("192.0.2.3"));
        }

        assertEquals(2, failures.size());
        assertTrue(failures.coolDownLeft(ip("192.0.2.3")) > 0, "the new address took the recovered one's place");
        assertTrue(failures.coolDownLeft(ip("192.0.2.2")) > 0, "an address cooling down is never forgotten");
    }
}
