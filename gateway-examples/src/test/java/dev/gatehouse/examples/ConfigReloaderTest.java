package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.Gateway;
import dev.gatehouse.Route;

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
        StandaloneServer server = StandaloneServer.start(options);
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
}
