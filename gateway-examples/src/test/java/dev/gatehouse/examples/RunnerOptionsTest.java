package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.Settings;
import dev.gatehouse.auth.AuthFailureLimit;

class RunnerOptionsTest {

    private static RunnerOptions parse(String... args) {
        return RunnerOptions.parse(List.of(args));
    }

    @Test
    void defaultsToPort8080OnAllInterfacesInDemoModeWithGatehouseDefaults() {
        RunnerOptions o = parse();
        assertEquals(8080, o.port());
        assertTrue(o.host().isEmpty());
        assertTrue(o.routes().isEmpty());
        assertEquals(Settings.defaults().toString(), o.settings().toString());
        assertTrue(o.authenticator().isEmpty());
        assertTrue(o.origins().isEmpty());
        assertEquals(AuthFailureLimit.defaults(), o.authFailureLimit());
        assertFalse(o.help());
    }

    @Test
    void readsEveryFlagWithItsValueAsTheNextArgument() {
        RunnerOptions o = parse("--port", "9000", "--host", "127.0.0.1",
                "--route", "/chat/{room}=ws://localhost:7000/rooms/{room}", "--route", "/api/*=wss://api.internal/v1",
                "--idle-timeout", "500ms", "--ping-interval", "0", "--connect-timeout", "3s",
                "--max-message-size", "64k", "--api-key", "one", "--api-key", "two",
                "--allow-origin", "http://localhost:9000", "--allow-origin", "https://*.example.com");
        assertEquals(9000, o.port());
        assertEquals("127.0.0.1", o.host().orElseThrow());
        assertEquals(List.of("/chat/{room}", "/api/*"), o.routes().stream().map(r -> r.path()).toList());
        assertEquals("ws://localhost:7000/rooms/{room}", o.routes().get(0).backend().orElseThrow().toString());
        assertEquals(Duration.ofMillis(500), o.settings().idleTimeout());
        assertEquals(Duration.ZERO, o.settings().pingInterval());
        assertEquals(Duration.ofSeconds(3), o.settings().connectTimeout());
        assertEquals(65536, o.settings().maxClientMessageSize());
        assertTrue(o.authenticator().orElseThrow().toString().contains("2 keys"), o.authenticator().orElseThrow().toString());
        assertTrue(o.apiKeyRequired());
        assertFalse(o.jwtRequired());
        assertEquals("OriginPolicy[http://localhost:9000, https://*.example.com]", o.origins().orElseThrow().toString());
    }

    @Test
    void readsEveryFlagWithItsValueAfterAnEqualsSign() {
        RunnerOptions o = parse("--port=9001", "--host=localhost", "--route=/echo=ws://localhost:7000/echo?x=1",
                "--idle-timeout=5m", "--ping-interval=20s", "--connect-timeout=1h", "--max-message-size=1000",
                "--api-key=k=v", "--allow-origin=https://app.example.com");
        assertEquals(9001, o.port());
        assertEquals("localhost", o.host().orElseThrow());
        assertEquals("/echo", o.routes().get(0).path());
        assertEquals("ws://localhost:7000/echo?x=1", o.routes().get(0).backend().orElseThrow().toString());
        assertEquals(Duration.ofMinutes(5), o.settings().idleTimeout());
        assertEquals(Duration.ofSeconds(20), o.settings().pingInterval());
        assertEquals(Duration.ofHours(1), o.settings().connectTimeout());
        assertEquals(1000, o.settings().maxClientMessageSize());
        assertTrue(o.authenticator().orElseThrow().toString().contains("1 keys"));
        assertEquals("OriginPolicy[https://app.example.com]", o.origins().orElseThrow().toString());
    }

    @Test
    void readsTheJwtFlags() {
        RunnerOptions o = parse("--jwt-hs256-secret", "a-256-bit-secret-for-the-tests!!", "--jwt-issuer=https://login.example.com",
                "--jwt-audience", "chat");
        String jwt = o.authenticator().orElseThrow().toString();
        assertTrue(jwt.contains("HS256") && jwt.contains("https://login.example.com") && jwt.contains("chat"), jwt);
        assertTrue(o.jwtRequired());
        assertEquals(List.of(), o.warnings());
    }

    @Test
    void readsTheAuthFailureLimitAsFailuresAMinutePerClientAddress() {
        assertEquals(AuthFailureLimit.of(10, Duration.ofMinutes(1)), parse("--auth-failure-limit", "10").authFailureLimit());
        assertEquals(AuthFailureLimit.of(1, Duration.ofMinutes(1)), parse("--auth-failure-limit=1").authFailureLimit());
        assertEquals(AuthFailureLimit.of(60, Duration.ofMinutes(1)), parse().authFailureLimit());
    }

