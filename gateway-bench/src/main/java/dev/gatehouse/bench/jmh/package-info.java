/**
 * JMH microbenchmarks of the engine's hot paths, not API: route matching among 1,000 routes and the
 * relay's per-frame forward. Run them with {@code java -jar gatehouse-bench.jar jmh [JMH options]}.
 */
package dev.gatehouse.bench.jmh;
