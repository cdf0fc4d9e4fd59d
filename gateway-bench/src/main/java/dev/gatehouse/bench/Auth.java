package dev.gatehouse.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;

import dev.gatehouse.Authenticator;

/**
 * How a handshake authenticates: the gateway role's {@link Authenticator} and the load generator's matching
 * credential. Only {@link #NONE} exists until Gatehouse has a JWT authenticator; a JWT mode adds a constant
 * whose {@link #authenticator()} verifies a token and whose {@link #decorate} sets
 * {@code Authorization: Bearer}, and the handshakes scenario then runs once per mode.
 */
enum Auth {

    /** No authentication: every client is let in anonymously. */
    NONE("none") {
        @Override
        Authenticator authenticator() {
            return Authenticator.none();
        }

        @Override
        void decorate(ClientUpgradeRequest request) {
            // no credential
        }
    };

    private final String flag;

    Auth(String flag) {
        this.flag = flag;
    }

    /** The value of {@code --auth} that selects this mode. */
    String flag() {
        return flag;
    }

    /** The gateway role's authenticator for the benchmark route. */
    abstract Authenticator authenticator();

    /** Adds the credential this mode expects to a load generator's upgrade request. */
    abstract void decorate(ClientUpgradeRequest request);

    /**
     * The mode named by {@code --auth}.
     *
     * @throws UsageException for an unknown mode
     */
    static Auth parse(String flag) {
        for (Auth a : values()) {
            if (a.flag.equals(flag.toLowerCase(Locale.ROOT))) {
                return a;
            }
        }
        throw new UsageException("--auth: " + flag + " (expected: one of "
                + Arrays.stream(values()).map(Auth::flag).collect(Collectors.joining(", ")) + ")");
    }
}
