package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Rejection;
import dev.gatehouse.Route;
import dev.gatehouse.micrometer.GatehouseMetrics;
import dev.gatehouse.spi.GatewayListener;

/** The Grafana dashboard is valid JSON whose every PromQL expression names meters the gateway really exports. */
class GrafanaDashboardTest {

    private static final Path DASHBOARD = Path.of("grafana", "gatehouse-dashboard.json");
    private static final Pattern METRIC = Pattern.compile("\\bgatehouse_[a-z_]+");
    private static final Pattern LABEL = Pattern.compile("by \\(([^)]*)\\)");

    /** The names and labels a Prometheus scrape shows once every meter of GatehouseMetrics has a value. */
    private static String scrape() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        GatehouseMetrics metrics = GatehouseMetrics.of(registry);
        Route route = Route.of("/chat/{room}", Backend.of(URI.create("ws://127.0.0.1:9/chat")));
        Gateway gateway = Gateway.builder().route(route).listener(metrics).build();
        Duration d = Duration.ofMillis(3);
        metrics.handshakeAccepted(new GatewayListener.HandshakeEvent("a", Optional.of(route), 101, Optional.empty(),
                Optional.of(d)));
        metrics.handshakeRejected(new GatewayListener.HandshakeEvent("b", Optional.empty(), 404,
                Optional.of(Rejection.ROUTE_NOT_FOUND), Optional.of(d)));
        metrics.backendDialed(new GatewayListener.DialEvent("a", route, "ws://127.0.0.1:9", true, d));
        metrics.messages(route).message(GatewayListener.Direction.IN, 5);
        metrics.connectionClosed(new GatewayListener.CloseEvent("a", route, 1000, "client", "client_closed", d));
        metrics.integrationCalled(new GatewayListener.IntegrationEvent("a", route, "$default", 500, true, d));
        assertTrue(gateway.pendingBytes() == 0);
        return registry.scrape();
    }

    @Test
    void everyExpressionReferencesARealMeterAndLabel() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        String page = scrape();
        Set<String> names = new TreeSet<>();
        Matcher n = Pattern.compile("(?m)^(gatehouse_[a-z_]+)").matcher(page);
        while (n.find()) {
            names.add(n.group(1));
        }
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                exprs.add(target.get("expr").asText());
            }
        }
        assertFalse(exprs.isEmpty(), "no expression");
        Set<String> used = new TreeSet<>();
        for (String expr : exprs) {
            Matcher m = METRIC.matcher(expr);
            boolean any = false;
            while (m.find()) {
                any = true;
                used.add(m.group());
                assertTrue(names.contains(m.group()), () -> m.group() + " is not exported; exported: " + names);
            }
            assertTrue(any, () -> "no gatehouse meter in " + expr);
            Matcher by = LABEL.matcher(expr);
            while (by.find()) {
                for (String label : by.group(1).split(",")) {
                    String l = label.trim();
                    assertTrue(page.contains(l + "=\""), () -> "label " + l + " of " + expr + " is not exported");
                }
            }
        }
        for (String plotted : List.of("gatehouse_connections_active", "gatehouse_handshakes_total",
                "gatehouse_messages_total", "gatehouse_closes_total", "gatehouse_integration_duration_seconds_sum")) {
            assertTrue(used.contains(plotted), () -> "the dashboard does not plot " + plotted);
        }
    }
}
