package dev.gatehouse.jetty;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Key stores made for the tests with the JDK's {@code keytool}: self-signed EC certificates in PKCS#12
 * files, all with the password {@link #PASSWORD}.
 */
final class TestCertificates {

    static final String PASSWORD = "changeit";

    final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    static TestCertificates create() throws IOException, InterruptedException {
        TestCertificates c = new TestCertificates(Files.createTempDirectory("gatehouse-tls"));
        c.selfSigned("server", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1");
        c.selfSigned("wrong-name", "CN=other.example", "SAN=dns:other.example");
        c.selfSigned("client", "CN=gateway-client", null);
        c.selfSigned("user", "CN=alice,O=Example", null);
        c.trust("server");
        c.trust("wrong-name");
        c.trust("client");
        c.trust("user");
        return c;
    }

    /** The key store of an identity: its private key and certificate. */
    Path keyStore(String name) {
        return dir.resolve(name + ".p12");
    }

    /** A trust store holding only the certificate of an identity. */
    Path trustStore(String name) {
        return dir.resolve(name + "-trust.p12");
    }

    KeyStore load(Path file) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, PASSWORD.toCharArray());
        }
        return store;
    }

    /** A Jetty server TLS factory presenting an identity, optionally requiring a client certificate. */
    SslContextFactory.Server server(String identity, String requiredClient) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStorePath(keyStore(identity).toString());
        ssl.setKeyStorePassword(PASSWORD);
        ssl.setKeyStoreType("PKCS12");
        if (requiredClient != null) {
            ssl.setTrustStorePath(trustStore(requiredClient).toString());
            ssl.setTrustStorePassword(PASSWORD);
            ssl.setTrustStoreType("PKCS12");
            ssl.setNeedClientAuth(true);
        }
        return ssl;
    }

    /** A JDK client context trusting one server identity and presenting an optional client identity. */
    SSLContext clientContext(String trustedServer, String clientIdentity) throws IOException, GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(trustStore(trustedServer)));
        KeyManagerFactory kmf = null;
        if (clientIdentity != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(keyStore(clientIdentity)), PASSWORD.toCharArray());
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private void selfSigned(String name, String dname, String san) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(keytool(), "-genkeypair", "-alias", name, "-keyalg", "EC",
                "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", dname, "-validity", "2",
                "-keystore", keyStore(name).toString(), "-storetype", "PKCS12", "-storepass", PASSWORD,
                "-keypass", PASSWORD));
        if (san != null) {
            cmd.add("-ext");
            cmd.add(san);
        }
        run(cmd);
    }

    private void trust(String name) throws IOException, InterruptedException {
        Path cert = dir.resolve(name + ".crt");
        run(List.of(keytool(), "-exportcert", "-alias", name, "-keystore", keyStore(name).toString(),
                "-storetype", "PKCS12", "-storepass", PASSWORD, "-rfc", "-file", cert.toString()));
        run(List.of(keytool(), "-importcert", "-noprompt", "-alias", name, "-file", cert.toString(),
                "-keystore", trustStore(name).toString(), "-storetype", "PKCS12", "-storepass", PASSWORD));
    }

    private static String keytool() {
        return Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        // 60 s: keytool is a JVM of its own, whose start alone can take seconds on a loaded machine.
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool failed: " + String.join(" ", cmd) + "\n" + new String(out));
        }
    }
}
