package dev.gatehouse.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.gatehouse.Handshake;

/** The browser subprotocol pair behind {@link CredentialSource#subprotocol()}: {@code bearer} and {@code bearer.<token>}. */
final class SubprotocolCredential implements CredentialSource {

    static final SubprotocolCredential INSTANCE = new SubprotocolCredential();

    /** The marker subprotocol, also the client's answer when the backend chose none. */
    private static final String MARKER = "bearer";
    /** The prefix of the subprotocol that carries the token. */
    private static final String PREFIX = "bearer.";

    private SubprotocolCredential() {
    }

    @Override
    public Optional<Credential> find(Handshake h) {
        List<String> offered = h.subprotocols();
        if (!offered.contains(MARKER)) {
            return Optional.empty();
        }
        String token = null;
        List<String> rest = new ArrayList<>();
        for (String p : offered) {
            if (p.toLowerCase(Locale.ROOT).startsWith(PREFIX) && p.length() > PREFIX.length()) {
                if (token == null) {
                    token = p.substring(PREFIX.length());
                }
            } else if (!p.equals(MARKER)) {
                rest.add(p);
            }
        }
        if (token == null) {
            return Optional.empty();
        }
        Handshake stripped = h.toBuilder().subprotocols(rest).subprotocolFallback(MARKER).build();
        return Optional.of(new Credential(token, stripped));
    }

    @Override
    public String toString() {
        return "CredentialSource.subprotocol()";
    }
}
