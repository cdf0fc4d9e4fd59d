package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;

import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.GatewayException;
import dev.gatehouse.Handshake;
import dev.gatehouse.Route;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.balance.HealthCheck;
import dev.gatehouse.internal.BridgeHarness.Connection;

/** Active health checks on a manual clock: thresholds, jitter, timeouts, slow start, and closing a down target's sessions. */
class HealthChecksTest {

    private static final String A = "ws://a.internal:7001/feed";
    private static final String B = "ws://b.internal:7001/feed";
    private static final String C = "ws://c.internal:7001/feed";
    private static final Duration INTERVAL = Duration.ofSeconds(5);

    private final ManualTicker ticker = new ManualTicker();
    private final Map<BackendGroup, Balancer> balancers = new ConcurrentHashMap<>();
    private final FakeProber prober = new FakeProber();

    /** A prober whose targets are up or down as the test says, answering at once unless told to hold. */
    private final class FakeProber implements HealthProber {
        final Set<URI> down = ConcurrentHashMap.newKeySet();
        final List<URI> probes = new ArrayList<>();        // every probe, in order
        final List<Long> times = new ArrayList<>();        // the ticker's time of each
        final List<CompletableFuture<Boolean>> held = new ArrayList<>();
        volatile boolean hold;

        @Override
        public synchronized CompletionStage<Boolean> probe(URI target, HealthCheck check) {
            probes.add(target);
            times.add(ticker.nanoTime());
            if (hold) {
                CompletableFuture<Boolean> answer = new CompletableFuture<>();
                held.add(answer);
                return answer;
            }
            return CompletableFuture.completedFuture(!down.contains(target));
        }

        synchronized int count(URI target) {
            return (int) probes.stream().filter(target::equals).count();
        }
    }

    private HealthChecks checks(double... randoms) {
        Random fallback = new Random(14);
        int[] next = {0};
        return new HealthChecks(ticker, g -> balancers.computeIfAbsent(g, x -> new Balancer(x, ticker)),
                () -> next[0] < randoms.length ? randoms[next[0]++] : fallback.nextDouble());
    }

    private static Route route(BackendGroup group) {
        return Route.builder("/feed").backend(group).build();
    }

    private static Handshake handshake() {
        return Handshake.builder(Ids.next(), "/feed").remoteAddress(new InetSocketAddress("10.0.0.1", 40000)).build();
    }

    private static HealthCheck check(int fall, int rise) {
        return HealthCheck.builder().interval(INTERVAL).timeout(Duration.ofSeconds(2)).fall(fall).rise(rise).build();
    }

    @Test
    void followsARouteTableUpdateProbingNewGroupsAndNoLongerTheGroupsGone() {
        BackendGroup before = BackendGroup.builder().target(A).target(B).healthCheck(check(3, 2)).build();
        BackendGroup after = BackendGroup.builder().target(C).healthCheck(check(3, 2)).build();
        HealthChecks checks = checks();
        checks.start(prober, List.of(route(before)));
        assertEquals(2, checks.probed());
        checks.follow(List.of(route(before), Route.builder("/other").backend(after).build()));
        assertEquals(3, checks.probed(), "the kept group keeps its probes; the new one is added");
        checks.follow(List.of(Route.builder("/other").backend(after).build()));
        assertEquals(1, checks.probed());
        ticker.advance(INTERVAL.multipliedBy(3));
        int probesOfA = prober.count(URI.create(A));
        ticker.advance(INTERVAL.multipliedBy(3));
        assertEquals(probesOfA, prober.count(URI.create(A)), "the group gone is no longer probed");
        assertTrue(prober.count(URI.create(C)) >= 4, "the new group is");
        checks.stop();
        checks.follow(List.of(route(before)));
        assertEquals(0, checks.probed(), "nothing follows after the stop");
    }

