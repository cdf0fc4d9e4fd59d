package dev.gatehouse.hazelcast.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.hazelcast.internal.util.ConcurrencyUtil;

/**
 * Keeps Hazelcast from starting a thread per completion. Hazelcast completes the stages of its futures on its
 * default asynchronous executor, which is the JVM's common pool when that pool has two threads or more, and
 * otherwise a new thread for every task: on a machine or container of two CPUs or fewer, every map lookup or
 * request of the cluster then starts and ends a thread (thousands a second under load). In that case only, this
 * class gives Hazelcast a pool of reused daemon threads instead, once per JVM.
 */
public final class AsyncExecutor {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncExecutor.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static ExecutorService pool; // ours once installed; guarded by the class

    private AsyncExecutor() {
    }

    /**
     * Installs the pool if the common pool has fewer than two threads and Hazelcast's executor is still its own
     * (not the common pool, nor one set by the application).
     *
     * @return whether Hazelcast now uses this class's pool
     */
    public static synchronized boolean install() {
        if (pool != null) {
            return ConcurrencyUtil.getDefaultAsyncExecutor() == pool;
        }
        Executor current = ConcurrencyUtil.getDefaultAsyncExecutor();
        if (ForkJoinPool.getCommonPoolParallelism() > 1 || current instanceof ExecutorService) {
            return false;
        }
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "gatehouse-hazelcast-async-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ConcurrencyUtil.setDefaultAsyncExecutor(pool);
        LOG.info("The JVM's common pool has {} thread(s): Hazelcast's completions run on a pool of reused threads "
                + "instead of a new thread each", ForkJoinPool.getCommonPoolParallelism());
        return true;
    }
}
