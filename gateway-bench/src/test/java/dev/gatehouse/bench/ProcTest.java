package dev.gatehouse.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProcTest {

    @Test
    void sumsUserAndSystemTicksCountingFieldsAfterTheCommandName() {
        // A command name with a space and a parenthesis, as a thread may be named.
        String stat = "4242 (java (main) x) S 1 4242 4242 0 -1 4194560 18000 0 12 0 1234 567 0 0 20 0 40 0 100 "
                + "5000000000 60000 18446744073709551615 1 1 0 0 0 0 0 2 16800 0 0 0 17 1 0 0 0 0 0";
        assertEquals(1234 + 567, Proc.cpuTicks(stat));
    }

    @Test
    void rejectsTextThatIsNotAStatLine() {
        assertThrows(IllegalArgumentException.class, () -> Proc.cpuTicks("no command here"));
        assertThrows(IllegalArgumentException.class, () -> Proc.cpuTicks("1 (x) S 1 2"));
    }

    @Test
    void readsVmRssInKib() {
        String status = "Name:\tjava\nVmPeak:\t 9000000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 100000 kB\n";
        assertEquals(123456, Proc.rssKiB(status));
        assertThrows(IllegalArgumentException.class, () -> Proc.rssKiB("Name:\tjava\n"));
    }

    @Test
    void readsTheSoftOpenFileLimit() {
        String limits = "Limit                     Soft Limit           Hard Limit           Units     \n"
                + "Max processes             94000                94000                processes \n"
                + "Max open files            20000                40000                files     \n";
        assertEquals(20000, Proc.maxOpenFiles(limits));
        assertEquals(Long.MAX_VALUE, Proc.maxOpenFiles("Max open files            unlimited            unlimited            files\n"));
    }

    @Test
    void measuresThisProcess() {
        long pid = ProcessHandle.current().pid();
        assertTrue(Proc.cpuNanos(pid) > 0);
        assertTrue(Proc.rssBytes(pid) > 1 << 20);
        assertTrue(Proc.maxOpenFiles(pid) > 0);
        assertTrue(Proc.clockTicksPerSecond() > 0);
    }
}