    @Test
    void aTargetGoesDownAfterFallFailedProbesInARowAndComesBackAfterRiseSuccesses() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(3, 2)).build();
        HealthChecks checks = checks();
        checks.start(prober, List.of(route(group)));
        Balancer balancer = balancers.get(group);
        prober.down.add(URI.create(A));

        // The first probe within 0.5 s, each next one 4.5 to 5.5 s later: two by 8.9 s, three by 11.5 s.
        ticker.advance(Duration.ofMillis(8_900));
        assertEquals(2, prober.count(URI.create(A)));
        assertFalse(balancer.down(0), "two failed probes are not enough");
        ticker.advance(Duration.ofMillis(2_600));
        assertEquals(3, prober.count(URI.create(A)));
        assertTrue(balancer.down(0), "down after three failed probes in a row");
        assertFalse(balancer.down(1));
        for (int i = 0; i < 10; i++) {
            Balancer.Lease lease = balancer.plan(handshake()).next();
            assertEquals(1, lease.index(), "a down target gets no new connection");
            lease.release();
        }

        prober.down.clear();
        int before = prober.count(URI.create(A));
        while (prober.count(URI.create(A)) < before + 1) {
            ticker.advance(Duration.ofMillis(100));
        }
        assertTrue(balancer.down(0), "one success is not enough");
        while (prober.count(URI.create(A)) < before + 2) {
            ticker.advance(Duration.ofMillis(100));
        }
        assertFalse(balancer.down(0), "up after two successes in a row");
    }

    @Test
    void aFailureBetweenSuccessesStartsTheCountAgain() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(2, 2)).build();
        Balancer balancer = new Balancer(group, ticker);
        balancer.probed(0, false);
        balancer.probed(0, true);
        balancer.probed(0, false);
        assertFalse(balancer.down(0), "the failures were not in a row");
        assertEquals(Balancer.Change.DOWN, balancer.probed(0, false));
        assertEquals(Balancer.Change.NONE, balancer.probed(0, true));
        assertEquals(Balancer.Change.NONE, balancer.probed(0, false));
        assertEquals(Balancer.Change.NONE, balancer.probed(0, true));
        assertEquals(Balancer.Change.UP, balancer.probed(0, true));
    }

    @Test
    void probesAreSpreadByJitterWithinATenthOfTheInterval() {
        BackendGroup group = BackendGroup.builder().target(A).healthCheck(check(3, 2)).build();
        HealthChecks checks = checks();
        long start = ticker.nanoTime();
        checks.start(prober, List.of(route(group)));

        ticker.advance(INTERVAL.multipliedBy(200));

        long interval = INTERVAL.toNanos();
        assertTrue(prober.times.get(0) - start <= interval / 10, "the first probe within a tenth of the interval");
        Set<Long> gaps = new HashSet<>();
        for (int i = 1; i < prober.times.size(); i++) {
            long gap = prober.times.get(i) - prober.times.get(i - 1);
            assertTrue(gap >= interval * 9 / 10 - 1_000 && gap <= interval * 11 / 10 + 1_000, "gap " + gap + " ns");
            gaps.add(gap);
        }
        assertTrue(prober.times.size() > 150, "probes: " + prober.times.size());
        assertTrue(gaps.size() > 100, "the gaps vary: " + gaps.size() + " distinct");
    }

    @Test
    void theJitterReachesBothEndsOfItsRange() {
        HealthChecks checks = checks(0.0, 0.5, 0.999_999_9);
        assertEquals(4.5e9, (double) checks.nextDelay(INTERVAL), 1_000.0);
        assertEquals(INTERVAL.toNanos(), checks.nextDelay(INTERVAL));
        assertEquals(5.5e9, (double) checks.nextDelay(INTERVAL), 1_000.0);
    }

    @Test
    void aProbeWithoutAnAnswerWithinTheTimeoutFailsAndItsLateAnswerIsIgnored() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(1, 1)).build();
        HealthChecks checks = checks(0.0, 0.0);
        prober.hold = true;
        checks.start(prober, List.of(route(group)));
        Balancer balancer = balancers.get(group);

        ticker.advance(Duration.ofMillis(1)); // both first probes run, and wait for their answers
        assertEquals(2, prober.held.size());
        prober.held.get(1).complete(true); // B answers; A does not
        ticker.advance(Duration.ofSeconds(2));
        assertTrue(balancer.down(0), "no answer within the 2 s timeout is a failure");
        assertFalse(balancer.down(1));

        prober.held.get(0).complete(true); // A's answer, too late
        assertTrue(balancer.down(0), "a late answer does not count");
    }

    @Test
    void aProberThatThrowsOrFailsCountsAsAFailedProbe() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(2, 1)).build();
        HealthChecks checks = checks();
        HealthProber failing = (target, check) -> {
            if (target.getHost().startsWith("a")) {
                throw new IllegalStateException("boom");
            }
            return CompletableFuture.failedFuture(new IllegalStateException("no route"));
        };
        checks.start(failing, List.of(route(group)));
        ticker.advance(INTERVAL.multipliedBy(3));
        assertTrue(balancers.get(group).down(0));
        assertTrue(balancers.get(group).down(1));
    }

    @Test
    void aTargetThatComesUpEntersItsSlowStart() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(1, 1))
                .slowStart(Duration.ofSeconds(100)).build();
        Balancer balancer = new Balancer(group, ticker);
        assertEquals(Balancer.Change.DOWN, balancer.probed(0, false));
        ticker.advance(Duration.ofSeconds(30));
        assertEquals(Balancer.Change.UP, balancer.probed(0, true));
        int onA = 0;
        for (int i = 0; i < 100; i++) {
            Balancer.Lease lease = balancer.plan(handshake()).next();
            lease.connected();
            onA += lease.index() == 0 ? 1 : 0;
        }
        assertTrue(onA > 0 && onA < 20, "a tenth of its weight at first: " + onA);
        ticker.advance(Duration.ofSeconds(100));
        int later = 0;
        for (int i = 0; i < 100; i++) {
            Balancer.Lease lease = balancer.plan(handshake()).next();
            lease.connected();
            later += lease.index() == 0 ? 1 : 0;
        }
        assertTrue(later > 60, "full weight after the slow start, catching up: " + later);
    }

    @Test
    void everyTargetDownLeavesTheNoHealthyTargetRule() {
        BackendGroup tryAll = BackendGroup.builder().target(A).target(B).healthCheck(check(1, 1)).build();
        Balancer b = new Balancer(tryAll, ticker);
        b.probed(0, false);
        b.probed(1, false);
        assertTrue(b.plan(handshake()).next() != null, "every target is tried anyway");

        BackendGroup refusing = BackendGroup.builder().target(A).target(B).healthCheck(check(1, 1))
                .refuseWhenNoneHealthy().build();
        Balancer strict = new Balancer(refusing, ticker);
        strict.probed(0, false);
        strict.probed(1, false);
        Balancer.Plan plan = strict.plan(handshake());
        assertEquals(null, plan.next());
        assertTrue(plan.refused(), "503 when the group refuses");
    }

    @Test
    void stoppingCancelsEveryProbeAndIgnoresTheAnswersInFlight() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(1, 1)).build();
        HealthChecks checks = checks(0.0, 0.0);
        prober.hold = true;
        checks.start(prober, List.of(route(group), Route.builder("/other").backend(group).build()));
        assertEquals(2, checks.probed(), "a group shared by two routes is probed once");
        ticker.advance(Duration.ofMillis(1));
        assertEquals(2, prober.held.size());

        checks.stop();
        prober.held.get(0).complete(false);
        ticker.advance(INTERVAL.multipliedBy(10));

        assertEquals(0, ticker.pending(), "no timer left behind");
        assertEquals(2, prober.probes.size(), "no probe after the stop");
        assertFalse(balancers.get(group).down(0), "an answer after the stop does not count");
    }

    @Test
    void groupsWithoutACheckAreNotProbed() {
        HealthChecks checks = checks();
        checks.start(prober, List.of(route(BackendGroup.of(A, B)), Route.of("/one", Backend.of(C))));
        ticker.advance(INTERVAL.multipliedBy(3));
        assertEquals(0, checks.probed());
        assertEquals(List.of(), prober.probes);
    }

    @Test
    void probesGoToTheTargetsOwnUrlOrToTheChecksPathOnItsHostAndPort() {
        assertEquals(URI.create("ws://a.internal:7001/feed?v=1"),
                HealthChecks.probeUri("ws://a.internal:7001/feed?v=1", HealthCheck.of()));
        assertEquals(URI.create("ws://a.internal:7001/ping"),
                HealthChecks.probeUri("ws://a.internal:7001/rooms/{room}", HealthCheck.builder().path("/ping").build()));
        assertEquals(URI.create("http://a.internal:7001/health"),
                HealthChecks.probeUri("ws://a.internal:7001/feed", HealthCheck.http("/health")));
        assertEquals(URI.create("https://a.internal/health?deep=1"),
                HealthChecks.probeUri("wss://a.internal/{*}", HealthCheck.http("/health?deep=1")));
    }

    @Test
    void checksAreValidatedAndEqualByValue() {
        assertEquals(HealthCheck.of(), HealthCheck.builder().build());
        assertEquals(HealthCheck.http("/health"), HealthCheck.of().toBuilder().kind(HealthCheck.Kind.HTTP).path("/health").build());
        assertEquals(Duration.ofSeconds(5), HealthCheck.of().interval());
        assertEquals(3, HealthCheck.of().fall());
        assertEquals("interval: PT0S (expected: > 0)", assertThrows(IllegalArgumentException.class,
                () -> HealthCheck.builder().interval(Duration.ZERO).build()).getMessage());
        assertEquals("fall: 0 (expected: >= 1)", assertThrows(IllegalArgumentException.class,
                () -> HealthCheck.builder().fall(0).build()).getMessage());
        assertThrows(IllegalArgumentException.class, () -> HealthCheck.builder().kind(HealthCheck.Kind.HTTP).build());
        assertThrows(IllegalArgumentException.class, () -> HealthCheck.http("health"));
        GatewayException noPath = assertThrows(GatewayException.class, () -> BackendGroup.builder()
                .target("ws://a.internal/rooms/{room}").healthCheck(HealthCheck.of()).build());
        assertTrue(noPath.getMessage().startsWith("healthCheck: no path"), noPath.getMessage());
        GatewayException noCheck = assertThrows(GatewayException.class, () -> BackendGroup.builder().target(A)
                .closeSessionsOnDown(Duration.ofSeconds(1)).build());
        assertTrue(noCheck.getMessage().startsWith("closeSessionsOnDown: "), noCheck.getMessage());
        assertFalse(BackendGroup.builder().target(A).healthCheck(HealthCheck.of()).build().equals(BackendGroup.of(A)));
        assertEquals(BackendGroup.builder().target(A).healthCheck(HealthCheck.http("/h")).build(),
                BackendGroup.builder().target(A).healthCheck(HealthCheck.http("/h")).build());
    }

    @Test
    void closeSessionsOnDownClosesTheDownTargetsSessionsSpreadOverTheWindow() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(1, 1))
                .closeSessionsOnDown(Duration.ofSeconds(30)).build();
        BridgeHarness harness = BridgeHarness.create(route -> route.backend(group));
        DefaultGateway gateway = harness.gateway();
        Map<Integer, List<Connection>> byTarget = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            Admission.Admitted admission = Admissions.admitted(gateway.admit(BridgeHarness.request(Ids.next()).build()));
            Connection c = new Connection(gateway.newBridge(admission));
            DialTarget target = admission.nextTarget();
            target.connected(c.bridge);
            assertTrue(c.connectBackend(null));
            c.connectClient();
            byTarget.computeIfAbsent(target.name().equals(A) ? 0 : 1, k -> new ArrayList<>()).add(c);
        }
        List<Connection> onA = byTarget.get(0);
        assertEquals(3, onA.size(), "least connections spread them evenly");

        prober.down.add(URI.create(A));
        gateway.startHealthChecks(prober);
        harness.advance(INTERVAL.multipliedBy(11).dividedBy(100)); // the first probes ran: A is down

        assertEquals(1, closed(onA), "the first at once");
        harness.advance(Duration.ofSeconds(9));
        assertEquals(1, closed(onA), "the next a third of the window in");
        harness.advance(Duration.ofSeconds(2));
        assertEquals(2, closed(onA));
        harness.advance(Duration.ofSeconds(10));
        assertEquals(3, closed(onA), "the last two thirds in");
        for (Connection c : onA) {
            c.client.channel.assertClosedOnceWith(CloseStatus.SERVICE_RESTART);
            assertEquals(List.of(1001), c.backend.channel.closes().stream().map(CloseStatus::code).toList());
        }
        for (Connection c : byTarget.get(1)) {
            assertEquals(List.of(), c.client.channel.closes(), "sessions on the healthy target stay");
        }
        gateway.stopHealthChecks();
        harness.assertNoViolations();
    }

    @Test
    void withoutCloseSessionsOnDownTheSessionsOfADownTargetStay() {
        BackendGroup group = BackendGroup.builder().target(A).target(B).healthCheck(check(1, 1)).build();
        BridgeHarness harness = BridgeHarness.create(route -> route.backend(group));
        DefaultGateway gateway = harness.gateway();
        List<Connection> all = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Admission.Admitted admission = Admissions.admitted(gateway.admit(BridgeHarness.request(Ids.next()).build()));
            Connection c = new Connection(gateway.newBridge(admission));
            admission.nextTarget().connected(c.bridge);
            c.connectBackend(null);
            c.connectClient();
            all.add(c);
        }
        prober.down.add(URI.create(A));
        gateway.startHealthChecks(prober);
        harness.advance(INTERVAL.multipliedBy(3));
        gateway.stopHealthChecks();
        assertEquals(0, closed(all));
        assertEquals(4, gateway.connections().count());
    }

    private static long closed(List<Connection> connections) {
        return connections.stream().filter(c -> !c.client.channel.closes().isEmpty()).count();
    }
}
