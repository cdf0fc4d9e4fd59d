/**
 * JMH microbenchmarks of the engine's hot paths, not API: route matching among 1,000 routes, the
 * relay's per-frame forward and the per-message route selection expression. Run them with
 * {@code java -jar gatehouse-bench.jar jmh [JMH options]}.
 */
package dev.gatehouse.bench.jmh;