    @Test
    void turnsTheAuthFailureLimitOffWithZero() {
        assertEquals(AuthFailureLimit.none(), parse("--auth-failure-limit", "0").authFailureLimit());
    }

    @Test
    void explainsABadAuthFailureLimit() {
        UsageException e = assertThrows(UsageException.class, () -> parse("--auth-failure-limit", "lots"));
        assertEquals("--auth-failure-limit: bad number \"lots\" (expected failures a minute, e.g. 60, or 0 to disable)",
                e.getMessage());
    }

    @Test
    void takesZeroAsADurationAndASizeThatDisable() {
        RunnerOptions o = parse("--idle-timeout", "0", "--max-message-size", "0", "--port", "0");
        assertEquals(Duration.ZERO, o.settings().idleTimeout());
        assertEquals(0, o.settings().maxClientMessageSize());
        assertEquals(0, o.port());
    }

    @Test
    void parsesDurationUnitsAndBinarySizeSuffixes() {
        RunnerOptions.Flag f = RunnerOptions.Flag.IDLE_TIMEOUT;
        assertEquals(Duration.ofMillis(250), RunnerOptions.duration(f.flag, "250ms"));
        assertEquals(Duration.ofSeconds(30), RunnerOptions.duration(f.flag, "30s"));
        assertEquals(Duration.ofMinutes(5), RunnerOptions.duration(f.flag, "5M"));
        assertEquals(Duration.ofHours(2), RunnerOptions.duration(f.flag, "2h"));
        assertEquals(Duration.ZERO, RunnerOptions.duration(f.flag, "0s"));
        RunnerOptions.Flag s = RunnerOptions.Flag.MAX_MESSAGE_SIZE;
        assertEquals(1 << 20, RunnerOptions.size(s.flag, "1m"));
        assertEquals(2L << 30, RunnerOptions.size(s.flag, "2G"));
    }

    @Test
    void writesDefaultsTheWayTheFlagsTakeThem() {
        assertEquals("10m", RunnerOptions.text(Duration.ofMinutes(10)));
        assertEquals("2h", RunnerOptions.text(Duration.ofHours(2)));
        assertEquals("30s", RunnerOptions.text(Duration.ofSeconds(30)));
        assertEquals("0s", RunnerOptions.text(Duration.ZERO));
        assertEquals("1500ms", RunnerOptions.text(Duration.ofMillis(1500)));
        assertEquals("64m", RunnerOptions.text(64L << 20));
        assertEquals("3k", RunnerOptions.text(3072));
        assertEquals("1000", RunnerOptions.text(1000));
    }

    @Test
    void givesClientsTenSecondsForACompleteRequestUnlessRequestTimeoutSaysOtherwise() {
        assertEquals(Duration.ofSeconds(10), parse().requestTimeout());
        assertEquals(Duration.ofMillis(1500), parse("--request-timeout", "1500ms").requestTimeout());
        assertEquals(Duration.ofMinutes(1), parse("--request-timeout=1m").requestTimeout());
        assertEquals(Duration.ZERO, parse("--request-timeout", "0").requestTimeout());
    }

    @Test
    void stopsAtHelp() {
        assertTrue(parse("--help", "--no-such-flag").help());
        assertTrue(parse("-h").help());
    }

    @Test
    void namesTheConsumersOfApiKeysInOrder() {
        UsageException e = assertThrows(UsageException.class, () -> parse("--api-key", "a", "--api-key", "a"));
        assertEquals("--api-key: key: added twice (for consumer key-2)", e.getMessage());
    }

    @Test
    void turnsTheManagementApiOnForLoopbackWithItsKeys() {
        RunnerOptions o = parse("--management-port", "9090", "--management-key", "k1", "--management-key", "k2");
        RunnerOptions.Management m = o.management().orElseThrow();
        assertEquals(9090, m.port());
        assertEquals("127.0.0.1", m.host());
        assertTrue(parse().management().isEmpty());
    }

    @Test
    void explainsThatTheManagementApiNeedsAKey() {
        UsageException e = assertThrows(UsageException.class, () -> parse("--management-port", "9090"));
        assertEquals("--management-port: needs at least one --management-key (the management API is never open to all)",
                e.getMessage());
        e = assertThrows(UsageException.class, () -> parse("--management-key", "k"));
        assertEquals("--management-key: needs --management-port", e.getMessage());
        e = assertThrows(UsageException.class, () -> parse("--port", "9000", "--management-port", "9000",
                "--management-key", "k"));
        assertEquals("--management-port: bad port \"9000\" (expected another port than the gateway's)", e.getMessage());
    }

