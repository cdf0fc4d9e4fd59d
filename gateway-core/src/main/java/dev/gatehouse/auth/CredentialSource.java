package dev.gatehouse.auth;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.gatehouse.Handshake;

/**
 * Where an authenticator finds a credential in a handshake, and how it is removed so that the backend
 * never receives it.
 *
 * <pre>{@code
 * JwtAuthenticator.builder()
 *         .credentialSources(CredentialSource.bearerHeader(), CredentialSource.cookie("session"))
 * }</pre>
 */
@FunctionalInterface
public interface CredentialSource {

    /**
     * Looks for a credential.
     *
     * @return the credential and the handshake without it; empty when this source has none
     */
    Optional<Credential> find(Handshake handshake);

    /**
     * A credential found in a handshake.
     *
     * @param value    the credential, e.g. a token; never logged
     * @param stripped the handshake without the credential, as it may be forwarded
     */
    record Credential(String value, Handshake stripped) {
        /** Checks both are present. */
        public Credential {
            requireNonNull(value, "value");
            requireNonNull(stripped, "stripped");
        }
    }

    /** {@code Authorization: Bearer <token>}; the header is removed. */
    static CredentialSource bearerHeader() {
        return h -> h.header("Authorization")
                .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(v -> v.substring(7).trim())
                .filter(v -> !v.isEmpty())
                .map(v -> new Credential(v, h.withoutHeader("Authorization")));
    }

    /** The whole value of a header; the header is removed. */
    static CredentialSource header(String name) {
        requireNonNull(name, "name");
        return h -> h.header(name).map(String::trim).filter(v -> !v.isEmpty())
                .map(v -> new Credential(v, h.withoutHeader(name)));
    }

    /** A query parameter, e.g. {@code access_token}; it is removed from the forwarded query string. */
    static CredentialSource queryParameter(String name) {
        requireNonNull(name, "name");
        return h -> h.queryParameter(name).filter(v -> !v.isEmpty())
                .map(v -> new Credential(v, h.withoutQueryParameter(name)));
    }

    /** A cookie; it is removed from the forwarded {@code Cookie} header, other cookies stay. */
    static CredentialSource cookie(String name) {
        requireNonNull(name, "name");
        return h -> {
            List<String> kept = new ArrayList<>();
            String found = null;
            for (String header : h.headers().getOrDefault("cookie", List.of())) {
                for (String pair : header.split(";")) {
                    String p = pair.trim();
                    int eq = p.indexOf('=');
                    if (eq > 0 && p.substring(0, eq).trim().equals(name)) {
                        if (found == null) {
                            String v = p.substring(eq + 1).trim();
                            found = v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
                        }
                    } else if (!p.isEmpty()) {
                        kept.add(p);
                    }
                }
            }
            if (found == null || found.isEmpty()) {
                return Optional.empty();
            }
            Handshake stripped = kept.isEmpty() ? h.withoutHeader("Cookie") : h.withHeader("Cookie", String.join("; ", kept));
            return Optional.of(new Credential(found, stripped));
        };
    }

    /**
     * The browser subprotocol pair: a client that cannot set headers offers the subprotocols
     * {@code bearer} and {@code bearer.<token>} next to its real ones. Both are removed before the backend
     * is dialled, and the client is answered with the backend's choice, or {@code bearer} when the backend
     * chose none.
     */
    static CredentialSource subprotocol() {
        return SubprotocolCredential.INSTANCE;
    }
}
