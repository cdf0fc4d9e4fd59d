/**
 * Gatehouse's model and engine: the API packages, the seams others implement ({@code spi}), and the engine
 * ({@code internal}), which only Gatehouse's own modules may read.
 */
@SuppressWarnings("module") // the qualified exports name modules that are built after this one
module dev.gatehouse {
    requires transitive org.slf4j;
    requires com.nimbusds.jose.jwt;
    requires com.fasterxml.jackson.core;

    exports dev.gatehouse;
    exports dev.gatehouse.auth;
    exports dev.gatehouse.balance;
    exports dev.gatehouse.policy;
    exports dev.gatehouse.routing;
    exports dev.gatehouse.session;
    exports dev.gatehouse.spi;
    exports dev.gatehouse.internal to dev.gatehouse.jetty, dev.gatehouse.bench;
}
