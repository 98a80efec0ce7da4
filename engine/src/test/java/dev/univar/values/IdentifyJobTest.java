package dev.univar.values;

import dev.univar.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.univar.values.IdentifierTest.PROBE;
import static dev.univar.values.IdentifierTest.clusters;
import static org.junit.jupiter.api.Assertions.*;

/** The identify job: held-out calibration on the reference, then a verdict per input group. */
class IdentifyJobTest {
    @Test
    void identifyJobNamesHeldOutSourcesAndFlagsAnUnknownOne() {
        // Reference: labels 0..4 on q0..q59; input: groups of 5 new answers of labels 0..4 and of label 5, which the
        // reference lacks (its direction is as far from the others as theirs are from each other).
        EmbeddedViews all = clusters(6, 60, 32, 0.9, 5, 0);
        EmbeddedViews reference = all.select(i -> all.label()[i] < 5);
        EmbeddedViews fresh = clusters(6, 20, 32, 0.9, 6, 1000);
        List<IdentifyJob.Group> groups = new ArrayList<>();
        for (int l = 0; l < 6; l++)
            for (int g = 0; g < 4; g++) {
                int[] rows = new int[5];
                for (int k = 0; k < 5; k++) rows[k] = l * 20 + g * 5 + k;
                groups.add(new IdentifyJob.Group("l" + l + "g" + g, rows));
            }
        try (CpuBackend b = new CpuBackend(2)) {
            for (Identifier.Method m : Identifier.Method.values()) {
                IdentifyJob.Result r = IdentifyJob.run(b, reference, 5, fresh.x(), groups,
                        new IdentifyJob.Options(new Identifier.Options(m, 10, PROBE, 1), 0.2, 0.2, true, 0.1, 0));
                assertEquals(12, r.heldOutAnswers(), "12 held-out questions");
                assertEquals(List.of(5), List.copyOf(r.thresholds().keySet()));
                int right = 0, flaggedKnown = 0, flaggedUnknown = 0;
                for (IdentifyJob.Verdict v : r.verdicts()) {
                    int label = v.group().rows()[0] / 20;
                    if (label == 5) flaggedUnknown += v.unknown() ? 1 : 0;
                    else {
                        right += v.ranking().top() == label ? 1 : 0;
                        flaggedKnown += v.unknown() ? 1 : 0;
                    }
                    assertEquals(5, v.ranking().answers());
                }
                assertEquals(20, right, m + ": every known group named");
                assertTrue(flaggedKnown <= 4, m + ": known groups are rarely rejected (target 10 %): " + flaggedKnown + " of 20");
                assertTrue(flaggedUnknown >= 3, m + ": the unknown LLM is flagged: " + flaggedUnknown + " of 4, " + r.thresholds());
                if (m == Identifier.Method.PROBE) assertTrue(r.temperature().validationViews() > 0);
                else assertTrue(Double.isNaN(r.eceBefore()));
            }
        }
    }
}
