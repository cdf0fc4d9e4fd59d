package dev.gatehouse.hazelcast.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;

import org.junit.jupiter.api.Test;

import com.hazelcast.internal.util.ConcurrencyUtil;

/** Hazelcast's completions never start a thread each, whatever the machine's size. */
class AsyncExecutorTest {

    @Test
    void hazelcastsCompletionsRunOnAPoolOfReusedThreads() {
        boolean ours = AsyncExecutor.install();

        assertEquals(ForkJoinPool.getCommonPoolParallelism() < 2, ours);
        assertTrue(ConcurrencyUtil.getDefaultAsyncExecutor() instanceof ExecutorService,
                "a pool (the common pool, or ours), not a thread per task");
        assertEquals(ours, AsyncExecutor.install(), "once per JVM");
    }
}
