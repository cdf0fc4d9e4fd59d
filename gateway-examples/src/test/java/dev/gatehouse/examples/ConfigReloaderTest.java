package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.jetty.TestBackend;

/** Reloads of the runner's config file in-process, each asked for and awaited, with the output captured. */
class ConfigReloaderTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private Path file;
    private ConfigReloader reloader;
    private Gateway gateway;
    private StandaloneServer server;

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private void start(String content, String... flags) throws Exception {
        file = dir.resolve("gw.yaml");
        Files.writeString(file, content);
        List<String> args = new ArrayList<>(List.of("--host", "127.0.0.1", "--port", "0", "--config", file.toString()));
        args.addAll(List.of(flags));
        RunnerOptions options = RunnerOptions.parse(args);
        server = StandaloneServer.start(options);
        closing.add(server);
        reloader = ConfigReloader.start(args, System::getenv, options, server,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        closing.add(reloader);
        gateway = server.gateway();
    }

    /** Writes the file and reloads it; a reload the file's watch made may have come first, with the same effect. */
    private void reload(String content) throws Exception {
        Files.writeString(file, content);
        reloader.reloadNow().get(5, TimeUnit.SECONDS);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static String route(String path, String backend) {
        return "  - {path: \"" + path + "\", backend: \"" + backend + "\"}\n";
    }

    @Test
    void reloadAppliesTheFilesRoutesAndKeepsTheRunningRouteOfAnUnchangedEntry() throws Exception {
        start("routes:\n" + route("/a", "ws://127.0.0.1:9/a") + route("/b", "ws://127.0.0.1:9/b"));
        Route a = gateway.routes().get(0);

        reload("routes:\n" + route("/c", "ws://127.0.0.1:9/c") + route("/a", "ws://127.0.0.1:9/a")
                + route("/b", "ws://127.0.0.1:9/b-moved"));

        assertTrue(out().contains("reload: version 2, routes: 1 added, 1 changed, 0 removed\n"), out());
        assertEquals(2, gateway.version());
        assertEquals(List.of("/c", "/a", "/b"), gateway.routes().stream().map(Route::path).toList());
        assertSame(a, gateway.routes().get(1), "an unchanged entry keeps its route, moved in the file or not");
        assertEquals("", err());
    }

    @Test
    void reloadOfAnUnchangedFileChangesNothing() throws Exception {
        start("routes:\n" + route("/a", "ws://127.0.0.1:9/a"));

        reloader.reloadNow().get(5, TimeUnit.SECONDS);

        assertEquals("reload: version 1, routes: no change\n", out());
    }

    @Test
    void badFileIsRefusedWithTheStartsErrorAndTheRunningRoutesStay() throws Exception {
        start("routes:\n" + route("/a", "ws://127.0.0.1:9/a"));
        List<Route> running = gateway.routes();

        reload("routes:\n" + route("/a", "ws://127.0.0.1:9/a") + "  - {path: /b, backend: \"http://127.0.0.1:9/b\"}\n");

        assertTrue(err().startsWith("error: " + file + ": routes[1].backend: "), err());
        assertEquals(1, err().lines().distinct().count(), err());
        assertSame(running, gateway.routes());
        assertEquals(1, gateway.version());
        assertEquals("", out());
    }

    @Test
    void conflictingRoutesAreRefusedNamingTheFile() throws Exception {
        start("routes:\n" + route("/a/{x}", "ws://127.0.0.1:9/a"));

        reload("routes:\n" + route("/a/{x}", "ws://127.0.0.1:9/a") + route("/a/{y}", "ws://127.0.0.1:9/b"));

        assertTrue(err().startsWith("error: " + file + ": routes: "), err());
        assertTrue(err().contains("match the same requests"), err());
        assertEquals(1, gateway.version());
    }

    @Test
    void valuesOnlyARestartChangesAreReportedAndKeepTheirRunningValues() throws Exception {
        start("requestTimeout: 5s\nroutes:\n" + route("/a", "ws://127.0.0.1:9/a"));

        reload("port: 9999\nrequestTimeout: 7s\nroutes:\n" + route("/a", "ws://127.0.0.1:9/a") + route("/b", "ws://127.0.0.1:9/b"));

        assertTrue(err().contains("warning: " + file + ": port, requestTimeout: changed, needs a restart (the running "
                + "values stay)\n"), err());
        assertTrue(out().contains("reload: version 2, routes: 1 added, 0 changed, 0 removed\n"), out());
    }

    @Test
    void flagRoutesStayAcrossReloads() throws Exception {
        start("routes:\n" + route("/a", "ws://127.0.0.1:9/a"), "--route", "/flag=ws://127.0.0.1:9/flag");
        Route flag = gateway.routes().get(1);

        reload("routes:\n" + route("/b", "ws://127.0.0.1:9/b"));

        assertTrue(out().contains("reload: version 2, routes: 1 added, 0 changed, 1 removed\n"), out());
        assertSame(flag, gateway.routes().get(1));
    }

    @Test
    void aReloadedRateLimitCountsInTheRunningClustersStore() throws Exception {
        TestBackend backend = new TestBackend();
        closing.add(backend);
        int member;
        try (ServerSocket s = new ServerSocket(0)) {
            member = s.getLocalPort();
        }
        String cluster = "cluster: {name: reload-" + member + ", port: " + member + ", members: [127.0.0.1:" + member + "]}\n";
        String echo = "  - path: /echo\n    backend: " + backend.url("/echo") + "\n";
        start(cluster + "routes:\n" + echo + "    rateLimit: {permits: 1, per: 1h, burst: 2, key: route}\n");
        assertEquals(101, handshake("/echo"));

        reload(cluster + "routes:\n" + echo + "    rateLimit: {permits: 1, per: 1h, burst: 3, key: route}\n");

        assertTrue(out().contains("reload: version 2, routes: 0 added, 1 changed, 0 removed\n"), out());
        // The new route's bucket is the cluster's, as the old one left it (one token of two taken), not a fresh
        // bucket of three: so it admits one handshake more.
        assertEquals(101, handshake("/echo"));
        assertEquals(429, handshake("/echo"));
        assertEquals("", err());
    }

    /** Opens and aborts a WebSocket through the runner: 101, or the status the upgrade was refused with. */
    private int handshake(String path) throws Exception {
        try {
            HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + path), new WebSocket.Listener() { })
                    .get(5, TimeUnit.SECONDS).abort();
            return 101;
        } catch (ExecutionException e) {
            return assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse().statusCode();
        }
    }
}
