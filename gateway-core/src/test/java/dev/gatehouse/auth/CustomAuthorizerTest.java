package dev.gatehouse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

class CustomAuthorizerTest {

    private final AtomicInteger calls = new AtomicInteger();

    /** Sessions "s-<user>" are valid, "s-banned" is refused. */
    private final Authenticator sessions = h -> {
        calls.incrementAndGet();
        String session = h.header("Cookie").orElse("").replace("SESSION=", "");
        return session.equals("s-banned") ? Verdict.reject(Rejection.FORBIDDEN, "banned")
                : Verdict.allow(h.withPrincipal(Principal.of(session.substring(2))));
    };

    private static Handshake withSession(String session) {
        return Handshake.builder("r", "/x").header("Cookie", "SESSION=" + session).build();
    }

    @Test
    void callsTheAuthorizerOncePerIdentityWithinTheTtl() {
        CustomAuthorizer auth = CustomAuthorizer.builder(sessions).identitySource(CredentialSource.cookie("SESSION")).build();

        Verdict first = auth.authenticate(withSession("s-ann"));
        Verdict second = auth.authenticate(withSession("s-ann"));
        auth.authenticate(withSession("s-bob"));

        assertEquals("ann", assertInstanceOf(Verdict.Allow.class, first).handshake().principal().orElseThrow().subject());
        Handshake cached = assertInstanceOf(Verdict.Allow.class, second).handshake();
        assertEquals("ann", cached.principal().orElseThrow().subject());
        assertTrue(cached.header("Cookie").isEmpty(), "the identity source is not forwarded");
        assertEquals(2, calls.get());
    }

    @Test
    void cachesRefusalsToo() {
        CustomAuthorizer auth = CustomAuthorizer.builder(sessions).identitySource(CredentialSource.cookie("SESSION")).build();

        auth.authenticate(withSession("s-banned"));
        Verdict again = auth.authenticate(withSession("s-banned"));

        assertEquals(403, assertInstanceOf(Verdict.Reject.class, again).status());
        assertEquals(1, calls.get());
    }

    @Test
    void aZeroTtlCallsEveryTime() {
        CustomAuthorizer auth = CustomAuthorizer.builder(sessions).identitySource(CredentialSource.cookie("SESSION"))
                .cacheTtl(Duration.ZERO).build();

        auth.authenticate(withSession("s-ann"));
        auth.authenticate(withSession("s-ann"));

        assertEquals(2, calls.get());
    }

    @Test
    void aMissingIdentitySourceIsRejectedWithoutCallingTheAuthorizer() {
        CustomAuthorizer auth = CustomAuthorizer.builder(sessions).identitySource(CredentialSource.cookie("SESSION")).build();

        Verdict v = auth.authenticate(Handshake.builder("r", "/x").build());

        assertEquals(Rejection.CREDENTIAL_MISSING, assertInstanceOf(Verdict.Reject.class, v).kind());
        assertEquals(0, calls.get());
    }

    @Test
    void aSlowAuthorizerGets503AfterTheTimeoutAndIsNotCached() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Authenticator slow = h -> {
            calls.incrementAndGet();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Verdict.allow(h);
        };
        CustomAuthorizer auth = CustomAuthorizer.builder(slow).identitySource(CredentialSource.header("X-Token"))
                .timeout(Duration.ofMillis(100)).build();
        try {
            Verdict v = auth.authenticate(Handshake.builder("r", "/x").header("X-Token", "t").build());
            Verdict.Reject r = assertInstanceOf(Verdict.Reject.class, v);
            assertEquals(503, r.status());
            assertEquals("the authorizer did not answer in time", r.message());
        } finally {
            release.countDown();
        }
    }

    @Test
    void aFailingAuthorizerGets500() {
        CustomAuthorizer auth = CustomAuthorizer.builder(h -> {
            throw new IllegalStateException("database down");
        }).identitySource(CredentialSource.header("X-Token")).build();

        Verdict v = auth.authenticate(Handshake.builder("r", "/x").header("X-Token", "t").build());

        assertEquals(500, assertInstanceOf(Verdict.Reject.class, v).status());
    }

    @Test
    void aSaturatedPoolAnswers503Overloaded() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Authenticator stuck = h -> { // ignores interrupts, like code stuck in I/O, until the test ends
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (release.getCount() > 0 && System.nanoTime() < deadline) {
                try {
                    release.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException ignored) {
                    // keep waiting
                }
            }
            return Verdict.allow(h);
        };
        // One call runs and four wait; calls that time out stay queued until a worker frees up.
        CustomAuthorizer auth = CustomAuthorizer.builder(stuck).identitySource(CredentialSource.header("X-Token"))
                .maxConcurrency(1).cacheTtl(Duration.ZERO).timeout(Duration.ofMillis(200)).build();
        List<CompletableFuture<Verdict>> background = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                String token = Integer.toString(i);
                background.add(CompletableFuture.supplyAsync(
                        () -> auth.authenticate(Handshake.builder("r", "/x").header("X-Token", token).build())));
            }
            Verdict.Reject refused = null;
            for (int i = 0; i < 50 && refused == null; i++) {
                Verdict v = auth.authenticate(Handshake.builder("r", "/x").header("X-Token", "x" + i).build());
                Verdict.Reject r = assertInstanceOf(Verdict.Reject.class, v);
                if (r.message().equals("the authorizer is overloaded")) {
                    refused = r;
                }
            }
            assertEquals(503, assertInstanceOf(Verdict.Reject.class, refused).status());
        } finally {
            release.countDown();
        }
        for (CompletableFuture<Verdict> f : background) {
            f.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anAuthorizerWithoutIdentitySourceIsRefusedAtBuild() {
        assertTrue(assertThrows(IllegalStateException.class, () -> CustomAuthorizer.builder(sessions).build())
                .getMessage().startsWith("identitySource:"));
    }
}
