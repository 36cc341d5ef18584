package io.tessera.kernels.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the JUnit tests of the given packages (default: this one) without Maven, for a GPU machine that has only a
 * JDK and the built classes (tools/gpu/verify.sh). Prints the summary and every failure; exits 1 on any failure.
 */
public final class GpuVerify {
    private GpuVerify() {
    }

    public static void main(String[] args) {
        String[] packages = args.length > 0 ? args : new String[] {GpuVerify.class.getPackageName()};
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        for (String p : packages) {
            request.selectors(selectPackage(p));
        }
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request.build(), summary);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printTo(out);
        s.printFailuresTo(out, 30);
        System.exit(s.getTotalFailureCount() == 0 && s.getTestsSucceededCount() > 0 ? 0 : 1);
    }
}
