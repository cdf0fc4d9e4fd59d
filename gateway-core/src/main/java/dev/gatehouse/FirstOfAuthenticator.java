package dev.gatehouse;

import java.util.List;

/**
 * The chain behind {@link Authenticator#firstOf(Authenticator...)}: the first authenticator that finds its kind
 * of credential decides.
 */
final class FirstOfAuthenticator implements Authenticator {

    private final List<Authenticator> authenticators;

    FirstOfAuthenticator(List<Authenticator> authenticators) {
        this.authenticators = authenticators;
    }

    @Override
    public Verdict authenticate(Handshake handshake) {
        Verdict.Reject firstMissing = null;
        for (Authenticator a : authenticators) {
            Verdict v = a.authenticate(handshake);
            if (!(v instanceof Verdict.Reject) || ((Verdict.Reject) v).kind() != Rejection.CREDENTIAL_MISSING) {
                return v;
            }
            if (firstMissing == null) {
                firstMissing = (Verdict.Reject) v;
            }
        }
        return new Verdict.Reject(Rejection.CREDENTIAL_MISSING, 401, "a credential is required", firstMissing.headers());
    }

    @Override
    public String toString() {
        return "Authenticator.firstOf" + authenticators;
    }
}
