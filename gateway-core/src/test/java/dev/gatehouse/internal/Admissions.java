package dev.gatehouse.internal;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Test helpers for the pipeline's outcome. */
final class Admissions {

    private Admissions() {
    }

    /** The admission as admitted; fails the test with the rejection when it was refused. */
    static Admission.Admitted admitted(Admission admission) {
        return assertInstanceOf(Admission.Admitted.class, admission,
                () -> "rejected: " + admission.rejection().map(Object::toString).orElse(""));
    }
}
