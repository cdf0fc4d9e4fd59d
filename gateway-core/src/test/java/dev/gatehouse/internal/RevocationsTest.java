package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Principal;
import dev.gatehouse.spi.Cluster;

/** The revocations a gateway remembers: credentials issued before, until the end; bounded. */
class RevocationsTest {

    private static final Instant T0 = Instant.parse("2026-12-05T10:00:00Z");

    private static Principal issued(String subject, Instant iat) {
        return Principal.builder(subject).claims(Map.of("iat", iat.getEpochSecond())).build();
    }

    private static Cluster.Revocation revocation(String subject, Instant at, Duration remembered) {
        return new Cluster.Revocation(subject, at, at.plus(remembered));
    }

    @Test
    void refusesACredentialIssuedBeforeTheRevocationUntilItsEnd() {
        Revocations r = new Revocations();
        r.add(revocation("alice", T0, Duration.ofHours(1)), T0);

        Principal old = issued("alice", T0.minusSeconds(600));
        assertTrue(r.refuses(old, T0.plusSeconds(1)));
        assertTrue(r.refuses(issued("alice", T0.minusSeconds(1)), T0.plusSeconds(1)), "issued the second before");
        assertFalse(r.refuses(issued("alice", T0), T0.plusSeconds(1)), "issued in the same second: a new login passes");
        assertFalse(r.refuses(issued("alice", T0.plusSeconds(5)), T0.plusSeconds(6)), "a new login passes");
        assertFalse(r.refuses(issued("bob", T0.minusSeconds(600)), T0.plusSeconds(1)), "another subject passes");
        assertFalse(r.refuses(old, T0.plus(Duration.ofHours(1))), "the revocation ended");
        assertEquals(0, r.size(), "an ended revocation is forgotten when met");
    }

    @Test
    void comparesAtTheSecondOfTheIssueTimeSoThatALoginRightAfterTheRevocationPasses() {
        Instant revokedAt = T0.plusMillis(700);
        Revocations r = new Revocations();
        r.add(new Cluster.Revocation("alice", revokedAt, revokedAt.plus(Duration.ofHours(24))), revokedAt);

        Instant reissued = revokedAt.plusMillis(300); // the next second began at once: iat is still T0's second
        Principal fresh = issued("alice", reissued.minusMillis(300));
        assertFalse(r.refuses(fresh, reissued), "a token issued 300 ms after the revocation, in its second");
        assertFalse(r.refuses(fresh, T0.plus(Duration.ofHours(23))), "nor later in the revocation's life");
        assertTrue(r.refuses(issued("alice", T0.minusMillis(1)), reissued), "issued in the second before");
        assertTrue(r.refuses(Principal.of("alice"), reissued), "no issue time");
        Principal inMillis = Principal.builder("alice").claims(Map.of("iat", Date.from(T0.plusMillis(100)))).build();
        assertFalse(r.refuses(inMillis, reissued), "an issue time with milliseconds, in the revocation's second");
    }

    @Test
    void aRevocationCoversTheSubjectsCredentialsIssuedBeforeItsSecondOrWithoutAnIssueTime() {
        Cluster.Revocation revocation = new Cluster.Revocation("alice", T0.plusMillis(999), T0.plusSeconds(60));

        assertTrue(Revocations.covers(revocation, issued("alice", T0.minusSeconds(1))));
        assertTrue(Revocations.covers(revocation, Principal.of("alice")));
        assertFalse(Revocations.covers(revocation, issued("alice", T0)));
        assertFalse(Revocations.covers(revocation, issued("alice", T0.plusSeconds(1))));
        assertFalse(Revocations.covers(revocation, Principal.of("bob")), "another subject");
    }

    @Test
    void refusesACredentialWithoutAnIssueTimeUntilTheEnd() {
        Revocations r = new Revocations();
        r.add(revocation("tenant-a", T0, Duration.ofMinutes(5)), T0);

        assertTrue(r.refuses(Principal.of("tenant-a"), T0.plusSeconds(299)));
        assertFalse(r.refuses(Principal.of("tenant-a"), T0.plusSeconds(300)));
    }

    @Test
    void readsTheIssueTimeAsSecondsADateOrAnInstant() {
        Instant iat = T0.minusSeconds(30);
        assertEquals(iat, Revocations.issuedAt(issued("a", iat)));
        assertEquals(iat, Revocations.issuedAt(Principal.builder("a").claims(Map.of("iat", Date.from(iat))).build()));
        assertEquals(iat, Revocations.issuedAt(Principal.builder("a").claims(Map.of("iat", iat)).build()));
        assertEquals(null, Revocations.issuedAt(Principal.builder("a").claims(Map.of("iat", "yesterday")).build()));
    }

    @Test
    void aSecondRevocationOfTheSameSubjectKeepsTheLaterOfEachTime() {
        Revocations r = new Revocations();
        r.add(revocation("alice", T0, Duration.ofHours(2)), T0);
        r.add(revocation("alice", T0.plusSeconds(60), Duration.ofMinutes(1)), T0.plusSeconds(60));

        assertTrue(r.refuses(issued("alice", T0.plusSeconds(30)), T0.plusSeconds(61)), "issued before the second");
        assertTrue(r.refuses(issued("alice", T0.plusSeconds(30)), T0.plus(Duration.ofMinutes(90))), "the first's end holds");
        assertEquals(1, r.size());
    }

    @Test
    void aRevocationThatEndedAlreadyIsNotKept() {
        Revocations r = new Revocations();
        r.add(revocation("alice", T0.minusSeconds(120), Duration.ofMinutes(1)), T0);
        assertEquals(0, r.size());
        assertFalse(r.refuses(Principal.of("alice"), T0));
    }

    @Test
    void whenFullForgetsTheEndedOnesFirstThenTheOneEndingFirst() {
        Revocations r = new Revocations(3);
        r.add(revocation("ended-soon", T0, Duration.ofSeconds(10)), T0);
        r.add(revocation("early", T0, Duration.ofMinutes(1)), T0);
        r.add(revocation("late", T0, Duration.ofHours(1)), T0);

        Instant later = T0.plusSeconds(20);
        r.add(revocation("fourth", later, Duration.ofHours(1)), later);
        assertEquals(3, r.size(), "the ended one made room");
        r.add(revocation("fifth", later, Duration.ofHours(1)), later);

        assertEquals(3, r.size());
        assertFalse(r.refuses(Principal.of("early"), later), "the one ending first was forgotten");
        assertTrue(r.refuses(Principal.of("late"), later));
        assertTrue(r.refuses(Principal.of("fourth"), later));
        assertTrue(r.refuses(Principal.of("fifth"), later));
    }

    @Test
    void aRevocationEndsAfterItBegins() {
        assertThrows(IllegalArgumentException.class, () -> new Cluster.Revocation("a", T0, T0));
    }
}
