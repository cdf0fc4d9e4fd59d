package dev.gatehouse.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Policy;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.routing.WebSocketApi;

/** The routes ordered from most to least specific, matched by host and path. Immutable. */
final class RouteTable {

    /**
     * A matched route with its effective settings, authenticator and policies (its own, else the gateway's),
     * and path parameters.
     */
    record Match(Route route, Settings settings, Authenticator authenticator, List<Policy> policies,
            Map<String, String> parameters) {
    }

    private record Entry(Route route, PathTemplate template, String host, Settings settings,
            Authenticator authenticator, List<Policy> policies) {
        int hostRank() {
            return host == null ? 2 : host.startsWith("*.") ? 1 : 0;
        }

        boolean matchesHost(String hostName) {
            if (host == null) {
                return true;
            }
            if (host.startsWith("*.")) {
                return hostName.endsWith(host.substring(1)) && hostName.length() > host.length() - 1;
            }
            return host.equals(hostName);
        }
    }

    private final Entry[] entries;

    /**
     * A route's own settings, else the gateway's. On a WebSocket API route, whose messages the gateway
     * buffers whole, a size limit left at its default or unlimited is {@link WebSocketApi#DEFAULT_MAX_MESSAGE_SIZE},
     * as AWS's; a limit set to another value stays.
     */
    static Settings effectiveSettings(Route route, Settings defaults) {
        Settings s = route.settings().orElse(defaults);
        if (route.webSocketApi().isEmpty()) {
            return s;
        }
        return s.toBuilder()
                .maxClientMessageSize(apiLimit(s.maxClientMessageSize(), Settings.defaults().maxClientMessageSize()))
                .maxBackendMessageSize(apiLimit(s.maxBackendMessageSize(), Settings.defaults().maxBackendMessageSize()))
                .build();
    }

    private static long apiLimit(long limit, long unset) {
        return limit == 0 || limit == unset ? WebSocketApi.DEFAULT_MAX_MESSAGE_SIZE : limit;
    }

    /** A table whose routes have their own authenticators and policies, or none. */
    RouteTable(List<Route> routes, Settings defaults) {
        this(routes, defaults, Authenticator.none(), List.of());
    }

    /** A table whose routes without an authenticator or policies of their own get these. */
    RouteTable(List<Route> routes, Settings defaults, Authenticator authenticator, List<Policy> policies) {
        if (routes.isEmpty()) {
            throw new IllegalStateException("routes: none (expected: at least one route)");
        }
        List<Entry> list = new ArrayList<>();
        Map<String, Route> shapes = new HashMap<>();
        for (Route route : routes) {
            PathTemplate template = PathTemplate.parse(route.path());
            String host = route.host().orElse(null);
            String key = (host == null ? "" : host) + template.shape();
            Route clash = shapes.putIfAbsent(key, route);
            if (clash != null) {
                throw new IllegalStateException("routes: " + clash + " and " + route + " match the same requests");
            }
            list.add(new Entry(route, template, host, effectiveSettings(route, defaults),
                    route.authenticator().orElse(authenticator),
                    route.policies().isEmpty() ? policies : route.policies()));
        }
        list.sort(Comparator.comparingInt(Entry::hostRank)
                .thenComparing((a, b) -> a.template().compareSpecificity(b.template())));
        this.entries = list.toArray(new Entry[0]);
    }

    /**
     * What identifies a route across versions of the table: its host and path template as written. No two
     * routes of a table have the same key (they would match the same requests).
     */
    static String key(Route route) {
        return route.host().orElse("") + route.path();
    }

    /** The most specific route for a host name (lower case, no port) and a raw path; {@code null} if none. */
    Match match(String hostName, String path) {
        String[] segments = path.substring(1).split("/", -1);
        for (Entry e : entries) {
            if (e.matchesHost(hostName)) {
                Map<String, String> params = e.template().match(segments);
                if (params != null) {
                    return new Match(e.route(), e.settings(), e.authenticator(), e.policies(), params);
                }
            }
        }
        return null;
    }
}
