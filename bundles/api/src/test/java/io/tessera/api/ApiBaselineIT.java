package io.tessera.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import aQute.bnd.differ.Baseline;
import aQute.bnd.differ.DiffPluginImpl;
import aQute.bnd.osgi.Instructions;
import aQute.bnd.osgi.Jar;
import aQute.bnd.osgi.Processor;
import aQute.bnd.service.diff.Delta;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The api bundle just built against the released baseline ({@code cnf/baseline}), package by package, with bnd's
 * own diff. bnd baselining (the bnd-baseline-maven-plugin run before this) treats every 0.x package as unstable and
 * never fails for it; Tessera's api is at 0.x and promises semantic versioning all the same, so this check fails
 * wherever bnd's suggested version is above the package's version, whatever its major.
 */
class ApiBaselineIT {

    @Test
    void everyChangedPackageStepsItsVersion() throws Exception {
        File built = new File(System.getProperty("tessera.api.jar"));
        File released = new File(System.getProperty("tessera.api.baselineJar"));
        assertTrue(built.isFile(), "no api jar at " + built + ": run the package phase first");
        assertTrue(released.isFile(), "no baseline jar at " + released + " (made by tools/api/make_baseline.sh)");
        List<String> problems = new ArrayList<>();
        try (Processor reporter = new Processor(); Jar newer = new Jar(built); Jar older = new Jar(released)) {
            for (Baseline.Info info : new Baseline(reporter, new DiffPluginImpl())
                    .baseline(newer, older, new Instructions("*"))) {
                Delta delta = info.packageDiff.getDelta();
                if (delta == Delta.REMOVED) {
                    problems.add(info.packageName + " was removed: a major step of the api");
                } else if (info.suggestedVersion != null && info.newerVersion.compareTo(info.suggestedVersion) < 0) {
                    problems.add(String.format("%s is %s but its change since %s is %s: bnd suggests %s%n%s",
                            info.packageName, info.newerVersion, info.olderVersion, delta, info.suggestedVersion,
                            info.reason.indent(4)));
                }
            }
        }
        assertTrue(problems.isEmpty(), "Baseline mismatch against " + released.getName()
                + " (step the package's @Version in its package-info.java as semantic versioning requires):\n"
                + String.join("\n", problems));
    }
}