    static Stream<Arguments> badCommandLines() {
        return Stream.of(
                Arguments.of("--bogus", List.of("--bogus")),
                Arguments.of("--bogus", List.of("--bogus=1")),
                Arguments.of("--port", List.of("--port")),
                Arguments.of("--port", List.of("--port", "--idle-timeout", "5s")),
                Arguments.of("--port", List.of("--port", "http")),
                Arguments.of("--port", List.of("--port", "65536")),
                Arguments.of("--port", List.of("--port", "-1")),
                Arguments.of("--port", List.of("--port", "1", "--port", "2")),
                Arguments.of("--host", List.of("--host=")),
                Arguments.of("--idle-timeout", List.of("--idle-timeout", "abc")),
                Arguments.of("--idle-timeout", List.of("--idle-timeout", "1.5s")),
                Arguments.of("--idle-timeout", List.of("--idle-timeout", "99999999999h")),
                Arguments.of("--ping-interval", List.of("--ping-interval", "30")),
                Arguments.of("--ping-interval", List.of("--ping-interval")),
                Arguments.of("--connect-timeout", List.of("--connect-timeout", "0")),
                Arguments.of("--connect-timeout", List.of("--connect-timeout=-1s")),
                Arguments.of("--request-timeout", List.of("--request-timeout", "soon")),
                Arguments.of("--request-timeout", List.of("--request-timeout", "10")),
                Arguments.of("--request-timeout", List.of("--request-timeout=-1s")),
                Arguments.of("--request-timeout", List.of("--request-timeout")),
                Arguments.of("--max-message-size", List.of("--max-message-size", "lots")),
                Arguments.of("--max-message-size", List.of("--max-message-size", "-5")),
                Arguments.of("--max-message-size", List.of("--max-message-size", "99999999999999999g")),
                Arguments.of("--route", List.of("--route", "echo")),
                Arguments.of("--route", List.of("--route", "/echo")),
                Arguments.of("--route", List.of("--route", "/echo=")),
                Arguments.of("--route", List.of("--route", "echo=ws://localhost:7000")),
                Arguments.of("--route", List.of("--route", "/echo=http://localhost:7000")),
                Arguments.of("--route", List.of("--route", "/echo=ws://")),
                Arguments.of("--route", List.of("--route", "/echo=not a url")),
                Arguments.of("--route", List.of("--route", "/chat/{room=ws://localhost:7000")),
                Arguments.of("--route", List.of("--route", "/chat=ws://localhost:7000/{room}")),
                Arguments.of("--api-key", List.of("--api-key")),
                Arguments.of("--api-key", List.of("--api-key=")),
                Arguments.of("--allow-origin", List.of("--allow-origin", "localhost")),
                Arguments.of("--allow-origin", List.of("--allow-origin", "https://app.example.com/path")),
                Arguments.of("--help", List.of("--help=yes")),
                Arguments.of("--auth-failure-limit", List.of("--auth-failure-limit")),
                Arguments.of("--auth-failure-limit", List.of("--auth-failure-limit", "ten")),
                Arguments.of("--auth-failure-limit", List.of("--auth-failure-limit=-1")),
                Arguments.of("--auth-failure-limit", List.of("--auth-failure-limit", "1.5")),
                Arguments.of("--auth-failure-limit", List.of("--auth-failure-limit", "9999999999")),
                Arguments.of("--auth-failure-limit", List.of("--auth-failure-limit", "5", "--auth-failure-limit", "6")),
                Arguments.of("--jwt-hs256-secret", List.of("--jwt-hs256-secret")),
                Arguments.of("--jwt-issuer", List.of("--jwt-issuer", "https://login.example.com")),
                Arguments.of("--jwt-audience", List.of("--jwt-audience", "chat", "--api-key", "k")),
                Arguments.of("--jwt-audience", List.of("--jwt-hs256-secret", "s", "--jwt-audience=")),
                Arguments.of("--management-port", List.of("--management-port", "9090")),
                Arguments.of("--management-port", List.of("--management-port", "admin", "--management-key", "k")),
                Arguments.of("--management-port", List.of("--management-port", "8080", "--management-key", "k")),
                Arguments.of("--management-port", List.of("--management-port", "1", "--management-port", "2")),
                Arguments.of("--management-key", List.of("--management-key", "k")),
                Arguments.of("--management-key", List.of("--management-port", "9090", "--management-key=")),
                Arguments.of("--allow-missing-origin", List.of("--allow-origin", "https://a.example.com",
                        "--allow-missing-origin", "maybe")),
                Arguments.of("--allow-missing-origin", List.of("--allow-missing-origin", "false")),
                Arguments.of("--api-key", List.of("--api-key", " ")));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badCommandLines")
    void rejectsABadFlagWithOneLineNamingItAndStatus2(String flag, List<String> args) {
        try (Runner r = Runner.launch(args.toArray(new String[0]))) {
            assertEquals(new Standalone.Exit(2), r.launch);
            assertEquals("", r.out);
            assertEquals(1, r.errLines().size(), r.err);
            assertTrue(r.err.startsWith("error: " + flag + ": "), r.err);
            assertFalse(r.err.contains("Exception"), r.err);
        }
    }

    @Test
    void explainsABadDurationWithExamples() {
        try (Runner r = Runner.launch("--idle-timeout", "abc")) {
            assertEquals("error: --idle-timeout: bad duration \"abc\" (expected e.g. 500ms, 30s, 5m)" + System.lineSeparator(), r.err);
        }
    }

    @Test
    void saysAnEmptySecretMayBeAnUnsetEnvironmentVariable() {
        Map<String, List<String>> commandLines = Map.of(
                "--api-key: missing value (expected KEY", List.of("--api-key", ""),
                "--jwt-hs256-secret: missing value (expected S", List.of("--jwt-hs256-secret", "", "--port", "0"),
                "--management-key: missing value (expected KEY", List.of("--management-port", "0", "--management-key", "--port", "0"));
        commandLines.forEach((error, args) -> {
            try (Runner r = Runner.launch(args.toArray(new String[0]))) {
                assertEquals(new Standalone.Exit(2), r.launch);
                assertEquals(List.of("error: " + error + "; is the environment variable it was read from set?)"), r.errLines());
            }
        });
    }

    @Test
    void aBlankApiKeyIsRefusedNamingTheFlag() {
        try (Runner r = Runner.launch("--api-key", "  ")) {
            assertEquals(List.of("error: --api-key: key: blank (expected: an API key; is the environment variable or "
                    + "setting it was read from set?)"), r.errLines());
        }
    }

    @Test
    void allowMissingOriginIsTrueUnlessFalseIsGiven() {
        assertEquals(true, RunnerOptions.parse(List.of("--allow-origin", "https://a.example.com"))
                .origins().orElseThrow().allowsMissing());
        assertEquals(false, RunnerOptions.parse(List.of("--allow-origin", "https://a.example.com",
                "--allow-missing-origin", "false")).origins().orElseThrow().allowsMissing());
        try (Runner r = Runner.launch("--allow-missing-origin", "true")) {
            assertEquals(List.of("error: --allow-missing-origin: needs --allow-origin (without it any origin may connect)"),
                    r.errLines());
        }
    }

    @Test
    void rejectsConflictingRoutesAsAMistakeOfRoute() {
        try (Runner r = Runner.launch("--route", "/a/{x}=ws://localhost:7000", "--route", "/a/{y}=ws://localhost:7001")) {
            assertEquals(new Standalone.Exit(2), r.launch);
            assertEquals(List.of("error: --route: routes: Route[/a/{x}] and Route[/a/{y}] match the same requests"),
                    r.errLines());
        }
    }

    @Test
    void rejectsAStrayArgumentInOneLine() {
        try (Runner r = Runner.launch("8080")) {
            assertEquals(new Standalone.Exit(2), r.launch);
            assertEquals(List.of("error: unexpected argument \"8080\" (flags start with --; see --help)"), r.errLines());
        }
    }

    @Test
    void listsEveryFlagInHelpAndExitsWith0() {
        try (Runner r = Runner.launch("--help")) {
            assertEquals(new Standalone.Exit(0), r.launch);
            assertEquals("", r.err);
            for (RunnerOptions.Flag f : RunnerOptions.Flag.values()) {
                assertTrue(r.out.lines().anyMatch(l -> l.startsWith("  " + f.flag + " ")), () -> f.flag + " missing:\n" + r.out);
            }
            for (String contract : List.of("--port N", "--route PATH=URL", "--idle-timeout D", "--ping-interval D",
                    "--connect-timeout D", "--request-timeout D", "--max-message-size BYTES", "--api-key KEY", "--jwt-hs256-secret S",
                    "--jwt-issuer ISS", "--jwt-audience AUD", "--allow-origin ORIGIN", "--config FILE")) {
                assertTrue(r.out.contains("  " + contract + " "), () -> contract + " missing:\n" + r.out);
            }
        }
    }
}
