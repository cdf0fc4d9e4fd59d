package dev.gatehouse;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Optional;

/**
 * How the gateway connects to {@code wss://} backends: which certificate authorities it trusts (the JDK's
 * by default), whether it checks that the certificate names the backend's host (yes by default), and
 * an optional client certificate for backends that require mutual TLS.
 *
 * <pre>{@code
 * BackendTls tls = BackendTls.builder()
 *         .trustStore(Path.of("/etc/gatehouse/backends-ca.p12"), "changeit".toCharArray())
 *         .clientCertificate(Path.of("/etc/gatehouse/gateway.p12"), "secret".toCharArray())
 *         .build();
 * Gateway.builder().backendTls(tls)...
 * }</pre>
 */
public final class BackendTls {

    private static final BackendTls DEFAULTS = new Builder().build();

    private final KeyStore trustStore; // null: the JDK's default trust
    private final KeyStore keyStore;   // null: no client certificate
    private final char[] keyPassword;  // the client key's password, empty when none
    private final boolean hostnameVerification;

    private BackendTls(Builder b) {
        this.trustStore = b.trustStore;
        this.keyStore = b.keyStore;
        this.keyPassword = b.keyPassword.clone();
        this.hostnameVerification = b.hostnameVerification;
    }

    /** The JDK's trusted authorities, hostname verification on, no client certificate. */
    public static BackendTls defaults() {
        return DEFAULTS;
    }

    /** Starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The trusted authorities; empty for the JDK's default ones. */
    public Optional<KeyStore> trustStore() {
        return Optional.ofNullable(trustStore);
    }

    /** The key store holding the gateway's client certificate and key, if any. */
    public Optional<KeyStore> clientKeyStore() {
        return Optional.ofNullable(keyStore);
    }

    /** The password of the client key (a copy). */
    public char[] clientKeyPassword() {
        return keyPassword.clone();
    }

    /** Whether the backend's certificate must name the host of the backend URL. */
    public boolean hostnameVerification() {
        return hostnameVerification;
    }

    @Override
    public String toString() {
        return "BackendTls[trustStore=" + (trustStore == null ? "default" : trustStore.getType()) + ", clientCertificate="
                + (keyStore != null) + ", hostnameVerification=" + hostnameVerification + "]";
    }

    /** Builds {@link BackendTls}. */
    public static final class Builder {
        private KeyStore trustStore;
        private KeyStore keyStore;
        private char[] keyPassword = new char[0];
        private boolean hostnameVerification = true;

        private Builder() {
        }

        /** Trusts the certificates of this key store instead of the JDK's. */
        public Builder trustStore(KeyStore trustStore) {
            this.trustStore = requireNonNull(trustStore, "trustStore");
            return this;
        }

        /**
         * Trusts the certificates of a PKCS#12 or JKS file.
         *
         * @throws IllegalArgumentException if the file cannot be read as a key store with that password
         */
        public Builder trustStore(Path file, char[] password) {
            return trustStore(load(file, password, "trustStore"));
        }

        /** Presents the key and certificate of this key store to backends that ask for one. */
        public Builder clientCertificate(KeyStore keyStore, char[] keyPassword) {
            this.keyStore = requireNonNull(keyStore, "keyStore");
            this.keyPassword = requireNonNull(keyPassword, "keyPassword").clone();
            return this;
        }

        /**
         * Presents the key and certificate of a PKCS#12 or JKS file, whose store and key share the password.
         *
         * @throws IllegalArgumentException if the file cannot be read as a key store with that password
         */
        public Builder clientCertificate(Path file, char[] password) {
            return clientCertificate(load(file, password, "clientCertificate"), password);
        }

        /**
         * Whether the backend's certificate must name the backend's host; true by default. Turn it off only
         * for backends addressed by a name their certificate does not carry, on a network you trust.
         */
        public Builder hostnameVerification(boolean verify) {
            this.hostnameVerification = verify;
            return this;
        }

        /**
         * Builds the backend TLS configuration. It does not fail: the trust store and client certificate were
         * loaded, and refused with an {@link IllegalArgumentException} naming the file, when they were set.
         */
        public BackendTls build() {
            return new BackendTls(this);
        }

        private static KeyStore load(Path file, char[] password, String name) {
            requireNonNull(file, name);
            requireNonNull(password, "password");
            try (InputStream in = Files.newInputStream(file)) {
                KeyStore store = KeyStore.getInstance(file.toString().endsWith(".jks") ? "JKS" : "PKCS12");
                store.load(in, password);
                return store;
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalArgumentException(name + ": " + file + " (" + e.getMessage() + ")", e);
            }
        }
    }
}
