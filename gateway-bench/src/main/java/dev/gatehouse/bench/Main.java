package dev.gatehouse.bench;

import java.util.Arrays;

/**
 * The entry point of {@code gatehouse-bench.jar}. With no sub-command it runs the orchestrator
 * ({@link Orchestrator}); the sub-commands run one role each:
 * <ul>
 * <li>{@code backend --port 0}: the echo backend ({@link EchoBackend});</li>
 * <li>{@code gateway --backend ws://127.0.0.1:P --port 0 [--auth none|jwt-hs256|jwt-rs256 --auth-key FILE]}: the
 * gateway ({@link GatewayRole});</li>
 * <li>{@code jmh [JMH options]}: the microbenchmarks, through JMH's own command line;</li>
 * <li>{@code jfr-top FILE [--top N] [--thread PREFIX]}: the hottest methods of a JFR recording ({@link JfrTop}).</li>
 * </ul>
 */
public final class Main {

    private Main() {
    }

    /**
     * Runs the orchestrator or a role; exits with 2 on bad arguments.
     *
     * @param args a sub-command and its options, or the orchestrator's options
     * @throws Exception if a role fails to start
     */
    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "" : args[0];
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (command) {
                case "backend":
                    EchoBackend.main(rest);
                    break;
                case "gateway":
                    GatewayRole.main(rest);
                    break;
                case "jfr-top":
                    JfrTop.main(rest);
                    break;
                case "jmh":
                    org.openjdk.jmh.Main.main(rest);
                    break;
                default:
                    System.exit(Orchestrator.run(args));
            }
        } catch (UsageException e) {
            System.err.println("gatehouse-bench: " + e.getMessage());
            System.err.println("Try --help.");
            System.exit(2);
        }
    }
}
